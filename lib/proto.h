/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The protocol between pam_twofa.so and its server (twofa-server per PAM call,
 * or twofad on a socket). The module keeps the PAM conversation; the server
 * does every privileged step and drives the transaction:
 *
 *   module -> server  hello       the PAM call, its flags, module arguments, items
 *   server -> module  get_user    run pam_get_user          -> user
 *   server -> module  conv        one prompt or message     -> answer
 *   server -> module  set_authtok PAM_AUTHTOK := the last echo-off answer -> ack
 *   server -> module  log         one syslog line (no reply)
 *   server -> module  done        the PAM code and the text to show
 *
 * A frame is a 4-byte big-endian length and that many bytes of one JSON
 * object. Every frame carries "v", the protocol version; a frame of another
 * version is refused (TWOFA_PROTO_VERSION_MISMATCH) so that an old module and
 * a new server fail closed after an upgrade. Every string value is the
 * lowercase hex of its bytes: passwords and PAM items need not be UTF-8, and
 * hex needs no escaping. Every field is bounded below.
 *
 * This file is linked into the module: it uses jansson only to read frames
 * (what the module reads holds no secret) and writes frames by hand into the
 * caller's buffer, which the caller wipes. No libsodium here. */
#ifndef TWOFA_PROTO_H
#define TWOFA_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define TWOFA_PROTO_VERSION 1
#define TWOFA_FRAME_MAX 32768     /* bytes of JSON in one frame: the largest hello fits (below) */
#define TWOFA_PROTO_TEXT_MAX 1024 /* a prompt, an answer, a log line, a user text */
#define TWOFA_PROTO_ARGS_MAX 32   /* module arguments */
#define TWOFA_PROTO_ARG_MAX 255   /* bytes of one module argument */
#define TWOFA_PROTO_ITEM_MAX 1024 /* bytes of one PAM item */
#define TWOFA_PROTO_CODE_MAX 16   /* bytes of the code kept from a split answer */

typedef enum twofa_msg_type {
	TWOFA_MSG_HELLO = 1,
	TWOFA_MSG_GET_USER,
	TWOFA_MSG_USER,
	TWOFA_MSG_CONV,
	TWOFA_MSG_ANSWER,
	TWOFA_MSG_SET_AUTHTOK,
	TWOFA_MSG_ACK,
	TWOFA_MSG_LOG,
	TWOFA_MSG_DONE,
} twofa_msg_type;

/* The PAM items a hello may carry, and the code pam_twofa split_answer kept
 * from the password answer (not a PAM item: the module's pam_set_data). */
typedef enum twofa_proto_item {
	TWOFA_ITEM_SERVICE = 0,
	TWOFA_ITEM_USER,
	TWOFA_ITEM_RHOST,
	TWOFA_ITEM_TTY,
	TWOFA_ITEM_RUSER,
	TWOFA_ITEM_AUTHTOK,
	TWOFA_ITEM_OLDAUTHTOK,
	TWOFA_ITEM_ANSWER_CODE, /* at most TWOFA_PROTO_CODE_MAX bytes */
	TWOFA_ITEM_COUNT,
} twofa_proto_item;

/* The longest frame the bounds allow: a hello with every argument and item
 * at its bound, each byte as two hex digits, plus its quotes, comma and key
 * (16 bytes is more than the longest PAM item's, 32 more than the answer
 * code's), and 128 bytes for the other keys and numbers. Every other message,
 * with its one text, is shorter. */
#define TWOFA_PROTO_HELLO_MAX                                                            \
	(128 + TWOFA_PROTO_ARGS_MAX * (2 * TWOFA_PROTO_ARG_MAX + 3) +                    \
	 (TWOFA_ITEM_COUNT - 1) * (2 * TWOFA_PROTO_ITEM_MAX + 16) + 2 * TWOFA_PROTO_CODE_MAX + 32)
_Static_assert(TWOFA_PROTO_HELLO_MAX <= TWOFA_FRAME_MAX, "the largest hello must fit one frame");
_Static_assert(2 * TWOFA_PROTO_TEXT_MAX + 128 <= TWOFA_FRAME_MAX, "the longest text must fit one frame");

/* The PAM calls a hello may ask for. */
typedef enum twofa_proto_call {
	TWOFA_CALL_AUTH = 1,
	TWOFA_CALL_ACCOUNT,
	TWOFA_CALL_PASSWORD,
} twofa_proto_call;

/* One message. Which fields count depends on type:
 *   hello:    call, code (the PAM flags), ruid, args, items
 *   user:     code (pam_get_user's result), text (the name, when code is 0)
 *   conv:     code (the PAM message style), text (the prompt or message)
 *   answer:   code (0 or PAM_CONV_ERR), text (the answer, when code is 0)
 *   ack:      code (pam_set_item's result)
 *   log:      code (the syslog priority), text
 *   done:     code (the PAM code to return), text (what to show, maybe none)
 * Strings are NUL-terminated; none holds a NUL byte. Holds secrets: wipe it
 * with twofa_msg_wipe. */
typedef struct twofa_msg {
	twofa_msg_type type;
	int code;
	bool has_text;
	char text[TWOFA_PROTO_TEXT_MAX + 1];
	twofa_proto_call call;
	long ruid; /* the caller's real uid, as the module saw it */
	size_t nargs;
	char args[TWOFA_PROTO_ARGS_MAX][TWOFA_PROTO_ARG_MAX + 1];
	bool has_item[TWOFA_ITEM_COUNT];
	char items[TWOFA_ITEM_COUNT][TWOFA_PROTO_ITEM_MAX + 1];
} twofa_msg;

typedef enum twofa_proto_result {
	TWOFA_PROTO_OK = 0,
	TWOFA_PROTO_BAD,              /* not a frame of this protocol */
	TWOFA_PROTO_VERSION_MISMATCH, /* a well-formed frame of another version */
} twofa_proto_result;

/* Empties m for a message of type t. */
void twofa_msg_init(twofa_msg *m, twofa_msg_type t);

/* Wipes every byte of m (explicit_bzero). */
void twofa_msg_wipe(twofa_msg *m);

/* Sets m's text; false (and no text) when it is longer than the bound or NULL. */
bool twofa_msg_set_text(twofa_msg *m, const char *text);

/* The longest value of item i in bytes: TWOFA_PROTO_ITEM_MAX, or
 * TWOFA_PROTO_CODE_MAX for the answer code. */
size_t twofa_proto_item_max(twofa_proto_item i);

/* The word of a call ("auth", "account", "password") and back (0: none). */
const char *twofa_proto_call_name(twofa_proto_call call);
twofa_proto_call twofa_proto_call_parse(const char *word);

/* Writes m as JSON into buf (no frame header). False when it does not fit
 * or m breaks a bound. buf may hold secrets afterwards: the caller wipes it. */
bool twofa_msg_encode(const twofa_msg *m, char *buf, size_t size, size_t *len);

/* Reads one JSON object of len bytes into *m, checking every field against
 * the bounds and the fields allowed for its type. On VERSION_MISMATCH,
 * *peer_version is the version the frame said (else the protocol's). */
twofa_proto_result twofa_msg_decode(const char *buf, size_t len, twofa_msg *m, long *peer_version);

#endif
