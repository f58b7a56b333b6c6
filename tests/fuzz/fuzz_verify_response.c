/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the Twilio response parser (lib/verify_response.c).
 * Not part of the normal build. The first input byte picks the operation
 * and the HTTP status (below 108: the nine first operations, as the older
 * seeds were made; from 108: the Verify TOTP ones); the rest is the body. Build, e.g. from the top of
 * a configured build tree:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../../lib -I. \
 *     ../../tests/fuzz/fuzz_verify_response.c ../../lib/verify_response.c \
 *     ../../lib/verify_outcome.c ../../lib/util.c ../../lib/identifiers.c -ljansson -lsodium
 * Invariants checked: only a 2xx body can approve, and only for a check, a
 * factor verify or a challenge; the log text is a terminated line without
 * control characters; the outcome is known; a factor create leaves a sane
 * binding when OK and a zeroed one otherwise; a list hands only checked
 * items to the callbacks, never more than the bound. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "identifiers.h"
#include "util.h"
#include "verify.h"
#include "verify_totp.h"

static const long statuses[] = {200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 503, 99};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIRST_OPS 9 /* START .. BUCKET_CREATE, as the first seeds were made */
#define TOTP_OPS (TWOFA_VERIFY_OP_FACTORS - TWOFA_VERIFY_OP_FACTOR_CREATE + 1)
#define STATUSES (sizeof(statuses) / sizeof(statuses[0]))

static size_t listed;

static bool each_entity(void *ctx, const char *identity)
{
	(void)ctx;
	if (identity == NULL || strlen(identity) == 0 || strlen(identity) > TWOFA_TOTP_IDENTITY_MAX ||
	    twofa_has_control(identity, strlen(identity)))
		abort();
	return ++listed < 50;
}

static bool each_factor(void *ctx, const char *sid, const char *status, const char *type)
{
	(void)ctx;
	if (!twofa_sid_valid(sid, "YF") || status == NULL || type == NULL)
		abort();
	return ++listed < 50;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_verify_result r;
	twofa_verify_details d;
	twofa_totp_binding binding;
	twofa_totp_settings settings;
	char log[320];
	twofa_verify_op op;
	long status;
	twofa_verify_outcome o;

	if (size < 1)
		return 0;
	if (data[0] < FIRST_OPS * STATUSES) {
		op = (twofa_verify_op)(data[0] % FIRST_OPS);
		status = statuses[data[0] / FIRST_OPS];
	} else {
		op = (twofa_verify_op)(TWOFA_VERIFY_OP_FACTOR_CREATE +
				       (data[0] - FIRST_OPS * STATUSES) % TOTP_OPS);
		status = statuses[((data[0] - FIRST_OPS * STATUSES) / TOTP_OPS) % STATUSES];
	}
	memset(&r, 0, sizeof(r));
	memset(&d, 0xAA, sizeof(d));
	memset(&binding, 0xAA, sizeof(binding));
	memset(&settings, 0xAA, sizeof(settings));
	d.rate_limit_name = "twofa_member"; /* an input: the name a list is searched for */
	/* The inputs of the totp part. */
	d.totp.factor_sid = (data[0] & 1) ? "YF0123456789abcdef0123456789abcdef" : NULL;
	d.totp.binding = &binding;
	d.totp.settings = (data[0] & 2) ? &settings : NULL;
	d.totp.each_entity = each_entity;
	d.totp.each_factor = each_factor;
	d.totp.ctx = NULL;
	d.totp.items = 0;
	listed = 0;
	memset(log, 0xAA, sizeof(log));
	o = twofa_verify_interpret(op, status, (const char *)data + 1, size - 1, &r, &d, log, sizeof(log));
	if ((unsigned)o >= TWOFA_VERIFY_OUTCOME_COUNT || r.outcome != o)
		abort();
	if (o == TWOFA_VERIFY_APPROVED &&
	    ((op != TWOFA_VERIFY_OP_CHECK && op != TWOFA_VERIFY_OP_FACTOR_VERIFY &&
	      op != TWOFA_VERIFY_OP_CHALLENGE) ||
	     status < 200 || status > 299))
		abort();
	if (op == TWOFA_VERIFY_OP_FACTOR_CREATE && o == TWOFA_VERIFY_OK &&
	    (!twofa_sid_valid(binding.factor_sid, "YF") ||
	     memchr(binding.secret, '\0', sizeof(binding.secret)) == NULL || strlen(binding.secret) < 26 ||
	     strspn(binding.secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != strlen(binding.secret) ||
	     memchr(binding.uri, '\0', sizeof(binding.uri)) == NULL ||
	     strncmp(binding.uri, "otpauth://totp/", 15) != 0 || strstr(binding.uri, binding.secret) == NULL ||
	     binding.time_step < 20 || binding.time_step > 60 || binding.code_length < 3 ||
	     binding.code_length > 8 || binding.skew < 0 || binding.skew > 2))
		abort();
	if (!(op == TWOFA_VERIFY_OP_FACTOR_CREATE && o == TWOFA_VERIFY_OK) &&
	    !sodium_is_zero((const unsigned char *)&binding, sizeof(binding)))
		abort(); /* the binding is wiped on every other outcome, and by every other op */
	if ((op == TWOFA_VERIFY_OP_ENTITIES || op == TWOFA_VERIFY_OP_FACTORS) &&
	    (d.totp.items > TWOFA_TOTP_LIST_MAX || listed > d.totp.items ||
	     memchr(d.totp.next_page, '\0', sizeof(d.totp.next_page)) == NULL ||
	     (o != TWOFA_VERIFY_OK && (listed != 0 || d.totp.next_page[0] != '\0'))))
		abort();
	if ((data[0] & 2) && o == TWOFA_VERIFY_OK && op == TWOFA_VERIFY_OP_SERVICE &&
	    (memchr(settings.issuer, '\0', sizeof(settings.issuer)) == NULL ||
	     twofa_has_control(settings.issuer, strlen(settings.issuer)) ||
	     (settings.time_step != 0 && (settings.time_step < 20 || settings.time_step > 60)) ||
	     settings.code_length < 0 || settings.code_length > 8 || settings.skew < 0 || settings.skew > 2))
		abort();
	if (memchr(log, '\0', sizeof(log)) == NULL || twofa_has_control(log, strlen(log)))
		abort();
	if (memchr(r.verification_sid, '\0', sizeof(r.verification_sid)) == NULL)
		abort();
	if (o == TWOFA_VERIFY_OK && op == TWOFA_VERIFY_OP_LOOKUP && !twofa_verify_is_e164(d.e164))
		abort();
	if (op >= TWOFA_VERIFY_OP_RATE_LIMITS && op <= TWOFA_VERIFY_OP_BUCKET_CREATE &&
	    (d.rate_limit.buckets > TWOFA_VERIFY_BUCKETS_MAX ||
	     (d.rate_limit.sid[0] != '\0' && !twofa_verify_is_sid(d.rate_limit.sid, "RK"))))
		abort();
	return 0;
}
