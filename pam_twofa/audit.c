/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "audit.h"
#include "util.h"

static void copy_sanitised(char *dst, size_t size, const char *src)
{
	(void)twofa_strlcpy(dst, src != NULL ? src : "", size);
	twofa_sanitize(dst);
	/* Spaces would make the key=value line ambiguous. */
	for (char *p = dst; *p != '\0'; p++)
		if (*p == ' ')
			*p = '_';
}

void twofa_audit_init(twofa_audit *a, pam_handle_t *pamh, const char *action, const char *user,
		      bool debug)
{
	const void *service = NULL, *rhost = NULL, *tty = NULL;
	char host[128];

	memset(a, 0, sizeof(*a));
	a->pamh = pamh;
	a->debug = debug;
	a->action = action;
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS)
		service = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &rhost) != PAM_SUCCESS)
		rhost = NULL;
	if (pam_get_item(pamh, PAM_TTY, &tty) != PAM_SUCCESS)
		tty = NULL;
	copy_sanitised(a->service, sizeof(a->service), service);
	copy_sanitised(a->user, sizeof(a->user), user != NULL ? user : "?");
	if (rhost != NULL && ((const char *)rhost)[0] != '\0') {
		copy_sanitised(host, sizeof(host), rhost);
		snprintf(a->from, sizeof(a->from), "rhost=%s", host);
		(void)twofa_strlcpy(a->grace_key, host, sizeof(a->grace_key));
	} else if (tty != NULL && ((const char *)tty)[0] != '\0') {
		copy_sanitised(host, sizeof(host), tty);
		snprintf(a->from, sizeof(a->from), "tty=%s", host);
		(void)twofa_strlcpy(a->grace_key, host, sizeof(a->grace_key));
	} else {
		(void)twofa_strlcpy(a->from, "local", sizeof(a->from));
	}
}

void twofa_audit_decision(const twofa_audit *a, int priority, const char *result, const char *reason_fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, reason_fmt);
	(void)vsnprintf(reason, sizeof(reason), reason_fmt, ap);
	va_end(ap);
	twofa_sanitize(reason);
	pam_syslog(a->pamh, priority, "%s service=%s user=%s %s%s%s%s%s result=%s reason=%s", a->action,
		   a->service, a->user, a->from, a->channel ? " channel=" : "", a->channel ? a->channel : "",
		   a->masked[0] ? " to=" : "", a->masked, result, reason);
}

void twofa_audit_debug(const twofa_audit *a, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!a->debug)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	twofa_sanitize(line);
	pam_syslog(a->pamh, LOG_DEBUG, "debug: %s user=%s %s", line, a->user, a->from);
}
