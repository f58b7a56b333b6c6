/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>

#include "client.h"
#include "conv.h"
#include "daemon_connect.h"
#include "module_args.h"
#include "spawn.h"
#include "split_answer.h"
#include "util.h"
#include "wire.h"

/* How long daemon=auto waits for twofad's socket before it serves the call
 * itself (root callers only). */
#define DAEMON_AUTO_CONNECT_MS 3000

/* One call's connection, and the last echo-off answer: the only value the
 * server may make PAM_AUTHTOK. */
typedef struct call {
	pam_handle_t *pamh;
	const char *action;
	int fd;
	long long timeout_ms;
	char *secret_answer;
	twofa_msg *in, *out; /* on the heap: the host's stack may be a small thread's */
	char why[384]; /* what went wrong with the server, for the one line */
} call;

/* Notes why the server cannot be followed; the line is written once the
 * server is reaped and its exit status is known. */
static int broken(call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int broken(call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* The module's own decision line, in the flows' format, for what happens
 * before or instead of the server's answer. */
static int fail(pam_handle_t *pamh, const char *action, int pam_code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(pam_handle_t *pamh, const char *action, int pam_code, const char *fmt, ...)
{
	const void *service = NULL, *user = NULL;
	char why[512], s[64], u[80];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL)
		service = "";
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS || user == NULL)
		user = "?";
	(void)twofa_strlcpy(s, service, sizeof(s));
	(void)twofa_strlcpy(u, user, sizeof(u));
	twofa_sanitize(s);
	twofa_sanitize(u);
	twofa_sanitize(why);
	pam_syslog(pamh, LOG_ERR, "%s service=%s user=%s result=error reason=%s", action, s, u, why);
	return pam_code;
}

static bool put_item(pam_handle_t *pamh, int item, twofa_msg *hello, twofa_proto_item slot)
{
	const void *value = NULL;

	if (pam_get_item(pamh, item, &value) != PAM_SUCCESS || value == NULL)
		return true;
	if (strlen(value) > TWOFA_PROTO_ITEM_MAX)
		return false;
	memcpy(hello->items[slot], value, strlen(value) + 1);
	hello->has_item[slot] = true;
	return true;
}

/* True once the server has the hello; else false with *rc the failure's code. */
static bool send_hello(call *c, twofa_proto_call which, int flags, const twofa_module_args *a, int *rc)
{
	static const struct {
		int pam;
		twofa_proto_item slot;
	} items[] = {
		{PAM_SERVICE, TWOFA_ITEM_SERVICE}, {PAM_USER, TWOFA_ITEM_USER},
		{PAM_RHOST, TWOFA_ITEM_RHOST},     {PAM_TTY, TWOFA_ITEM_TTY},
		{PAM_RUSER, TWOFA_ITEM_RUSER},     {PAM_AUTHTOK, TWOFA_ITEM_AUTHTOK},
		{PAM_OLDAUTHTOK, TWOFA_ITEM_OLDAUTHTOK},
	};
	twofa_msg *hello = c->out;
	twofa_wire_result r;

	twofa_msg_init(hello, TWOFA_MSG_HELLO);
	hello->call = which;
	hello->code = flags;
	hello->ruid = (long)getuid();
	for (size_t i = 0; i < a->nforward; i++)
		memcpy(hello->args[i], a->forward[i], strlen(a->forward[i]) + 1);
	hello->nargs = a->nforward;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (!put_item(c->pamh, items[i].pam, hello, items[i].slot)) {
			twofa_msg_wipe(hello);
			*rc = fail(c->pamh, c->action,
				   items[i].pam == PAM_AUTHTOK || items[i].pam == PAM_OLDAUTHTOK ? PAM_AUTH_ERR
												: PAM_SERVICE_ERR,
				   "a PAM item is longer than %d bytes", TWOFA_PROTO_ITEM_MAX);
			return false;
		}
	/* The code split_answer kept, for code_from_answer. */
	if (which == TWOFA_CALL_AUTH)
		hello->has_item[TWOFA_ITEM_ANSWER_CODE] = twofa_split_answer_take(
			c->pamh, hello->items[TWOFA_ITEM_ANSWER_CODE], TWOFA_PROTO_CODE_MAX + 1);
	r = twofa_wire_send(c->fd, hello, twofa_wire_now_ms() + c->timeout_ms);
	twofa_msg_wipe(hello);
	if (r != TWOFA_WIRE_OK) {
		*rc = broken(c, "the server did not take the call: %s", twofa_wire_result_text(r));
		return false;
	}
	return true;
}

static bool reply(call *c, twofa_msg *m)
{
	bool ok = twofa_wire_send(c->fd, m, twofa_wire_now_ms() + c->timeout_ms) == TWOFA_WIRE_OK;

	twofa_msg_wipe(m);
	return ok;
}

static bool do_get_user(call *c)
{
	const char *user = NULL;
	twofa_msg *m = c->out;

	twofa_msg_init(m, TWOFA_MSG_USER);
	m->code = pam_get_user(c->pamh, &user, NULL);
	if (m->code == PAM_SUCCESS && (user == NULL || !twofa_msg_set_text(m, user)))
		m->code = PAM_USER_UNKNOWN;
	return reply(c, m);
}

static bool do_conv(call *c, const twofa_msg *q)
{
	char *answer = NULL;
	twofa_msg *m = c->out;

	twofa_msg_init(m, TWOFA_MSG_ANSWER);
	if (q->code == PAM_PROMPT_ECHO_OFF || q->code == PAM_PROMPT_ECHO_ON) {
		m->code = twofa_conv_ask(c->pamh, q->code, q->text, &answer);
		if (m->code == PAM_SUCCESS && !twofa_msg_set_text(m, answer))
			m->code = PAM_AUTH_ERR;
		if (m->code != PAM_SUCCESS && m->code != PAM_AUTH_ERR)
			m->code = PAM_CONV_ERR;
		if (m->code == PAM_SUCCESS && q->code == PAM_PROMPT_ECHO_OFF) {
			twofa_free_secret(c->secret_answer);
			c->secret_answer = answer;
			answer = NULL;
		}
		twofa_free_secret(answer);
	} else if (q->code == PAM_ERROR_MSG || q->code == PAM_TEXT_INFO) {
		twofa_conv_tell(c->pamh, q->code, false, q->text);
		m->code = PAM_SUCCESS;
	} else {
		return false;
	}
	return reply(c, m);
}

static bool do_set_authtok(call *c)
{
	twofa_msg *m = c->out;

	twofa_msg_init(m, TWOFA_MSG_ACK);
	m->code = c->secret_answer != NULL ? pam_set_item(c->pamh, PAM_AUTHTOK, c->secret_answer) : PAM_BAD_ITEM;
	return reply(c, m);
}

/* Follows the server until done: the PAM code, or -1 with c->why. */
static int relay(call *c, int flags)
{
	twofa_msg *m = c->in;
	long version;
	int rc = -1;

	while (rc < 0) {
		bool ok = true;
		twofa_wire_result r = twofa_wire_recv(c->fd, m, &version, twofa_wire_now_ms() + c->timeout_ms);
		if (r == TWOFA_WIRE_VERSION)
			return broken(c,
				      "the server speaks protocol version %ld, this pam_twofa.so speaks %d: install "
				      "the module and the server of one twofa version, then restart the server",
				      version, TWOFA_PROTO_VERSION);
		if (r != TWOFA_WIRE_OK)
			return broken(c, "the server failed: %s", twofa_wire_result_text(r));
		switch (m->type) {
		case TWOFA_MSG_GET_USER:
			ok = do_get_user(c);
			break;
		case TWOFA_MSG_CONV:
			ok = do_conv(c, m);
			break;
		case TWOFA_MSG_SET_AUTHTOK:
			ok = do_set_authtok(c);
			break;
		case TWOFA_MSG_LOG:
			ok = m->code >= LOG_EMERG && m->code <= LOG_DEBUG && m->has_text;
			if (ok)
				pam_syslog(c->pamh, m->code, "%s", m->text);
			break;
		case TWOFA_MSG_DONE:
			/* A PAM code, nothing else. */
			ok = m->code >= PAM_SUCCESS && m->code < _PAM_RETURN_VALUES;
			if (ok && m->has_text)
				twofa_conv_tell(c->pamh, PAM_ERROR_MSG, (flags & PAM_SILENT) != 0, m->text);
			if (ok)
				rc = m->code;
			break;
		default:
			ok = false;
			break;
		}
		twofa_msg_wipe(m);
		if (!ok && rc < 0)
			return broken(c, "the server broke the protocol (or the connection failed)");
	}
	return rc;
}

int twofa_client_call(pam_handle_t *pamh, twofa_proto_call which, int flags, int argc, const char **argv)
{
	twofa_module_args a;
	call c = {.pamh = pamh, .action = twofa_proto_call_name(which), .fd = -1};
	char why[512], exit_text[64];
	pid_t pid = -1;
	int rc;

	if (!twofa_module_args_parse(argc, argv, &a, why, sizeof(why)))
		return fail(pamh, c.action, PAM_SERVICE_ERR, "configuration error: %s", why);
	if (a.split_answer)
		return which == TWOFA_CALL_AUTH ? twofa_split_answer(pamh, a.debug)
						: fail(pamh, c.action, PAM_SERVICE_ERR,
						       "configuration error: split_answer is for auth lines only");
	c.timeout_ms = (long long)a.server_timeout * 1000;
	if (a.daemon != TWOFA_DAEMON_NO) {
		/* daemon=auto falls back to per call, and soon, when twofad is busy or dead. */
		long long wait = a.daemon == TWOFA_DAEMON_AUTO && c.timeout_ms > DAEMON_AUTO_CONNECT_MS
					 ? DAEMON_AUTO_CONNECT_MS
					 : c.timeout_ms;
		c.fd = twofa_daemon_connect(a.socket, (int)wait, why, sizeof(why));
		if (c.fd < 0 && (a.daemon == TWOFA_DAEMON_YES || geteuid() != 0))
			return fail(pamh, c.action, PAM_AUTHINFO_UNAVAIL, "twofad: %s", why);
		if (c.fd == TWOFA_DAEMON_UNAVAILABLE)
			pam_syslog(pamh, LOG_WARNING, "twofad: %s; serving this call per call", why);
	}
	if (c.fd < 0) {
		c.fd = twofa_spawn_server(a.server, &pid, why, sizeof(why));
		if (c.fd < 0)
			return fail(pamh, c.action, PAM_AUTHINFO_UNAVAIL, "cannot start the server: %s", why);
	}
	c.in = calloc(1, sizeof(*c.in));
	c.out = calloc(1, sizeof(*c.out));
	if (c.in == NULL || c.out == NULL)
		rc = broken(&c, "out of memory");
	else if (send_hello(&c, which, flags, &a, &rc))
		rc = relay(&c, flags);
	close(c.fd);
	twofa_reap_server(pid, exit_text, sizeof(exit_text));
	twofa_free_secret(c.secret_answer);
	twofa_free_wiped(c.in, sizeof(*c.in));
	twofa_free_wiped(c.out, sizeof(*c.out));
	if (rc < 0)
		rc = fail(pamh, c.action, PAM_AUTHINFO_UNAVAIL, "%s%s", c.why, exit_text);
	return rc;
}
