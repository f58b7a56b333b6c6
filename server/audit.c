/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>


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

/* The caller's login session as "SID START" (the caller: the process the
 * module runs in, as the transport names it): the session leader's pid and its
 * start time (field 22 of /proc/SID/stat, clock ticks since boot), so a tty
 * name that a later session reuses never matches. The audit session id is
 * not used: containers leave it unset. False when it cannot be read, or the
 * process there no longer leads the session. */
static bool session_of_caller(pid_t caller, char *out, size_t size)
{
	pid_t sid = caller > 1 ? getsid(caller) : -1;
	char path[64], line[1024], *p, *field, *save = NULL;
	const char *start = NULL;
	long session = -1;
	ssize_t n;
	int fd;

	if (sid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)sid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n <= 0)
		return false;
	line[n] = '\0';
	/* "PID (COMM) STATE PPID PGRP SESSION ..."; COMM may hold spaces and ')'. */
	p = strrchr(line, ')');
	if (p == NULL)
		return false;
	field = strtok_r(p + 1, " \n", &save);
	for (int i = 3; field != NULL; i++, field = strtok_r(NULL, " \n", &save)) {
		if (i == 6 && !twofa_parse_long(field, 1, 0x7fffffffL, &session))
			return false;
		if (i == 22) {
			start = field;
			break;
		}
	}
	if (start == NULL || session != (long)sid || strspn(start, "0123456789") != strlen(start))
		return false;
	return snprintf(out, size, "%ld %s", (long)sid, start) < (int)size;
}

void twofa_audit_init(twofa_audit *a, twofa_host *host, const char *action, const char *user, bool debug)
{
	const void *service = NULL, *rhost = NULL, *tty = NULL;
	char place[128], session[64];

	memset(a, 0, sizeof(*a));
	a->host = host;
	a->debug = debug;
	a->action = action;
	if (twofa_host_get_item(host, PAM_SERVICE, &service) != PAM_SUCCESS)
		service = NULL;
	if (twofa_host_get_item(host, PAM_RHOST, &rhost) != PAM_SUCCESS)
		rhost = NULL;
	if (twofa_host_get_item(host, PAM_TTY, &tty) != PAM_SUCCESS)
		tty = NULL;
	copy_sanitised(a->service, sizeof(a->service), service);
	copy_sanitised(a->user, sizeof(a->user), user != NULL ? user : "?");
	if (rhost != NULL && ((const char *)rhost)[0] != '\0') {
		copy_sanitised(place, sizeof(place), rhost);
		snprintf(a->from, sizeof(a->from), "rhost=%s", place);
		twofa_state_origin_make(&a->origin, service, "rhost", rhost, NULL, a->from);
	} else if (tty != NULL && ((const char *)tty)[0] != '\0') {
		copy_sanitised(place, sizeof(place), tty);
		snprintf(a->from, sizeof(a->from), "tty=%s", place);
		twofa_state_origin_make(&a->origin, service, "tty", tty,
					session_of_caller(host->peer->pid, session, sizeof(session)) ? session : NULL, a->from);
	} else {
		(void)twofa_strlcpy(a->from, "local", sizeof(a->from));
		twofa_state_origin_make(&a->origin, service, NULL, NULL, NULL, a->from);
	}
}

void twofa_audit_decision(const twofa_audit *a, const twofa_decision *d)
{
	char reason[TWOFA_REASON_MAX];

	/* Sanitised once more: a decision may come from the wire. */
	(void)twofa_strlcpy(reason, d->reason, sizeof(reason));
	twofa_sanitize(reason);
	twofa_host_syslog(a->host, d->priority, "%s service=%s user=%s %s%s%.*s%s%.*s result=%s reason=%s",
		   a->action, a->service, a->user, a->from, d->channel[0] ? " channel=" : "",
		   (int)sizeof(d->channel), d->channel, d->to[0] ? " to=" : "", (int)sizeof(d->to), d->to,
		   twofa_result_name(d->result), reason);
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
	twofa_host_syslog(a->host, LOG_DEBUG, "debug: %s user=%s %s", line, a->user, a->from);
}
