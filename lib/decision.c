/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>
#include <security/_pam_types.h>

#include "config.h"
#include "decision.h"
#include "util.h"
#include "verify.h"

typedef struct named_value {
	int value;
	const char *name;
} named_value;

/* The codes a decision may carry; anything else is refused on the wire. */
static const named_value pam_codes[] = {
	{PAM_SUCCESS, "PAM_SUCCESS"},           {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
	{PAM_MAXTRIES, "PAM_MAXTRIES"},         {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
	{PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"}, {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
	{PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},   {PAM_IGNORE, "PAM_IGNORE"},
	{PAM_BUF_ERR, "PAM_BUF_ERR"},           {PAM_CONV_ERR, "PAM_CONV_ERR"},
	{PAM_INCOMPLETE, "PAM_INCOMPLETE"},     {PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR"},
	{PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
};

static const named_value priorities[] = {
	{LOG_CRIT, "crit"},     {LOG_ERR, "err"},   {LOG_WARNING, "warning"},
	{LOG_NOTICE, "notice"}, {LOG_INFO, "info"}, {LOG_DEBUG, "debug"},
};

static const char *const result_names[] = {
	[TWOFA_RESULT_SUCCESS] = "success",
	[TWOFA_RESULT_DENIED] = "denied",
	[TWOFA_RESULT_IGNORED] = "ignored",
	[TWOFA_RESULT_ERROR] = "error",
};

typedef enum message_arg_kind {
	ARG_NONE = 0,
	ARG_COUNT,       /* a %ld; text_one when it is 1 */
	ARG_CHANNEL,     /* a %s: the channel's label */
	ARG_OUTCOME,     /* the whole text is the Verify outcome's (lib/verify_outcome.c) */
	ARG_DESTINATION, /* %s the channel's label, %s the masked destination; text_one without it */
} message_arg_kind;

/* The one table of user texts. */
static const struct {
	const char *name;
	message_arg_kind arg;
	const char *text;
	const char *text_one;
} messages[TWOFA_MSG_COUNT] = {
	[TWOFA_MSG_NONE] = {"none", ARG_NONE, "", NULL},
	[TWOFA_MSG_LOCKED] = {"locked", ARG_NONE, "Too many failed attempts. Try again later.", NULL},
	[TWOFA_MSG_PENDING] = {"pending", ARG_NONE,
			       "Your second-factor enrolment is awaiting approval by an administrator.", NULL},
	[TWOFA_MSG_DISABLED] = {"disabled", ARG_NONE, "Your second factor is disabled.", NULL},
	[TWOFA_MSG_UNREACHABLE] = {"unreachable", ARG_NONE,
				   "The verification service cannot be reached. Try again later.", NULL},
	[TWOFA_MSG_MISCONFIGURED] = {"misconfigured", ARG_NONE,
				     "The second factor is misconfigured. Contact your administrator.", NULL},
	[TWOFA_MSG_SEND_LIMIT] = {"send_limit", ARG_COUNT, "Too many codes sent. Try again in %ld minutes.",
				  "Too many codes sent. Try again in 1 minute."},
	[TWOFA_MSG_NO_EMAIL] = {"no_email", ARG_NONE, "No email address is enrolled.", NULL},
	[TWOFA_MSG_CHANNEL_REFUSED] = {"channel_refused", ARG_CHANNEL,
				       "Codes cannot be sent by %s here. Contact your administrator.", NULL},
	[TWOFA_MSG_CHANNEL_REFUSED_RESEND] = {"channel_refused_resend", ARG_CHANNEL,
					      "Codes cannot be sent by %s here.", NULL},
	[TWOFA_MSG_SEND_LIMIT_RESEND] =
		{"send_limit_resend", ARG_COUNT,
		 "Too many codes sent. Enter the code you have, or try again in %ld minutes.",
		 "Too many codes sent. Enter the code you have, or try again in 1 minute."},
	[TWOFA_MSG_RESEND_FAILED] = {"resend_failed", ARG_NONE,
				     "A new code cannot be sent now. Enter the code you have.", NULL},
	[TWOFA_MSG_COUNTRY_REFUSED] = {"country_refused", ARG_NONE,
				       "Codes cannot be sent to your number's country from here. Contact your "
				       "administrator.",
				       NULL},
	[TWOFA_MSG_VERIFY] = {"verify", ARG_OUTCOME, NULL, NULL},
	[TWOFA_MSG_WRONG_CODE] = {"wrong_code", ARG_NONE, "Wrong code.", NULL},
	[TWOFA_MSG_NO_CODE] = {"no_code", ARG_NONE, "No code entered.", NULL},
	[TWOFA_MSG_CODE_EXPIRED] = {"code_expired", ARG_NONE, "The code has expired or was used.", NULL},
	[TWOFA_MSG_RETRY_WRONG] = {"retry_wrong", ARG_COUNT,
				   "Wrong code. Enter the code again (%ld tries left): ",
				   "Wrong code. Enter the code again (1 try left): "},
	[TWOFA_MSG_RETRY_EMPTY] = {"retry_empty", ARG_COUNT,
				   "No code entered. Enter the code (%ld tries left): ",
				   "No code entered. Enter the code (1 try left): "},
	[TWOFA_MSG_RETRY_EXPIRED] =
		{"retry_expired", ARG_COUNT,
		 "The code has expired or was used. Type 'resend' for a new one (%ld tries left): ",
		 "The code has expired or was used. Type 'resend' for a new one (1 try left): "},
	[TWOFA_MSG_PASSWORDS_DIFFER] = {"passwords_differ", ARG_NONE, "Passwords do not match.", NULL},
	[TWOFA_MSG_PASSWORD_EMPTY] = {"password_empty", ARG_NONE, "The new password is empty.", NULL},
	[TWOFA_MSG_PASSWORD_TOO_LONG] = {"password_too_long", ARG_COUNT,
					 "The new password is longer than %ld bytes.", NULL},
	[TWOFA_MSG_PASSWORD_NOT_HASHED] = {"password_not_hashed", ARG_NONE,
					   "The new password could not be hashed. Try again later.", NULL},
	[TWOFA_MSG_SINGLE_ANSWER] = {"single_answer", ARG_NONE,
				     "This program cannot ask for a code: it answered the code prompt with the "
				     "password. See pam_twofa(8), SCREEN LOCKERS.",
				     NULL},
	[TWOFA_MSG_CODE_IN_ANSWER] = {"code_in_answer", ARG_DESTINATION,
				      "A code was sent by %s to %s: type your password, a space and the code.",
				      "A code was sent by %s: type your password, a space and the code."},
	[TWOFA_MSG_RECOVERY_PROMPT] = {"recovery_prompt", ARG_NONE, "Recovery code: ", NULL},
	[TWOFA_MSG_RECOVERY_OUTAGE] = {"recovery_outage", ARG_NONE,
				       "The verification service cannot be reached. Enter a recovery code: ",
				       NULL},
	[TWOFA_MSG_RECOVERY_RETRY_WRONG] = {"recovery_retry_wrong", ARG_COUNT,
					    "Wrong recovery code. Enter a recovery code (%ld tries left): ",
					    "Wrong recovery code. Enter a recovery code (1 try left): "},
	[TWOFA_MSG_RECOVERY_RETRY_EMPTY] = {"recovery_retry_empty", ARG_COUNT,
					    "No code entered. Enter a recovery code (%ld tries left): ",
					    "No code entered. Enter a recovery code (1 try left): "},
	[TWOFA_MSG_RECOVERY_REFUSED] = {"recovery_refused", ARG_NONE, "Recovery codes are not accepted here.",
					NULL},
	[TWOFA_MSG_RECOVERY_NONE] = {"recovery_none", ARG_NONE, "You have no recovery code to use.", NULL},
	[TWOFA_MSG_RECOVERY_LOW] = {"recovery_low", ARG_COUNT,
				    "Recovery code accepted: %ld left. Ask your administrator for a new set "
				    "('twofa-enroll recovery').",
				    "Recovery code accepted: 1 left. Ask your administrator for a new set "
				    "('twofa-enroll recovery')."},
	[TWOFA_MSG_RECOVERY_UNAVAILABLE] = {"recovery_unavailable", ARG_NONE,
					    "The recovery code cannot be checked now. Try again later.", NULL},
	[TWOFA_MSG_PRESS_ENTER] = {"press_enter", ARG_NONE, "Press Enter to go on: ", NULL},
	[TWOFA_MSG_ENROL_INVITE_PROMPT] = {"enrol_invite_prompt", ARG_NONE, "Enrolment code: ", NULL},
	[TWOFA_MSG_ENROL_COUNTRY_PROMPT] = {"enrol_country_prompt", ARG_NONE,
					    "Country (ISO code, e.g. GB; ? lists them): ", NULL},
	[TWOFA_MSG_ENROL_COUNTRY_LIST] = {"enrol_country_list", ARG_NONE, "Countries:", NULL},
	[TWOFA_MSG_ENROL_COUNTRY_UNKNOWN] = {"enrol_country_unknown", ARG_NONE,
					     "That is not a country code (two letters, e.g. GB).", NULL},
	[TWOFA_MSG_ENROL_COUNTRY_REFUSED] = {"enrol_country_refused", ARG_NONE,
					     "Codes cannot be sent to that country from here.", NULL},
	[TWOFA_MSG_ENROL_PHONE_PROMPT] = {"enrol_phone_prompt", ARG_NONE, "Phone number: ", NULL},
	[TWOFA_MSG_ENROL_PHONE_INVALID] = {"enrol_phone_invalid", ARG_NONE,
					   "That is not a valid phone number of that country.", NULL},
	[TWOFA_MSG_ENROL_PHONE_REFUSED] = {"enrol_phone_refused", ARG_NONE,
					   "That number cannot be used. Enter another one.", NULL},
	[TWOFA_MSG_ENROL_INVITE_WRONG] = {"enrol_invite_wrong", ARG_NONE,
					  "The enrolment code is wrong, used or expired. Ask your administrator "
					  "for a new one.",
					  NULL},
	[TWOFA_MSG_ENROL_TOO_MANY] = {"enrol_too_many", ARG_NONE,
				      "Too many answers that cannot be used. Nothing was stored.", NULL},
	[TWOFA_MSG_ENROL_CANCELLED] = {"enrol_cancelled", ARG_NONE,
				       "Enrolment cancelled. Nothing was stored.", NULL},
	[TWOFA_MSG_ENROL_TAKEN] = {"enrol_taken", ARG_NONE,
				   "You were enrolled by another login meanwhile. Log in again.", NULL},
	[TWOFA_MSG_ENROL_DONE] = {"enrol_done", ARG_DESTINATION, "You are enrolled: codes go by %s to %s.",
				  "You are enrolled: codes go by %s."},
	[TWOFA_MSG_APP_LOCKED] = {"app_locked", ARG_NONE,
				  "Too many wrong codes from your authenticator app. Ask your administrator "
				  "to unlock your account.",
				  NULL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const named_value *table, size_t n, int value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}

static bool value_of(const named_value *table, size_t n, const char *name, int *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, name) == 0) {
			*value = table[i].value;
			return true;
		}
	return false;
}

void twofa_decide_va(twofa_decision *d, int pam_code, twofa_result result, int priority,
		     twofa_message message, const char *reason_fmt, va_list ap)
{
	memset(d, 0, sizeof(*d));
	d->pam_code = pam_code;
	d->result = result;
	d->priority = priority;
	d->message = message;
	(void)vsnprintf(d->reason, sizeof(d->reason), reason_fmt, ap);
	twofa_sanitize(d->reason);
}

void twofa_decide(twofa_decision *d, int pam_code, twofa_result result, int priority, twofa_message message,
		  const char *reason_fmt, ...)
{
	va_list ap;

	va_start(ap, reason_fmt);
	twofa_decide_va(d, pam_code, result, priority, message, reason_fmt, ap);
	va_end(ap);
}

void twofa_decide_nothing_yet(twofa_decision *d)
{
	twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "no decision was made");
}

void twofa_decision_set_destination(twofa_decision *d, const char *channel, const char *to)
{
	(void)twofa_strlcpy(d->channel, channel != NULL ? channel : "", sizeof(d->channel));
	(void)twofa_strlcpy(d->to, to != NULL ? to : "", sizeof(d->to));
	twofa_sanitize(d->channel);
	twofa_sanitize(d->to);
}

bool twofa_decision_logged(const twofa_decision *d, bool debug)
{
	return d->priority != LOG_DEBUG || debug;
}

const char *twofa_result_name(twofa_result result)
{
	if ((unsigned)result >= COUNT(result_names))
		return "error";
	return result_names[result];
}

const char *twofa_pam_code_name(int pam_code)
{
	return name_of(pam_codes, COUNT(pam_codes), pam_code);
}

const char *twofa_priority_name(int priority)
{
	return name_of(priorities, COUNT(priorities), priority);
}

const char *twofa_message_name(twofa_message message)
{
	if ((unsigned)message >= TWOFA_MSG_COUNT)
		return NULL;
	return messages[message].name;
}

/* One row's text; to is the masked destination for the rows that name it
 * (NULL or "": the text without it). */
static bool render(twofa_message message, long arg, const char *to, char *buf, size_t size)
{
	const char *text;
	int n;

	if (size == 0 || (unsigned)message >= TWOFA_MSG_COUNT || arg < 0 || arg > TWOFA_MESSAGE_ARG_MAX)
		return false;
	text = messages[message].text;
	switch (messages[message].arg) {
	case ARG_NONE:
		n = snprintf(buf, size, "%s", text);
		break;
	case ARG_COUNT:
		if (arg == 1 && messages[message].text_one != NULL) {
			n = snprintf(buf, size, "%s", messages[message].text_one);
			break;
		}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		n = snprintf(buf, size, text, arg);
		break;
	case ARG_CHANNEL:
		if (twofa_channel_label((twofa_channel)arg) == NULL)
			return false;
		n = snprintf(buf, size, text, twofa_channel_label((twofa_channel)arg));
		break;
	case ARG_DESTINATION:
		if (twofa_channel_label((twofa_channel)arg) == NULL)
			return false;
		if (to != NULL && to[0] != '\0')
			n = snprintf(buf, size, text, twofa_channel_label((twofa_channel)arg), to);
		else
			n = snprintf(buf, size, messages[message].text_one,
				     twofa_channel_label((twofa_channel)arg));
#pragma GCC diagnostic pop
		break;
	case ARG_OUTCOME:
		if (arg >= TWOFA_VERIFY_OUTCOME_COUNT)
			return false;
		n = snprintf(buf, size, "%s", twofa_verify_user_message((twofa_verify_outcome)arg));
		break;
	default:
		return false;
	}
	return n >= 0 && (size_t)n < size;
}

bool twofa_message_text(twofa_message message, long arg, char *buf, size_t size)
{
	return render(message, arg, NULL, buf, size);
}

bool twofa_decision_user_text(const twofa_decision *d, char *buf, size_t size)
{
	return render(d->message, d->message_arg, d->to, buf, size);
}

/* A channel on the wire is a known name or "". */
static bool channel_valid(const char *name)
{
	twofa_channel ch;

	return name[0] == '\0' ||
	       (twofa_channel_parse(name, &ch) && strcmp(twofa_channel_name(ch), name) == 0);
}

/* Every field within its bounds and every name known: what the codec
 * accepts, both ways. */
static bool decision_valid(const twofa_decision *d)
{
	char text[512];

	return twofa_pam_code_name(d->pam_code) != NULL && twofa_priority_name(d->priority) != NULL &&
	       (unsigned)d->result < COUNT(result_names) &&
	       render(d->message, d->message_arg, d->to, text, sizeof(text)) &&
	       memchr(d->channel, '\0', sizeof(d->channel)) != NULL && channel_valid(d->channel) &&
	       memchr(d->to, '\0', sizeof(d->to)) != NULL &&
	       memchr(d->reason, '\0', sizeof(d->reason)) != NULL;
}

twofa_status twofa_decision_encode(const twofa_decision *d, char **json, twofa_error *err)
{
	json_t *obj;

	*json = NULL;
	if (!decision_valid(d))
		return twofa_fail(err, TWOFA_EINVAL, "decision holds a value outside the known set");
	obj = json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "v", 1, "pam",
			twofa_pam_code_name(d->pam_code), "result", result_names[d->result], "priority",
			twofa_priority_name(d->priority), "message", twofa_message_name(d->message), "arg",
			(json_int_t)d->message_arg, "channel", d->channel, "to", d->to, "reason", d->reason);
	if (obj == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	*json = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (*json == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	return TWOFA_OK;
}

static bool take_name(json_t *root, const char *key, const char **out)
{
	json_t *v = json_object_get(root, key);

	if (!json_is_string(v) || json_string_length(v) >= 64)
		return false;
	*out = json_string_value(v);
	return true;
}

/* A string field into dst: shorter than size, no NUL inside, sanitised. */
static bool take_text(json_t *root, const char *key, char *dst, size_t size)
{
	json_t *v = json_object_get(root, key);
	size_t len;

	if (!json_is_string(v) || (len = json_string_length(v)) >= size)
		return false;
	memcpy(dst, json_string_value(v), len);
	dst[len] = '\0';
	/* Embedded NULs or controls from the wire never reach a log. */
	if (strlen(dst) != len)
		return false;
	twofa_sanitize(dst);
	return true;
}

twofa_status twofa_decision_decode(const char *json, size_t len, twofa_decision *d, twofa_error *err)
{
	const char *pam = NULL, *result = NULL, *priority = NULL, *message = NULL;
	json_error_t jerr;
	json_t *root, *v, *arg;
	bool ok = false;

	root = NULL;
	memset(d, 0, sizeof(*d));
	if (json == NULL || len > TWOFA_DECISION_JSON_MAX)
		goto out;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root) || json_object_size(root) != 9)
		goto out;
	v = json_object_get(root, "v");
	arg = json_object_get(root, "arg");
	if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_integer(arg) ||
	    json_integer_value(arg) < 0 || json_integer_value(arg) > TWOFA_MESSAGE_ARG_MAX ||
	    !take_name(root, "pam", &pam) || !take_name(root, "result", &result) ||
	    !take_name(root, "priority", &priority) || !take_name(root, "message", &message) ||
	    !take_text(root, "channel", d->channel, sizeof(d->channel)) ||
	    !take_text(root, "to", d->to, sizeof(d->to)) ||
	    !take_text(root, "reason", d->reason, sizeof(d->reason)))
		goto out;
	if (!value_of(pam_codes, COUNT(pam_codes), pam, &d->pam_code) ||
	    !value_of(priorities, COUNT(priorities), priority, &d->priority))
		goto out;
	for (size_t i = 0; i < COUNT(result_names); i++)
		if (strcmp(result_names[i], result) == 0) {
			d->result = (twofa_result)i;
			ok = true;
		}
	if (!ok)
		goto out;
	ok = false;
	for (size_t i = 0; i < TWOFA_MSG_COUNT; i++)
		if (strcmp(messages[i].name, message) == 0) {
			d->message = (twofa_message)i;
			ok = true;
		}
	if (!ok)
		goto out;
	d->message_arg = (long)json_integer_value(arg);
	/* An argument the message cannot hold, or an unknown channel. */
	ok = decision_valid(d);
out:
	json_decref(root);
	if (!ok) {
		/* Whatever was read, a refused decision fails closed. */
		memset(d, 0, sizeof(*d));
		d->pam_code = PAM_SERVICE_ERR;
		d->result = TWOFA_RESULT_ERROR;
		d->priority = LOG_ERR;
		return twofa_fail(err, TWOFA_EINVAL,
				  "decision is not a valid version 1 object of at most %d bytes",
				  TWOFA_DECISION_JSON_MAX);
	}
	return TWOFA_OK;
}
