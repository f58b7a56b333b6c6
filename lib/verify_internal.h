/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What verify.c shares with the other Verify clients of lib/ (verify_totp.c):
 * the request builders, the one exchange, and the result writer. Not for
 * use outside lib/verify*.c. */
#ifndef TWOFA_VERIFY_INTERNAL_H
#define TWOFA_VERIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "verify.h"

#define TWOFA_VERIFY_URL_MAX 1024
#define TWOFA_VERIFY_FORM_MAX 1024

/* Appends "&name=escaped(value)" ("name=..." first) to buf at *len; false
 * when it does not fit. The escaping allocates nothing, so a code in the
 * form is in buf only (the caller wipes it). */
bool twofa_verify_form_add(char *buf, size_t size, size_t *len, const char *name, const char *value);

/* {verify_base}/v2/Services/{VA}{suffix}; false when it does not fit. */
bool twofa_verify_service_url(const twofa_verify *v, const char *suffix, char url[TWOFA_VERIFY_URL_MAX]);

/* The result before a call: LOCAL_ERROR, all else empty (fail closed). */
void twofa_verify_result_reset(twofa_verify_result *r);

/* Writes outcome o with the table's user message and the log line
 * "<op> <masked>: <detail> [<outcome>]" (masked may be NULL). Returns o. */
__attribute__((format(printf, 5, 6))) twofa_verify_outcome twofa_verify_finish(twofa_verify_result *r,
									       twofa_verify_op op,
									       const char *masked,
									       twofa_verify_outcome o,
									       const char *fmt, ...);

/* One request over the object's handle and its interpretation into r (and
 * d, may be NULL): GET (form NULL), POST (form) or DELETE (del). */
twofa_verify_outcome twofa_verify_exchange(twofa_verify *v, twofa_verify_op op, bool del, const char *url,
					   const char *form, size_t form_len, const char *masked,
					   twofa_verify_result *r, twofa_verify_details *d);

#endif
