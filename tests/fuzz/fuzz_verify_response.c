/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the Twilio response parser (lib/verify_response.c).
 * Not part of the normal build. The first input byte picks the operation
 * and the HTTP status; the rest is the body. Build, e.g. from the top of
 * a configured build tree:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../../lib -I. \
 *     ../../tests/fuzz/fuzz_verify_response.c ../../lib/verify_response.c \
 *     ../../lib/verify_outcome.c ../../lib/util.c -ljansson -lsodium
 * Invariants checked: only a 2xx body can approve, the log text is a
 * terminated line without control characters, and the outcome is known. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "verify.h"

static const long statuses[] = {200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 503, 99};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_verify_result r;
	twofa_verify_details d;
	char log[320];
	twofa_verify_op op;
	long status;
	twofa_verify_outcome o;

	if (size < 1)
		return 0;
	op = (twofa_verify_op)(data[0] % 9);
	status = statuses[(data[0] / 9) % (sizeof(statuses) / sizeof(statuses[0]))];
	memset(&r, 0, sizeof(r));
	memset(&d, 0xAA, sizeof(d));
	d.rate_limit_name = "twofa_member"; /* an input: the name a list is searched for */
	memset(log, 0xAA, sizeof(log));
	o = twofa_verify_interpret(op, status, (const char *)data + 1, size - 1, &r, &d, log, sizeof(log));
	if ((unsigned)o >= TWOFA_VERIFY_OUTCOME_COUNT || r.outcome != o)
		abort();
	if (o == TWOFA_VERIFY_APPROVED && (op != TWOFA_VERIFY_OP_CHECK || status < 200 || status > 299))
		abort();
	if (memchr(log, '\0', sizeof(log)) == NULL || twofa_has_control(log, strlen(log)))
		abort();
	if (memchr(r.verification_sid, '\0', sizeof(r.verification_sid)) == NULL)
		abort();
	if (o == TWOFA_VERIFY_OK && op == TWOFA_VERIFY_OP_LOOKUP && !twofa_verify_is_e164(d.e164))
		abort();
	if (op >= TWOFA_VERIFY_OP_RATE_LIMITS &&
	    (d.rate_limit.buckets > TWOFA_VERIFY_BUCKETS_MAX ||
	     (d.rate_limit.sid[0] != '\0' && !twofa_verify_is_sid(d.rate_limit.sid, "RK"))))
		abort();
	return 0;
}
