/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Verify client against the simulator (tests/sim): every outcome, fault
 * injection, TLS failures, timeouts, proxies from the environment, both
 * credential forms, connection reuse, and no secret in any message.
 * Usage: test_verify HTTPS_SIM_DIR HTTP_SIM_DIR (test_verify.sh starts both). */
#include "twofa_build.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config.h"
#include "verify.h"
#include "verify_totp.h"

#include "../unit/tap.h"

/* ---- the simulator's files and controls (test code only) ---------------- */

typedef struct sim {
	char dir[512];
	char url[256];
	char wrong_url[256];
	char ca[600];
	json_t *creds;
	CURL *ctl; /* one kept-alive control connection, so controls add no connections */
} sim;

static sim S, H; /* the HTTPS and the plain-HTTP simulator */

#define MAX_SEEN 1024
static char *seen_messages[MAX_SEEN]; /* every message the client produced */
static size_t seen_count;
static char seen_codes[64][11]; /* every code the simulator delivered */
static size_t codes_count;

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = calloc(1, 65536);
	n = buf != NULL ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	while (buf != NULL && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

static const char *cred(const sim *s, const char *key)
{
	return json_string_value(json_object_get(s->creds, key));
}

typedef struct growbuf {
	char *p;
	size_t n;
} growbuf;

static size_t grow_write(char *data, size_t size, size_t nmemb, void *ud)
{
	growbuf *b = ud;
	size_t n = size * nmemb;
	char *p = realloc(b->p, b->n + n + 1);

	if (p == NULL)
		return 0;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	p[b->n] = '\0';
	return n;
}

/* A control request; returns the parsed JSON answer (or NULL). */
static json_t *ctl(sim *s, const char *method, const char *path, const char *body)
{
	char url[512];
	growbuf b = {0};
	json_t *j = NULL;
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");

	snprintf(url, sizeof(url), "%s%s", s->url, path);
	curl_easy_setopt(s->ctl, CURLOPT_URL, url);
	curl_easy_setopt(s->ctl, CURLOPT_PROXY, "");
	curl_easy_setopt(s->ctl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->ctl, CURLOPT_TIMEOUT, 20L);
	if (s->ca[0] != '\0')
		curl_easy_setopt(s->ctl, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(s->ctl, CURLOPT_WRITEFUNCTION, grow_write);
	curl_easy_setopt(s->ctl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(s->ctl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(s->ctl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(s->ctl, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(s->ctl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(s->ctl, CURLOPT_CUSTOMREQUEST, method);
	}
	if (curl_easy_perform(s->ctl) == CURLE_OK && b.p != NULL)
		j = json_loadb(b.p, b.n, 0, NULL);
	else
		diag("control %s %s failed", method, path);
	curl_easy_setopt(s->ctl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdr);
	free(b.p);
	return j;
}

static void ctl_do(sim *s, const char *method, const char *path, const char *body)
{
	json_decref(ctl(s, method, path, body));
}

static void sim_reset(void)
{
	ctl_do(&S, "POST", "/_sim/reset", "{}");
}

static void sim_fault_n(const char *op, const char *fault, int delay, int count)
{
	char body[160];
	snprintf(body, sizeof(body), "{\"op\":\"%s\",\"fault\":\"%s\",\"delay\":%d,\"count\":%d}", op, fault,
		 delay, count);
	ctl_do(&S, "POST", "/_sim/faults", body);
}

static void sim_fault(const char *op, const char *fault, int delay)
{
	sim_fault_n(op, fault, delay, 1);
}

static void sim_number(const char *number, const char *kind)
{
	char body[160];
	snprintf(body, sizeof(body), "{\"number\":\"%s\",\"kind\":\"%s\"}", number, kind);
	ctl_do(&S, "POST", "/_sim/numbers", body);
}

static long stat_of(sim *s, const char *key)
{
	json_t *j = ctl(s, "GET", "/_sim/stats", NULL);
	long v = (long)json_integer_value(json_object_get(j, key));
	json_decref(j);
	return v;
}

/* The newest delivered message to `to`: its code (remembered for the secret
 * scan) and locale. Returns false if there is none. */
static bool last_delivery(const char *to, char code[11], char locale[16], size_t *count)
{
	json_t *j = ctl(&S, "GET", "/_sim/outbox", NULL), *e, *last = NULL;
	size_t i, n = 0;

	json_array_foreach(j, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "to")) ?: "", to) == 0) {
			last = e;
			n++;
		}
	}
	if (count != NULL)
		*count = n;
	if (last == NULL) {
		json_decref(j);
		return false;
	}
	snprintf(code, 11, "%s", json_string_value(json_object_get(last, "code")) ?: "");
	if (locale != NULL)
		snprintf(locale, 16, "%s", json_string_value(json_object_get(last, "locale")) ?: "");
	if (codes_count < 64)
		snprintf(seen_codes[codes_count++], 11, "%s", code);
	json_decref(j);
	return true;
}

/* ---- building clients --------------------------------------------------- */

typedef struct conf_opts {
	bool api_key;           /* SK + secret instead of AC + token */
	const char *auth_token; /* override */
	const char *api_secret; /* override */
	const char *service;    /* override */
	const char *verify_url; /* override */
	bool no_ca;
	const char *ca_file; /* override */
	const char *proxy;
	long timeout;
	const char *locale;
	const char *rate_limit;
	const sim *from; /* default &S */
} conf_opts;

static twofa_verify *client(const conf_opts *o)
{
	const sim *s = o->from != NULL ? o->from : &S;
	char text[4096];
	size_t n = 0;
	twofa_config cfg;
	twofa_error err = {0};
	twofa_verify *v = NULL;

#define ADD(...) n += (size_t)snprintf(text + n, sizeof(text) - n, __VA_ARGS__)
	if (o->api_key) {
		ADD("api_key_sid = %s\n", cred(s, "api_key_sid"));
		ADD("api_key_secret = %s\n", o->api_secret ? o->api_secret : cred(s, "api_key_secret"));
	} else {
		ADD("account_sid = %s\n", cred(s, "account_sid"));
		ADD("auth_token = %s\n", o->auth_token ? o->auth_token : cred(s, "auth_token"));
	}
	ADD("verify_service_sid = %s\n", o->service ? o->service : cred(s, "verify_service_sid"));
	ADD("verify_url = %s\n", o->verify_url ? o->verify_url : s->url);
	ADD("lookup_url = %s\n", s->url);
	if (o->ca_file != NULL)
		ADD("ca_file = %s\n", o->ca_file);
	else if (!o->no_ca && s->ca[0] != '\0')
		ADD("ca_file = %s\n", s->ca);
	if (o->proxy != NULL)
		ADD("proxy = %s\n", o->proxy);
	ADD("timeout = %ld\n", o->timeout > 0 ? o->timeout : 10);
	if (o->locale != NULL)
		ADD("locale = %s\n", o->locale);
	if (o->rate_limit != NULL)
		ADD("rate_limit = %s\n", o->rate_limit);
#undef ADD
	twofa_config_init(&cfg);
	if (twofa_config_parse(&cfg, "test", text, strlen(text), &err) != TWOFA_OK) {
		diag("config: %s", err.msg);
	} else if (twofa_verify_new(&v, &cfg, &err) != TWOFA_OK) {
		diag("twofa_verify_new: %s", err.msg);
		v = NULL;
	}
	twofa_config_free(&cfg);
	return v;
}

/* Remembers r's messages for the secret scan, and checks the user message
 * is one of ours (never Twilio's text). */
static void note(const twofa_verify_result *r)
{
	bool ours = strcmp(r->user_message, twofa_verify_user_message(r->outcome)) == 0 ||
		    (r->outcome == TWOFA_VERIFY_SENT &&
		     strncmp(r->user_message, "A verification code was sent by ", 32) == 0);
	if (!ours)
		ok(0, "user message comes from the table: %s", r->user_message);
	if (seen_count + 2 <= MAX_SEEN) {
		seen_messages[seen_count++] = strdup(r->user_message);
		seen_messages[seen_count++] = strdup(r->log_message);
	}
}

#define EXPECT(call, want, what)                                                                     \
	do {                                                                                         \
		twofa_verify_outcome got_ = (call);                                                  \
		note(&r);                                                                            \
		ok(got_ == (want) && r.outcome == got_, "%s -> %s (got %s; log: %s)", what,          \
		   twofa_verify_outcome_name(want), twofa_verify_outcome_name(got_), r.log_message); \
	} while (0)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A port nobody listens on: bind, read the port, close. */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- the tests ---------------------------------------------------------- */

#define NUM "+14155550123"

static void test_service_and_auth(void)
{
	twofa_verify_result r;
	twofa_verify_details d;
	twofa_verify *v;
	char bad[64];
	json_t *log;

	sim_reset();
	v = client(&(conf_opts){0});
	ok(v != NULL, "client with account SID + auth token");
	if (v == NULL)
		return;
	EXPECT(twofa_verify_fetch_service(v, &d, &r), TWOFA_VERIFY_OK, "fetch service (AC + token)");
	ok(d.code_length == 6 && strcmp(d.friendly_name, "twofa sim") == 0,
	   "service details: code length %ld, name '%s'", d.code_length, d.friendly_name);
	twofa_verify_free(v);

	v = client(&(conf_opts){.api_key = true});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OK, "fetch service (SK + secret)");
	twofa_verify_free(v);

	log = ctl(&S, "GET", "/_sim/requests", NULL);
	ok(json_array_size(log) == 2 &&
		   strcmp(json_string_value(json_object_get(json_array_get(log, 0), "auth")), "account") == 0 &&
		   strcmp(json_string_value(json_object_get(json_array_get(log, 1), "auth")), "apikey") == 0,
	   "the simulator saw account auth, then API key auth");
	json_decref(log);

	/* Same length and alphabet, different value: passes local checks, fails at Twilio. */
	snprintf(bad, sizeof(bad), "%s", cred(&S, "auth_token"));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	v = client(&(conf_opts){.auth_token = bad});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_BAD_CREDENTIALS, "wrong auth token");
	ok(r.http_status == 401 && r.twilio_code == 20003, "401 / 20003 recorded");
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_BAD_CREDENTIALS,
	       "start with a wrong auth token");
	twofa_verify_free(v);

	snprintf(bad, sizeof(bad), "%s", cred(&S, "api_key_secret"));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	v = client(&(conf_opts){.api_key = true, .api_secret = bad});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_BAD_CREDENTIALS, "wrong API key secret");
	twofa_verify_free(v);

	v = client(&(conf_opts){.service = "VA00000000000000000000000000000000"});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_SERVICE_NOT_FOUND,
	       "unknown Service SID on fetch");
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SERVICE_NOT_FOUND,
	       "unknown Service SID on start");
	twofa_verify_free(v);
}

static void test_send_check_reuse(void)
{
	twofa_verify_result r;
	twofa_verify *v;
	char code[11] = "", wrong[11], locale[16];
	long conns0, hs0, conns1, hs1;
	json_t *log;

	sim_reset();
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for send + check"))
		return;
	conns0 = stat_of(&S, "connections");
	hs0 = stat_of(&S, "tls_handshakes");
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SENT, "start sms");
	ok(r.http_status == 201 && strncmp(r.verification_sid, "VE", 2) == 0 &&
		   strlen(r.verification_sid) == 34,
	   "201 with a VE sid");
	ok(strstr(r.user_message, "SMS") != NULL && strstr(r.user_message, NUM) == NULL &&
		   strstr(r.user_message, "23") != NULL,
	   "user message names the channel and a masked number: %s", r.user_message);
	ok(last_delivery(NUM, code, locale, NULL) && strlen(code) == 6,
	   "the simulator delivered a 6-digit code");
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
	EXPECT(twofa_verify_check(v, NUM, wrong, &r), TWOFA_VERIFY_WRONG_CODE, "check a wrong code");
	ok(r.http_status == 200, "a wrong code is HTTP 200");
	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_APPROVED, "check the right code");
	conns1 = stat_of(&S, "connections");
	hs1 = stat_of(&S, "tls_handshakes");
	ok(conns1 - conns0 == 1, "send + 2 checks: %ld new TCP connection(s) at the simulator",
	   conns1 - conns0);
	ok(hs1 - hs0 == 1, "send + 2 checks: %ld TLS handshake(s) at the simulator", hs1 - hs0);
	ok(twofa_verify_connections(v) == 1, "libcurl opened %ld connection(s)", twofa_verify_connections(v));
	log = ctl(&S, "GET", "/_sim/requests", NULL);
	ok(json_array_size(log) == 3 && json_equal(json_object_get(json_array_get(log, 0), "connection_id"),
						   json_object_get(json_array_get(log, 2), "connection_id")),
	   "start and check share one connection_id in the request log");
	ok(json_integer_value(json_object_get(json_object_get(json_array_get(log, 2), "form"), "Code")) == 6 &&
		   strcmp(json_string_value(
				  json_object_get(json_object_get(json_array_get(log, 0), "form"), "Channel"))
				  ?: "",
			  "sms") == 0,
	   "form bodies: Channel=sms, a 6-character Code");
	json_decref(log);
	diag("measured: send + check = %ld connection(s), %ld TLS handshake(s)", conns1 - conns0, hs1 - hs0);

	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_EXPIRED,
	       "the same code again (approved, gone)");
	ok(r.http_status == 404 && r.twilio_code == 20404, "404 / 20404");
	EXPECT(twofa_verify_cancel(v, NUM, &r), TWOFA_VERIFY_EXPIRED, "cancel with nothing pending");
	twofa_verify_free(v);
}

static void test_limits_and_expiry(void)
{
	twofa_verify_result r;
	twofa_verify *v;
	char code[11] = "", wrong[11], what[64];
	size_t sent = 0;

	sim_reset();
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for limits"))
		return;
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_CALL, NULL, &r), TWOFA_VERIFY_SENT, "start call");
	last_delivery(NUM, code, NULL, NULL);
	snprintf(wrong, sizeof(wrong), "%s", code);
	wrong[5] = wrong[5] == '9' ? '0' : (char)(wrong[5] + 1);
	for (int i = 1; i <= 5; i++) {
		snprintf(what, sizeof(what), "wrong check %d of 5", i);
		EXPECT(twofa_verify_check(v, NUM, wrong, &r), TWOFA_VERIFY_WRONG_CODE, what);
	}
	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_TOO_MANY_CHECKS,
	       "6th check, even right -> too many checks");
	ok(r.http_status == 429 && r.twilio_code == 60202, "429 / 60202");

	sim_reset();
	for (int i = 1; i <= 5; i++) {
		snprintf(what, sizeof(what), "send %d of 5", i);
		EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SENT, what);
	}
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_TOO_MANY_SENDS,
	       "6th send -> too many sends");
	ok(r.http_status == 429 && r.twilio_code == 60203, "429 / 60203");
	last_delivery(NUM, code, NULL, &sent);
	ok(sent == 5, "5 messages delivered, not 6 (%zu)", sent);
	EXPECT(twofa_verify_cancel(v, NUM, &r), TWOFA_VERIFY_OK, "cancel the pending verification");
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SENT,
	       "after cancel a send works again");
	last_delivery(NUM, code, NULL, NULL);
	ctl_do(&S, "POST", "/_sim/clock", "{\"advance\":601}");
	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_EXPIRED,
	       "right code after 601 s -> expired");
	twofa_verify_free(v);
}

static void test_numbers_channels_locale(void)
{
	twofa_verify_result r;
	twofa_verify *v;
	char code[11], locale[16];
	size_t sent = 0;
	json_t *log;

	sim_reset();
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for numbers"))
		return;
	sim_number("+14155550101", "invalid");
	sim_number("+14155550102", "landline");
	sim_number("+14155550103", "blocked");
	sim_number("+14155550104", "geo_blocked");
	EXPECT(twofa_verify_start(v, "+14155550101", TWOFA_CHANNEL_SMS, NULL, &r),
	       TWOFA_VERIFY_NUMBER_INVALID, "invalid number (60200)");
	ok(r.twilio_code == 60200, "60200 recorded");
	EXPECT(twofa_verify_start(v, "+14155550102", TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_LANDLINE,
	       "landline by SMS (60205)");
	EXPECT(twofa_verify_start(v, "+14155550102", TWOFA_CHANNEL_CALL, NULL, &r), TWOFA_VERIFY_SENT,
	       "landline by call");
	EXPECT(twofa_verify_start(v, "+14155550103", TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_BLOCKED,
	       "blocked number (60410)");
	EXPECT(twofa_verify_start(v, "+14155550104", TWOFA_CHANNEL_WHATSAPP, NULL, &r), TWOFA_VERIFY_BLOCKED,
	       "geo-blocked number (60605)");
	EXPECT(twofa_verify_start(v, "user@example.com", TWOFA_CHANNEL_EMAIL, NULL, &r),
	       TWOFA_VERIFY_CHANNEL_DISABLED, "email without an email integration (60217)");
	ok(r.twilio_code == 60217 && strstr(r.log_message, "user@example.com") == NULL,
	   "60217, address masked in the log");

	/* Refused locally: no request reaches the simulator. */
	{
		long before = stat_of(&S, "requests");
		EXPECT(twofa_verify_start(v, "4155550123", TWOFA_CHANNEL_SMS, NULL, &r),
		       TWOFA_VERIFY_NUMBER_INVALID, "national number refused locally");
		EXPECT(twofa_verify_start(v, "user@example.com", TWOFA_CHANNEL_SMS, NULL, &r),
		       TWOFA_VERIFY_NUMBER_INVALID, "email address by SMS refused locally");
		EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_TOTP, NULL, &r), TWOFA_VERIFY_CLIENT_ERROR,
		       "channel totp sends nothing: refused locally");
		ok(strstr(r.log_message, "totp") != NULL, "the refusal names totp: %s", r.log_message);
		EXPECT(twofa_verify_start(v, NUM, (twofa_channel)(TWOFA_CHANNEL_LAST + 1), NULL, &r),
		       TWOFA_VERIFY_CLIENT_ERROR, "an unknown channel refused locally");
		EXPECT(twofa_verify_check(v, NUM, "123", &r), TWOFA_VERIFY_INVALID_CODE, "3-digit code");
		EXPECT(twofa_verify_check(v, NUM, "12345678901", &r), TWOFA_VERIFY_INVALID_CODE,
		       "11-digit code");
		EXPECT(twofa_verify_check(v, NUM, "12 345", &r), TWOFA_VERIFY_INVALID_CODE,
		       "code with a space");
		EXPECT(twofa_verify_check(v, NUM, "12%26To=", &r), TWOFA_VERIFY_INVALID_CODE,
		       "code with form syntax");
		EXPECT(twofa_verify_check(v, NUM, "", &r), TWOFA_VERIFY_INVALID_CODE, "empty code");
		EXPECT(twofa_verify_start(v, NUM, (twofa_channel)7, NULL, &r), TWOFA_VERIFY_CLIENT_ERROR,
		       "unknown channel value");
		EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, "en&Channel=call", &r),
		       TWOFA_VERIFY_CLIENT_ERROR, "locale with form syntax");
		ok(stat_of(&S, "requests") == before, "local refusals sent no request");
	}

	sim_reset();
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, "fr", &r), TWOFA_VERIFY_SENT,
	       "start with locale fr");
	ok(last_delivery(NUM, code, locale, NULL) && strcmp(locale, "fr") == 0, "delivered in fr (%s)",
	   locale);
	EXPECT(twofa_verify_cancel(v, NUM, &r), TWOFA_VERIFY_OK, "cancel");
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, "xx", &r), TWOFA_VERIFY_SENT,
	       "unsupported locale xx: retried without it");
	ok(last_delivery(NUM, code, locale, &sent) && locale[0] == '\0' && sent == 2,
	   "delivered without a locale ('%s'), one message", locale);
	ok(strstr(r.log_message, "locale xx refused") != NULL, "the retry is logged");
	log = ctl(&S, "GET", "/_sim/requests", NULL);
	ok(json_array_size(log) == 4 &&
		   json_object_get(json_object_get(json_array_get(log, 3), "form"), "Locale") == NULL &&
		   json_integer_value(json_object_get(json_array_get(log, 2), "status")) == 404,
	   "request log: 404 with Locale, then 201 without");
	json_decref(log);
	twofa_verify_free(v);

	sim_reset();
	v = client(&(conf_opts){.locale = "de"});
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SENT,
	       "locale from the config");
	ok(last_delivery(NUM, code, locale, NULL) && strcmp(locale, "de") == 0, "delivered in de");
	EXPECT(twofa_verify_cancel(v, NUM, &r), TWOFA_VERIFY_OK, "cancel by number");
	twofa_verify_free(v);
}

static void test_lookup(void)
{
	twofa_verify_result r;
	twofa_verify *v = client(&(conf_opts){0});
	char e164[TWOFA_E164_MAX + 1];

	sim_reset();
	if (!ok(v != NULL, "client for lookup"))
		return;
	EXPECT(twofa_lookup(v, "(415) 555-0123", "us", e164, &r), TWOFA_VERIFY_OK, "lookup national US");
	ok(strcmp(e164, NUM) == 0, "normalised to %s", e164);
	EXPECT(twofa_lookup(v, "+442079460958", NULL, e164, &r), TWOFA_VERIFY_OK, "lookup E.164 GB");
	ok(strcmp(e164, "+442079460958") == 0, "kept as %s", e164);
	sim_number("+14155550101", "invalid");
	EXPECT(twofa_lookup(v, "+14155550101", NULL, e164, &r), TWOFA_VERIFY_NUMBER_INVALID,
	       "lookup of an invalid number");
	ok(e164[0] == '\0', "no number returned");
	EXPECT(twofa_lookup(v, "+1415599299600", "US", e164, &r), TWOFA_VERIFY_NUMBER_INVALID,
	       "lookup of a too long number");
	EXPECT(twofa_lookup(v, "+14155550123", "USA", e164, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "3-letter country refused locally");
	sim_fault("lookup", "malformed", 0);
	EXPECT(twofa_lookup(v, NUM, NULL, e164, &r), TWOFA_VERIFY_BAD_ANSWER,
	       "lookup with a malformed answer");
	twofa_verify_free(v);
}

static void test_faults(void)
{
	static const struct {
		const char *op, *fault;
		twofa_verify_op call;
		twofa_verify_outcome want;
	} cases[] = {
		{"start", "500", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_OUTAGE},
		{"start", "503", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_OUTAGE},
		{"start", "429", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_RATE_LIMITED},
		{"start", "reset", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_OUTAGE},
		{"start", "malformed", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_BAD_ANSWER},
		{"start", "oversized", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_BAD_ANSWER},
		{"start", "empty", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_BAD_ANSWER},
		{"start", "302", TWOFA_VERIFY_OP_START, TWOFA_VERIFY_BAD_ANSWER},
		{"check", "500", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_OUTAGE},
		{"check", "503", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_OUTAGE},
		{"check", "429", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_RATE_LIMITED},
		{"check", "reset", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_OUTAGE},
		{"check", "malformed", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_BAD_ANSWER},
		{"check", "oversized", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_BAD_ANSWER},
		{"check", "empty", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_BAD_ANSWER},
		{"check", "302", TWOFA_VERIFY_OP_CHECK, TWOFA_VERIFY_BAD_ANSWER},
		{"cancel", "503", TWOFA_VERIFY_OP_CANCEL, TWOFA_VERIFY_OUTAGE},
		{"service", "500", TWOFA_VERIFY_OP_SERVICE, TWOFA_VERIFY_OUTAGE},
		{"service", "malformed", TWOFA_VERIFY_OP_SERVICE, TWOFA_VERIFY_BAD_ANSWER},
	};
	twofa_verify_result r;
	twofa_verify *v;
	char code[11] = "", what[96];

	sim_reset();
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for faults"))
		return;
	twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r);
	note(&r);
	last_delivery(NUM, code, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "fault %s on %s", cases[i].fault, cases[i].op);
		/* libcurl retries once, on a fresh connection, a request whose reused
		 * connection died before any answer; so a reset must hit both. */
		sim_fault_n(cases[i].op, cases[i].fault, 0, strcmp(cases[i].fault, "reset") == 0 ? 2 : 1);
		switch (cases[i].call) {
		case TWOFA_VERIFY_OP_START:
			EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), cases[i].want, what);
			break;
		case TWOFA_VERIFY_OP_CHECK:
			EXPECT(twofa_verify_check(v, NUM, code, &r), cases[i].want, what);
			break;
		case TWOFA_VERIFY_OP_CANCEL:
			EXPECT(twofa_verify_cancel(v, NUM, &r), cases[i].want, what);
			break;
		default:
			EXPECT(twofa_verify_fetch_service(v, NULL, &r), cases[i].want, what);
			break;
		}
	}
	/* Faults changed no state, and the handle recovered from each. */
	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_APPROVED,
	       "after the faults the code still passes");
	ok(stat_of(&S, "sends") == 1, "no fault caused a second delivery");
	twofa_verify_free(v);

	/* A reset on a fresh connection is not retried. */
	v = client(&(conf_opts){0});
	sim_fault("service", "reset", 0);
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OUTAGE, "reset on the first connection");
	ok(strstr(r.log_message, "connection failed") != NULL, "logged as a connection failure");
	/* One reset on a reused connection: libcurl's single retry succeeds. */
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OK, "a new connection after the reset");
	sim_fault("service", "reset", 0);
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OK,
	       "one reset on a reused connection is retried once by libcurl");
	twofa_verify_free(v);

	/* A delay past the timeout ends within timeout + 1 s. */
	v = client(&(conf_opts){.timeout = 2});
	sim_fault("start", "delay", 6);
	{
		double t0 = now_s(), dt;
		EXPECT(twofa_verify_start(v, "+14155550199", TWOFA_CHANNEL_SMS, NULL, &r),
		       TWOFA_VERIFY_OUTAGE, "server slower than the 2 s timeout");
		dt = now_s() - t0;
		ok(dt >= 1.5 && dt <= 3.0, "returned after %.2f s (timeout 2 s)", dt);
		ok(strstr(r.log_message, "timed out") != NULL, "log says timed out");
		diag("measured: delayed start returned after %.2f s with timeout = 2", dt);
	}
	sim_fault("check", "delay", 6);
	{
		double t0 = now_s(), dt;
		EXPECT(twofa_verify_check(v, NUM, "123456", &r), TWOFA_VERIFY_OUTAGE, "slow check");
		dt = now_s() - t0;
		ok(dt <= 3.0, "check returned after %.2f s", dt);
	}
	twofa_verify_free(v);
}

/* Out of descriptors (a caller's low RLIMIT_NOFILE) at every point of the
 * exchange: each limit up to a dozen above the highest open descriptor ends
 * in a local error or a real answer, never an outage. */
static void test_no_descriptors(void)
{
	struct rlimit saved;
	twofa_verify_result r;
	int open_now = 0, outages = 0, locals = 0, fine = 0;

	if (!ok(getrlimit(RLIMIT_NOFILE, &saved) == 0, "getrlimit"))
		return;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			open_now = fd + 1;
	for (int limit = 0; limit <= open_now + 12; limit++) {
		struct rlimit low = {.rlim_cur = (rlim_t)limit, .rlim_max = saved.rlim_max};
		twofa_verify *v = client(&(conf_opts){0});
		twofa_verify_outcome o;

		if (v == NULL)
			continue;
		if (setrlimit(RLIMIT_NOFILE, &low) != 0)
			break;
		o = twofa_verify_fetch_service(v, NULL, &r);
		(void)setrlimit(RLIMIT_NOFILE, &saved);
		if (o == TWOFA_VERIFY_OUTAGE) {
			outages++;
			diag("RLIMIT_NOFILE %d: outage: %s", limit, r.log_message);
		} else if (o == TWOFA_VERIFY_LOCAL_ERROR) {
			locals++;
			diag("RLIMIT_NOFILE %d: %s", limit, r.log_message);
		} else if (o == TWOFA_VERIFY_OK) {
			fine++;
		}
		twofa_verify_free(v);
	}
	ok(outages == 0 && locals > 0 && fine > 0,
	   "RLIMIT_NOFILE 0..%d: %d local errors, %d answers, %d outages", open_now + 12, locals, fine,
	   outages);
}

static void test_transport(void)
{
	twofa_verify_result r;
	twofa_verify *v;
	char url[128], proxy[128];
	int port = closed_port();
	double t0;

	v = client(&(conf_opts){.verify_url = S.wrong_url});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OUTAGE,
	       "certificate for another host name");
	ok(strstr(r.log_message, "TLS") != NULL, "logged as a TLS failure");
	twofa_verify_free(v);

	v = client(&(conf_opts){.no_ca = true});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OUTAGE, "unknown CA (system bundle)");
	ok(strstr(r.log_message, "TLS") != NULL, "logged as a TLS failure");
	twofa_verify_free(v);

	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	v = client(&(conf_opts){.verify_url = url, .timeout = 2});
	t0 = now_s();
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OUTAGE, "connection refused");
	ok(now_s() - t0 < 2.0 && strstr(r.log_message, "connection failed") != NULL &&
		   strstr(r.log_message, "refused") != NULL,
	   "refused at once and logged as a connection failure: %s", r.log_message);
	twofa_verify_free(v);

	/* This machine's failures are never an outage (failmode=safe stays shut). */
	v = client(&(conf_opts){.ca_file = "/nonexistent/twofa-ca.pem"});
	if (ok(v != NULL, "client with a missing CA file"))
		EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_LOCAL_ERROR, "CA file missing");
	twofa_verify_free(v);
	{
		char garbage[] = "/tmp/twofa-ca-garbage.XXXXXX";
		int fd = mkstemp(garbage);

		if (ok(fd >= 0 && write(fd, "not a certificate\n", 18) == 18, "a CA file that is not PEM")) {
			v = client(&(conf_opts){.ca_file = garbage});
			if (ok(v != NULL, "client with that CA file"))
				EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_LOCAL_ERROR,
				       "CA file without a certificate");
			twofa_verify_free(v);
		}
		if (fd >= 0) {
			close(fd);
			unlink(garbage);
		}
	}
	test_no_descriptors();

	/* The environment must change nothing: all proxies point at a dead port. */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("https_proxy", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("http_proxy", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);
	setenv("all_proxy", proxy, 1);
	setenv("NO_PROXY", "nothing.example", 1);
	setenv("no_proxy", "nothing.example", 1);
	v = client(&(conf_opts){0});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OK,
	       "https_proxy/http_proxy/ALL_PROXY in the environment are ignored");
	twofa_verify_free(v);
	v = client(&(conf_opts){.from = &H});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OK,
	       "plain http to 127.0.0.1 with proxies in the environment");
	twofa_verify_free(v);
	/* ... but the proxy key is honoured (so the test above could fail). */
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
	v = client(&(conf_opts){.proxy = proxy, .timeout = 2});
	EXPECT(twofa_verify_fetch_service(v, NULL, &r), TWOFA_VERIFY_OUTAGE,
	       "configured proxy (dead) is used, NO_PROXY notwithstanding");
	twofa_verify_free(v);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("http_proxy");
	unsetenv("ALL_PROXY");
	unsetenv("all_proxy");
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
}

static void test_http_sim(void)
{
	twofa_verify_result r;
	twofa_verify *v = client(&(conf_opts){.from = &H, .api_key = true});
	char code[11] = "";
	json_t *j;

	if (!ok(v != NULL, "client over plain http to 127.0.0.1"))
		return;
	EXPECT(twofa_verify_start(v, NUM, TWOFA_CHANNEL_SMS, NULL, &r), TWOFA_VERIFY_SENT, "http: start");
	j = ctl(&H, "GET", "/_sim/outbox", NULL);
	snprintf(code, sizeof(code), "%s",
		 json_string_value(json_object_get(json_array_get(j, json_array_size(j) - 1), "code")) ?: "");
	json_decref(j);
	if (codes_count < 64)
		snprintf(seen_codes[codes_count++], 11, "%s", code);
	EXPECT(twofa_verify_check(v, NUM, code, &r), TWOFA_VERIFY_APPROVED, "http: check");
	twofa_verify_free(v);
}

/* ---- Verify TOTP ---------------------------------------------------------- */

static char totp_secret[TWOFA_TOTP_SECRET_MAX + 1]; /* one factor's, for the secret scan */

/* The code an app shows for factor_sid now (+ offset steps), from the
 * simulator; remembered for the secret scan. */
static bool totp_code(const char *factor_sid, int offset, char code[11])
{
	char path[160];
	json_t *j;

	snprintf(path, sizeof(path), "/_sim/totp?factor=%s&step_offset=%d", factor_sid, offset);
	j = ctl(&S, "GET", path, NULL);
	snprintf(code, 11, "%s", json_string_value(json_object_get(j, "code")) ?: "");
	json_decref(j);
	if (code[0] != '\0' && codes_count < 64)
		snprintf(seen_codes[codes_count++], 11, "%s", code);
	return code[0] != '\0';
}

/* A code that is not the one of any step within the skew. */
static void wrong_code(const char *right, char out[11])
{
	snprintf(out, 11, "%s", right);
	out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

typedef struct totp_list {
	size_t n;
	size_t stop_after; /* 0: never stop */
	char last[TWOFA_TOTP_IDENTITY_MAX + 1];
	char status[16];
} totp_list;

static bool count_entity(void *ctx, const char *identity)
{
	totp_list *l = ctx;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", identity);
	return l->stop_after == 0 || l->n < l->stop_after;
}

static bool count_factor(void *ctx, const char *sid, const char *status, const char *type)
{
	totp_list *l = ctx;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", sid);
	snprintf(l->status, sizeof(l->status), "%s/%s", status, type);
	return true;
}

/* Queues an "answer" fault: the simulator sends body (JSON) with status. */
static void sim_answer(const char *op, int status, const char *body)
{
	char ctl_body[2600];
	snprintf(ctl_body, sizeof(ctl_body), "{\"op\":\"%s\",\"fault\":\"answer\",\"status\":%d,\"body\":%s}",
		 op, status, body);
	ctl_do(&S, "POST", "/_sim/faults", ctl_body);
}

static void test_totp(void)
{
	twofa_verify_result r;
	twofa_totp_binding b;
	twofa_totp_settings ts;
	twofa_error err = {0};
	twofa_verify *v;
	char ident[TWOFA_TOTP_IDENTITY_MAX + 1], other[TWOFA_TOTP_IDENTITY_MAX + 1], code[11], wrong[11];
	char sid[TWOFA_SID_LEN + 1], secret[TWOFA_TOTP_SECRET_MAX + 1];
	totp_list l;
	long before;

	sim_reset();
	/* At the start of a 30 s step, so no step ends between a code and its use. */
	{
		char body[64];
		snprintf(body, sizeof(body), "{\"set\":%ld.5}", (long)(time(NULL) / 30) * 30 + 30);
		ctl_do(&S, "POST", "/_sim/clock", body);
	}
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for TOTP"))
		return;
	ok(twofa_totp_new_identity(ident, &err) == TWOFA_OK && twofa_totp_identity_valid(ident) &&
		   strlen(ident) == 34 && strncmp(ident, "tf", 2) == 0,
	   "a new identity is tf + 32 hex digits");
	ok(twofa_totp_new_identity(other, &err) == TWOFA_OK && strcmp(ident, other) != 0,
	   "two new identities differ");

	EXPECT(twofa_totp_factor_create(v, ident, "alice@host", &b, &r), TWOFA_VERIFY_OK, "create a factor");
	ok(twofa_sid_valid(b.factor_sid, "YF") && strlen(b.secret) == 32 &&
		   strncmp(b.uri, "otpauth://totp/", 15) == 0 && strstr(b.uri, b.secret) != NULL &&
		   b.time_step == 30 && b.code_length == 6 && b.skew == 1,
	   "binding: YF sid, 32-character secret, its Key URI, 30 s, 6 digits, skew 1");
	snprintf(sid, sizeof(sid), "%s", b.factor_sid);
	snprintf(secret, sizeof(secret), "%s", b.secret);
	twofa_totp_binding_wipe(&b);
	ok(sodium_is_zero((const unsigned char *)&b, sizeof(b)),
	   "twofa_totp_binding_wipe zeroes the whole binding");
	ok(strstr(r.log_message, secret) == NULL, "the log line does not hold the secret");
	snprintf(totp_secret, sizeof(totp_secret), "%s", secret);

	l = (totp_list){0};
	EXPECT(twofa_totp_factors(v, ident, count_factor, &l, &r), TWOFA_VERIFY_OK,
	       "list the entity's factors");
	ok(l.n == 1 && strcmp(l.last, sid) == 0 && strcmp(l.status, "unverified/totp") == 0,
	   "one factor, unverified, totp (%zu, %s)", l.n, l.status);

	totp_code(sid, 0, code);
	wrong_code(code, wrong);
	EXPECT(twofa_totp_factor_verify(v, ident, sid, wrong, &r), TWOFA_VERIFY_WRONG_CODE,
	       "a wrong first code");
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "no login with an unverified factor (400 60200)");
	EXPECT(twofa_totp_factor_verify(v, ident, sid, code, &r), TWOFA_VERIFY_APPROVED,
	       "the right first code verifies the factor");
	{
		json_t *log = ctl(&S, "GET", "/_sim/requests", NULL);
		json_t *last = json_object_get(json_array_get(log, json_array_size(log) - 1), "form");
		ok(json_integer_value(json_object_get(last, "AuthPayload")) == 6 &&
			   json_object_size(last) == 1,
		   "factor verify posts AuthPayload only (6 characters)");
		json_decref(log);
	}

	totp_code(sid, 0, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_APPROVED,
	       "login with the current code");
	ok(twofa_sid_valid(r.verification_sid, "YC"), "the challenge's YC sid is in the result");
	totp_code(sid, -1, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_APPROVED,
	       "the previous step's code (skew 1)");
	totp_code(sid, -2, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_WRONG_CODE,
	       "a code two steps old: pending");
	ctl_do(&S, "POST", "/_sim/service", "{\"totp_wrong_status\":\"denied\"}");
	totp_code(sid, 2, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_WRONG_CODE,
	       "a code two steps ahead: denied");
	ctl_do(&S, "POST", "/_sim/service", "{\"totp_wrong_status\":\"pending\"}");

	before = stat_of(&S, "requests");
	EXPECT(twofa_totp_challenge(v, ident, sid, "12", &r), TWOFA_VERIFY_INVALID_CODE, "a 2-digit code");
	EXPECT(twofa_totp_challenge(v, ident, sid, "123456789", &r), TWOFA_VERIFY_INVALID_CODE,
	       "a 9-digit code");
	EXPECT(twofa_totp_challenge(v, ident, sid, "12a456", &r), TWOFA_VERIFY_INVALID_CODE,
	       "a code with a letter");
	EXPECT(twofa_totp_factor_verify(v, ident, sid, "12%26AuthPayload=1", &r), TWOFA_VERIFY_INVALID_CODE,
	       "a code with form syntax");
	EXPECT(twofa_totp_challenge(v, ident, sid, NULL, &r), TWOFA_VERIFY_INVALID_CODE, "no code");
	EXPECT(twofa_totp_challenge(v, "short", sid, "123456", &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "an identity of 5 characters");
	EXPECT(twofa_totp_challenge(v, "tf/../../Services", sid, "123456", &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "an identity with a path in it");
	EXPECT(twofa_totp_challenge(v, ident, "YF123", "123456", &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "a malformed factor sid");
	EXPECT(twofa_totp_factor_create(v, ident, "", &b, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "an empty friendly name");
	EXPECT(twofa_totp_factor_create(v, ident, "a\nb", &b, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "a friendly name with a newline");
	EXPECT(twofa_totp_factor_delete(v, ident, NULL, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "delete without a factor");
	ok(stat_of(&S, "requests") == before, "local refusals sent no request");

	/* The service's totp object: unset, then set. */
	EXPECT(twofa_totp_service_settings(v, &ts, &r), TWOFA_VERIFY_OK, "service TOTP settings, unset");
	ok(ts.time_step == 0 && ts.code_length == 0 && ts.skew == 0 && ts.issuer[0] == '\0',
	   "unset settings read as zeros");
	ctl_do(&S, "POST", "/_sim/service",
	       "{\"totp_issuer\":\"Example Corp\",\"totp_time_step\":60,\"totp_code_length\":8,\"totp_skew\":2}");
	EXPECT(twofa_totp_service_settings(v, &ts, &r), TWOFA_VERIFY_OK, "service TOTP settings, set");
	ok(ts.time_step == 60 && ts.code_length == 8 && ts.skew == 2 && strcmp(ts.issuer, "Example Corp") == 0,
	   "settings read: %ld s, %ld digits, skew %ld, issuer '%s'", ts.time_step, ts.code_length, ts.skew,
	   ts.issuer);
	EXPECT(twofa_totp_factor_create(v, other, "bob@host", &b, &r), TWOFA_VERIFY_OK,
	       "a factor under those settings");
	ok(b.time_step == 60 && b.code_length == 8 && b.skew == 2 &&
		   strncmp(b.uri, "otpauth://totp/Example%20Corp:bob%40host?", 41) == 0,
	   "its binding says 60 s, 8 digits, skew 2, issuer Example Corp: %.45s", b.uri);
	twofa_totp_binding_wipe(&b);

	/* Lists, paged: three entities at two a page. */
	EXPECT(twofa_totp_factor_create(v, "tfthird-entity", "carol@host", &b, &r), TWOFA_VERIFY_OK,
	       "a third entity");
	twofa_totp_binding_wipe(&b);
	ctl_do(&S, "POST", "/_sim/service", "{\"page_size_max\":2}");
	l = (totp_list){0};
	EXPECT(twofa_totp_entities(v, count_entity, &l, &r), TWOFA_VERIFY_OK, "list entities over pages of 2");
	ok(l.n == 3, "three entities listed (%zu)", l.n);
	{
		json_t *log = ctl(&S, "GET", "/_sim/requests", NULL);
		size_t lists = 0, i;
		json_t *e;
		json_array_foreach(log, i, e)
			if (strcmp(json_string_value(json_object_get(e, "op")) ?: "", "entities") == 0)
				lists++;
		ok(lists == 2, "two requests for two pages (%zu)", lists);
		json_decref(log);
	}
	l = (totp_list){.stop_after = 1};
	EXPECT(twofa_totp_entities(v, count_entity, &l, &r), TWOFA_VERIFY_OK,
	       "a callback that stops the walk");
	ok(l.n == 1, "one entity seen before it stopped");
	ctl_do(&S, "POST", "/_sim/service", "{\"page_size_max\":1000}");

	/* Deletes. */
	EXPECT(twofa_totp_factor_delete(v, other, sid, &r), TWOFA_VERIFY_EXPIRED,
	       "deleting a factor of another entity: 404");
	EXPECT(twofa_totp_factor_delete(v, ident, sid, &r), TWOFA_VERIFY_OK, "delete the factor");
	EXPECT(twofa_totp_factor_delete(v, ident, sid, &r), TWOFA_VERIFY_EXPIRED, "delete it again: gone");
	totp_code(sid, 0, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, "123456", &r), TWOFA_VERIFY_EXPIRED,
	       "a login with a deleted factor");
	EXPECT(twofa_totp_entity_delete(v, ident, &r), TWOFA_VERIFY_OK, "delete the entity");
	EXPECT(twofa_totp_entity_delete(v, ident, &r), TWOFA_VERIFY_EXPIRED, "delete it again: gone");
	l = (totp_list){0};
	EXPECT(twofa_totp_factors(v, ident, count_factor, &l, &r), TWOFA_VERIFY_EXPIRED,
	       "the factors of a deleted entity");
	twofa_verify_free(v);
}

/* Twilio down, credentials refused, and hostile answers: never a pass, the
 * binding wiped. */
static void test_totp_failures(void)
{
	static const struct {
		const char *fault;
		twofa_verify_outcome want;
	} faults[] = {
		{"500", TWOFA_VERIFY_OUTAGE},           {"503", TWOFA_VERIFY_OUTAGE},
		{"reset", TWOFA_VERIFY_OUTAGE},         {"429", TWOFA_VERIFY_RATE_LIMITED},
		{"malformed", TWOFA_VERIFY_BAD_ANSWER}, {"oversized", TWOFA_VERIFY_BAD_ANSWER},
		{"empty", TWOFA_VERIFY_BAD_ANSWER},     {"302", TWOFA_VERIFY_BAD_ANSWER},
		{"404", TWOFA_VERIFY_EXPIRED},
	};
	static const char ok_binding[] =
		"\"binding\":{\"secret\":\"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\",\"uri\":\"otpauth://totp/a:b?secret="
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=a\"}";
	static const char ok_rest[] =
		"\"factor_type\":\"totp\",\"status\":\"unverified\","
		"\"config\":{\"alg\":\"sha1\",\"skew\":1,\"code_length\":6,\"time_step\":30}";
	char hostile[2048], long_secret[200], what[160];
	const char *cases[6][2];
	twofa_verify_result r;
	twofa_totp_binding b;
	twofa_verify *v;
	char ident[] = "tf0123456789abcdef0123456789abcdef", bad[64], code[11], sid[TWOFA_SID_LEN + 1];
	json_t *j;

	sim_reset();
	v = client(&(conf_opts){0});
	if (!ok(v != NULL, "client for TOTP failures"))
		return;
	EXPECT(twofa_totp_factor_create(v, ident, "x@host", &b, &r), TWOFA_VERIFY_OK, "a factor to fail with");
	snprintf(sid, sizeof(sid), "%s", b.factor_sid);
	twofa_totp_binding_wipe(&b);
	totp_code(sid, 0, code);
	EXPECT(twofa_totp_factor_verify(v, ident, sid, code, &r), TWOFA_VERIFY_APPROVED, "verified");

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		int count = strcmp(faults[i].fault, "reset") == 0 ? 2 : 1;
		snprintf(what, sizeof(what), "fault %s on a challenge", faults[i].fault);
		sim_fault_n("challenge", faults[i].fault, 0, count);
		totp_code(sid, 0, code);
		EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), faults[i].want, what);
		snprintf(what, sizeof(what), "fault %s on a factor create", faults[i].fault);
		sim_fault_n("factor_create", faults[i].fault, 0, count);
		memset(&b, 'x', sizeof(b));
		EXPECT(twofa_totp_factor_create(v, ident, "y@host", &b, &r),
		       strcmp(faults[i].fault, "404") == 0 ? TWOFA_VERIFY_SERVICE_NOT_FOUND : faults[i].want,
		       what);
		ok(sodium_is_zero((const unsigned char *)&b, sizeof(b)), "%s: the binding is wiped", what);
		ctl_do(&S, "DELETE", "/_sim/faults", NULL); /* a reset may be left for a fresh connection */
	}
	sim_fault_n("totp", "503", 0, 7);
	EXPECT(twofa_totp_factor_verify(v, ident, sid, "123456", &r), TWOFA_VERIFY_OUTAGE,
	       "outage: factor verify");
	EXPECT(twofa_totp_factor_delete(v, ident, sid, &r), TWOFA_VERIFY_OUTAGE, "outage: factor delete");
	EXPECT(twofa_totp_entity_delete(v, ident, &r), TWOFA_VERIFY_OUTAGE, "outage: entity delete");
	EXPECT(twofa_totp_entities(v, NULL, NULL, &r), TWOFA_VERIFY_OUTAGE, "outage: entity list");
	EXPECT(twofa_totp_factors(v, ident, NULL, NULL, &r), TWOFA_VERIFY_OUTAGE, "outage: factor list");
	ok(twofa_verify_is_outage(r.outcome),
	   "an outage of the TOTP endpoints is an outage (failmode applies)");
	ctl_do(&S, "DELETE", "/_sim/faults", NULL);
	totp_code(sid, 0, code);
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_APPROVED,
	       "after the faults the factor still works");
	twofa_verify_free(v);

	snprintf(bad, sizeof(bad), "%s", cred(&S, "auth_token"));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	v = client(&(conf_opts){.auth_token = bad});
	EXPECT(twofa_totp_challenge(v, ident, sid, code, &r), TWOFA_VERIFY_BAD_CREDENTIALS,
	       "401 on a challenge");
	EXPECT(twofa_totp_factor_create(v, ident, "x@host", &b, &r), TWOFA_VERIFY_BAD_CREDENTIALS,
	       "401 on a factor create");
	twofa_verify_free(v);
	v = client(&(conf_opts){.service = "VA00000000000000000000000000000000"});
	EXPECT(twofa_totp_factor_create(v, ident, "x@host", &b, &r), TWOFA_VERIFY_SERVICE_NOT_FOUND,
	       "factor create on an unknown service");
	EXPECT(twofa_totp_entities(v, NULL, NULL, &r), TWOFA_VERIFY_SERVICE_NOT_FOUND,
	       "entity list of an unknown service");
	twofa_verify_free(v);

	/* Hostile answers to a factor create: each a bad answer, the binding wiped. */
	memset(long_secret, 'A', 129);
	long_secret[129] = '\0';
	v = client(&(conf_opts){0});
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",%s,\"binding\":{\"secret\":\"%s\",\"uri\":"
		 "\"otpauth://totp/a:b?secret=%s\"}}",
		 ok_rest, long_secret, long_secret);
	cases[0][0] = "a secret of 129 characters";
	cases[0][1] = strdup(hostile);
	snprintf(hostile, sizeof(hostile), "{\"sid\":\"YF0123\",%s,%s}", ok_rest, ok_binding);
	cases[1][0] = "a malformed factor sid";
	cases[1][1] = strdup(hostile);
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",%s,\"binding\":{\"secret\":\"gezdgnbvgy3tqojqgezdgnbvgy3tqojq"
		 "\",\"uri\":\"otpauth://totp/a:b?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq\"}}",
		 ok_rest);
	cases[2][0] = "a secret that is not base32 (lower case)";
	cases[2][1] = strdup(hostile);
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",%s,\"binding\":{\"secret\":"
		 "\"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\",\"uri\":\"https://evil.example/?secret="
		 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\"}}",
		 ok_rest);
	cases[3][0] = "a uri that is not otpauth://totp/";
	cases[3][1] = strdup(hostile);
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",%s,\"binding\":{\"secret\":"
		 "\"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\",\"uri\":\"otpauth://totp/a:b?secret="
		 "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U\"}}",
		 ok_rest);
	cases[4][0] = "a uri with another secret than the text";
	cases[4][1] = strdup(hostile);
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",\"factor_type\":\"totp\",\"status\":\"verified\","
		 "\"config\":{\"skew\":1,\"code_length\":6,\"time_step\":30},%s}",
		 ok_binding);
	cases[5][0] = "a new factor already verified";
	cases[5][1] = strdup(hostile);
	for (size_t i = 0; i < 6; i++) {
		snprintf(what, sizeof(what), "hostile factor create: %s", cases[i][0]);
		sim_answer("factor_create", 201, cases[i][1]);
		memset(&b, 'x', sizeof(b));
		EXPECT(twofa_totp_factor_create(v, ident, "x@host", &b, &r), TWOFA_VERIFY_BAD_ANSWER, what);
		ok(sodium_is_zero((const unsigned char *)&b, sizeof(b)) &&
			   strstr(r.log_message, "GEZDGNBV") == NULL &&
			   strstr(r.log_message, "AAAAAAAAAAAA") == NULL,
		   "%s: binding wiped, no secret in the log", cases[i][0]);
		free((void *)cases[i][1]);
	}
	/* ... and a well-formed one through the same path, so the cases above could pass. */
	snprintf(hostile, sizeof(hostile), "{\"sid\":\"YF0123456789abcdef0123456789abcdef\",%s,%s}", ok_rest,
		 ok_binding);
	sim_answer("factor_create", 201, hostile);
	EXPECT(twofa_totp_factor_create(v, ident, "x@host", &b, &r), TWOFA_VERIFY_OK,
	       "the same answer, well formed, is read");
	ok(strcmp(b.secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == 0, "its secret read");
	twofa_totp_binding_wipe(&b);

	/* Hostile answers to a challenge and a factor verify. */
	sim_answer("challenge", 201,
		   "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_sid\":"
		   "\"YF00000000000000000000000000000000\",\"factor_type\":\"totp\",\"status\":\"approved\"}");
	EXPECT(twofa_totp_challenge(v, ident, sid, "123456", &r), TWOFA_VERIFY_BAD_ANSWER,
	       "an approved challenge of another factor is not a pass");
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YC01\",\"factor_sid\":\"%s\",\"factor_type\":\"totp\",\"status\":\"approved\"}",
		 sid);
	sim_answer("challenge", 201, hostile);
	EXPECT(twofa_totp_challenge(v, ident, sid, "123456", &r), TWOFA_VERIFY_BAD_ANSWER,
	       "an approved challenge with a malformed sid is not a pass");
	snprintf(hostile, sizeof(hostile),
		 "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_sid\":\"%s\",\"factor_type\":\"totp\","
		 "\"status\":\"Approved\"}",
		 sid);
	sim_answer("challenge", 201, hostile);
	EXPECT(twofa_totp_challenge(v, ident, sid, "123456", &r), TWOFA_VERIFY_BAD_ANSWER,
	       "status Approved (not the word) is not a pass");
	sim_answer("factor_update", 200,
		   "{\"sid\":\"YF00000000000000000000000000000000\",\"factor_type\":\"totp\",\"status\":\"verified\"}");
	EXPECT(twofa_totp_factor_verify(v, ident, sid, "123456", &r), TWOFA_VERIFY_BAD_ANSWER,
	       "another factor verified is not a pass");

	/* Paging only on the same host and list. */
	snprintf(hostile, sizeof(hostile),
		 "{\"entities\":[{\"sid\":\"YE0123456789abcdef0123456789abcdef\",\"identity\":\"tfabcdefgh\"}],"
		 "\"meta\":{\"next_page_url\":\"https://evil.example/v2/Services/%s/Entities?Page=1\"}}",
		 cred(&S, "verify_service_sid"));
	sim_answer("entities", 200, hostile);
	EXPECT(twofa_totp_entities(v, NULL, NULL, &r), TWOFA_VERIFY_BAD_ANSWER, "a next page on another host");
	snprintf(hostile, sizeof(hostile),
		 "{\"entities\":[{\"sid\":\"YE0123456789abcdef0123456789abcdef\",\"identity\":\"tfabcdefgh\"}],"
		 "\"meta\":{\"next_page_url\":\"%s/v2/Services/%s/RateLimits?Page=1\"}}",
		 S.url, cred(&S, "verify_service_sid"));
	sim_answer("entities", 200, hostile);
	EXPECT(twofa_totp_entities(v, NULL, NULL, &r), TWOFA_VERIFY_BAD_ANSWER, "a next page of another list");
	sim_answer("entities", 200,
		   "{\"entities\":[{\"sid\":\"YE0123456789abcdef0123456789abcdef\",\"identity\":\"tf\\u001b[2J\"}],"
		   "\"meta\":{\"next_page_url\":null}}");
	EXPECT(twofa_totp_entities(v, count_entity, &(totp_list){0}, &r), TWOFA_VERIFY_BAD_ANSWER,
	       "an identity with an escape sequence");
	sim_answer("factors", 200,
		   "{\"factors\":[{\"sid\":\"YF0123456789abcdef0123456789abcdef\",\"status\":"
		   "\"unverified\",\"factor_type\":\"sms\"}],\"meta\":{}}");
	EXPECT(twofa_totp_factors(v, ident, NULL, NULL, &r), TWOFA_VERIFY_BAD_ANSWER,
	       "a factor of an unknown type");
	sim_answer("service", 200,
		   "{\"sid\":\"VA0123456789abcdef0123456789abcdef\",\"totp\":{\"time_step\":5}}");
	{
		twofa_totp_settings ts;
		EXPECT(twofa_totp_service_settings(v, &ts, &r), TWOFA_VERIFY_BAD_ANSWER, "a time step of 5 s");
		ok(ts.time_step == 0, "nothing kept from it");
	}
	j = ctl(&S, "GET", "/_sim/faults", NULL);
	ok(json_array_size(json_object_get(j, "faults")) == 0, "every queued answer was used");
	json_decref(j);
	twofa_verify_free(v);
}

static void test_no_secrets(void)
{
	const char *secrets[] = {cred(&S, "auth_token"),
				 cred(&S, "api_key_secret"),
				 cred(&H, "auth_token"),
				 cred(&H, "api_key_secret"),
				 cred(&S, "verify_service_sid"),
				 NUM,
				 "+14155550102",
				 "user@example.com",
				 totp_secret[0] != '\0' ? totp_secret : NULL};
	size_t leaks = 0, with_digits = 0;

	ok(seen_count > 100 && codes_count >= 5, "%zu messages and %zu codes collected", seen_count,
	   codes_count);
	for (size_t i = 0; i < seen_count; i++) {
		for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
			if (secrets[k] != NULL && strstr(seen_messages[i], secrets[k]) != NULL) {
				diag("leak of secret %zu in: %s", k, seen_messages[i]);
				leaks++;
			}
		for (size_t k = 0; k < codes_count; k++)
			if (seen_codes[k][0] != '\0' && strstr(seen_messages[i], seen_codes[k]) != NULL) {
				diag("leak of a code in: %s", seen_messages[i]);
				leaks++;
			}
		if (strpbrk(seen_messages[i], "0123456789") != NULL)
			with_digits++;
	}
	ok(leaks == 0, "no token, API secret, service SID, full number, address or code in any message");
	ok(with_digits > 0, "the scan looked at messages with digits (%zu)", with_digits);
	for (size_t i = 0; i < seen_count; i++)
		free(seen_messages[i]);
}

static bool load_sim(sim *s, const char *dir)
{
	char path[700];
	char *t;

	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(path, sizeof(path), "%s/url", dir);
	if ((t = read_text(path)) == NULL)
		return false;
	snprintf(s->url, sizeof(s->url), "%s", t);
	free(t);
	snprintf(path, sizeof(path), "%s/wrong_host_url", dir);
	if ((t = read_text(path)) != NULL) {
		snprintf(s->wrong_url, sizeof(s->wrong_url), "%s", t);
		free(t);
		snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", dir);
	}
	snprintf(path, sizeof(path), "%s/credentials.json", dir);
	s->creds = json_load_file(path, 0, NULL);
	s->ctl = curl_easy_init();
	return s->creds != NULL && s->ctl != NULL;
}

/* Service Rate Limits: ensure makes the rate limit and its bucket once;
 * keyed sends carry the member's key only where rate_limit is configured,
 * and a full bucket is a refusal (never an outage). */
static void test_rate_limits(void)
{
	twofa_verify_result r;
	twofa_verify_rate_limit rl, again;
	twofa_verify *v, *plain;
	size_t sent = 0;
	char code[11];

	sim_reset();
	v = client(&(conf_opts){.rate_limit = "twofa_member"});
	plain = client(&(conf_opts){0});
	if (!ok(v != NULL && plain != NULL, "clients with and without rate_limit"))
		goto out;
	EXPECT(twofa_verify_rate_limit_find(v, "twofa_member", &rl, &r), TWOFA_VERIFY_OK, "find before setup");
	ok(rl.sid[0] == '\0' && rl.buckets == 0, "no rate limit of that name yet");
	EXPECT(twofa_verify_rate_limit_ensure(v, "twofa_member", 2, 3600, &rl, &r), TWOFA_VERIFY_OK,
	       "ensure creates it");
	ok(twofa_verify_is_sid(rl.sid, "RK") && rl.buckets == 1 && rl.max[0] == 2 && rl.interval[0] == 3600,
	   "an RK sid with one bucket of 2 per 3600 s");
	EXPECT(twofa_verify_rate_limit_ensure(v, "twofa_member", 2, 3600, &again, &r), TWOFA_VERIFY_OK,
	       "ensure again");
	ok(strcmp(again.sid, rl.sid) == 0 && again.buckets == 1, "the second ensure made nothing new");
	EXPECT(twofa_verify_rate_limit_find(v, "bad name!", &again, &r), TWOFA_VERIFY_CLIENT_ERROR,
	       "a name outside [A-Za-z0-9_.-] is refused locally");
	EXPECT(twofa_verify_rate_limit_ensure(v, "twofa_member", 0, 60, &again, &r),
	       TWOFA_VERIFY_CLIENT_ERROR, "a bucket of 0 sends is refused locally");

	EXPECT(twofa_verify_start_keyed(v, "+14155550161", TWOFA_CHANNEL_SMS, NULL, "m-1", &r),
	       TWOFA_VERIFY_SENT, "keyed send 1 of 2");
	EXPECT(twofa_verify_start_keyed(v, "+14155550162", TWOFA_CHANNEL_SMS, NULL, "m-1", &r),
	       TWOFA_VERIFY_SENT, "keyed send 2 of 2, to another number");
	EXPECT(twofa_verify_start_keyed(v, "+14155550163", TWOFA_CHANNEL_SMS, NULL, "m-1", &r),
	       TWOFA_VERIFY_TOO_MANY_SENDS, "the third send of one key trips the bucket");
	ok(!twofa_verify_is_outage(r.outcome) && r.http_status == 429,
	   "a tripped bucket is a refusal, not an outage");
	ok(!last_delivery("+14155550163", code, NULL, &sent) && sent == 0, "and nothing was delivered");
	EXPECT(twofa_verify_start_keyed(v, "+14155550163", TWOFA_CHANNEL_SMS, NULL, "m-2", &r),
	       TWOFA_VERIFY_SENT, "another member's key has its own bucket");
	EXPECT(twofa_verify_start_keyed(plain, "+14155550164", TWOFA_CHANNEL_SMS, NULL, "m-1", &r),
	       TWOFA_VERIFY_SENT, "without rate_limit configured the key is not sent (not counted)");
	EXPECT(twofa_verify_start_keyed(v, "+14155550165", TWOFA_CHANNEL_SMS, NULL, NULL, &r),
	       TWOFA_VERIFY_SENT, "a member without a key sends without RateLimits");
	EXPECT(twofa_verify_start_keyed(v, "+14155550166", TWOFA_CHANNEL_SMS, NULL, "m\"1", &r),
	       TWOFA_VERIFY_CLIENT_ERROR, "a key outside [A-Za-z0-9_.-] is refused before any request");
out:
	twofa_verify_free(v);
	twofa_verify_free(plain);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HTTPS_SIM_DIR HTTP_SIM_DIR\n", argv[0]);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!ok(load_sim(&S, argv[1]) && load_sim(&H, argv[2]) && S.wrong_url[0] != '\0',
		"simulator directories readable"))
		return tap_done();

	test_service_and_auth();
	test_send_check_reuse();
	test_limits_and_expiry();
	test_numbers_channels_locale();
	test_rate_limits();
	test_lookup();
	test_faults();
	test_transport();
	test_http_sim();
	test_totp();
	test_totp_failures();
	test_no_secrets();

	curl_easy_cleanup(S.ctl);
	curl_easy_cleanup(H.ctl);
	json_decref(S.creds);
	json_decref(H.creds);
	curl_global_cleanup();
	return tap_done();
}
