/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json_read.h"

/* The range of json_int_t, as jansson's own strtoll or strtol checks it. */
#if JSON_INTEGER_IS_LONG_LONG
#define INTEGER_MAX ((unsigned long long)LLONG_MAX)
#else
#define INTEGER_MAX ((unsigned long long)LONG_MAX)
#endif

/* Records are a few hundred bytes: their strings decode on the stack. */
#define SCRATCH_ON_STACK 4096

typedef struct {
	const unsigned char *start, *p, *end;
	unsigned depth;
	/* Where the next decoded string goes: each is NUL-terminated (a key
	 * must be for jansson) and no longer than its quoted form, so len + 1
	 * bytes hold them all and none is overwritten while still needed. */
	char *out;
	const unsigned char *failed_at;
	const char *reason;
} reader;

static bool fail(reader *r, const unsigned char *at, const char *reason)
{
	if (r->reason == NULL) {
		r->reason = reason;
		r->failed_at = at;
	}
	return false;
}

static json_t *fail_value(reader *r, const unsigned char *at, const char *reason)
{
	fail(r, at, reason);
	return NULL;
}

/* The whitespace of RFC 8259, no more (jansson's too). */
static void skip_space(reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool at_byte(const reader *r, unsigned char c)
{
	return r->p < r->end && *r->p == c;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The length of the UTF-8 sequence at p, 0 if it is not one. The rules are
 * jansson's (utf8_check_first and utf8_check_full): no continuation byte
 * first, no overlong form, no surrogate, nothing above U+10FFFF. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
	uint32_t v;
	size_t n, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		v = p[0] & 0x1Fu;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		v = p[0] & 0x0Fu;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		v = p[0] & 0x07u;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
		v = v << 6 | (p[i] & 0x3Fu);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000))
		return 0;
	return n;
}

static bool hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (end - p < 4)
		return false;
	for (i = 0; i < 4; i++) {
		unsigned char c = p[i];
		if (is_digit(c))
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

static void put_utf8(char **o, uint32_t cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xC0 | cp >> 6);
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*u++ = (unsigned char)(0xE0 | cp >> 12);
		*u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*u++ = (unsigned char)(0xF0 | cp >> 18);
		*u++ = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*o = (char *)u;
}

/* One escape at r->p (the backslash), decoded to *o. A surrogate must come
 * as a pair and \u0000 is refused, as jansson refuses them without
 * JSON_ALLOW_NUL. */
static bool read_escape(reader *r, char **o)
{
	/* The one-letter escapes, and what each stands for. */
	static const char letters[] = "\"\\/bfnrt", meanings[] = "\"\\/\b\f\n\r\t";
	const unsigned char *at = r->p;
	const char *letter;
	uint32_t cp, low;

	if (r->end - r->p < 2)
		return fail(r, at, "unterminated string");
	if ((letter = memchr(letters, r->p[1], sizeof(letters) - 1)) != NULL) {
		*(*o)++ = meanings[letter - letters];
		r->p += 2;
		return true;
	}
	if (r->p[1] != 'u')
		return fail(r, at, "invalid escape");
	if (!hex4(r->p + 2, r->end, &cp))
		return fail(r, at, "invalid \\u escape");
	r->p += 6;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(r, at, "low surrogate without a high one");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
			return fail(r, at, "high surrogate without a low one");
		if (!hex4(r->p + 2, r->end, &low))
			return fail(r, r->p, "invalid \\u escape");
		if (low < 0xDC00 || low > 0xDFFF)
			return fail(r, at, "high surrogate without a low one");
		r->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
	}
	if (cp == 0)
		return fail(r, at, "\\u0000 in a string");
	put_utf8(o, cp);
	return true;
}

/* The string at r->p (its opening quote), decoded to r->out. */
static bool read_string(reader *r, const char **s, size_t *n)
{
	char *o = r->out;

	r->p++;
	for (;;) {
		const unsigned char *q = r->p;
		size_t k;

		/* The run of printable ASCII, in one go: most of every record. */
		while (q < r->end && (unsigned char)(*q - 0x20) < 0x60 && *q != '"' && *q != '\\')
			q++;
		memcpy(o, r->p, (size_t)(q - r->p));
		o += q - r->p;
		r->p = q;
		if (q == r->end)
			return fail(r, q, "unterminated string");
		if (*q == '"')
			break;
		if (*q == '\\') {
			if (!read_escape(r, &o))
				return false;
			continue;
		}
		if (*q < 0x20)
			return fail(r, q, "control character in a string");
		if ((k = utf8_sequence(q, r->end)) == 0)
			return fail(r, q, "invalid UTF-8");
		memcpy(o, q, k);
		o += k;
		r->p += k;
	}
	r->p++;
	*o = '\0';
	*s = r->out;
	*n = (size_t)(o - r->out);
	r->out = o + 1;
	return true;
}

/* An integer in json_int_t's range. A fraction or an exponent is refused:
 * the store's encoders write none (see json_read.h). */
static json_t *read_number(reader *r)
{
	const unsigned char *at = r->p;
	bool negative = at_byte(r, '-'), too_big = false;
	unsigned long long limit = INTEGER_MAX + (negative ? 1u : 0u), v = 0;
	json_t *j;

	if (negative)
		r->p++;
	if (r->p == r->end || !is_digit(*r->p))
		return fail_value(r, at, "invalid number");
	if (*r->p == '0') {
		r->p++;
		if (r->p < r->end && is_digit(*r->p))
			return fail_value(r, at, "number with a leading zero");
	}
	for (; r->p < r->end && is_digit(*r->p); r->p++) {
		unsigned d = (unsigned)(*r->p - '0');
		if (v > (limit - d) / 10)
			too_big = true;
		else
			v = v * 10 + d;
	}
	/* Checked before the range: jansson reads a long real as a real. */
	if (at_byte(r, '.') || at_byte(r, 'e') || at_byte(r, 'E'))
		return fail_value(r, at, TWOFA_JSON_READ_REAL);
	if (too_big)
		return fail_value(r, at, "integer out of range");
	j = json_integer(!negative ? (json_int_t)v : v == 0 ? 0 : -(json_int_t)(v - 1) - 1);
	if (j == NULL)
		fail(r, at, "out of memory");
	return j;
}

static json_t *read_value(reader *r);

/* Past the opening '{' or '[': whether close comes at once (then past it). */
static bool opens_empty(reader *r, unsigned char close)
{
	r->p++;
	skip_space(r);
	if (!at_byte(r, close))
		return false;
	r->p++;
	return true;
}

typedef enum { MORE, CLOSED, BROKEN } after_item;

/* After a member or an element: a ',' (more follow), close or a failure. */
static after_item after_item_read(reader *r, unsigned char close, const char *expected)
{
	skip_space(r);
	if (at_byte(r, ',')) {
		r->p++;
		skip_space(r);
		return MORE;
	}
	if (at_byte(r, close)) {
		r->p++;
		return CLOSED;
	}
	fail(r, r->p, at_byte(r, '\0') ? TWOFA_JSON_READ_NUL : expected);
	return BROKEN;
}

static bool read_member(reader *r, json_t *obj)
{
	const unsigned char *at = r->p;
	const char *key;
	json_t *v;
	size_t n;

	if (!at_byte(r, '"'))
		return fail(r, at, "a key expected");
	if (!read_string(r, &key, &n))
		return false;
	/* The key holds no NUL: \u0000 is refused. */
	if (json_object_get(obj, key) != NULL)
		return fail(r, at, "duplicate key");
	skip_space(r);
	if (!at_byte(r, ':'))
		return fail(r, r->p, "':' expected");
	r->p++;
	skip_space(r);
	if ((v = read_value(r)) == NULL)
		return false;
	/* It takes v, on failure too. */
	if (json_object_set_new_nocheck(obj, key, v) != 0)
		return fail(r, at, "out of memory");
	return true;
}

static json_t *read_object(reader *r)
{
	json_t *obj = json_object();
	after_item next = BROKEN;

	if (obj == NULL)
		return fail_value(r, r->p, "out of memory");
	if (opens_empty(r, '}'))
		return obj;
	do {
		if (!read_member(r, obj))
			break;
	} while ((next = after_item_read(r, '}', "',' or '}' expected")) == MORE);
	if (r->reason == NULL && next == CLOSED)
		return obj;
	json_decref(obj);
	return NULL;
}

static json_t *read_array(reader *r)
{
	json_t *array = json_array(), *v;
	const unsigned char *at;
	after_item next = BROKEN;

	if (array == NULL)
		return fail_value(r, r->p, "out of memory");
	if (opens_empty(r, ']'))
		return array;
	do {
		at = r->p;
		if ((v = read_value(r)) == NULL)
			break;
		if (json_array_append_new(array, v) != 0) {
			fail(r, at, "out of memory");
			break;
		}
	} while ((next = after_item_read(r, ']', "',' or ']' expected")) == MORE);
	if (r->reason == NULL && next == CLOSED)
		return array;
	json_decref(array);
	return NULL;
}

static json_t *read_literal(reader *r, const char *word, json_t *value)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return fail_value(r, r->p, "invalid value");
	r->p += n;
	return value;
}

static json_t *read_nested(reader *r, json_t *(*read)(reader *))
{
	json_t *v;

	if (r->depth == TWOFA_JSON_READ_DEPTH_MAX)
		return fail_value(r, r->p, TWOFA_JSON_READ_DEEP);
	r->depth++;
	v = read(r);
	r->depth--;
	return v;
}

static json_t *read_value(reader *r)
{
	const char *s;
	size_t n;
	json_t *v;

	if (r->p == r->end)
		return fail_value(r, r->p, "truncated");
	switch (*r->p) {
	case '{':
		return read_nested(r, read_object);
	case '[':
		return read_nested(r, read_array);
	case '"':
		if (!read_string(r, &s, &n))
			return NULL;
		/* Valid UTF-8 as jansson's check has it (utf8_sequence). */
		if ((v = json_stringn_nocheck(s, n)) == NULL)
			fail(r, r->p, "out of memory");
		return v;
	case 't':
		return read_literal(r, "true", json_true());
	case 'f':
		return read_literal(r, "false", json_false());
	case 'n':
		return read_literal(r, "null", json_null());
	default:
		if (*r->p == '-' || is_digit(*r->p))
			return read_number(r);
		return fail_value(r, r->p, "invalid value");
	}
}

json_t *twofa_json_read(const char *text, size_t len, twofa_json_read_error *err)
{
	char stack[SCRATCH_ON_STACK];
	char *scratch = stack;
	json_t *v = NULL;
	reader r = {0};

	if (len == 0 || text == NULL) {
		if (err != NULL)
			*err = (twofa_json_read_error){.position = 0, .reason = "empty"};
		return NULL;
	}
	r.start = r.p = (const unsigned char *)text;
	r.end = r.start + len;
	if (len >= sizeof(stack) && (scratch = malloc(len + 1)) == NULL) {
		fail(&r, r.p, "out of memory");
	} else {
		r.out = scratch;
		skip_space(&r);
		if (!at_byte(&r, '{') && !at_byte(&r, '['))
			fail(&r, r.p, "an object or an array expected");
		else if ((v = read_value(&r)) != NULL) {
			skip_space(&r);
			if (r.p != r.end) {
				fail(&r, r.p, "data after the value");
				json_decref(v);
				v = NULL;
			}
		}
		/* The strings were a record's: hashes among them. */
		sodium_memzero(scratch, len + 1);
		if (scratch != stack)
			free(scratch);
	}
	if (err != NULL) {
		err->position = v == NULL ? (size_t)(r.failed_at - r.start) : 0;
		err->reason = v == NULL ? r.reason : NULL;
	}
	return v;
}
