/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The pure parts of the Verify client: the outcome table, the error mapping
 * and the response parser, fed with Twilio-shaped and hostile bodies.
 * Built twice: as test_verify_unit with the build's own lib/url.c (a test
 * build: plain http to the loopback accepted), and as test_verify_https_only
 * with its own copy of lib/url.c compiled as a normal build compiles it
 * (TWOFA_HTTPS_ONLY), where twofa_verify_new must refuse every http:// URL. */
#include "twofa_build.h"

#ifdef TWOFA_HTTPS_ONLY
#undef TWOFA_TEST_HTTP
#endif

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "verify.h"
#include "verify_totp.h"

#include "../unit/tap.h"

#define VE "VEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define VA "VA0123456789abcdef0123456789ABCDEF"

static twofa_verify_outcome interp(twofa_verify_op op, long status, const char *body, twofa_verify_result *r,
				   twofa_verify_details *d)
{
	char log[320];

	memset(r, 0, sizeof(*r));
	return twofa_verify_interpret(op, status, body, body != NULL ? strlen(body) : 0, r, d, log,
				      sizeof(log));
}

static void test_table(void)
{
	for (int o = 0; o < TWOFA_VERIFY_OUTCOME_COUNT; o++) {
		const char *u = twofa_verify_user_message((twofa_verify_outcome)o);
		ok(strcmp(twofa_verify_outcome_name((twofa_verify_outcome)o), "unknown") != 0 && u != NULL &&
			   strlen(u) > 4 && strlen(u) < 120,
		   "outcome %d has a name and a short user message", o);
	}
	ok(twofa_verify_is_outage(TWOFA_VERIFY_OUTAGE), "outage is an outage");
	ok(!twofa_verify_is_outage(TWOFA_VERIFY_RATE_LIMITED), "rate limiting is not an outage");
	ok(!twofa_verify_is_outage(TWOFA_VERIFY_BAD_CREDENTIALS), "bad credentials are not an outage");
	ok(!twofa_verify_is_outage(TWOFA_VERIFY_BAD_ANSWER),
	   "a bad answer (3xx, garbled 2xx) is not an outage");
	ok(!twofa_verify_is_outage(TWOFA_VERIFY_LOCAL_ERROR),
	   "a local error (EMFILE, CA file) is not an outage");
	ok(strcmp(twofa_verify_outcome_name((twofa_verify_outcome)99), "unknown") == 0,
	   "an out-of-range outcome is named unknown");
}

static void test_map(void)
{
	static const struct {
		twofa_verify_op op;
		long status, code;
		twofa_verify_outcome want;
	} cases[] = {
		{TWOFA_VERIFY_OP_CHECK, 404, 20404, TWOFA_VERIFY_EXPIRED},
		{TWOFA_VERIFY_OP_CANCEL, 404, 20404, TWOFA_VERIFY_EXPIRED},
		{TWOFA_VERIFY_OP_SERVICE, 404, 20404, TWOFA_VERIFY_SERVICE_NOT_FOUND},
		{TWOFA_VERIFY_OP_START, 404, 0, TWOFA_VERIFY_SERVICE_NOT_FOUND},
		{TWOFA_VERIFY_OP_CHECK, 429, 60202, TWOFA_VERIFY_TOO_MANY_CHECKS},
		{TWOFA_VERIFY_OP_START, 429, 60203, TWOFA_VERIFY_TOO_MANY_SENDS},
		{TWOFA_VERIFY_OP_START, 400, 60200, TWOFA_VERIFY_NUMBER_INVALID},
		{TWOFA_VERIFY_OP_CHECK, 400, 60200, TWOFA_VERIFY_INVALID_CODE},
		{TWOFA_VERIFY_OP_START, 403, 60205, TWOFA_VERIFY_LANDLINE},
		{TWOFA_VERIFY_OP_START, 403, 60410, TWOFA_VERIFY_BLOCKED},
		{TWOFA_VERIFY_OP_START, 403, 60605, TWOFA_VERIFY_BLOCKED},
		{TWOFA_VERIFY_OP_START, 403, 60238, TWOFA_VERIFY_BLOCKED},
		{TWOFA_VERIFY_OP_START, 400, 60223, TWOFA_VERIFY_CHANNEL_DISABLED},
		{TWOFA_VERIFY_OP_START, 400, 60217, TWOFA_VERIFY_CHANNEL_DISABLED},
		{TWOFA_VERIFY_OP_START, 401, 20003, TWOFA_VERIFY_BAD_CREDENTIALS},
		{TWOFA_VERIFY_OP_SERVICE, 401, 0, TWOFA_VERIFY_BAD_CREDENTIALS},
		{TWOFA_VERIFY_OP_START, 429, 20429, TWOFA_VERIFY_RATE_LIMITED},
		{TWOFA_VERIFY_OP_START, 429, 60212, TWOFA_VERIFY_RATE_LIMITED},
		{TWOFA_VERIFY_OP_CHECK, 429, 0, TWOFA_VERIFY_RATE_LIMITED},
		{TWOFA_VERIFY_OP_START, 500, 20500, TWOFA_VERIFY_OUTAGE},
		{TWOFA_VERIFY_OP_CHECK, 503, 0, TWOFA_VERIFY_OUTAGE},
		/* Not an outage, so failmode=safe never opens on them (audit #10). */
		{TWOFA_VERIFY_OP_CHECK, 302, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_START, 301, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_START, 304, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_CHECK, 100, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_CHECK, 199, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_START, 600, 0, TWOFA_VERIFY_BAD_ANSWER},
		{TWOFA_VERIFY_OP_START, 403, 60204, TWOFA_VERIFY_CLIENT_ERROR},
		{TWOFA_VERIFY_OP_CHECK, 400, 60221, TWOFA_VERIFY_CLIENT_ERROR},
		{TWOFA_VERIFY_OP_LOOKUP, 404, 20404, TWOFA_VERIFY_NUMBER_INVALID},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twofa_verify_outcome got = twofa_verify_map_error(cases[i].op, cases[i].status, cases[i].code);
		ok(got == cases[i].want, "%s HTTP %ld code %ld -> %s (got %s)",
		   twofa_verify_op_name(cases[i].op), cases[i].status, cases[i].code,
		   twofa_verify_outcome_name(cases[i].want), twofa_verify_outcome_name(got));
	}
}

static void test_parse(void)
{
	twofa_verify_result r;
	twofa_verify_details d;
	char log[320];

	memset(&d, 0, sizeof(d)); /* its totp part holds inputs: none */

	ok(interp(TWOFA_VERIFY_OP_START, 201, "{\"sid\":\"" VE "\",\"status\":\"pending\"}", &r, NULL) ==
			   TWOFA_VERIFY_SENT &&
		   strcmp(r.verification_sid, VE) == 0,
	   "start 201 pending -> sent, sid kept");
	ok(interp(TWOFA_VERIFY_OP_START, 201, "{\"status\":\"pending\"}", &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "start without sid -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_START, 201, "{\"sid\":\"VExyz\",\"status\":\"pending\"}", &r, NULL) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "start with a malformed sid -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"sid\":\"" VE "\",\"status\":\"approved\",\"valid\":true}",
		  &r, NULL) == TWOFA_VERIFY_APPROVED,
	   "check approved -> approved");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 201, "{\"status\":\"approved\"}", &r, NULL) == TWOFA_VERIFY_APPROVED,
	   "check 201 approved (spec) -> approved");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"approved\",\"valid\":false}", &r, NULL) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "approved contradicted by valid:false -> bad answer, not a pass");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"pending\",\"valid\":false}", &r, NULL) ==
		   TWOFA_VERIFY_WRONG_CODE,
	   "check pending -> wrong code");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"pending\",\"valid\":true}", &r, NULL) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "pending with valid:true -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"APPROVED\"}", &r, NULL) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "status compared exactly: APPROVED is not approved");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"max_attempts_reached\"}", &r, NULL) ==
		   TWOFA_VERIFY_TOO_MANY_CHECKS,
	   "check max_attempts_reached -> too many checks");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"expired\"}", &r, NULL) == TWOFA_VERIFY_EXPIRED,
	   "check expired -> expired");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"approved\",\"status\":\"approved\"}", &r,
		  NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "duplicate keys are rejected");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":1}", &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "status of the wrong type -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "[\"approved\"]", &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "an array -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "{\"status\":\"approved\"", &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "truncated JSON -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, "", &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "empty body -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 200, NULL, &r, NULL) == TWOFA_VERIFY_BAD_ANSWER,
	   "no body -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_CANCEL, 200, "{\"sid\":\"" VE "\",\"status\":\"canceled\"}", &r, NULL) ==
		   TWOFA_VERIFY_OK,
	   "cancel canceled -> ok");
	ok(interp(TWOFA_VERIFY_OP_CANCEL, 200, "{\"status\":\"approved\"}", &r, NULL) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "cancel answered approved -> bad answer");

	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200,
		  "{\"sid\":\"" VA "\",\"code_length\":6,"
		  "\"friendly_name\":\"My\\u001b[31mApp\"}",
		  &r, &d) == TWOFA_VERIFY_OK &&
		   d.code_length == 6 && strchr(d.friendly_name, 0x1b) == NULL &&
		   strstr(d.friendly_name, "App") != NULL,
	   "service -> ok, code length 6, name sanitised (%s)", d.friendly_name);
	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200, "{\"sid\":\"" VA "\",\"code_length\":99}", &r, &d) ==
		   TWOFA_VERIFY_BAD_ANSWER,
	   "service code_length 99 -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200, "{\"sid\":\"" VE "\"}", &r, &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "service with a VE sid -> bad answer");

	ok(interp(TWOFA_VERIFY_OP_LOOKUP, 200, "{\"valid\":true,\"phone_number\":\"+14159929960\"}", &r,
		  &d) == TWOFA_VERIFY_OK &&
		   strcmp(d.e164, "+14159929960") == 0,
	   "lookup valid -> ok, E.164 copied");
	ok(interp(TWOFA_VERIFY_OP_LOOKUP, 200,
		  "{\"valid\":false,\"phone_number\":\"+141599299600\",\"validation_errors\":[\"TOO_LONG\"]}",
		  &r, &d) == TWOFA_VERIFY_NUMBER_INVALID,
	   "lookup valid:false -> number invalid");
	ok(interp(TWOFA_VERIFY_OP_LOOKUP, 200, "{\"valid\":true,\"phone_number\":\"+1415992996000000\"}", &r,
		  &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "lookup valid with a 16-digit number -> bad answer");
	ok(interp(TWOFA_VERIFY_OP_LOOKUP, 200, "{\"valid\":\"yes\"}", &r, &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "lookup valid of the wrong type -> bad answer");

	ok(interp(TWOFA_VERIFY_OP_START, 429,
		  "{\"code\":60203,\"message\":\"Max send attempts reached\",\"more_info\":\"x\",\"status\":429}",
		  &r, NULL) == TWOFA_VERIFY_TOO_MANY_SENDS &&
		   r.twilio_code == 60203 && r.http_status == 429,
	   "error body: code and status kept");
	ok(interp(TWOFA_VERIFY_OP_CHECK, 404, "<html>not found</html>", &r, NULL) == TWOFA_VERIFY_EXPIRED &&
		   r.twilio_code == 0,
	   "error without JSON: the status decides");
	ok(interp(TWOFA_VERIFY_OP_START, 400, "{\"code\":\"60200\"}", &r, NULL) == TWOFA_VERIFY_CLIENT_ERROR,
	   "a string code is ignored");

	memset(&r, 0, sizeof(r));
	twofa_verify_interpret(TWOFA_VERIFY_OP_CHECK, 404,
			       "{\"code\":20404,\"message\":\"The requested resource /Services/" VA
			       "/VerificationCheck was not found \\u001b]0;x\\u0007 123456\"}",
			       strlen("{\"code\":20404,\"message\":\"The requested resource /Services/" VA
				      "/VerificationCheck was not found \\u001b]0;x\\u0007 123456\"}"),
			       &r, NULL, log, sizeof(log));
	ok(strstr(log, VA) == NULL && strstr(log, "123456") == NULL && strchr(log, 0x1b) == NULL &&
		   strchr(log, 0x07) == NULL && strstr(log, "was not found") != NULL,
	   "Twilio's message is scrubbed of SIDs, digit runs and control characters: %s", log);
}

/* Which URLs http.c takes is tests/unit/test_url.c's subject. */
static void test_user_agent(void)
{
	ok(strncmp(twofa_http_user_agent(), "twofa/" PACKAGE_VERSION " (libcurl/", 16) == 0,
	   "user agent names twofa and libcurl: %s", twofa_http_user_agent());
}

/* twofa_verify_new refuses what it cannot use safely, before any request. */
static void test_new(void)
{
	static const struct {
		const char *verify_url, *service, *locale;
		long timeout;
		twofa_status want;
		const char *what;
	} cases[] = {
		{"https://127.0.0.1:1", VA, NULL, 10, TWOFA_OK, "https to the loopback"},
#ifdef TWOFA_TEST_HTTP
		{"http://127.0.0.1:1/", VA, "pt-BR", 10, TWOFA_OK,
		 "test build: http to the loopback, locale pt-BR"},
#else
		{"http://127.0.0.1:1/", VA, NULL, 10, TWOFA_ECONFIG, "normal build: http to the loopback"},
		{"http://localhost:1", VA, NULL, 10, TWOFA_ECONFIG, "normal build: http to localhost"},
#endif
		{"http://verify.twilio.com", VA, NULL, 10, TWOFA_ECONFIG, "http elsewhere"},
		{"https://AC1:tok@verify.twilio.com", VA, NULL, 10, TWOFA_ECONFIG, "user info in the URL"},
		{"https://127.0.0.1:1", "VA123", NULL, 10, TWOFA_ECONFIG, "short Service SID"},
		{"https://127.0.0.1:1", VA, "en&x=1", 10, TWOFA_ECONFIG, "locale with form syntax"},
		{"https://127.0.0.1:1", VA, NULL, 0, TWOFA_EINVAL, "timeout 0"},
		{"https://127.0.0.1:1", VA, NULL, 121, TWOFA_EINVAL, "timeout 121"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twofa_config cfg;
		twofa_error err = {0};
		twofa_verify *v = NULL;
		twofa_status st;

		twofa_config_init(&cfg);
		/* Set the fields directly: the config parser has its own checks.
		 * (Defaults point at static strings; twofa_config_free knows.) */
		cfg.verify_url = strdup(cases[i].verify_url);
		cfg.account_sid = strdup("AC0123456789abcdef0123456789abcdef");
		cfg.auth_token = strdup("0123456789abcdef0123456789abcdef");
		cfg.verify_service_sid = strdup(cases[i].service);
		cfg.locale = cases[i].locale != NULL ? strdup(cases[i].locale) : NULL;
		cfg.timeout = cases[i].timeout;
		st = twofa_verify_new(&v, &cfg, &err);
		ok(st == cases[i].want && (st == TWOFA_OK) == (v != NULL), "new: %s -> %s (got %s: %s)",
		   cases[i].what, twofa_status_name(cases[i].want), twofa_status_name(st), err.msg);
		ok(strstr(err.msg, "tok@") == NULL && strstr(err.msg, "0123456789abcdef0123") == NULL,
		   "new: %s: no secret in the error", cases[i].what);
		twofa_verify_free(v);
		twofa_config_free(&cfg);
	}
	{
		twofa_config cfg;
		twofa_error err = {0};
		twofa_verify *v = NULL;

		twofa_config_init(&cfg);
		ok(twofa_verify_new(&v, &cfg, &err) == TWOFA_ECONFIG && v == NULL,
		   "new without credentials -> config error (%s)", err.msg);
		twofa_config_free(&cfg);
	}
}

#define YF "YF0123456789abcdef0123456789abcdef"
#define SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define CONFIG "\"config\":{\"alg\":\"sha1\",\"skew\":1,\"code_length\":6,\"time_step\":30}"

/* The TOTP readers on their own: what passes, and what never does. */
static void test_totp_parse(void)
{
	static const struct {
		twofa_verify_op op;
		long status;
		const char *body;
		twofa_verify_outcome want;
		const char *what;
	} cases[] = {
		{TWOFA_VERIFY_OP_FACTOR_VERIFY, 200,
		 "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"verified\"}",
		 TWOFA_VERIFY_APPROVED, "factor verified"},
		{TWOFA_VERIFY_OP_FACTOR_VERIFY, 200,
		 "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"}",
		 TWOFA_VERIFY_WRONG_CODE, "factor still unverified"},
		{TWOFA_VERIFY_OP_FACTOR_VERIFY, 200,
		 "{\"sid\":\"" YF "\",\"factor_type\":\"push\",\"status\":\"verified\"}",
		 TWOFA_VERIFY_BAD_ANSWER, "a push factor verified"},
		{TWOFA_VERIFY_OP_FACTOR_VERIFY, 200,
		 "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":true}", TWOFA_VERIFY_BAD_ANSWER,
		 "status not a string"},
		{TWOFA_VERIFY_OP_CHALLENGE, 201,
		 "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_sid\":\"" YF
		 "\",\"factor_type\":\"totp\",\"status\":\"approved\"}",
		 TWOFA_VERIFY_APPROVED, "challenge approved"},
		{TWOFA_VERIFY_OP_CHALLENGE, 201,
		 "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_sid\":\"" YF
		 "\",\"factor_type\":\"totp\",\"status\":\"denied\"}",
		 TWOFA_VERIFY_WRONG_CODE, "challenge denied"},
		{TWOFA_VERIFY_OP_CHALLENGE, 201,
		 "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_sid\":\"" YF
		 "\",\"factor_type\":\"totp\",\"status\":\"expired\"}",
		 TWOFA_VERIFY_BAD_ANSWER, "a new challenge already expired"},
		{TWOFA_VERIFY_OP_CHALLENGE, 201,
		 "{\"sid\":\"YC0123456789abcdef0123456789abcdef\",\"factor_type\":\"totp\",\"status\":\"approved\"}",
		 TWOFA_VERIFY_BAD_ANSWER, "an approved challenge that names no factor"},
		{TWOFA_VERIFY_OP_CHALLENGE, 200, "[\"approved\"]", TWOFA_VERIFY_BAD_ANSWER, "a JSON array"},
		{TWOFA_VERIFY_OP_CHALLENGE, 404, "{\"code\":20404}", TWOFA_VERIFY_EXPIRED, "challenge 404"},
		{TWOFA_VERIFY_OP_CHALLENGE, 400, "{\"code\":60200}", TWOFA_VERIFY_CLIENT_ERROR,
		 "challenge 60200"},
		{TWOFA_VERIFY_OP_CHALLENGE, 302, "{\"status\":\"approved\"}", TWOFA_VERIFY_BAD_ANSWER,
		 "a redirect"},
		{TWOFA_VERIFY_OP_FACTOR_DELETE, 204, "", TWOFA_VERIFY_OK, "factor deleted: 204"},
		{TWOFA_VERIFY_OP_ENTITY_DELETE, 404, "", TWOFA_VERIFY_EXPIRED, "entity gone: 404"},
		{TWOFA_VERIFY_OP_FACTOR_CREATE, 404, "{\"code\":20404}", TWOFA_VERIFY_SERVICE_NOT_FOUND,
		 "factor create 404"},
		{TWOFA_VERIFY_OP_ENTITIES, 200, "{\"entities\":{},\"meta\":{}}", TWOFA_VERIFY_BAD_ANSWER,
		 "entities not a list"},
		{TWOFA_VERIFY_OP_ENTITIES, 200,
		 "{\"entities\":[],\"meta\":{\"next_page_url\":\"https://x/\"}}", TWOFA_VERIFY_BAD_ANSWER,
		 "an empty page that says there is more"},
		{TWOFA_VERIFY_OP_FACTORS, 200,
		 "{\"factors\":[{\"sid\":\"" YF
		 "\",\"status\":\"verified\",\"factor_type\":\"totp\"}],\"meta\":{}}",
		 TWOFA_VERIFY_OK, "a factor list"},
		{TWOFA_VERIFY_OP_FACTORS, 200,
		 "{\"factors\":[{\"sid\":\"" YF
		 "\",\"status\":\"approved\",\"factor_type\":\"totp\"}],\"meta\":{}}",
		 TWOFA_VERIFY_BAD_ANSWER, "a factor status outside the enum"},
	};
	twofa_verify_result r;
	twofa_verify_details d;
	twofa_totp_binding b;
	twofa_totp_settings ts;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twofa_verify_outcome got;

		memset(&d, 0, sizeof(d));
		d.totp.factor_sid = YF;
		/* Before ok(): its arguments are read in no set order. */
		got = interp(cases[i].op, cases[i].status, cases[i].body, &r, &d);
		ok(got == cases[i].want, "%s -> %s (got %s)", cases[i].what,
		   twofa_verify_outcome_name(cases[i].want), twofa_verify_outcome_name(got));
	}
	memset(&d, 0, sizeof(d));
	d.totp.factor_sid = "YF00000000000000000000000000000000";
	ok(interp(TWOFA_VERIFY_OP_FACTOR_VERIFY, 200,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"verified\"}", &r,
		  &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "another factor verified is not a pass");

	memset(&d, 0, sizeof(d));
	d.totp.binding = &b;
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"," CONFIG
		  ",\"binding\":{\"secret\":\"" SECRET
		  "\",\"uri\":\"otpauth://totp/a:b?issuer=a&secret=" SECRET "\"}}",
		  &r, &d) == TWOFA_VERIFY_OK &&
		   strcmp(b.secret, SECRET) == 0 && strcmp(b.factor_sid, YF) == 0 && b.time_step == 30,
	   "a factor create is read into the binding");
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"," CONFIG
		  ",\"binding\":{\"secret\":\"" SECRET "\",\"uri\":\"otpauth://totp/a:b?x=1&secret=" SECRET
		  "X\"}}",
		  &r, &d) == TWOFA_VERIFY_BAD_ANSWER &&
		   b.secret[0] == '\0' && b.factor_sid[0] == '\0',
	   "a uri whose secret is longer than the text's: bad answer, binding wiped");
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\","
		  "\"config\":{\"skew\":3,\"code_length\":6,\"time_step\":30},"
		  "\"binding\":{\"secret\":\"" SECRET "\",\"uri\":\"otpauth://totp/a:b?secret=" SECRET "\"}}",
		  &r, &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "a skew of 3: bad answer");
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"," CONFIG
		  ",\"binding\":{\"secret\":\"GEZDGNBVGY3TQOJQ\",\"uri\":\"otpauth://totp/a:b?secret=GEZDGNBVGY3TQOJQ\"}}",
		  &r, &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "a secret of 80 bits (under RFC 4226's 128): bad answer");
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"," CONFIG
		  ",\"binding\":{\"secret\":\"" SECRET "\",\"uri\":\"otpauth://totp/a b?secret=" SECRET "\"}}",
		  &r, &d) == TWOFA_VERIFY_BAD_ANSWER,
	   "a uri with a space: bad answer");
	ok(interp(TWOFA_VERIFY_OP_FACTOR_CREATE, 201,
		  "{\"sid\":\"" YF "\",\"factor_type\":\"totp\",\"status\":\"unverified\"," CONFIG
		  ",\"binding\":{\"secret\":\"" SECRET "\",\"uri\":\"otpauth://totp/a:b?secret=" SECRET
		  "&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\"}}",
		  &r, &d) == TWOFA_VERIFY_BAD_ANSWER &&
		   b.secret[0] == '\0',
	   "a uri with a second secret after the right one: bad answer, binding wiped");
	ok(interp(TWOFA_VERIFY_OP_CHALLENGE, 403, "{\"code\":60324,\"status\":403}", &r, &d) ==
			   TWOFA_VERIFY_WRONG_CODE &&
		   interp(TWOFA_VERIFY_OP_FACTOR_VERIFY, 403, "{\"code\":60311,\"status\":403}", &r, &d) ==
			   TWOFA_VERIFY_WRONG_CODE &&
		   interp(TWOFA_VERIFY_OP_CHALLENGE, 429, "{\"code\":60308,\"status\":429}", &r, &d) ==
			   TWOFA_VERIFY_TOO_MANY_CHECKS,
	   "Twilio's documented 403 60324 / 60311 are wrong codes, 429 60308 too many checks");

	memset(&d, 0, sizeof(d));
	d.totp.settings = &ts;
	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200,
		  "{\"sid\":\"" VA
		  "\",\"totp\":{\"issuer\":\"Acme\",\"time_step\":30,\"code_length\":6,\"skew\":1}}",
		  &r, &d) == TWOFA_VERIFY_OK &&
		   ts.time_step == 30 && ts.code_length == 6 && ts.skew == 1 && strcmp(ts.issuer, "Acme") == 0,
	   "the service's totp object is read");
	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200, "{\"sid\":\"" VA "\",\"totp\":{\"code_length\":\"6\"}}", &r,
		  &d) == TWOFA_VERIFY_BAD_ANSWER &&
		   ts.code_length == 0,
	   "a code_length that is a string: bad answer, nothing kept");
	memset(&d, 0, sizeof(d));
	ok(interp(TWOFA_VERIFY_OP_SERVICE, 200, "{\"sid\":\"" VA "\",\"totp\":{\"code_length\":\"6\"}}", &r,
		  &d) == TWOFA_VERIFY_OK,
	   "... but a service fetch that does not ask for it is not held to it");

	ok(twofa_totp_identity_valid("tf0123456789abcdef0123456789abcdef") &&
		   twofa_totp_identity_valid("abcdefgh") && !twofa_totp_identity_valid("abcdefg") &&
		   !twofa_totp_identity_valid("tf01234/") && !twofa_totp_identity_valid(NULL) &&
		   !twofa_totp_identity_valid(
			   "a12345678901234567890123456789012345678901234567890123456789012345"),
	   "identities: 8..64 of [A-Za-z0-9_-]");
}

int main(void)
{
	test_table();
	test_map();
	test_parse();
	test_totp_parse();
	test_user_agent();
	test_new();
	return tap_done();
}
