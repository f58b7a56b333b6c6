/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "proto.h"

static const char *const type_names[] = {
	[TWOFA_MSG_HELLO] = "hello", [TWOFA_MSG_GET_USER] = "get_user", [TWOFA_MSG_USER] = "user",
	[TWOFA_MSG_CONV] = "conv",   [TWOFA_MSG_ANSWER] = "answer",     [TWOFA_MSG_SET_AUTHTOK] = "set_authtok",
	[TWOFA_MSG_ACK] = "ack",     [TWOFA_MSG_LOG] = "log",           [TWOFA_MSG_DONE] = "done",
};
#define TYPE_LAST TWOFA_MSG_DONE

static const char *const item_names[TWOFA_ITEM_COUNT] = {
	[TWOFA_ITEM_SERVICE] = "service", [TWOFA_ITEM_USER] = "user",		[TWOFA_ITEM_RHOST] = "rhost",
	[TWOFA_ITEM_TTY] = "tty",	  [TWOFA_ITEM_RUSER] = "ruser",		[TWOFA_ITEM_AUTHTOK] = "authtok",
	[TWOFA_ITEM_OLDAUTHTOK] = "oldauthtok", [TWOFA_ITEM_ANSWER_CODE] = "answer_code",
};

static const char *const call_names[] = {
	[TWOFA_CALL_AUTH] = "auth",
	[TWOFA_CALL_ACCOUNT] = "account",
	[TWOFA_CALL_PASSWORD] = "password",
};
#define CALL_LAST TWOFA_CALL_PASSWORD

/* Which fields a message of each type has: text, code, and for hello the rest. */
static bool type_has_text(twofa_msg_type t)
{
	return t == TWOFA_MSG_USER || t == TWOFA_MSG_CONV || t == TWOFA_MSG_ANSWER || t == TWOFA_MSG_LOG ||
	       t == TWOFA_MSG_DONE;
}

static bool type_has_code(twofa_msg_type t)
{
	return t != TWOFA_MSG_GET_USER && t != TWOFA_MSG_SET_AUTHTOK;
}

void twofa_msg_init(twofa_msg *m, twofa_msg_type t)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
}

void twofa_msg_wipe(twofa_msg *m)
{
	explicit_bzero(m, sizeof(*m));
}

bool twofa_msg_set_text(twofa_msg *m, const char *text)
{
	size_t len;

	m->has_text = false;
	m->text[0] = '\0';
	if (text == NULL)
		return false;
	len = strnlen(text, TWOFA_PROTO_TEXT_MAX + 1);
	if (len > TWOFA_PROTO_TEXT_MAX)
		return false;
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	m->has_text = true;
	return true;
}

size_t twofa_proto_item_max(twofa_proto_item i)
{
	return i == TWOFA_ITEM_ANSWER_CODE ? TWOFA_PROTO_CODE_MAX : TWOFA_PROTO_ITEM_MAX;
}

const char *twofa_proto_call_name(twofa_proto_call call)
{
	return call >= TWOFA_CALL_AUTH && call <= CALL_LAST ? call_names[call] : NULL;
}

twofa_proto_call twofa_proto_call_parse(const char *word)
{
	for (int c = TWOFA_CALL_AUTH; c <= CALL_LAST; c++)
		if (strcmp(word, call_names[c]) == 0)
			return (twofa_proto_call)c;
	return 0;
}

/* ---- writing: by hand, into the caller's buffer, so secrets stay there ---- */

typedef struct writer {
	char *buf;
	size_t size, used;
	bool ok;
} writer;

static void put(writer *w, const char *s, size_t n)
{
	if (!w->ok || n >= w->size - w->used) {
		w->ok = false;
		return;
	}
	memcpy(w->buf + w->used, s, n);
	w->used += n;
}

static void put_str(writer *w, const char *s)
{
	put(w, s, strlen(s));
}

static void put_long(writer *w, long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%ld", v);

	put(w, num, (size_t)n);
	explicit_bzero(num, sizeof(num));
}

static void put_hex(writer *w, const char *s, size_t max)
{
	static const char digits[] = "0123456789abcdef";
	size_t len = strnlen(s, max + 1);

	if (len > max) {
		w->ok = false;
		return;
	}
	put(w, "\"", 1);
	for (size_t i = 0; i < len && w->ok; i++) {
		unsigned char c = (unsigned char)s[i];
		char pair[2] = {digits[c >> 4], digits[c & 15]};
		put(w, pair, 2);
	}
	put(w, "\"", 1);
}

bool twofa_msg_encode(const twofa_msg *m, char *buf, size_t size, size_t *len)
{
	writer w = {.buf = buf, .size = size, .used = 0, .ok = size > 0};

	*len = 0;
	if (m->type < TWOFA_MSG_HELLO || m->type > TYPE_LAST)
		return false;
	put_str(&w, "{\"v\":");
	put_long(&w, TWOFA_PROTO_VERSION);
	put_str(&w, ",\"t\":\"");
	put_str(&w, type_names[m->type]);
	put_str(&w, "\"");
	if (type_has_code(m->type)) {
		put_str(&w, ",\"code\":");
		put_long(&w, m->code);
	}
	if (type_has_text(m->type) && m->has_text) {
		put_str(&w, ",\"text\":");
		put_hex(&w, m->text, TWOFA_PROTO_TEXT_MAX);
	}
	if (m->type == TWOFA_MSG_HELLO) {
		const char *call = twofa_proto_call_name(m->call);
		if (call == NULL || m->nargs > TWOFA_PROTO_ARGS_MAX || m->ruid < 0 || m->ruid > UINT32_MAX)
			return false;
		put_str(&w, ",\"call\":\"");
		put_str(&w, call);
		put_str(&w, "\",\"ruid\":");
		put_long(&w, m->ruid);
		put_str(&w, ",\"args\":[");
		for (size_t i = 0; i < m->nargs; i++) {
			if (i > 0)
				put_str(&w, ",");
			put_hex(&w, m->args[i], TWOFA_PROTO_ARG_MAX);
		}
		put_str(&w, "],\"items\":{");
		for (int i = 0, n = 0; i < TWOFA_ITEM_COUNT; i++) {
			if (!m->has_item[i])
				continue;
			put_str(&w, n++ > 0 ? ",\"" : "\"");
			put_str(&w, item_names[i]);
			put_str(&w, "\":");
			put_hex(&w, m->items[i], twofa_proto_item_max((twofa_proto_item)i));
		}
		put_str(&w, "}");
	}
	put_str(&w, "}");
	if (!w.ok || w.used > TWOFA_FRAME_MAX)
		return false;
	*len = w.used;
	return true;
}

/* ---- reading ---- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bytes of a hex string value into out (max bytes, NUL-terminated). No
 * NUL byte may be encoded: every field is a C string on both sides. */
static bool read_hex(json_t *value, char *out, size_t max)
{
	const char *s;
	size_t len;

	if (!json_is_string(value))
		return false;
	s = json_string_value(value);
	len = json_string_length(value);
	if (len % 2 != 0 || len / 2 > max)
		return false;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			return false;
		out[i / 2] = (char)(hi << 4 | lo);
	}
	out[len / 2] = '\0';
	return true;
}

static bool read_long(json_t *value, long min, long max, long *out)
{
	json_int_t v;

	if (!json_is_integer(value))
		return false;
	v = json_integer_value(value);
	if (v < min || v > max)
		return false;
	*out = (long)v;
	return true;
}

static twofa_msg_type type_parse(const char *word)
{
	for (int t = TWOFA_MSG_HELLO; t <= TYPE_LAST; t++)
		if (strcmp(word, type_names[t]) == 0)
			return (twofa_msg_type)t;
	return 0;
}

static bool read_items(json_t *items, twofa_msg *m)
{
	const char *key;
	json_t *value;

	if (!json_is_object(items))
		return false;
	json_object_foreach (items, key, value) {
		int i;
		for (i = 0; i < TWOFA_ITEM_COUNT; i++)
			if (strcmp(key, item_names[i]) == 0)
				break;
		if (i == TWOFA_ITEM_COUNT ||
		    !read_hex(value, m->items[i], twofa_proto_item_max((twofa_proto_item)i)))
			return false;
		m->has_item[i] = true;
	}
	return true;
}

static bool read_args(json_t *args, twofa_msg *m)
{
	size_t i;
	json_t *value;

	if (!json_is_array(args) || json_array_size(args) > TWOFA_PROTO_ARGS_MAX)
		return false;
	json_array_foreach (args, i, value)
		if (!read_hex(value, m->args[i], TWOFA_PROTO_ARG_MAX))
			return false;
	m->nargs = json_array_size(args);
	return true;
}

/* Every key of the object must be one its type has. */
static bool read_fields(json_t *root, twofa_msg *m)
{
	const char *key;
	json_t *value;
	long n;

	json_object_foreach (root, key, value) {
		if (strcmp(key, "v") == 0 || strcmp(key, "t") == 0)
			continue;
		if (strcmp(key, "code") == 0 && type_has_code(m->type)) {
			if (!read_long(value, INT_MIN, INT_MAX, &n))
				return false;
			m->code = (int)n;
		} else if (strcmp(key, "text") == 0 && type_has_text(m->type)) {
			if (!read_hex(value, m->text, TWOFA_PROTO_TEXT_MAX))
				return false;
			m->has_text = true;
		} else if (m->type == TWOFA_MSG_HELLO && strcmp(key, "call") == 0) {
			if (!json_is_string(value))
				return false;
			m->call = twofa_proto_call_parse(json_string_value(value));
			if (m->call == 0)
				return false;
		} else if (m->type == TWOFA_MSG_HELLO && strcmp(key, "ruid") == 0) {
			if (!read_long(value, 0, UINT32_MAX, &m->ruid))
				return false;
		} else if (m->type == TWOFA_MSG_HELLO && strcmp(key, "args") == 0) {
			if (!read_args(value, m))
				return false;
		} else if (m->type == TWOFA_MSG_HELLO && strcmp(key, "items") == 0) {
			if (!read_items(value, m))
				return false;
		} else {
			return false;
		}
	}
	/* A hello without its call, or a typed reply without its code, is not one. */
	if (m->type == TWOFA_MSG_HELLO && (m->call == 0 || json_object_get(root, "ruid") == NULL))
		return false;
	if (type_has_code(m->type) && json_object_get(root, "code") == NULL)
		return false;
	return true;
}

twofa_proto_result twofa_msg_decode(const char *buf, size_t len, twofa_msg *m, long *peer_version)
{
	twofa_proto_result result = TWOFA_PROTO_BAD;
	json_error_t jerr;
	json_t *root, *t;
	long version;

	*peer_version = TWOFA_PROTO_VERSION;
	memset(m, 0, sizeof(*m));
	if (len == 0 || len > TWOFA_FRAME_MAX)
		return TWOFA_PROTO_BAD;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return TWOFA_PROTO_BAD;
	if (!json_is_object(root) || !read_long(json_object_get(root, "v"), 0, INT_MAX, &version))
		goto out;
	if (version != TWOFA_PROTO_VERSION) {
		*peer_version = version;
		result = TWOFA_PROTO_VERSION_MISMATCH;
		goto out;
	}
	t = json_object_get(root, "t");
	if (!json_is_string(t) || (m->type = type_parse(json_string_value(t))) == 0)
		goto out;
	if (read_fields(root, m))
		result = TWOFA_PROTO_OK;
out:
	json_decref(root);
	if (result != TWOFA_PROTO_OK)
		twofa_msg_wipe(m);
	return result;
}
