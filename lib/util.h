/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small checked helpers shared by every part of twofa. */
#ifndef TWOFA_UTIL_H
#define TWOFA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Wipes a NUL-terminated secret (explicit_bzero), then frees it. NULL is fine. */
void twofa_free_secret(char *secret);

/* Wipes len bytes then frees. NULL is fine. */
void twofa_free_wiped(void *buf, size_t len);

/* strdup that returns NULL for NULL. */
char *twofa_strdup(const char *s);

/* Copies src into dst (size > 0), always NUL-terminating. Returns false when
 * src did not fit (dst then holds a truncated copy). */
bool twofa_strlcpy(char *dst, const char *src, size_t size);

/* True if s[0..len) has an ASCII control character (0x00-0x1f, 0x7f). */
bool twofa_has_control(const char *s, size_t len);

/* Replaces, in place, each control character (C0, DEL, C1), U+2028/U+2029,
 * each bidi mark, embedding, override or isolate (U+061C, U+200E/F,
 * U+202A..E, U+2066..9) and each byte that is not part of well-formed UTF-8
 * with one '?', so text from a server or a user can go into a log line
 * without forging lines, terminal escapes or reordered text. The string
 * never grows; it may shrink. */
void twofa_sanitize(char *s);

/* s after prefix when s starts with it ("groups=wheel", "groups=" gives
 * "wheel"), else NULL: no literal lengths beside prefixes. */
const char *twofa_skip_prefix(const char *s, const char *prefix);

/* Strict decimal parse of the whole string into [min, max]. */
bool twofa_parse_long(const char *s, long min, long max, long *out);

/* A duration as an admin types it: a decimal number of seconds, or one
 * followed by one unit, s, m, h or d ("90s", "30m", "1h", "2d"); nothing
 * else (no sign, blank, fraction or second unit). Parsed into seconds
 * within [min, max] (min >= 0), with no overflow on the way. */
bool twofa_parse_duration(const char *s, long min, long max, long *seconds);

/* Constant-time equality of two NUL-terminated strings of bounded length. */
bool twofa_streq_ct(const char *a, const char *b, size_t max);

/* "2026-11-25T17:52:19Z" (21 bytes with the NUL). Returns false on error. */
#define TWOFA_ISO8601_LEN 21
bool twofa_format_time(time_t t, char buf[TWOFA_ISO8601_LEN]);

/* Parses exactly the form above, as UTC. */
bool twofa_parse_time(const char *s, time_t *out);

#endif
