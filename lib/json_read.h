/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A strict, bounded JSON reader for the store's own records (members.db and
 * state.db), which builds the same jansson values json_loadb would, in a
 * fraction of its time: jansson's lexer reads a character at a time through a
 * stream, and decoding records was most of what `twofa-enroll list` cost.
 *
 * It reads what json_loadb(text, len, JSON_REJECT_DUPLICATES) reads (RFC 8259;
 * an object or an array at the top; no \u0000; no duplicate keys; strict
 * UTF-8), except for what the store's encoders never write, which it rejects,
 * so a record it reads is one jansson reads too, to the same value (tested
 * differentially), never the other way round:
 *   - reals (a number with a fraction or an exponent): records hold integers;
 *   - nesting deeper than TWOFA_JSON_READ_DEPTH_MAX (records have two or
 *     three levels);
 *   - a NUL byte straight after a number or true/false/null, which jansson
 *     skips (its one-character push-back takes the NUL for an empty buffer):
 *     json_loadb reads "[1\0]" as [1].
 * Input from the network or a peer stays on jansson (proto.c, decision.c,
 * verify_response.c). tests/fuzz/fuzz_json_read.c holds the two to this. */
#ifndef TWOFA_JSON_READ_H
#define TWOFA_JSON_READ_H

#include <stddef.h>

#include <jansson.h>

#define TWOFA_JSON_READ_DEPTH_MAX 8 /* objects and arrays inside each other, the top one included */

/* The reasons given for what jansson reads and this does not. */
#define TWOFA_JSON_READ_REAL "a real number (records hold integers)"
#define TWOFA_JSON_READ_DEEP "nested deeper than a record"
#define TWOFA_JSON_READ_NUL "NUL byte after a value"

/* Why a text did not read: the byte it stopped at and a fixed reason, never
 * the text itself (records hold hashes and phone numbers). */
typedef struct {
	size_t position;
	const char *reason;
} twofa_json_read_error;

/* The value of the len bytes at text (an object or an array), a new
 * reference; NULL with err filled in if they are not one JSON text as above,
 * or on running out of memory. */
json_t *twofa_json_read(const char *text, size_t len, twofa_json_read_error *err);

#endif
