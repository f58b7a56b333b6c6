/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one table of Verify outcomes and the one mapping from Twilio's HTTP
 * status and error code to them. Everything else asks here. */
#include "twofa_build.h"

#include "verify.h"

static const struct {
	const char *name;
	const char *user; /* shown to the person logging in: no jargon, no Twilio text */
} outcomes[TWOFA_VERIFY_OUTCOME_COUNT] = {
	[TWOFA_VERIFY_OK] = {"ok", "Done."},
	[TWOFA_VERIFY_SENT] = {"sent", "A verification code was sent."},
	[TWOFA_VERIFY_APPROVED] = {"approved", "Code accepted."},
	[TWOFA_VERIFY_WRONG_CODE] = {"wrong_code", "That code is not correct."},
	[TWOFA_VERIFY_INVALID_CODE] = {"invalid_code",
				       "That is not a valid code: a code has 4 to 10 letters or digits."},
	[TWOFA_VERIFY_EXPIRED] = {"expired", "The code has expired or is no longer valid; request a new one."},
	[TWOFA_VERIFY_TOO_MANY_CHECKS] = {"too_many_checks",
					  "Too many wrong codes; request a new code later."},
	[TWOFA_VERIFY_TOO_MANY_SENDS] = {"too_many_sends",
					 "Too many codes were sent; wait a few minutes and try again."},
	[TWOFA_VERIFY_NUMBER_INVALID] = {"number_invalid", "The phone number is not valid."},
	[TWOFA_VERIFY_LANDLINE] = {"landline", "This number cannot receive text messages; use a voice call."},
	[TWOFA_VERIFY_BLOCKED] = {"blocked", "Codes cannot be sent to this number."},
	[TWOFA_VERIFY_CHANNEL_DISABLED] = {"channel_disabled", "This way of sending codes is not available."},
	[TWOFA_VERIFY_BAD_CREDENTIALS] =
		{"bad_credentials",
		 "The verification service is not set up correctly; contact your administrator."},
	[TWOFA_VERIFY_SERVICE_NOT_FOUND] =
		{"service_not_found",
		 "The verification service is not set up correctly; contact your administrator."},
	[TWOFA_VERIFY_RATE_LIMITED] = {"rate_limited",
				       "The verification service is busy; try again in a minute."},
	[TWOFA_VERIFY_OUTAGE] = {"outage", "The verification service cannot be reached; try again later."},
	[TWOFA_VERIFY_CLIENT_ERROR] = {"client_error",
				       "The verification request was refused; contact your administrator."},
	[TWOFA_VERIFY_BAD_ANSWER] =
		{"bad_answer",
		 "The verification service gave an answer that cannot be used; contact your administrator."},
	[TWOFA_VERIFY_LOCAL_ERROR] =
		{"local_error",
		 "The verification request could not be made on this machine; try again later."},
};

static bool valid_outcome(twofa_verify_outcome o)
{
	return (unsigned)o < TWOFA_VERIFY_OUTCOME_COUNT;
}

const char *twofa_verify_outcome_name(twofa_verify_outcome o)
{
	return valid_outcome(o) ? outcomes[o].name : "unknown";
}

const char *twofa_verify_user_message(twofa_verify_outcome o)
{
	return valid_outcome(o) ? outcomes[o].user : outcomes[TWOFA_VERIFY_OUTAGE].user;
}

/* Only a failure of the service itself counts: a rate limit or a refusal can
 * be caused on purpose by an attacker, so failmode=safe must not open on it;
 * nor on a bad answer or a local error (a caller's low RLIMIT_NOFILE). */
bool twofa_verify_is_outage(twofa_verify_outcome o)
{
	return o == TWOFA_VERIFY_OUTAGE;
}

const char *twofa_verify_op_name(twofa_verify_op op)
{
	switch (op) {
	case TWOFA_VERIFY_OP_START:
		return "start";
	case TWOFA_VERIFY_OP_CHECK:
		return "check";
	case TWOFA_VERIFY_OP_CANCEL:
		return "cancel";
	case TWOFA_VERIFY_OP_SERVICE:
		return "service";
	case TWOFA_VERIFY_OP_LOOKUP:
		return "lookup";
	case TWOFA_VERIFY_OP_RATE_LIMITS:
		return "rate-limits";
	case TWOFA_VERIFY_OP_RATE_LIMIT_CREATE:
		return "rate-limit-create";
	case TWOFA_VERIFY_OP_BUCKETS:
		return "buckets";
	case TWOFA_VERIFY_OP_BUCKET_CREATE:
		return "bucket-create";
	case TWOFA_VERIFY_OP_FACTOR_CREATE:
		return "factor-create";
	case TWOFA_VERIFY_OP_FACTOR_VERIFY:
		return "factor-verify";
	case TWOFA_VERIFY_OP_CHALLENGE:
		return "challenge";
	case TWOFA_VERIFY_OP_FACTOR_DELETE:
		return "factor-delete";
	case TWOFA_VERIFY_OP_ENTITY_DELETE:
		return "entity-delete";
	case TWOFA_VERIFY_OP_ENTITIES:
		return "entities";
	case TWOFA_VERIFY_OP_FACTORS:
		return "factors";
	}
	return "unknown";
}

twofa_verify_outcome twofa_verify_map_error(twofa_verify_op op, long http_status, long twilio_code)
{
	/* The status decides first where it is unambiguous. */
	if (http_status >= 500 && http_status <= 599)
		return TWOFA_VERIFY_OUTAGE;
	if (http_status == 401 || twilio_code == 20003)
		return TWOFA_VERIFY_BAD_CREDENTIALS;
	if (http_status < 400 || http_status > 499)
		return TWOFA_VERIFY_BAD_ANSWER; /* 1xx, 3xx (redirects are not followed), nonsense */

	switch (twilio_code) {
	case 60202:
		return TWOFA_VERIFY_TOO_MANY_CHECKS;
	case 60203:
		return TWOFA_VERIFY_TOO_MANY_SENDS;
	case 20429:
	case 60212:
		return TWOFA_VERIFY_RATE_LIMITED;
	case 60205:
		return TWOFA_VERIFY_LANDLINE;
	case 60410:
	case 60605:
	case 60238:
		return TWOFA_VERIFY_BLOCKED;
	case 60223:
	case 60217:
		return TWOFA_VERIFY_CHANNEL_DISABLED;
	case 60311: /* 403 "Factor verification failed": a wrong first app code */
	case 60324: /* 403 "Challenge verification failed": a wrong app code */
		if (op == TWOFA_VERIFY_OP_FACTOR_VERIFY || op == TWOFA_VERIFY_OP_CHALLENGE)
			return TWOFA_VERIFY_WRONG_CODE;
		break;
	case 60308: /* 429: too many wrong codes for one challenge */
		if (op == TWOFA_VERIFY_OP_CHALLENGE || op == TWOFA_VERIFY_OP_FACTOR_VERIFY)
			return TWOFA_VERIFY_TOO_MANY_CHECKS;
		break;
	case 60200:
		/* "Invalid parameter": on a send or lookup it is the number, on a
		 * check the code (refused locally first, so rare). */
		if (op == TWOFA_VERIFY_OP_START || op == TWOFA_VERIFY_OP_LOOKUP)
			return TWOFA_VERIFY_NUMBER_INVALID;
		if (op == TWOFA_VERIFY_OP_CHECK)
			return TWOFA_VERIFY_INVALID_CODE;
		/* On a TOTP call the code was checked locally: another parameter, or
		 * (the simulator's guess) a challenge of a factor not verified. */
		return TWOFA_VERIFY_CLIENT_ERROR;
	default:
		break;
	}
	if (http_status == 429)
		return TWOFA_VERIFY_RATE_LIMITED;
	if (http_status == 404) {
		switch (op) {
		case TWOFA_VERIFY_OP_CHECK:
		case TWOFA_VERIFY_OP_CANCEL:
			/* Expired, approved, canceled and never sent all look alike. */
			return TWOFA_VERIFY_EXPIRED;
		case TWOFA_VERIFY_OP_START:
		case TWOFA_VERIFY_OP_SERVICE:
		case TWOFA_VERIFY_OP_RATE_LIMITS:
		case TWOFA_VERIFY_OP_RATE_LIMIT_CREATE:
		case TWOFA_VERIFY_OP_BUCKETS:
		case TWOFA_VERIFY_OP_BUCKET_CREATE:
			/* The service, or the rate limit of a bucket call, is not there. */
			return TWOFA_VERIFY_SERVICE_NOT_FOUND;
		case TWOFA_VERIFY_OP_LOOKUP:
			return TWOFA_VERIFY_NUMBER_INVALID;
		case TWOFA_VERIFY_OP_FACTOR_VERIFY:
		case TWOFA_VERIFY_OP_CHALLENGE:
		case TWOFA_VERIFY_OP_FACTOR_DELETE:
		case TWOFA_VERIFY_OP_ENTITY_DELETE:
		case TWOFA_VERIFY_OP_FACTORS:
			/* The factor or its entity is gone (deleted at Twilio). */
			return TWOFA_VERIFY_EXPIRED;
		case TWOFA_VERIFY_OP_FACTOR_CREATE:
		case TWOFA_VERIFY_OP_ENTITIES:
			/* The entity is made with the factor: only the service can be missing. */
			return TWOFA_VERIFY_SERVICE_NOT_FOUND;
		}
	}
	return TWOFA_VERIFY_CLIENT_ERROR;
}
