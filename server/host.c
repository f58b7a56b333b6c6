/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "host.h"
#include "util.h"
#include "wire.h"

/* PAM's item numbers and the hello's, side by side. */
static const struct {
	int pam;
	twofa_proto_item proto;
} item_map[] = {
	{PAM_SERVICE, TWOFA_ITEM_SERVICE}, {PAM_USER, TWOFA_ITEM_USER},
	{PAM_RHOST, TWOFA_ITEM_RHOST},     {PAM_TTY, TWOFA_ITEM_TTY},
	{PAM_RUSER, TWOFA_ITEM_RUSER},     {PAM_AUTHTOK, TWOFA_ITEM_AUTHTOK},
	{PAM_OLDAUTHTOK, TWOFA_ITEM_OLDAUTHTOK},
};

static int proto_item(int pam_item)
{
	for (size_t i = 0; i < sizeof(item_map) / sizeof(item_map[0]); i++)
		if (item_map[i].pam == pam_item)
			return (int)item_map[i].proto;
	return -1;
}

void twofa_host_init(twofa_host *h, int fd, const twofa_peer *peer, const twofa_msg *hello)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	h->peer = peer;
	/* A socket peer's uid is the kernel's word; only a root peer (or the
	 * module that started this server) can say which real uid it runs as. */
	h->caller_ruid = peer->uid == 0 ? hello->ruid : (long)peer->uid;
	memcpy(h->has_item, hello->has_item, sizeof(h->has_item));
	memcpy(h->items, hello->items, sizeof(h->items));
}

void twofa_host_wipe(twofa_host *h)
{
	explicit_bzero(h, sizeof(*h));
}

int twofa_host_get_item(twofa_host *h, int item, const void **value)
{
	int i = proto_item(item);

	*value = NULL;
	if (i < 0)
		return PAM_BAD_ITEM;
	if (h->has_item[i])
		*value = h->items[i];
	return PAM_SUCCESS;
}

/* Sends m and, when reply_type is not 0, reads the module's reply into *reply. */
static bool exchange(twofa_host *h, const twofa_msg *m, twofa_msg_type reply_type, twofa_msg *reply)
{
	long version;

	if (h->broken)
		return false;
	if (twofa_wire_send(h->fd, m, twofa_wire_now_ms() + TWOFA_SERVE_WRITE_MS) != TWOFA_WIRE_OK) {
		h->broken = true;
		return false;
	}
	if (reply_type == 0)
		return true;
	if (twofa_wire_recv(h->fd, reply, &version, twofa_wire_now_ms() + TWOFA_SERVE_ANSWER_MS) != TWOFA_WIRE_OK ||
	    reply->type != reply_type) {
		twofa_msg_wipe(reply);
		h->broken = true;
		return false;
	}
	return true;
}

int twofa_host_set_item(twofa_host *h, int item, const void *value)
{
	twofa_msg m, reply;
	int rc = PAM_CONV_ERR;

	if (item != PAM_AUTHTOK || value == NULL || !h->has_secret_answer ||
	    !twofa_streq_ct(value, h->secret_answer, TWOFA_ANSWER_MAX))
		return PAM_BAD_ITEM;
	twofa_msg_init(&m, TWOFA_MSG_SET_AUTHTOK);
	if (exchange(h, &m, TWOFA_MSG_ACK, &reply)) {
		rc = reply.code;
		if (rc == PAM_SUCCESS) {
			memcpy(h->items[TWOFA_ITEM_AUTHTOK], h->secret_answer, sizeof(h->secret_answer));
			h->has_item[TWOFA_ITEM_AUTHTOK] = true;
		}
	}
	twofa_msg_wipe(&reply);
	return rc;
}

int twofa_host_get_user(twofa_host *h, const char **user)
{
	twofa_msg m, reply;
	int rc = PAM_CONV_ERR;

	*user = NULL;
	twofa_msg_init(&m, TWOFA_MSG_GET_USER);
	if (exchange(h, &m, TWOFA_MSG_USER, &reply)) {
		rc = reply.code;
		if (rc == PAM_SUCCESS && !reply.has_text)
			rc = PAM_SYSTEM_ERR;
		if (rc == PAM_SUCCESS) {
			memcpy(h->items[TWOFA_ITEM_USER], reply.text, sizeof(reply.text));
			h->has_item[TWOFA_ITEM_USER] = true;
			*user = h->items[TWOFA_ITEM_USER];
		}
	}
	twofa_msg_wipe(&reply);
	return rc;
}

int twofa_host_ask(twofa_host *h, int style, const char *prompt, char **answer)
{
	twofa_msg m, reply;
	int rc = PAM_CONV_ERR;

	*answer = NULL;
	twofa_msg_init(&m, TWOFA_MSG_CONV);
	m.code = style;
	if (!twofa_msg_set_text(&m, prompt))
		return PAM_CONV_ERR;
	if (!exchange(h, &m, TWOFA_MSG_ANSWER, &reply))
		return PAM_CONV_ERR;
	if (reply.code == PAM_AUTH_ERR) {
		rc = PAM_AUTH_ERR; /* the module refused an overlong answer */
	} else if (reply.code == PAM_SUCCESS && reply.has_text) {
		*answer = strdup(reply.text);
		rc = *answer != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		if (rc == PAM_SUCCESS && style == PAM_PROMPT_ECHO_OFF) {
			memcpy(h->secret_answer, reply.text, sizeof(reply.text));
			h->has_secret_answer = true;
		}
	}
	twofa_msg_wipe(&reply);
	return rc;
}

void twofa_host_tell(twofa_host *h, int style, bool silent, const char *text)
{
	twofa_msg m, reply;

	if (silent)
		return;
	twofa_msg_init(&m, TWOFA_MSG_CONV);
	m.code = style;
	if (twofa_msg_set_text(&m, text) && exchange(h, &m, TWOFA_MSG_ANSWER, &reply))
		twofa_msg_wipe(&reply);
}

void twofa_host_syslog(twofa_host *h, int priority, const char *fmt, ...)
{
	twofa_msg m;
	char line[TWOFA_PROTO_TEXT_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* twofad writes the line itself too: a caller that is not root could
	 * drop or forge what its own process logs. */
	if (h->peer->daemon)
		syslog(priority, "peer uid=%lu pid=%ld: %s", (unsigned long)h->peer->uid, (long)h->peer->pid, line);
	twofa_msg_init(&m, TWOFA_MSG_LOG);
	m.code = priority;
	if (twofa_msg_set_text(&m, line))
		(void)exchange(h, &m, 0, NULL);
}

bool twofa_host_done(twofa_host *h, int pam_code, const char *text)
{
	twofa_msg m;

	twofa_msg_init(&m, TWOFA_MSG_DONE);
	m.code = pam_code;
	if (text != NULL && text[0] != '\0' && !twofa_msg_set_text(&m, text))
		return false;
	return exchange(h, &m, 0, NULL);
}

const char *twofa_host_strerror(int rc)
{
	/* libpam's own words for the codes pam_get_user and a conversation give. */
	switch (rc) {
	case PAM_SUCCESS:
		return "Success";
	case PAM_CONV_ERR:
		return "Conversation error";
	case PAM_BUF_ERR:
		return "Memory buffer error";
	case PAM_SYSTEM_ERR:
		return "System error";
	case PAM_ABORT:
		return "Critical error - immediate abort";
	case PAM_CONV_AGAIN:
		return "Conversation is waiting for event";
	case PAM_PERM_DENIED:
		return "Permission denied";
	case PAM_USER_UNKNOWN:
		return "User not known to the underlying authentication module";
	case PAM_SERVICE_ERR:
		return "Error in service module";
	}
	return "Unknown PAM error";
}
