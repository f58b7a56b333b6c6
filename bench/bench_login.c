/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Login benchmark: N logins in this process through real libpam
 * (pam_start_confdir on a private confdir), answering the conversation
 * itself: the password, then the code read from the Twilio simulator's
 * outbox. One JSON object per line on stdout.
 *
 * Where the time goes is measured inside the same process: this program
 * exports its own crypto_pwhash_str_verify, curl_easy_perform and flock
 * (linked with -export-dynamic), which the dlopen'ed module then calls
 * instead of libsodium's, libcurl's and libc's; each one times the real
 * call. Per login:
 *   total            = pam_authenticate wall time
 *   conversation     = time in our conversation function (the "user")
 *   argon2id         = time in crypto_pwhash_str_verify
 *   server wait      = time in curl_easy_perform (request, TLS, response)
 *   module overhead  = total - conversation - argon2id - server wait
 * With --parts each login is followed by one made of the libtwofa calls the
 * module makes (config load, member load, state read, password verify,
 * send reservation, verify start/check, success record), each timed alone.
 *
 * Usage:
 *   bench_login --setup --db PATH --members M --strength S      < password
 *       writes M members bench0000000.. (one Argon2id hash, phones
 *       +447000000000 + i) into a new or existing members.db
 *   bench_login --confdir DIR --service NAME [--count N] [--quick]
 *               [--members M] [--first K] [--warmup W] [--label L]
 *               [--sim-url URL --ca FILE] [--pause-ms MS]
 *               [--parts --config FILE --strength S] [--raw]
 *               [--start-at EPOCH] [--user NAME]                 < password
 *       N logins (default 200, --quick 20) by users K, K+1, ... modulo M,
 *       after W unmeasured warm-up logins (default 1). --user logs in one
 *       fixed (non-twofa) user instead. --raw prints the per-login samples
 *       instead of percentiles (for the concurrency driver). */
#include "twofa_build.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include <crypt.h>
#include <curl/curl.h>
#include <jansson.h>
#include <security/pam_appl.h>
#include <sodium.h>

#include "config.h"
#include "member.h"
#include "member_store.h"
#include "password.h"
#include "state.h"
#include "store.h"
#include "util.h"
#include "verify.h"

#define PHONE_FORMAT "+447%09zu"
#define USER_FORMAT "bench%07zu"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_login: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

/* A real reference to libcrypt, so the linker keeps it (see bench.am). */
char *(*volatile bench_libcrypt_anchor)(const char *, const char *, struct crypt_data *) = crypt_r;

/* ---- interposed calls: what the module spends where ---- */

/* Seconds spent in each interposed call since the last reset. Counted only
 * while `counting` is set, so the driver's own outbox requests (inside the
 * conversation) are never charged to the module. */
static struct {
	bool counting;
	double argon2id, server, lock_read, lock_write;
	long argon2id_calls, requests, connections, tls_resumed;
} spent;

typedef int (*pwhash_verify_fn)(const char *, const char *, unsigned long long);
typedef CURLcode (*curl_perform_fn)(CURL *);
typedef int (*flock_fn)(int, int);

static void *real_symbol(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (sym == NULL)
		die("cannot find the real symbol", name);
	return sym;
}

int crypto_pwhash_str_verify(const char str[crypto_pwhash_STRBYTES], const char *const passwd,
			     unsigned long long passwdlen)
{
	static pwhash_verify_fn real;
	double t0 = now_s();
	int rc;

	if (real == NULL)
		*(void **)&real = real_symbol("crypto_pwhash_str_verify");
	rc = real(str, passwd, passwdlen);
	if (spent.counting) {
		spent.argon2id += now_s() - t0;
		spent.argon2id_calls++;
	}
	return rc;
}

/* Whether a new connection of the module resumed a TLS session (an
 * abbreviated handshake) or made a full one. libcurl's OpenSSL backend hands
 * out its SSL object; SSL_session_reused comes from the libssl libcurl
 * already loaded, so the benchmark needs no OpenSSL headers. */
static void count_connection(CURL *curl)
{
	typedef int (*reused_fn)(const void *);
	static reused_fn reused;
	struct curl_tlssessioninfo *tls = NULL;
	long connects = 0;

	if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK || connects <= 0)
		return;
	spent.connections += connects;
	if (reused == NULL)
		*(void **)&reused = dlsym(RTLD_DEFAULT, "SSL_session_reused");
	if (reused != NULL && curl_easy_getinfo(curl, CURLINFO_TLS_SSL_PTR, &tls) == CURLE_OK && tls != NULL &&
	    tls->backend == CURLSSLBACKEND_OPENSSL && tls->internals != NULL && reused(tls->internals))
		spent.tls_resumed++;
}

CURLcode curl_easy_perform(CURL *curl)
{
	static curl_perform_fn real;
	double t0 = now_s();
	CURLcode rc;

	if (real == NULL)
		*(void **)&real = real_symbol("curl_easy_perform");
	rc = real(curl);
	if (spent.counting) {
		spent.server += now_s() - t0;
		spent.requests++;
		count_connection(curl);
	}
	return rc;
}

/* The store retries a non-blocking flock with backoff: the wait is from the
 * first try on a descriptor to the try that succeeds. */
int flock(int fd, int operation)
{
	static flock_fn real;
	static int pending_fd = -1;
	static double pending_since;
	double t0 = now_s();
	int rc;

	if (real == NULL)
		*(void **)&real = real_symbol("flock");
	if (operation & LOCK_UN)
		return real(fd, operation);
	if (fd != pending_fd) {
		pending_fd = fd;
		pending_since = t0;
	}
	rc = real(fd, operation);
	if (rc == 0 || errno != EWOULDBLOCK) {
		if (spent.counting) {
			if (operation & LOCK_EX)
				spent.lock_write += now_s() - pending_since;
			else
				spent.lock_read += now_s() - pending_since;
		}
		pending_fd = -1;
	}
	return rc;
}

/* ---- samples ---- */

typedef struct series {
	const char *name;
	double *ms;
	size_t n;
} series;

static void series_init(series *s, const char *name, size_t cap)
{
	s->name = name;
	s->n = 0;
	s->ms = calloc(cap ? cap : 1, sizeof(*s->ms));
	if (s->ms == NULL)
		die("out of memory", NULL);
}

static void add_ms(series *s, double seconds)
{
	s->ms[s->n++] = seconds * 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[rank > 0 ? rank - 1 : 0];
}

static void print_percentiles(series *s)
{
	qsort(s->ms, s->n, sizeof(*s->ms), cmp_double);
	printf("\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f", percentile(s->ms, s->n, 50),
	       percentile(s->ms, s->n, 95), percentile(s->ms, s->n, 99), s->n ? s->ms[s->n - 1] : 0.0);
}

static void print_raw(series *s)
{
	printf("\"%s\":[", s->name);
	for (size_t i = 0; i < s->n; i++)
		printf("%s%.3f", i ? "," : "", s->ms[i]);
	printf("]");
}

/* ---- the simulator's outbox (the user reading the SMS) ---- */

typedef struct outbox {
	CURL *curl;
	const char *base_url;
	long connections; /* ours, to subtract from the simulator's counters */
} outbox;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	char **buf = arg;
	size_t old = *buf ? strlen(*buf) : 0, add = size * n;
	char *grown = realloc(*buf, old + add + 1);

	if (grown == NULL)
		return 0;
	memcpy(grown + old, data, add);
	grown[old + add] = '\0';
	*buf = grown;
	return add;
}

/* The newest code sent to phone, or NULL. */
static char *latest_code(outbox *o, const char *phone)
{
	char url[512], *body = NULL, *code = NULL;
	long connects = 0;
	json_t *list;

	/* A '+' in a query string would read as a space. */
	snprintf(url, sizeof(url), "%s/_sim/outbox?to=%%2B%s", o->base_url, phone + 1);
	curl_easy_setopt(o->curl, CURLOPT_URL, url);
	curl_easy_setopt(o->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(o->curl, CURLOPT_WRITEDATA, &body);
	if (curl_easy_perform(o->curl) != CURLE_OK || body == NULL) {
		free(body);
		return NULL;
	}
	if (curl_easy_getinfo(o->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
		o->connections += connects;
	list = json_loads(body, 0, NULL);
	free(body);
	if (json_is_array(list) && json_array_size(list) > 0) {
		const char *c = json_string_value(
			json_object_get(json_array_get(list, json_array_size(list) - 1), "code"));
		code = c ? strdup(c) : NULL;
	}
	json_decref(list);
	return code;
}

/* ---- the conversation ---- */

typedef struct user_side {
	const char *password;
	const char *phone;
	outbox *box;
	long pause_ms;
	double seconds; /* in the conversation, this login */
	long errors;    /* PAM_ERROR_MSG lines seen */
} user_side;

static int conversation(int num_msg, const struct pam_message **msg, struct pam_response **resp, void *appdata)
{
	user_side *u = appdata;
	double t0 = now_s();
	bool was_counting = spent.counting;
	struct pam_response *answers = calloc((size_t)(num_msg > 0 ? num_msg : 1), sizeof(*answers));
	int rc = PAM_SUCCESS;

	*resp = NULL;
	if (answers == NULL)
		return PAM_BUF_ERR;
	spent.counting = false;
	for (int i = 0; i < num_msg && rc == PAM_SUCCESS; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answers[i].resp = strdup(u->password);
			break;
		case PAM_PROMPT_ECHO_ON:
			if (u->pause_ms > 0) {
				struct timespec ts = {u->pause_ms / 1000, (u->pause_ms % 1000) * 1000000L};
				nanosleep(&ts, NULL);
			}
			answers[i].resp = u->box && u->phone ? latest_code(u->box, u->phone) : NULL;
			if (answers[i].resp == NULL)
				rc = PAM_CONV_ERR;
			break;
		case PAM_ERROR_MSG:
			u->errors++;
			fprintf(stderr, "bench_login: module says: %s\n", msg[i]->msg);
			break;
		default:
			break;
		}
	}
	if (rc == PAM_SUCCESS) {
		*resp = answers;
	} else {
		for (int i = 0; i < num_msg; i++)
			twofa_free_secret(answers[i].resp);
		free(answers);
	}
	spent.counting = was_counting;
	u->seconds += now_s() - t0;
	return rc;
}

/* ---- options ---- */

typedef struct options {
	const char *confdir, *service, *label, *sim_url, *ca, *config, *db, *fixed_user;
	size_t count, members, first, warmup;
	long pause_ms;
	twofa_strength strength;
	bool setup, parts, raw, quick;
	double start_at;
	char password[256];
} options;

static const char *strength_name(twofa_strength s)
{
	return s == TWOFA_STRENGTH_INTERACTIVE ? "interactive"
	       : s == TWOFA_STRENGTH_MODERATE  ? "moderate"
					       : "sensitive";
}

/* ---- --setup: many members, one hash ---- */

static int setup(const options *o)
{
	char hash[crypto_pwhash_STRBYTES], user[32], *json = NULL;
	twofa_member m;
	twofa_store *s = NULL;
	twofa_error err;

	if (twofa_password_hash(o->password, o->strength, hash, &err) != TWOFA_OK)
		die("hash", err.msg);
	memset(&m, 0, sizeof(m));
	m.password_hash = hash;
	m.user = user;
	strcpy(m.country, "GB");
	m.channel = TWOFA_CHANNEL_SMS;
	m.status = TWOFA_MEMBER_ACTIVE;
	m.created = m.updated = m.verified = time(NULL);
	if (twofa_store_open(&s, o->db, TWOFA_STORE_WRITE, TWOFA_STORE_LOCK_TIMEOUT_MS, &err) != TWOFA_OK)
		die("open", err.msg);
	for (size_t i = 0; i < o->members; i++) {
		snprintf(user, sizeof(user), USER_FORMAT, i);
		snprintf(m.phone, sizeof(m.phone), PHONE_FORMAT, i % 1000000000);
		if (twofa_member_encode(&m, &json, &err) != TWOFA_OK ||
		    twofa_store_put(s, user, json, strlen(json), true, &err) != TWOFA_OK)
			die("store", err.msg);
		free(json);
	}
	if (twofa_store_close(s, &err) != TWOFA_OK)
		die("close", err.msg);
	sodium_memzero(hash, sizeof(hash));
	return 0;
}

/* ---- one login through libpam ---- */

typedef struct pam_samples {
	series total, handle, conv, argon2id, server, overhead, lock_read, lock_write;
	long failures, errors, requests, connections, tls_resumed;
} pam_samples;

static bool pam_login(const options *o, const char *user, const char *phone, outbox *box, pam_samples *out)
{
	user_side u = {.password = o->password, .phone = phone, .box = box, .pause_ms = o->pause_ms};
	const struct pam_conv conv = {conversation, &u};
	pam_handle_t *pamh = NULL;
	double t0, t1, t2, t3, auth;
	int rc;

	t0 = now_s();
	rc = pam_start_confdir(o->service, user, &conv, o->confdir, &pamh);
	if (rc != PAM_SUCCESS)
		die("pam_start_confdir failed for service", o->service);
	memset(&spent, 0, sizeof(spent));
	spent.counting = true;
	t1 = now_s();
	rc = pam_authenticate(pamh, 0);
	t2 = now_s();
	spent.counting = false;
	pam_end(pamh, rc);
	t3 = now_s();
	if (out == NULL)
		return rc == PAM_SUCCESS;
	auth = t2 - t1;
	add_ms(&out->total, auth);
	add_ms(&out->handle, (t1 - t0) + (t3 - t2));
	add_ms(&out->conv, u.seconds);
	add_ms(&out->argon2id, spent.argon2id);
	add_ms(&out->server, spent.server);
	add_ms(&out->overhead, auth - u.seconds - spent.argon2id - spent.server);
	add_ms(&out->lock_read, spent.lock_read);
	add_ms(&out->lock_write, spent.lock_write);
	out->errors += u.errors;
	out->requests += spent.requests;
	out->connections += spent.connections;
	out->tls_resumed += spent.tls_resumed;
	if (rc != PAM_SUCCESS) {
		out->failures++;
		fprintf(stderr, "bench_login: login of %s: %s\n", user, pam_strerror(pamh, rc));
	}
	return rc == PAM_SUCCESS;
}

/* ---- one login made of the module's libtwofa calls, each timed ---- */

enum {
	PART_CONFIG,
	PART_MEMBERS,
	PART_STATE_READ,
	PART_PASSWORD,
	PART_RESERVE,
	PART_VERIFY_NEW,
	PART_START,
	PART_CHECK,
	PART_SUCCESS,
	PART_COUNT
};
static const char *const part_names[PART_COUNT] = {
	"config_load", "members_load", "state_read",   "password_verify",      "state_reserve_send",
	"verify_new",  "verify_start", "verify_check", "state_record_success",
};
/* Parts that are neither Argon2id nor a request to Twilio. */
static const bool part_is_local[PART_COUNT] = {true, true, true, false, true, true, false, false, true};

static void parts_login(const options *o, const char *user, const char *phone, outbox *box, series *parts,
			series *local)
{
	twofa_config cfg;
	twofa_member_store *members = NULL;
	twofa_member m;
	twofa_state_entry st;
	twofa_state_origin origin;
	twofa_state_login login = {.user = user, .enrolled = true, .origin = &origin};
	bool locked = true;
	twofa_verify *v = NULL;
	twofa_verify_result res;
	twofa_error err;
	bool allowed = false;
	time_t retry_at = 0;
	double took[PART_COUNT], t, sum = 0;
	twofa_verify_outcome outcome;
	twofa_status status;
	char *code;

#define TIMED(part, var, call)            \
	do {                              \
		t = now_s();              \
		var = (call);             \
		took[part] = now_s() - t; \
	} while (0)
	twofa_config_init(&cfg);
	TIMED(PART_CONFIG, status, twofa_config_load(&cfg, o->config, &err));
	if (status != TWOFA_OK)
		die("config", err.msg);
	if (twofa_member_store_open(&members, &cfg, TWOFA_MEMBER_STORE_LOGIN, &err) != TWOFA_OK)
		die("member_store_open", err.msg);
	TIMED(PART_MEMBERS, status, twofa_member_store_load(members, user, &m, &err));
	if (status != TWOFA_OK)
		die("members_load", err.msg);
	TIMED(PART_STATE_READ, status, twofa_state_read(cfg.state_db, user, &st, &err));
	if (status != TWOFA_OK)
		die("state_read", err.msg);
	TIMED(PART_PASSWORD, status, twofa_password_verify(m.password_hash, o->password, &err));
	if (status != TWOFA_OK)
		die("password_verify", err.msg);
	(void)twofa_password_needs_rehash(m.password_hash, cfg.password_strength);
	TIMED(PART_RESERVE, status,
	      twofa_state_reserve_send(cfg.state_db, user, time(NULL), cfg.send_limit, cfg.send_window,
				       &allowed, &retry_at, &err));
	if (status != TWOFA_OK || !allowed)
		die("reserve_send", status != TWOFA_OK ? err.msg : "send limit reached");
	TIMED(PART_VERIFY_NEW, status, twofa_verify_new(&v, &cfg, &err));
	if (status != TWOFA_OK)
		die("verify_new", err.msg);
	TIMED(PART_START, outcome, twofa_verify_start(v, phone, TWOFA_CHANNEL_SMS, cfg.locale, &res));
	if (outcome != TWOFA_VERIFY_SENT)
		die("verify_start", res.log_message);
	code = latest_code(box, phone); /* the user reading the SMS: not timed */
	if (code == NULL)
		die("no code in the outbox", NULL);
	TIMED(PART_CHECK, outcome, twofa_verify_check(v, phone, code, &res));
	free(code);
	if (outcome != TWOFA_VERIFY_APPROVED)
		die("verify_check", res.log_message);
	twofa_state_origin_make(&origin, "bench", "rhost", "127.0.0.1", NULL, "rhost=127.0.0.1");
	TIMED(PART_SUCCESS, status,
	      twofa_state_record_success(cfg.state_db, &login, time(NULL), "bench", cfg.grace_period, &locked,
					 &err));
	if (status != TWOFA_OK || locked)
		die("record_success", status != TWOFA_OK ? err.msg : "locked out");
#undef TIMED
	twofa_verify_free(v);
	twofa_member_free(&m);
	twofa_member_store_close(members);
	twofa_config_free(&cfg);
	for (int i = 0; i < PART_COUNT; i++) {
		add_ms(&parts[i], took[i]);
		if (part_is_local[i])
			sum += took[i];
	}
	add_ms(local, sum);
}

static void wait_until(double epoch)
{
	struct timespec ts;
	double left;

	clock_gettime(CLOCK_REALTIME, &ts);
	left = epoch - ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	if (left > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static double realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_line(const options *o, const char *bench, series *s, const char *extra)
{
	printf("{\"bench\":\"%s\",\"module\":\"%s\"", bench, o->label);
	if (strcmp(o->label, "pam_twofa") == 0)
		printf(",\"strength\":\"%s\"", strength_name(o->strength));
	printf(",\"logins\":%zu,", s->n);
	print_percentiles(s);
	printf("%s}\n", extra ? extra : "");
}

static int run(const options *o)
{
	outbox box = {.base_url = o->sim_url};
	pam_samples ps;
	series parts[PART_COUNT], local;
	char user[32], phone[32];
	double start = 0, end;
	size_t n = o->count;

	if (o->sim_url != NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		box.curl = curl_easy_init();
		if (box.curl == NULL)
			die("curl_easy_init failed", NULL);
		curl_easy_setopt(box.curl, CURLOPT_CAINFO, o->ca);
		curl_easy_setopt(box.curl, CURLOPT_TIMEOUT, 30L);
	}
	memset(&ps, 0, sizeof(ps));
	series_init(&ps.total, "auth_ms", n);
	series_init(&ps.handle, "handle_ms", n);
	series_init(&ps.conv, "conversation_ms", n);
	series_init(&ps.argon2id, "argon2id_ms", n);
	series_init(&ps.server, "server_ms", n);
	series_init(&ps.overhead, "overhead_ms", n);
	series_init(&ps.lock_read, "lock_wait_read_ms", n);
	series_init(&ps.lock_write, "lock_wait_write_ms", n);
	for (int i = 0; i < PART_COUNT; i++)
		series_init(&parts[i], part_names[i], n);
	series_init(&local, "local_ms", n);

	for (size_t i = 0; i < o->warmup + n; i++) {
		size_t k = (o->first + i) % (o->members ? o->members : 1);
		const char *u = o->fixed_user;

		if (i == o->warmup) {
			if (o->start_at > 0)
				wait_until(o->start_at);
			start = realtime_s();
		}
		if (u == NULL) {
			snprintf(user, sizeof(user), USER_FORMAT, k);
			snprintf(phone, sizeof(phone), PHONE_FORMAT, k % 1000000000);
			u = user;
		}
		if (!pam_login(o, u, o->fixed_user ? NULL : phone, &box, i < o->warmup ? NULL : &ps) &&
		    i < o->warmup)
			die("the warm-up login failed for", u);
		if (o->parts) {
			/* Another member than the PAM login's, so the two never share a pending code. */
			k = (k + o->members / 2) % o->members;
			snprintf(user, sizeof(user), USER_FORMAT, k);
			snprintf(phone, sizeof(phone), PHONE_FORMAT, k % 1000000000);
			if (i < o->warmup) {
				series scratch[PART_COUNT], scratch_local;
				for (int j = 0; j < PART_COUNT; j++)
					series_init(&scratch[j], part_names[j], 1);
				series_init(&scratch_local, "local_ms", 1);
				parts_login(o, user, phone, &box, scratch, &scratch_local);
				for (int j = 0; j < PART_COUNT; j++)
					free(scratch[j].ms);
				free(scratch_local.ms);
			} else {
				parts_login(o, user, phone, &box, parts, &local);
			}
		}
	}
	end = realtime_s();
	if (n == 0)
		start = end;

	if (o->raw) {
		printf("{\"bench\":\"login_raw\",\"module\":\"%s\",\"logins\":%zu,\"failures\":%ld,\"start_unix\":%.6f,"
		       "\"end_unix\":%.6f,\"driver_connections\":%ld,",
		       o->label, n, ps.failures, start, end, box.connections);
		print_raw(&ps.total);
		putchar(',');
		print_raw(&ps.lock_read);
		putchar(',');
		print_raw(&ps.lock_write);
		printf("}\n");
	} else {
		char extra[256];

		snprintf(extra, sizeof(extra),
			 ",\"failures\":%ld,\"error_messages\":%ld,\"seconds\":%.3f,\"per_sec\":%.2f,\"driver_connections\":%ld",
			 ps.failures, ps.errors, end - start, (double)n / (end - start > 0 ? end - start : 1),
			 box.connections);
		print_line(o, "login_total", &ps.total, extra);
		print_line(o, "login_pam_start_end", &ps.handle, NULL);
		if (strcmp(o->label, "pam_twofa") == 0) {
			double per = n ? 1.0 / (double)n : 0;

			snprintf(extra, sizeof(extra),
				 ",\"requests_per_login\":%.2f,\"new_connections_per_login\":%.2f,"
				 "\"tls_full_handshakes_per_login\":%.2f,\"tls_resumed_per_login\":%.2f",
				 (double)ps.requests * per, (double)ps.connections * per,
				 (double)(ps.connections - ps.tls_resumed) * per,
				 (double)ps.tls_resumed * per);
			/* Seen only when the module does the work in this process; since
			 * issue 12 the server does it in its own, out of our reach. */
			if (ps.requests > 0) {
				print_line(o, "login_argon2id", &ps.argon2id, NULL);
				print_line(o, "login_server_wait", &ps.server, extra);
				print_line(o, "login_lock_wait_read", &ps.lock_read, NULL);
				print_line(o, "login_lock_wait_write", &ps.lock_write, NULL);
			}
			print_line(o, "module_overhead", &ps.overhead,
				   ",\"target_p50_ms\":2,\"method\":\"pam_authenticate minus time in the conversation "
				   "and in the interposed calls this process made (none once the server does them)\"");
		}
		if (o->parts) {
			for (int i = 0; i < PART_COUNT; i++) {
				snprintf(extra, sizeof(extra), ",\"part\":\"%s\",\"kind\":\"%s\"",
					 part_names[i],
					 part_is_local[i]     ? "local"
					 : i == PART_PASSWORD ? "argon2id"
							      : "server");
				print_line(o, "login_part", &parts[i], extra);
			}
			print_line(o, "login_parts_local", &local,
				   ",\"method\":\"sum of the local libtwofa calls of one login made directly\"");
		}
	}
	fflush(stdout);
	if (box.curl != NULL) {
		curl_easy_cleanup(box.curl);
		curl_global_cleanup();
	}
	{
		series *all[] = {&ps.total,    &ps.handle,    &ps.conv,       &ps.argon2id, &ps.server,
				 &ps.overhead, &ps.lock_read, &ps.lock_write, &local};
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			free(all[i]->ms);
		for (int i = 0; i < PART_COUNT; i++)
			free(parts[i].ms);
	}
	return ps.failures == 0 ? 0 : 1;
}

static bool parse_size(const char *s, size_t *out)
{
	long v;

	if (!twofa_parse_long(s, 0, 100000000, &v))
		return false;
	*out = (size_t)v;
	return true;
}

static int usage(const char *why)
{
	fprintf(stderr,
		"bench_login: %s\n"
		"usage: bench_login --setup --db PATH --members M --strength S < password\n"
		"       bench_login --confdir DIR --service NAME [--count N] [--quick] [--members M]\n"
		"                   [--first K] [--warmup W] [--label L] [--sim-url URL --ca FILE]\n"
		"                   [--pause-ms MS] [--parts --config FILE] [--strength S] [--raw]\n"
		"                   [--start-at EPOCH] [--user NAME] < password\n",
		why);
	return 64;
}

int main(int argc, char **argv)
{
	enum {
		O_SETUP = 256,
		O_DB,
		O_MEMBERS,
		O_STRENGTH,
		O_CONFDIR,
		O_SERVICE,
		O_COUNT,
		O_QUICK,
		O_FIRST,
		O_WARMUP,
		O_LABEL,
		O_SIM,
		O_CA,
		O_PAUSE,
		O_PARTS,
		O_CONFIG,
		O_RAW,
		O_START,
		O_USER
	};
	static const struct option longopts[] = {
		{"setup", no_argument, NULL, O_SETUP},
		{"db", required_argument, NULL, O_DB},
		{"members", required_argument, NULL, O_MEMBERS},
		{"strength", required_argument, NULL, O_STRENGTH},
		{"confdir", required_argument, NULL, O_CONFDIR},
		{"service", required_argument, NULL, O_SERVICE},
		{"count", required_argument, NULL, O_COUNT},
		{"quick", no_argument, NULL, O_QUICK},
		{"first", required_argument, NULL, O_FIRST},
		{"warmup", required_argument, NULL, O_WARMUP},
		{"label", required_argument, NULL, O_LABEL},
		{"sim-url", required_argument, NULL, O_SIM},
		{"ca", required_argument, NULL, O_CA},
		{"pause-ms", required_argument, NULL, O_PAUSE},
		{"parts", no_argument, NULL, O_PARTS},
		{"config", required_argument, NULL, O_CONFIG},
		{"raw", no_argument, NULL, O_RAW},
		{"start-at", required_argument, NULL, O_START},
		{"user", required_argument, NULL, O_USER},
		{NULL, 0, NULL, 0},
	};
	options o = {.label = "pam_twofa", .members = 1, .warmup = 1, .count = 0};
	bool count_given = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_SETUP:
			o.setup = true;
			break;
		case O_DB:
			o.db = optarg;
			break;
		case O_MEMBERS:
			if (!parse_size(optarg, &o.members) || o.members == 0)
				return usage("bad --members");
			break;
		case O_STRENGTH:
			if (strcmp(optarg, "interactive") == 0)
				o.strength = TWOFA_STRENGTH_INTERACTIVE;
			else if (strcmp(optarg, "moderate") == 0)
				o.strength = TWOFA_STRENGTH_MODERATE;
			else if (strcmp(optarg, "sensitive") == 0)
				o.strength = TWOFA_STRENGTH_SENSITIVE;
			else
				return usage("bad --strength");
			break;
		case O_CONFDIR:
			o.confdir = optarg;
			break;
		case O_SERVICE:
			o.service = optarg;
			break;
		case O_COUNT:
			if (!parse_size(optarg, &o.count))
				return usage("bad --count");
			count_given = true;
			break;
		case O_QUICK:
			o.quick = true;
			break;
		case O_FIRST:
			if (!parse_size(optarg, &o.first))
				return usage("bad --first");
			break;
		case O_WARMUP:
			if (!parse_size(optarg, &o.warmup))
				return usage("bad --warmup");
			break;
		case O_LABEL:
			o.label = optarg;
			break;
		case O_SIM:
			o.sim_url = optarg;
			break;
		case O_CA:
			o.ca = optarg;
			break;
		case O_PAUSE:
			if (!twofa_parse_long(optarg, 0, 600000, &o.pause_ms))
				return usage("bad --pause-ms");
			break;
		case O_PARTS:
			o.parts = true;
			break;
		case O_CONFIG:
			o.config = optarg;
			break;
		case O_RAW:
			o.raw = true;
			break;
		case O_START:
			o.start_at = strtod(optarg, NULL);
			break;
		case O_USER:
			o.fixed_user = optarg;
			break;
		default:
			return usage("bad option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	if (!count_given)
		o.count = o.quick ? 20 : 200;
	if (fgets(o.password, sizeof(o.password), stdin) == NULL)
		return usage("no password on stdin");
	o.password[strcspn(o.password, "\n")] = '\0';
	if (o.setup) {
		if (o.db == NULL)
			return usage("--setup needs --db");
		return setup(&o);
	}
	if (o.confdir == NULL || o.service == NULL)
		return usage("--confdir and --service are required");
	if (o.fixed_user == NULL && (o.sim_url == NULL || o.ca == NULL))
		return usage("twofa logins need --sim-url and --ca");
	if (o.parts && (o.config == NULL || o.fixed_user != NULL || o.members < 2))
		return usage("--parts needs --config, twofa members and --members >= 2");
	return run(&o);
}
