/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>
#include <security/_pam_types.h>

#include "decision.h"
#include "util.h"

typedef struct named_value {
	int value;
	const char *name;
} named_value;

/* The codes a decision may carry; anything else is refused on the wire. */
static const named_value pam_codes[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" },
	{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
	{ PAM_MAXTRIES, "PAM_MAXTRIES" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
	{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
	{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_IGNORE, "PAM_IGNORE" },
	{ PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_CONV_ERR, "PAM_CONV_ERR" },
	{ PAM_INCOMPLETE, "PAM_INCOMPLETE" },
	{ PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR" },
	{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
};

static const named_value priorities[] = {
	{ LOG_CRIT, "crit" }, { LOG_ERR, "err" },   { LOG_WARNING, "warning" },
	{ LOG_NOTICE, "notice" }, { LOG_INFO, "info" }, { LOG_DEBUG, "debug" },
};

static const char *const result_names[] = {
	[TWOFA_RESULT_SUCCESS] = "success",
	[TWOFA_RESULT_DENIED] = "denied",
	[TWOFA_RESULT_IGNORED] = "ignored",
	[TWOFA_RESULT_ERROR] = "error",
};

/* The one table of user texts. A %ld, where present, is message_arg. */
static const struct {
	const char *name;
	const char *text;
	const char *text_one; /* when message_arg is 1, for texts that count */
} messages[TWOFA_MSG_COUNT] = {
	[TWOFA_MSG_NONE] = { "none", "", NULL },
	[TWOFA_MSG_LOCKED] = { "locked", "Too many failed attempts. Try again later.", NULL },
	[TWOFA_MSG_PENDING] = { "pending",
				"Your second-factor enrolment is awaiting approval by an administrator.", NULL },
	[TWOFA_MSG_DISABLED] = { "disabled", "Your second factor is disabled.", NULL },
	[TWOFA_MSG_UNREACHABLE] = { "unreachable",
				    "The verification service cannot be reached. Try again later.", NULL },
	[TWOFA_MSG_MISCONFIGURED] = { "misconfigured",
				      "The second factor is misconfigured. Contact your administrator.", NULL },
	[TWOFA_MSG_SEND_LIMIT] = { "send_limit", "Too many codes sent. Try again in %ld minutes.",
				   "Too many codes sent. Try again in 1 minute." },
	[TWOFA_MSG_NO_EMAIL] = { "no_email", "No email address is enrolled.", NULL },
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

void twofa_decide(twofa_decision *d, int pam_code, twofa_result result, int priority,
		  twofa_message message, const char *reason_fmt, ...)
{
	va_list ap;

	memset(d, 0, sizeof(*d));
	d->pam_code = pam_code;
	d->result = result;
	d->priority = priority;
	d->message = message;
	va_start(ap, reason_fmt);
	(void)vsnprintf(d->reason, sizeof(d->reason), reason_fmt, ap);
	va_end(ap);
	twofa_sanitize(d->reason);
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

bool twofa_decision_user_text(const twofa_decision *d, char *buf, size_t size)
{
	const char *text;
	int n;

	if (size == 0 || (unsigned)d->message >= TWOFA_MSG_COUNT)
		return false;
	text = messages[d->message].text;
	if (d->message_arg == 1 && messages[d->message].text_one != NULL)
		text = messages[d->message].text_one;
	if (strstr(text, "%ld") != NULL) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		n = snprintf(buf, size, text, d->message_arg);
#pragma GCC diagnostic pop
	} else {
		n = snprintf(buf, size, "%s", text);
	}
	return n >= 0 && (size_t)n < size;
}

twofa_status twofa_decision_encode(const twofa_decision *d, char **json, twofa_error *err)
{
	const char *pam = twofa_pam_code_name(d->pam_code);
	const char *priority = twofa_priority_name(d->priority);
	const char *message = twofa_message_name(d->message);
	json_t *obj;

	*json = NULL;
	if (pam == NULL || priority == NULL || message == NULL || (unsigned)d->result >= COUNT(result_names) ||
	    d->message_arg < 0 || d->message_arg > TWOFA_MESSAGE_ARG_MAX ||
	    memchr(d->reason, '\0', sizeof(d->reason)) == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "decision holds a value outside the known set");
	obj = json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:s}", "v", 1, "pam", pam, "result",
			result_names[d->result], "priority", priority, "message", message, "arg",
			(json_int_t)d->message_arg, "reason", d->reason);
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

twofa_status twofa_decision_decode(const char *json, size_t len, twofa_decision *d, twofa_error *err)
{
	const char *pam = NULL, *result = NULL, *priority = NULL, *message = NULL;
	json_error_t jerr;
	json_t *root, *v, *reason, *arg;
	bool ok = false;

	root = NULL;
	if (json == NULL || len > TWOFA_DECISION_JSON_MAX)
		goto out;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root) || json_object_size(root) != 7)
		goto out;
	v = json_object_get(root, "v");
	arg = json_object_get(root, "arg");
	reason = json_object_get(root, "reason");
	if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_integer(arg) ||
	    json_integer_value(arg) < 0 || json_integer_value(arg) > TWOFA_MESSAGE_ARG_MAX ||
	    !json_is_string(reason) || json_string_length(reason) >= TWOFA_REASON_MAX ||
	    !take_name(root, "pam", &pam) || !take_name(root, "result", &result) ||
	    !take_name(root, "priority", &priority) || !take_name(root, "message", &message))
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
	/* Embedded NULs or controls from the wire never reach a log. */
	memcpy(d->reason, json_string_value(reason), json_string_length(reason));
	d->reason[json_string_length(reason)] = '\0';
	if (strlen(d->reason) != json_string_length(reason))
		ok = false;
	twofa_sanitize(d->reason);
out:
	json_decref(root);
	if (!ok) {
		/* Whatever was read, a refused decision fails closed. */
		memset(d, 0, sizeof(*d));
		d->pam_code = PAM_SERVICE_ERR;
		d->result = TWOFA_RESULT_ERROR;
		d->priority = LOG_ERR;
		return twofa_fail(err, TWOFA_EINVAL, "decision is not a valid version 1 object of at most %d bytes",
				  TWOFA_DECISION_JSON_MAX);
	}
	return TWOFA_OK;
}
