/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/_pam_types.h>

#include "config.h"
#include "decision.h"
#include "tap.h"
#include "verify.h"

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

	twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_NONE, "user %s",
		     "ev\nil\x1b");
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
		ok(twofa_message_name((twofa_message)m) != NULL &&
			   twofa_decision_user_text(&d, text, sizeof(text)) &&
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
		   back.message == d.message && back.message_arg == d.message_arg &&
		   strcmp(back.reason, d.reason) == 0,
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

	ok(twofa_decision_decode(json, strlen(json), &d, &err) == TWOFA_EINVAL &&
		   d.pam_code == PAM_SERVICE_ERR && d.result == TWOFA_RESULT_ERROR,
	   "refused and fails closed: %s", why);
}

#define GOOD_TAIL \
	"\"priority\":\"info\",\"message\":\"none\",\"arg\":0,\"channel\":\"\",\"to\":\"\",\"reason\":\"ok\"}"

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
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\"}",
		"missing keys");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\","
		"\"message\":\"none\",\"arg\":-1,\"channel\":\"\",\"to\":\"\",\"reason\":\"ok\"}",
		"a negative argument");
	refused("{\"v\":1,\"pam\":\"PAM_SUCCESS\",\"result\":\"success\",\"priority\":\"info\","
		"\"message\":\"none\",\"arg\":0,\"channel\":\"\",\"to\":\"\",\"reason\":\"a\\u0000b\"}",
		"a NUL inside the reason");
	refused("[1]", "not an object");
	refused("{", "not JSON");

	char big[TWOFA_DECISION_JSON_MAX + 2];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "over the size bound");

	const char *ctl = "{\"v\":1,\"pam\":\"PAM_AUTH_ERR\",\"result\":\"denied\",\"priority\":\"notice\","
			  "\"message\":\"none\",\"arg\":0,\"channel\":\"\",\"to\":\"\","
			  "\"reason\":\"a\\nresult=success\"}";
	ok(twofa_decision_decode(ctl, strlen(ctl), &d, &err) == TWOFA_OK && strchr(d.reason, '\n') == NULL,
	   "a newline from the wire is neutralised: %s", d.reason);
}

static bool text_is(twofa_message m, long arg, const char *want)
{
	char text[256];

	return twofa_message_text(m, arg, text, sizeof(text)) && strcmp(text, want) == 0;
}

/* The rows the flows use for their final answers and for the conversation. */
static void test_rows(void)
{
	char text[256];

	ok(text_is(TWOFA_MSG_CHANNEL_REFUSED, TWOFA_CHANNEL_WHATSAPP,
		   "Codes cannot be sent by WhatsApp here. Contact your administrator."),
	   "a refused first send names the channel's label");
	ok(text_is(TWOFA_MSG_CHANNEL_REFUSED_RESEND, TWOFA_CHANNEL_CALL,
		   "Codes cannot be sent by voice call here."),
	   "a refused resend names it too");
	ok(!twofa_message_text(TWOFA_MSG_CHANNEL_REFUSED, 99, text, sizeof(text)),
	   "a channel row refuses an argument that is no channel");
	ok(text_is(TWOFA_MSG_VERIFY, TWOFA_VERIFY_LANDLINE, twofa_verify_user_message(TWOFA_VERIFY_LANDLINE)),
	   "a Verify outcome's text comes from the outcome table");
	ok(!twofa_message_text(TWOFA_MSG_VERIFY, TWOFA_VERIFY_OUTCOME_COUNT, text, sizeof(text)),
	   "an outcome row refuses an argument past the outcomes");
	ok(text_is(TWOFA_MSG_RETRY_WRONG, 2, "Wrong code. Enter the code again (2 tries left): ") &&
		   text_is(TWOFA_MSG_RETRY_WRONG, 1, "Wrong code. Enter the code again (1 try left): "),
	   "the re-prompt after a wrong code counts the tries left");
	ok(text_is(TWOFA_MSG_RETRY_EMPTY, 1, "No code entered. Enter the code (1 try left): ") &&
		   text_is(TWOFA_MSG_RETRY_EXPIRED, 3,
			   "The code has expired or was used. Type 'resend' for a new one (3 tries left): "),
	   "the other re-prompts");
	ok(text_is(TWOFA_MSG_WRONG_CODE, 0, "Wrong code.") &&
		   text_is(TWOFA_MSG_NO_CODE, 0, "No code entered.") &&
		   text_is(TWOFA_MSG_CODE_EXPIRED, 0, "The code has expired or was used."),
	   "the last try's texts");
	ok(text_is(TWOFA_MSG_SEND_LIMIT_RESEND, 4,
		   "Too many codes sent. Enter the code you have, or try again in 4 minutes.") &&
		   text_is(TWOFA_MSG_SEND_LIMIT_RESEND, 1,
			   "Too many codes sent. Enter the code you have, or try again in 1 minute."),
	   "the send limit at a resend");
	ok(text_is(TWOFA_MSG_RESEND_FAILED, 0, "A new code cannot be sent now. Enter the code you have."),
	   "a resend during an outage");
	ok(text_is(TWOFA_MSG_COUNTRY_REFUSED, 0,
		   "Codes cannot be sent to your number's country from here. Contact your administrator."),
	   "country_refused: a member whose country countries no longer lists");
	ok(text_is(TWOFA_MSG_APP_LOCKED, 0,
		   "Too many wrong codes from your authenticator app. Ask your administrator to unlock your "
		   "account.") &&
		   strcmp(twofa_message_name(TWOFA_MSG_APP_LOCKED), "app_locked") == 0,
	   "app_locked: the cap on consecutive wrong app codes");
	ok(text_is(TWOFA_MSG_PASSWORDS_DIFFER, 0, "Passwords do not match.") &&
		   text_is(TWOFA_MSG_PASSWORD_TOO_LONG, 1024, "The new password is longer than 1024 bytes.") &&
		   text_is(TWOFA_MSG_PASSWORD_EMPTY, 0, "The new password is empty."),
	   "the password change's texts");
	ok(text_is(TWOFA_MSG_SINGLE_ANSWER, 0,
		   "This program cannot ask for a code: it answered the code prompt with the password. See "
		   "pam_twofa(8), SCREEN LOCKERS."),
	   "a program that answers the code prompt with the password is told why it cannot");
	ok(text_is(TWOFA_MSG_CODE_IN_ANSWER, TWOFA_CHANNEL_SMS,
		   "A code was sent by SMS: type your password, a space and the code.") &&
		   !twofa_message_text(TWOFA_MSG_CODE_IN_ANSWER, 99, text, sizeof(text)),
	   "the locker recipe's text, without a destination; a channel it must be");
	ok(text_is(TWOFA_MSG_RECOVERY_PROMPT, 0, "Recovery code: ") &&
		   text_is(TWOFA_MSG_RECOVERY_OUTAGE, 0,
			   "The verification service cannot be reached. Enter a recovery code: ") &&
		   text_is(TWOFA_MSG_RECOVERY_RETRY_WRONG, 2,
			   "Wrong recovery code. Enter a recovery code (2 tries left): ") &&
		   text_is(TWOFA_MSG_RECOVERY_RETRY_EMPTY, 1,
			   "No code entered. Enter a recovery code (1 try left): "),
	   "the recovery code's prompts");
	ok(text_is(TWOFA_MSG_RECOVERY_LOW, 2,
		   "Recovery code accepted: 2 left. Ask your administrator for a new set ('twofa-enroll "
		   "recovery').") &&
		   text_is(TWOFA_MSG_RECOVERY_LOW, 0,
			   "Recovery code accepted: 0 left. Ask your administrator for a new set ('twofa-enroll "
			   "recovery').") &&
		   strcmp(twofa_message_name(TWOFA_MSG_RECOVERY_LOW), "recovery_low") == 0,
	   "two or fewer recovery codes left: said with the count");
	{
		twofa_decision d;
		twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CODE_IN_ANSWER, "r");
		d.message_arg = TWOFA_CHANNEL_CALL;
		twofa_decision_set_destination(&d, "call", "+1 ***-***-0123");
		ok(twofa_decision_user_text(&d, text, sizeof(text)) &&
			   strcmp(text,
				  "A code was sent by voice call to +1 ***-***-0123: type your password, a "
				  "space and the code.") == 0,
		   "and with the decision's destination: %s", text);
	}
	ok(text_is(TWOFA_MSG_ENROL_INVITE_PROMPT, 0, "Enrolment code: ") &&
		   text_is(TWOFA_MSG_ENROL_COUNTRY_PROMPT, 0, "Country (ISO code, e.g. GB; ? lists them): ") &&
		   text_is(TWOFA_MSG_ENROL_PHONE_PROMPT, 0, "Phone number: ") &&
		   strcmp(twofa_message_name(TWOFA_MSG_ENROL_COUNTRY_PROMPT), "enrol_country_prompt") == 0,
	   "the self-enrolment prompts");
	{
		twofa_decision d, back;
		twofa_error err;
		char *json = NULL;

		twofa_decide(&d, PAM_SUCCESS, TWOFA_RESULT_SUCCESS, LOG_NOTICE, TWOFA_MSG_ENROL_DONE, "r");
		d.message_arg = TWOFA_CHANNEL_SMS;
		twofa_decision_set_destination(&d, "sms", "+44 **** **4567");
		twofa_error_clear(&err);
		bool encoded = twofa_decision_encode(&d, &json, &err) == TWOFA_OK;
		ok(encoded && twofa_decision_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
			   back.message == TWOFA_MSG_ENROL_DONE &&
			   twofa_decision_user_text(&back, text, sizeof(text)) &&
			   strcmp(text, "You are enrolled: codes go by SMS to +44 **** **4567.") == 0,
		   "an enrolment's decision survives the codec and names where codes go: %s", text);
		free(json);
	}
	ok(!twofa_message_text(TWOFA_MSG_SEND_LIMIT, -1, text, sizeof(text)) &&
		   !twofa_message_text(TWOFA_MSG_SEND_LIMIT, TWOFA_MESSAGE_ARG_MAX + 1, text, sizeof(text)),
	   "an argument outside 0..TWOFA_MESSAGE_ARG_MAX is refused");
}

static void test_destination_and_logging(void)
{
	twofa_decision d, back;
	twofa_error err;
	char *json = NULL, over[64];

	twofa_decide_nothing_yet(&d);
	ok(d.pam_code == PAM_SERVICE_ERR && d.result == TWOFA_RESULT_ERROR && d.message == TWOFA_MSG_NONE,
	   "the decision before any is made fails closed");
	ok(twofa_decision_logged(&d, false), "an error is always logged");
	twofa_decide(&d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_DEBUG, TWOFA_MSG_NONE, "not in groups=");
	ok(!twofa_decision_logged(&d, false) && twofa_decision_logged(&d, true),
	   "a debug-priority decision is logged only with debug");

	twofa_decide(&d, PAM_AUTH_ERR, TWOFA_RESULT_DENIED, LOG_NOTICE, TWOFA_MSG_CHANNEL_REFUSED, "channel");
	d.message_arg = TWOFA_CHANNEL_WHATSAPP;
	twofa_decision_set_destination(&d, "sms", "+1 ***-***-0123\n");
	ok(strcmp(d.channel, "sms") == 0 && strchr(d.to, '\n') == NULL,
	   "the destination is kept, sanitised: %s", d.to);
	/* Encoded before ok(): its arguments are evaluated in no fixed order. */
	twofa_error_clear(&err);
	bool encoded = twofa_decision_encode(&d, &json, &err) == TWOFA_OK;
	ok(encoded && twofa_decision_decode(json, strlen(json), &back, &err) == TWOFA_OK &&
		   strcmp(back.channel, "sms") == 0 && strcmp(back.to, d.to) == 0 &&
		   back.message == TWOFA_MSG_CHANNEL_REFUSED && back.message_arg == TWOFA_CHANNEL_WHATSAPP,
	   "channel, destination and a channel argument survive the round trip: %s",
	   json != NULL ? json : err.msg);
	free(json);
	memset(over, 'x', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	twofa_decision_set_destination(&d, over, over);
	ok(strlen(d.to) == TWOFA_DECISION_TO_MAX - 1 && strlen(d.channel) == TWOFA_DECISION_CHANNEL_MAX - 1,
	   "an overlong destination is cut to the bounds");
	ok(twofa_decision_encode(&d, &json, &err) == TWOFA_EINVAL && json == NULL,
	   "an unknown channel is not encoded");

	d.message_arg = 99;
	twofa_decision_set_destination(&d, NULL, NULL);
	ok(twofa_decision_encode(&d, &json, &err) == TWOFA_EINVAL,
	   "an argument the row cannot hold is not encoded");

#define HEAD "{\"v\":1,\"pam\":\"PAM_AUTH_ERR\",\"result\":\"denied\",\"priority\":\"notice\","
	refused(HEAD
		"\"message\":\"channel_refused\",\"arg\":99,\"channel\":\"\",\"to\":\"\",\"reason\":\"r\"}",
		"a channel argument that is no channel");
	refused(HEAD "\"message\":\"verify\",\"arg\":999,\"channel\":\"\",\"to\":\"\",\"reason\":\"r\"}",
		"an outcome argument past the outcomes");
	refused(HEAD "\"message\":\"none\",\"arg\":0,\"channel\":\"pigeon\",\"to\":\"\",\"reason\":\"r\"}",
		"an unknown channel");
	refused(HEAD "\"message\":\"none\",\"arg\":0,\"channel\":\"SMS\",\"to\":\"\",\"reason\":\"r\"}",
		"a channel not spelt as its name");
	refused(HEAD "\"message\":\"none\",\"arg\":0,\"channel\":\"sms\","
		     "\"to\":\"0123456789012345678901234567890123456789\",\"reason\":\"r\"}",
		"a destination over its bound");
	refused(HEAD "\"message\":\"none\",\"arg\":0,\"channel\":\"sms\",\"to\":7,\"reason\":\"r\"}",
		"a destination that is not a string");
	refused(HEAD "\"message\":\"none\",\"arg\":0,\"to\":\"\",\"reason\":\"r\"}", "no channel");
#undef HEAD
}

int main(void)
{
	test_decide_and_text();
	test_names();
	test_roundtrip();
	test_hostile();
	test_rows();
	test_destination_and_logging();
	return tap_done();
}
