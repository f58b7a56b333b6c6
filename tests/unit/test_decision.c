/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/_pam_types.h>

#include "decision.h"
#include "tap.h"

static void test_decide_and_text(void)
{
	twofa_decision d;
	char text[128];

	twofa_decide(&d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_LOCKED,
		     "locked out after %d failures", 3);
	ok(d.pam_code == PAM_MAXTRIES && d.result == TWOFA_RESULT_DENIED && d.priority == LOG_NOTICE,
	   "decide keeps code, result and priority");
	ok(strcmp(d.reason, "locked out after 3 failures") == 0, "decide formats the reason: %s", d.reason);
	ok(twofa_decision_user_text(&d, text, sizeof(text)) &&
		   strcmp(text, "Too many failed attempts. Try again later.") == 0,
	   "the locked text comes from the table");
	ok(!twofa_decision_user_text(&d, text, 10), "a text that does not fit is refused, not cut");

	twofa_decide(&d, PAM_MAXTRIES, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_SEND_LIMIT, "send limit");
	d.message_arg = 7;
	ok(twofa_decision_user_text(&d, text, sizeof(text)) &&
		   strcmp(text, "Too many codes sent. Try again in 7 minutes.") == 0,
	   "a counting text holds its number: %s", text);
	d.message_arg = 1;
	ok(twofa_decision_user_text(&d, text, sizeof(text)) &&
		   strcmp(text, "Too many codes sent. Try again in 1 minute.") == 0,
	   "one minute is singular: %s", text);

	twofa_decide(&d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_INFO, TWOFA_MSG_NONE, "code approved");
	ok(twofa_decision_user_text(&d, text, sizeof(text)) && text[0] == '\0', "no message is an empty text");

	twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE, "user %s", "ev\nil\x1b");
	ok(strchr(d.reason, '\n') == NULL && strchr(d.reason, '\x1b') == NULL,
	   "control characters never reach the reason: %s", d.reason);
	char longer[600];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE, "%s", longer);
	ok(strlen(d.reason) == TWOFA_REASON_MAX - 1, "an overlong reason is cut to the bound");
}

static void test_names(void)
{
	ok(strcmp(twofa_result_name(TWOFA_RESULT_IGNORED), "ignored") == 0, "result names");
	ok(strcmp(twofa_pam_code_name(PAM_AUTHINFO_UNAVAIL), "PAM_AUTHINFO_UNAVAIL") == 0, "PAM code names");
	ok(twofa_pam_code_name(PAM_NEW_AUTHTOK_REQD) == NULL, "codes outside the set have no name");
	ok(strcmp(twofa_priority_name(LOG_CRIT), "crit") == 0, "priority names");
	ok(twofa_message_name(TWOFA_MSG_COUNT) == NULL, "no name past the table");
	for (int m = 0; m < TWOFA_MSG_COUNT; m++) {
		twofa_decision d;
		char text[256];
		twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, (twofa_message)m, "r");
		d.message_arg = 2;
		ok(twofa_message_name((twofa_message)m) != NULL && twofa_decision_user_text(&d, text, sizeof(text)) &&
			   (m == TWOFA_MSG_NONE) == (text[0] == '\0'),
		   "message %d has a name and a text", m);
	}
}

static void test_roundtrip(void)
{
	twofa_decision d, back;
	twofa_error err;
	char *json = NULL;

	twofa_decide(&d, PAM_AUTHINFO_UNAVAIL, TWOFA_RESULT_DENIED, LOG_ERR, TWOFA_MSG_UNREACHABLE,
		     "Twilio unreachable at send (timed out)");
	twofa_status st = twofa_decision_encode(&d, &json, &err);
	ok(st == TWOFA_OK && json != NULL, "encode: %s", json != NULL ? json : err.msg);
	ok(json != NULL && twofa_decision_decode(json, strlen(json), &back, &err) == TWOFA_OK, "decode");
	ok(back.pam_code == d.pam_code && back.result == d.result && back.priority == d.priority &&
		   back.message == d.message && back.message_arg == d.message_arg && strcmp(back.reason, d.reason) == 0,
	   "a decision survives the round trip");
	free(json);

	d.pam_code = PAM_NEW_AUTHTOK_REQD;
	ok(twofa_decision_encode(&d, &json, &err) == TWOFA_EINVAL && json == NULL,
	   "a code outside the set is not encoded");
}

static void refused(const char *json, const char *why)
{
	twofa_decision d;
	twofa_error err;

	ok(twofa_decision_decode(json, strlen(json), &d, &err) == TWOFA_EINVAL && d.pam_code == PAM_SERVICE_ERR &&
		   d.result == TWOFA_RESULT_ERROR,
	   "refused and fails closed: %s", why);
}

#define GOOD_TAIL "\"priority\":\"info\",\"message\":\"none\",\"arg\":0,\"reason\":\"ok\"}"

static void test_hostile(void)
{
	twofa_decision d;
	twofa_error err;
	const char *good = "{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\"," GOOD_TAIL;

	ok(twofa_decision_decode(good, strlen(good), &d, &err) == TWOFA_OK && d.pam_code == PAM_SUCCESS,
	   "the reference object decodes");
	refused("{\"v\":2,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\"," GOOD_TAIL, "another version");
	refused("{\"v\":1,\"pam\":\"PAM_SUCESS\",\"result\":\"success\"," GOOD_TAIL, "an unknown PAM code");
	refused("{\"v\":1,\"pam\":0,\"result\":\"success\"," GOOD_TAIL, "a numeric PAM code");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"granted\"," GOOD_TAIL, "an unknown result");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"pam\":\"PAM_SUCCESS\",\"result\":\"success\"," GOOD_TAIL,
		"a duplicate key");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"x\":1," GOOD_TAIL, "an extra key");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\"}", "missing keys");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\","
		"\"message\":\"none\",\"arg\":-1,\"reason\":\"ok\"}",
		"a negative argument");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\","
		"\"message\":\"none\",\"arg\":0,\"reason\":\"a\\u0000b\"}",
		"a NUL inside the reason");
	refused("[1]", "not an object");
	refused("{", "not JSON");

	char big[TWOFA_DECISION_JSON_MAX + 2];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "over the size bound");

	const char *ctl = "{\"v\":1,\"pam\":\"PAM_AUTH_ERR\",\"result\":\"denied\",\"priority\":\"notice\","
			  "\"message\":\"none\",\"arg\":0,\"reason\":\"a\\nresult=success\"}";
	ok(twofa_decision_decode(ctl, strlen(ctl), &d, &err) == TWOFA_OK && strchr(d.reason, '\n') == NULL,
	   "a newline from the wire is neutralised: %s", d.reason);
}

int main(void)
{
	test_decide_and_text();
	test_names();
	test_roundtrip();
	test_hostile();
	return tap_done();
}
