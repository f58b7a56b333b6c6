/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/proto: every message type survives encode and decode, every bound holds
 * on both sides, and the reader refuses whatever is not a frame of this
 * protocol, naming the peer's version when only the version differs. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

static char frame[TWOFA_FRAME_MAX + 64];

/* A hello with every field it must have, for the rest to follow. */
#define HELLO_HEAD "{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":0"

/* Encodes m into frame (whose size is the frame bound), decodes it into
 * *back, and says whether both worked and gave the same struct. */
static bool roundtrip(const twofa_msg *m, twofa_msg *back, size_t *len)
{
	long version = -1;

	if (!twofa_msg_encode(m, frame, TWOFA_FRAME_MAX, len))
		return false;
	if (twofa_msg_decode(frame, *len, back, &version) != TWOFA_PROTO_OK || version != TWOFA_PROTO_VERSION)
		return false;
	return memcmp(m, back, sizeof(*m)) == 0;
}

static twofa_proto_result decode_text(const char *json, twofa_msg *m, long *version)
{
	return twofa_msg_decode(json, strlen(json), m, version);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The reader refuses json as not of the protocol, and leaves *m wiped even
 * where it held something before. */
static void refused(const char *json, const char *why)
{
	static twofa_msg m;
	long version = -1;

	memset(&m, 0xa5, sizeof(m));
	ok(decode_text(json, &m, &version) == TWOFA_PROTO_BAD && all_zero(&m, sizeof(m)) &&
		   version == TWOFA_PROTO_VERSION,
	   "refused, nothing left behind: %s", why);
}

static void accepted(const char *json, const char *why)
{
	static twofa_msg m;
	long version = -1;

	ok(decode_text(json, &m, &version) == TWOFA_PROTO_OK, "accepted: %s", why);
	twofa_msg_wipe(&m);
}

/* Fills a field of max bytes (plus its NUL) with n bytes of c. */
static void fill(char *field, char c, size_t n)
{
	memset(field, c, n);
	field[n] = '\0';
}

static void test_roundtrip_each_type(void)
{
	bool good;
	static twofa_msg m, back;
	size_t len = 0;

	twofa_msg_init(&m, TWOFA_MSG_HELLO);
	m.call = TWOFA_CALL_AUTH;
	m.code = 0x8000; /* PAM_SILENT */
	m.ruid = 1000;
	m.nargs = 2;
	strcpy(m.args[0], "password=none");
	strcpy(m.args[1], "config=/etc/twofa/twofa.conf");
	m.has_item[TWOFA_ITEM_SERVICE] = true;
	strcpy(m.items[TWOFA_ITEM_SERVICE], "sshd");
	m.has_item[TWOFA_ITEM_RHOST] = true;
	strcpy(m.items[TWOFA_ITEM_RHOST], "192.0.2.1");
	m.has_item[TWOFA_ITEM_AUTHTOK] = true; /* an empty item is still an item */
	/* Apart from ok(), whose arguments print len: C does not order them. */
	good = roundtrip(&m, &back, &len);
	ok(good, "hello: call, flags, ruid, args, items (%zu bytes)", len);

	for (int call = TWOFA_CALL_AUTH; call <= TWOFA_CALL_PASSWORD; call++) {
		twofa_msg_init(&m, TWOFA_MSG_HELLO);
		m.call = (twofa_proto_call)call;
		m.ruid = call == TWOFA_CALL_PASSWORD ? 4294967295L : 0;
		m.code = call == TWOFA_CALL_ACCOUNT ? -2147483647 - 1 : 2147483647;
		ok(roundtrip(&m, &back, &len) &&
			   twofa_proto_call_parse(twofa_proto_call_name(m.call)) == m.call,
		   "hello for %s, extreme flags and ruid, no args or items", twofa_proto_call_name(m.call));
	}

	twofa_msg_init(&m, TWOFA_MSG_GET_USER);
	good = roundtrip(&m, &back, &len) && len == 22 &&
	       memcmp(frame, "{\"v\":1,\"t\":\"get_user\"}", 22) == 0;
	ok(good, "get_user: %.*s", (int)len, frame);

	twofa_msg_init(&m, TWOFA_MSG_USER);
	ok(twofa_msg_set_text(&m, "alice") && roundtrip(&m, &back, &len), "user with a name");
	twofa_msg_init(&m, TWOFA_MSG_USER);
	m.code = 10; /* PAM_USER_UNKNOWN */
	ok(roundtrip(&m, &back, &len) && !back.has_text, "user with a code and no name");

	twofa_msg_init(&m, TWOFA_MSG_CONV);
	m.code = 1; /* PAM_PROMPT_ECHO_OFF */
	ok(twofa_msg_set_text(&m, "Verification code: ") && roundtrip(&m, &back, &len), "conv");

	twofa_msg_init(&m, TWOFA_MSG_ANSWER);
	ok(twofa_msg_set_text(&m, "123456") && roundtrip(&m, &back, &len), "answer");
	twofa_msg_init(&m, TWOFA_MSG_ANSWER);
	ok(twofa_msg_set_text(&m, "") && roundtrip(&m, &back, &len) && back.has_text && back.text[0] == '\0',
	   "an empty answer stays an answer");
	twofa_msg_init(&m, TWOFA_MSG_ANSWER);
	m.code = 19; /* PAM_CONV_ERR */
	ok(roundtrip(&m, &back, &len) && !back.has_text, "answer: a conversation error without text");

	twofa_msg_init(&m, TWOFA_MSG_SET_AUTHTOK);
	ok(roundtrip(&m, &back, &len), "set_authtok");

	twofa_msg_init(&m, TWOFA_MSG_ACK);
	m.code = 4; /* PAM_SYSTEM_ERR */
	ok(roundtrip(&m, &back, &len), "ack");

	twofa_msg_init(&m, TWOFA_MSG_LOG);
	m.code = 5; /* LOG_NOTICE */
	ok(twofa_msg_set_text(&m, "decision=denied reason=\"wrong code\"") && roundtrip(&m, &back, &len),
	   "log, with quotes in the text");

	twofa_msg_init(&m, TWOFA_MSG_DONE);
	m.code = 9; /* PAM_AUTHINFO_UNAVAIL */
	ok(twofa_msg_set_text(&m, "The verification service is unavailable.") && roundtrip(&m, &back, &len),
	   "done with a text");
	twofa_msg_init(&m, TWOFA_MSG_DONE);
	ok(roundtrip(&m, &back, &len) && !back.has_text, "done without a text");

	/* Fields a type does not have are not written, so not read back. */
	twofa_msg_init(&m, TWOFA_MSG_GET_USER);
	m.code = 7;
	good = twofa_msg_set_text(&m, "stray") && twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len) &&
	       memmem(frame, len, "code", 4) == NULL && memmem(frame, len, "text", 4) == NULL;
	ok(good, "get_user writes neither code nor text: %.*s", (int)len, frame);
	twofa_msg_init(&m, 0);
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len) && len == 0, "no type, no frame");
	twofa_msg_init(&m, TWOFA_MSG_DONE + 1);
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "a type past the last, no frame");
	twofa_msg_init(&m, TWOFA_MSG_HELLO);
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "a hello without its call is not written");
	m.call = TWOFA_CALL_AUTH;
	m.ruid = -1;
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "a negative ruid is not written");
	m.ruid = 4294967296L;
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "a ruid past 32 bits is not written");
	m.ruid = 0;
	ok(!twofa_msg_encode(&m, frame, 10, &len) && len == 0, "a buffer too small: refused, not cut");
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
}

static void test_text_bounds(void)
{
	bool good;
	static twofa_msg m, back;
	static char text[TWOFA_PROTO_TEXT_MAX + 2];
	size_t len = 0;

	fill(text, 'x', TWOFA_PROTO_TEXT_MAX);
	twofa_msg_init(&m, TWOFA_MSG_CONV);
	good = twofa_msg_set_text(&m, text) && roundtrip(&m, &back, &len) &&
	       strlen(back.text) == TWOFA_PROTO_TEXT_MAX;
	ok(good, "a text of exactly %d bytes is accepted (%zu bytes of frame)", TWOFA_PROTO_TEXT_MAX, len);
	fill(text, 'x', TWOFA_PROTO_TEXT_MAX + 1);
	ok(!twofa_msg_set_text(&m, text) && !m.has_text && m.text[0] == '\0',
	   "set_text refuses one byte more and keeps no text");
	ok(!twofa_msg_set_text(&m, NULL) && !m.has_text, "set_text refuses NULL");

	/* The struct can hold one byte more than the bound with no NUL: the
	 * writer must still refuse it. */
	twofa_msg_init(&m, TWOFA_MSG_CONV);
	m.has_text = true;
	memset(m.text, 'x', sizeof(m.text));
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len) && len == 0,
	   "encode refuses a text of %d bytes", TWOFA_PROTO_TEXT_MAX + 1);

	/* The reader: the same bounds on hex of that many bytes. */
	static char json[TWOFA_FRAME_MAX];
	size_t n = (size_t)snprintf(json, sizeof(json), "{\"v\":1,\"t\":\"log\",\"code\":3,\"text\":\"");
	for (int i = 0; i < TWOFA_PROTO_TEXT_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "78");
	snprintf(json + n, sizeof(json) - n, "\"}");
	accepted(json, "a text of exactly the bound in hex");
	snprintf(json + n, sizeof(json) - n, "78\"}");
	refused(json, "a text one byte over the bound in hex");
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
}

static void hello_init(twofa_msg *m)
{
	twofa_msg_init(m, TWOFA_MSG_HELLO);
	m->call = TWOFA_CALL_AUTH;
	m->ruid = 0;
}

static void test_args_and_items(void)
{
	static twofa_msg m, back;
	static char json[TWOFA_FRAME_MAX];
	size_t len = 0, n;

	hello_init(&m);
	m.nargs = TWOFA_PROTO_ARGS_MAX;
	for (size_t i = 0; i < m.nargs; i++)
		snprintf(m.args[i], sizeof(m.args[i]), "arg%zu", i);
	fill(m.args[3], 'a', TWOFA_PROTO_ARG_MAX);
	ok(roundtrip(&m, &back, &len) && back.nargs == TWOFA_PROTO_ARGS_MAX &&
		   strlen(back.args[3]) == TWOFA_PROTO_ARG_MAX,
	   "%d args, one of %d bytes, are accepted", TWOFA_PROTO_ARGS_MAX, TWOFA_PROTO_ARG_MAX);
	m.nargs = TWOFA_PROTO_ARGS_MAX + 1;
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "encode refuses %d args",
	   TWOFA_PROTO_ARGS_MAX + 1);
	m.nargs = 4;
	memset(m.args[3], 'a', sizeof(m.args[3]));
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "encode refuses an arg of %d bytes",
	   TWOFA_PROTO_ARG_MAX + 1);

	n = (size_t)snprintf(json, sizeof(json), HELLO_HEAD ",\"args\":[");
	for (int i = 0; i < TWOFA_PROTO_ARGS_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"61\"", i > 0 ? "," : "");
	snprintf(json + n, sizeof(json) - n, "]}");
	accepted(json, "32 args in hex");
	snprintf(json + n, sizeof(json) - n, ",\"61\"]}");
	refused(json, "33 args in hex");
	n = (size_t)snprintf(json, sizeof(json), HELLO_HEAD ",\"args\":[\"");
	for (int i = 0; i < TWOFA_PROTO_ARG_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "61");
	snprintf(json + n, sizeof(json) - n, "\"]}");
	accepted(json, "an arg of exactly the bound in hex");
	snprintf(json + n, sizeof(json) - n, "61\"]}");
	refused(json, "an arg one byte over the bound in hex");
	refused(HELLO_HEAD ",\"args\":{}}", "args not an array");
	refused(HELLO_HEAD ",\"args\":[1]}", "an arg not a string");

	hello_init(&m);
	for (int i = 0; i < TWOFA_ITEM_COUNT; i++) {
		m.has_item[i] = true;
		snprintf(m.items[i], sizeof(m.items[i]), "item %d", i);
	}
	fill(m.items[TWOFA_ITEM_RHOST], 'h', TWOFA_PROTO_ITEM_MAX);
	ok(roundtrip(&m, &back, &len) && strlen(back.items[TWOFA_ITEM_RHOST]) == TWOFA_PROTO_ITEM_MAX,
	   "every item, one of %d bytes, is accepted", TWOFA_PROTO_ITEM_MAX);
	memset(m.items[TWOFA_ITEM_RHOST], 'h', sizeof(m.items[TWOFA_ITEM_RHOST]));
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "encode refuses an item of %d bytes",
	   TWOFA_PROTO_ITEM_MAX + 1);
	m.has_item[TWOFA_ITEM_RHOST] = false;
	ok(twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len) && memmem(frame, len, "rhost", 5) == NULL,
	   "an item the hello does not have is not written, whatever its buffer holds");

	n = (size_t)snprintf(json, sizeof(json), HELLO_HEAD ",\"items\":{\"tty\":\"");
	for (int i = 0; i < TWOFA_PROTO_ITEM_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "74");
	snprintf(json + n, sizeof(json) - n, "\"}}");
	accepted(json, "an item of exactly the bound in hex");
	snprintf(json + n, sizeof(json) - n, "74\"}}");
	refused(json, "an item one byte over the bound in hex");
	refused(HELLO_HEAD ",\"items\":{\"display\":\"3a30\"}}", "an unknown item");
	/* The code split_answer kept has a bound of its own, far below a PAM item's. */
	n = (size_t)snprintf(json, sizeof(json), HELLO_HEAD ",\"items\":{\"answer_code\":\"");
	for (int i = 0; i < TWOFA_PROTO_CODE_MAX; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "31");
	(void)snprintf(json + n, sizeof(json) - n, "\"}}");
	accepted(json, "an answer code of exactly its bound");
	(void)snprintf(json + n, sizeof(json) - n, "31\"}}");
	refused(json, "an answer code one byte over its bound");
	hello_init(&m);
	m.has_item[TWOFA_ITEM_ANSWER_CODE] = true;
	fill(m.items[TWOFA_ITEM_ANSWER_CODE], '1', TWOFA_PROTO_CODE_MAX + 1);
	ok(!twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len), "encode refuses an answer code of %d bytes",
	   TWOFA_PROTO_CODE_MAX + 1);
	memset(m.items[TWOFA_ITEM_ANSWER_CODE], 0, sizeof(m.items[TWOFA_ITEM_ANSWER_CODE]));
	fill(m.items[TWOFA_ITEM_ANSWER_CODE], '1', 6);
	ok(roundtrip(&m, &back, &len) && strcmp(back.items[TWOFA_ITEM_ANSWER_CODE], "111111") == 0,
	   "an answer code travels in the hello");
	refused(HELLO_HEAD ",\"items\":[]}", "items not an object");
	refused(HELLO_HEAD ",\"items\":{\"tty\":\"7474\",\"tty\":\"7474\"}}", "an item twice");
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
}

/* The largest hello the bounds allow: every argument and item at its bound,
 * the longest call, flags and ruid. It must fit one frame, or a module with
 * legal arguments could not speak to its server at all. */
static void test_largest_hello_fits(void)
{
	bool good;
	static twofa_msg m, back;
	size_t len = 0;

	twofa_msg_init(&m, TWOFA_MSG_HELLO);
	m.call = TWOFA_CALL_PASSWORD;
	m.code = -2147483647 - 1;
	m.ruid = 4294967295L;
	m.nargs = TWOFA_PROTO_ARGS_MAX;
	for (size_t i = 0; i < m.nargs; i++)
		fill(m.args[i], (char)(0x80 + i), TWOFA_PROTO_ARG_MAX);
	for (int i = 0; i < TWOFA_ITEM_COUNT; i++) {
		m.has_item[i] = true;
		fill(m.items[i], (char)(0xf0 + i), twofa_proto_item_max((twofa_proto_item)i));
	}
	good = roundtrip(&m, &back, &len);
	ok(good, "the largest hello fits one frame: %zu of %d bytes", len, TWOFA_FRAME_MAX);
	ok(len > 0 && len <= TWOFA_PROTO_HELLO_MAX, "TWOFA_PROTO_HELLO_MAX (%d) bounds it",
	   TWOFA_PROTO_HELLO_MAX);

	/* Every other type: the longest text and code. */
	for (int t = TWOFA_MSG_GET_USER; t <= TWOFA_MSG_DONE; t++) {
		twofa_msg_init(&m, (twofa_msg_type)t);
		m.code = -2147483647 - 1;
		m.has_text = true;
		fill(m.text, (char)0xff, TWOFA_PROTO_TEXT_MAX);
		good = twofa_msg_encode(&m, frame, TWOFA_FRAME_MAX, &len) && len <= TWOFA_PROTO_HELLO_MAX;
		ok(good, "the largest message of type %d fits too (%zu bytes)", t, len);
	}
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
}

static void test_bytes(void)
{
	bool good;
	static twofa_msg m, back;
	size_t len = 0;

	twofa_msg_init(&m, TWOFA_MSG_ANSWER);
	good = twofa_msg_set_text(&m, "\xff\xfe\x80 caf\xc3\xa9 \x01\x7f") && roundtrip(&m, &back, &len) &&
	       memmem(frame, len, "\"fffe8020636166c3a920017f\"", 26) != NULL &&
	       memchr(frame, 0xff, len) == NULL;
	ok(good, "bytes that are not UTF-8, and controls, survive as lowercase hex: %.*s", (int)len, frame);
	ok(strcmp(back.text, "\xff\xfe\x80 caf\xc3\xa9 \x01\x7f") == 0, "and come back byte for byte");

	accepted("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"ff80\"}", "hex of bytes that are not UTF-8");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"6100\"}", "a NUL byte in hex");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"0061\"}", "a NUL byte first");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"00\"}", "only a NUL byte");
	refused(HELLO_HEAD ",\"args\":[\"6100\"]}", "a NUL byte in an arg");
	refused(HELLO_HEAD ",\"items\":{\"user\":\"00\"}}", "a NUL byte in an item");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"FF\"}", "uppercase hex");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"aB\"}", "one uppercase digit");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"616\"}", "an odd length");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"6g\"}", "a digit that is not hex");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"alice\"}", "plain text, not hex");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":\"61\\u0000\"}",
		"an escaped NUL in the JSON string");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"text\":61}", "a number for a string");
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
}

static void test_keys(void)
{
	accepted("{\"v\":1,\"t\":\"conv\",\"code\":1,\"text\":\"3a20\"}", "the reference conv");
	accepted("{\"text\":\"3a20\",\"code\":1,\"t\":\"conv\",\"v\":1}", "keys in any order");
	accepted(" {\"v\" : 1, \"t\" : \"get_user\"}\n", "white space around the JSON");
	refused("{\"v\":1,\"t\":\"conv\",\"code\":1,\"text\":\"3a20\",\"style\":1}", "an unknown key");
	refused("{\"v\":1,\"t\":\"conv\",\"code\":1,\"args\":[]}", "args in a conv (a hello key)");
	refused("{\"v\":1,\"t\":\"conv\",\"code\":1,\"ruid\":0}", "ruid in a conv");
	refused("{\"v\":1,\"t\":\"user\",\"code\":0,\"call\":\"auth\"}", "call in a user");
	refused(HELLO_HEAD ",\"text\":\"61\"}", "text in a hello");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":0,\"text\":\"61\"}", "text in an ack");
	refused("{\"v\":1,\"t\":\"get_user\",\"code\":0}", "code in a get_user");
	refused("{\"v\":1,\"t\":\"set_authtok\",\"text\":\"61\"}", "text in a set_authtok");
	refused("{\"v\":1,\"t\":\"conv\",\"code\":1,\"code\":2,\"text\":\"3a20\"}", "a duplicate code");
	refused("{\"v\":1,\"v\":1,\"t\":\"get_user\"}", "a duplicate version");
	refused("{\"v\":1,\"t\":\"conv\",\"t\":\"log\",\"code\":1}", "a duplicate type");
	refused("{\"v\":1,\"t\":\"conv\",\"code\":1,\"text\":\"61\",\"text\":\"62\"}", "a duplicate text");
	refused("{\"v\":1,\"t\":\"conv\",\"text\":\"3a20\"}", "a conv without its code");
	refused("{\"v\":1,\"t\":\"done\"}", "a done without its code");
	refused("{\"v\":1,\"t\":\"ack\"}", "an ack without its code");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"ruid\":0}", "a hello without its call");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"auth\"}", "a hello without its ruid");
	refused("{\"v\":1,\"t\":\"hello\",\"call\":\"auth\",\"ruid\":0}", "a hello without its code");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"session\",\"ruid\":0}", "an unknown call");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":1,\"ruid\":0}", "a number for the call");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":-1}", "a negative ruid");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":4294967296}",
		"a ruid past 32 bits");
	refused("{\"v\":1,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":\"0\"}",
		"a string for the ruid");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":2147483648}", "a code past int");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":-2147483649}", "a code below int");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":1.0}", "a real for the code");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":true}", "a boolean for the code");
	refused("{\"v\":1,\"t\":\"ack\",\"code\":null}", "null for the code");
	refused("{\"v\":1,\"t\":\"prompt\",\"code\":0}", "an unknown type");
	refused("{\"v\":1,\"t\":\"CONV\",\"code\":0}", "a type in capitals");
	refused("{\"v\":1,\"t\":4,\"code\":0}", "a number for the type");
	refused("{\"v\":1,\"code\":0}", "no type");
	refused("{\"t\":\"ack\",\"code\":0}", "no version");
	refused("{\"v\":\"1\",\"t\":\"ack\",\"code\":0}", "a string for the version");
	refused("{\"v\":1.0,\"t\":\"ack\",\"code\":0}", "a real for the version");
	refused("{\"v\":-1,\"t\":\"ack\",\"code\":0}", "a negative version");
}

static void test_version(void)
{
	bool good;
	static twofa_msg m;
	long version = -1;

	memset(&m, 0xa5, sizeof(m));
	good = decode_text("{\"v\":2,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":0}", &m,
			   &version) == TWOFA_PROTO_VERSION_MISMATCH &&
	       version == 2 && all_zero(&m, sizeof(m));
	ok(good, "v=2 is a version mismatch naming version 2, nothing decoded (%ld)", version);
	version = -1;
	ok(decode_text("{\"v\":0}", &m, &version) == TWOFA_PROTO_VERSION_MISMATCH && version == 0,
	   "v=0 too, whatever else the frame holds or lacks");
	ok(decode_text("{\"v\":7,\"t\":\"a type of the future\",\"new\":[1,2]}", &m, &version) ==
			   TWOFA_PROTO_VERSION_MISMATCH &&
		   version == 7,
	   "a later version's fields do not matter: the version is named");
	ok(decode_text("{\"v\":2147483647}", &m, &version) == TWOFA_PROTO_VERSION_MISMATCH &&
		   version == 2147483647,
	   "the largest version is named");
	version = -1;
	ok(decode_text("{\"v\":2147483648}", &m, &version) == TWOFA_PROTO_BAD &&
		   version == TWOFA_PROTO_VERSION,
	   "a version past int is garbage, not a version");
	ok(decode_text("{\"v\":1,\"t\":\"get_user\"}", &m, &version) == TWOFA_PROTO_OK && version == 1 &&
		   m.type == TWOFA_MSG_GET_USER,
	   "v=1 decodes and names version 1");
}

static void test_not_objects(void)
{
	static char json[TWOFA_FRAME_MAX + 2];
	static twofa_msg m;
	long version;
	size_t n;

	refused("[{\"v\":1,\"t\":\"get_user\"}]", "an array");
	refused("\"get_user\"", "a string");
	refused("1", "a number");
	refused("null", "null");
	refused("{\"v\":1,\"t\":\"get_user\"", "an object cut short");
	refused("{\"v\":1,\"t\":\"get_user\"}{}", "two objects");
	refused("{\"v\":1,\"t\":\"get_user\"}x", "trailing bytes");
	refused("", "nothing");
	refused("{v:1,t:get_user}", "not JSON");
	memset(&m, 0xa5, sizeof(m));
	ok(twofa_msg_decode("{\"v\":1,\"t\":\"get_user\"}\0", 23, &m, &version) == TWOFA_PROTO_BAD &&
		   all_zero(&m, sizeof(m)),
	   "refused: a NUL byte after the object");

	/* A frame is at most TWOFA_FRAME_MAX bytes, white space included. */
	n = (size_t)snprintf(json, sizeof(json), "{\"v\":1,\"t\":\"get_user\"}");
	memset(json + n, ' ', TWOFA_FRAME_MAX - n);
	ok(twofa_msg_decode(json, TWOFA_FRAME_MAX, &m, &version) == TWOFA_PROTO_OK,
	   "a frame of exactly %d bytes", TWOFA_FRAME_MAX);
	json[TWOFA_FRAME_MAX] = ' ';
	memset(&m, 0xa5, sizeof(m));
	ok(twofa_msg_decode(json, TWOFA_FRAME_MAX + 1, &m, &version) == TWOFA_PROTO_BAD &&
		   all_zero(&m, sizeof(m)),
	   "a frame of %d bytes is refused", TWOFA_FRAME_MAX + 1);
	/* Deep nesting in a key no type has: refused, no stack blown. */
	n = (size_t)snprintf(json, sizeof(json), "{\"v\":1,\"t\":\"get_user\",\"x\":");
	while (n < TWOFA_FRAME_MAX / 2)
		json[n++] = '[';
	json[n] = '\0';
	refused(json, "deep nesting cut short");
}

int main(void)
{
	test_roundtrip_each_type();
	test_text_bounds();
	test_args_and_items();
	test_largest_hello_fits();
	test_bytes();
	test_keys();
	test_version();
	test_not_objects();
	return tap_done();
}
