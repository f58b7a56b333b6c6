/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/_pam_types.h>

#include "options.h"
#include "util.h"

#define DEFAULT_PASSWORD_PROMPT "Password: "
#define DEFAULT_CODE_PROMPT "Code sent by %c to %n. Enter the code%o: "

/* A template may hold only the placeholders %c, %n, %o and %%. */
static bool prompt_template_valid(const char *t)
{
	size_t len = strlen(t);

	if (len == 0 || len >= TWOFA_PROMPT_MAX || twofa_has_control(t, len))
		return false;
	for (; *t != '\0'; t++)
		if (*t == '%' && (t[1] == 'c' || t[1] == 'n' || t[1] == 'o' || t[1] == '%'))
			t++;
		else if (*t == '%')
			return false;
	return true;
}

bool twofa_prompt_expand(const char *template, const char *channel_label, const char *masked_number,
			 const char *offers, char *out, size_t size)
{
	size_t used = 0;

	for (const char *t = template; *t != '\0'; t++) {
		const char *piece = NULL;
		char one[2] = {*t, '\0'};
		if (*t == '%' && t[1] == 'c')
			piece = channel_label;
		else if (*t == '%' && t[1] == 'n')
			piece = masked_number;
		else if (*t == '%' && t[1] == 'o')
			piece = offers;
		else if (*t == '%' && t[1] == '%')
			piece = "%";
		if (piece != NULL)
			t++;
		else
			piece = one;
		size_t n = strlen(piece);
		if (used + n >= size)
			return false;
		memcpy(out + used, piece, n);
		used += n;
	}
	out[used] = '\0';
	return true;
}

/* A configuration error is a decision like any other: result=error, and
 * the entry point logs it in the one format. Every such error fails closed. */
static bool config_error(twofa_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool config_error(twofa_decision *d, const char *fmt, ...)
{
	char why[TWOFA_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	twofa_decide(d, PAM_SERVICE_ERR, TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE,
		     "configuration error: %s", why);
	return false;
}

static bool set_prompt(twofa_decision *d, char *dst, const char *value, const char *arg)
{
	if (!prompt_template_valid(value))
		return config_error(d,
				    "bad module argument '%.40s': a prompt is 1..%d printable bytes and only %%c, %%n, %%o, %%%% may follow a %%",
				    arg, TWOFA_PROMPT_MAX - 1);
	return twofa_strlcpy(dst, value, TWOFA_PROMPT_MAX);
}

static bool set_enroll(twofa_options *o, twofa_decision *d, const char *value, const char *arg)
{
	if (o->enroll_set)
		return config_error(d, "duplicate argument 'enroll'");
	if (!twofa_enroll_parse(value, &o->enroll))
		return config_error(d, "bad module argument '%.40s': enroll= is off, self or invite", arg);
	o->enroll_set = true;
	return true;
}

/* enroll= and twofa.conf's enroll, once every argument is read. Enrolment
 * stands on a first factor another module checked (password=none): with
 * password=store a user who is not enrolled has none, and with
 * code_from_answer the program answers every prompt with one buffer. */
static bool settle_enroll(twofa_options *o, twofa_decision *d)
{
	const char *conflict = o->password != TWOFA_PASSWORD_NONE ? "password=store"
			       : o->code_from_answer              ? "code_from_answer"
								  : NULL;

	if (o->enroll_set) {
		if (o->enroll != TWOFA_ENROLL_OFF && conflict != NULL)
			return config_error(d,
					    "enroll=%s and %s exclude each other: a user who is not "
					    "enrolled has no first factor here (enrolment needs password=none "
					    "behind the module that checks the password, or sshd publickey)",
					    twofa_enroll_name(o->enroll), conflict);
		return true;
	}
	o->enroll = o->cfg.enroll;
	if (o->enroll != TWOFA_ENROLL_OFF && conflict != NULL) {
		o->enroll = TWOFA_ENROLL_OFF;
		o->enroll_ignored = conflict;
	}
	return true;
}

/* Handles the module's own flags; returns -1 if arg is not one of them. */
static int apply_module_argument(twofa_options *o, const char *arg, twofa_decision *d)
{
	const char *value;

	if (strcmp(arg, "debug") == 0)
		o->debug = true;
	else if (strcmp(arg, "nullok") == 0)
		o->nullok = true;
	else if (strcmp(arg, "try_first_pass") == 0)
		o->try_first_pass = true;
	else if (strcmp(arg, "use_first_pass") == 0)
		o->use_first_pass = true;
	else if (strcmp(arg, "password=store") == 0)
		o->password = TWOFA_PASSWORD_STORE;
	else if (strcmp(arg, "password=none") == 0)
		o->password = TWOFA_PASSWORD_NONE;
	else if (strcmp(arg, "code_from_answer") == 0)
		o->code_from_answer = true;
	else if (twofa_skip_prefix(arg, "config=") != NULL)
		; /* handled before the file was loaded */
	else if ((value = twofa_skip_prefix(arg, "groups=")) != NULL && value[0] != '\0')
		o->groups = value;
	else if ((value = twofa_skip_prefix(arg, "enroll=")) != NULL)
		return set_enroll(o, d, value, arg) ? 1 : 0;
	else if ((value = twofa_skip_prefix(arg, "password_prompt=")) != NULL)
		return set_prompt(d, o->password_prompt, value, arg) ? 1 : 0;
	else if ((value = twofa_skip_prefix(arg, "code_prompt=")) != NULL)
		return set_prompt(d, o->code_prompt, value, arg) ? 1 : 0;
	else
		return -1;
	return 1;
}

bool twofa_options_load(const char *action, int argc, const char **argv, twofa_options *o, twofa_decision *d)
{
	twofa_error err;

	memset(o, 0, sizeof(*o));
	twofa_config_init(&o->cfg);
	o->action = action;
	o->config_path = TWOFA_DEFAULT_CONFIG;
	(void)twofa_strlcpy(o->password_prompt, DEFAULT_PASSWORD_PROMPT, sizeof(o->password_prompt));
	(void)twofa_strlcpy(o->code_prompt, DEFAULT_CODE_PROMPT, sizeof(o->code_prompt));

	for (int i = 0; i < argc; i++) {
		const char *path = twofa_skip_prefix(argv[i], "config=");

		if (path != NULL) {
			if (path[0] != '/')
				return config_error(d,
						    "bad module argument '%.80s': config= needs an absolute path",
						    argv[i]);
			o->config_path = path;
		}
	}
	if (twofa_config_load(&o->cfg, o->config_path, &err) != TWOFA_OK)
		return config_error(d, "%s", err.msg);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq = strchr(arg, '=');
		int handled = apply_module_argument(o, arg, d);

		if (handled == 0)
			return false;
		if (handled == 1)
			continue;
		if (eq == NULL || eq == arg || (size_t)(eq - arg) >= 64)
			return config_error(d, "unknown module argument '%.80s'", arg);
		{
			char key[64];
			memcpy(key, arg, (size_t)(eq - arg));
			key[eq - arg] = '\0';
			/* Secrets never come from arguments: the file is root-only,
			 * the PAM stack usually is not. Do not echo the value. */
			if (twofa_config_set(&o->cfg, key, eq + 1, TWOFA_CONFIG_FROM_ARGS, &err) != TWOFA_OK)
				return config_error(d, "bad module argument '%s=...': %s", key, err.msg);
		}
	}
	if (o->use_first_pass && o->try_first_pass)
		return config_error(d, "use_first_pass and try_first_pass exclude each other");
	/* The answer that held the code was the password an earlier module checked. */
	if (o->code_from_answer && o->password != TWOFA_PASSWORD_NONE)
		return config_error(d, "code_from_answer needs password=none (and split_answer before the "
				       "module that checks the password)");
	return settle_enroll(o, d);
}

void twofa_options_free(twofa_options *o)
{
	twofa_config_free(&o->cfg);
}
