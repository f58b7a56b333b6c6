/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Phone numbers -> E.164, following libphonenumber's parse() and
 * is_valid_number_for_region() step by step (the Python port's function
 * names are given where each step is), over the metadata generated from
 * data/phonemeta.tsv.
 *
 * Two kinds of pattern, two matchers:
 *  - national number patterns are only ever matched whole; whole-string
 *    matching means the same under POSIX and Perl rules, so they are POSIX
 *    EREs run by <regex.h>, compiled per call (a region's patterns compile
 *    in well under a millisecond; no global state, nothing to free, nothing
 *    to lock);
 *  - prefix patterns (international prefix, national prefix for parsing) are
 *    matched at the start of the number, and libphonenumber takes the first
 *    match by Perl rules and reads capture groups from it. POSIX regexec
 *    takes the longest match instead, which differs: Jersey's "0|([0-24-8]
 *    \d{5})$" on "012345" is "0" for Perl, all six digits for POSIX. So they
 *    run on lib/phone_prefix's small backtracking matcher. */
#include "twofa_build.h"

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "countries.h"
#include "countries_data.h"
#include "phone.h"
#include "phone_prefix.h"

/* libphonenumber's limits: _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN. */
#define MIN_LENGTH_FOR_NSN 2
#define MAX_LENGTH_FOR_NSN 17
/* Digits plus what a transform rule adds. */
#define NUMBUF (TWOFA_PHONE_INPUT_MAX + 32)

typedef struct numbuf {
	char d[NUMBUF];
	size_t n;
} numbuf;

static void nb_set(numbuf *b, const char *s, size_t n)
{
	if (n >= sizeof(b->d))
		n = sizeof(b->d) - 1;
	memmove(b->d, s, n);
	b->d[n] = '\0';
	b->n = n;
}

/* Metadata access. */

typedef struct ctx {
	bool failed; /* a pattern did not compile or memory ran out */
} ctx;

/* Whole-string match of a national number pattern (_match_national_number). */
static bool ere_match(ctx *c, const char *ere, const char *number)
{
	regex_t re;
	int rc;

	if (c->failed)
		return false;
	if (regcomp(&re, ere, REG_EXTENDED | REG_NOSUB) != 0) {
		c->failed = true;
		return false;
	}
	rc = regexec(&re, number, 0, NULL, 0);
	regfree(&re);
	if (rc != 0 && rc != REG_NOMATCH)
		c->failed = true;
	return rc == 0;
}

static const struct twofa_numdesc *general_desc(const struct twofa_region *r)
{
	return &twofa_numdescs[r->desc];
}

static bool has_length(uint32_t mask, size_t len)
{
	return len < 32 && (mask & (UINT32_C(1) << len)) != 0;
}

/* _is_number_matching_desc */
static bool desc_matches(ctx *c, const struct twofa_numdesc *d, const char *nsn, size_t len)
{
	return has_length(d->lengths, len) && ere_match(c, d->ere, nsn);
}

/* _number_type_helper(...) != UNKNOWN: the general description and one type. */
static bool valid_for_region(ctx *c, const struct twofa_region *r, const char *nsn)
{
	size_t len = strlen(nsn);

	if (!desc_matches(c, general_desc(r), nsn, len))
		return false;
	for (unsigned i = 1; i < r->ndesc; i++)
		if (desc_matches(c, &twofa_numdescs[r->desc + i], nsn, len))
			return true;
	return false;
}

typedef enum length_result {
	LEN_POSSIBLE,
	LEN_LOCAL_ONLY,
	LEN_TOO_SHORT,
	LEN_TOO_LONG,
	LEN_INVALID,
} length_result;

/* _test_number_length for the general description. */
static length_result test_length(const struct twofa_region *r, size_t len)
{
	const struct twofa_numdesc *g = general_desc(r);
	unsigned lo = 0, hi = 0;

	if (has_length(g->local, len))
		return LEN_LOCAL_ONLY;
	for (unsigned i = 1; i < 32; i++) {
		if (g->lengths & (UINT32_C(1) << i)) {
			if (lo == 0)
				lo = i;
			hi = i;
		}
	}
	if (len == lo)
		return LEN_POSSIBLE;
	if (len < lo)
		return LEN_TOO_SHORT;
	if (len > hi)
		return LEN_TOO_LONG;
	return has_length(g->lengths, len) ? LEN_POSSIBLE : LEN_INVALID;
}

static const struct twofa_calling_code *calling_code(unsigned cc)
{
	size_t lo = 0, hi = twofa_calling_code_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (twofa_calling_codes[mid].cc == cc)
			return &twofa_calling_codes[mid];
		if (twofa_calling_codes[mid].cc < cc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* libphonenumber's parse() on digits. */

/* _maybe_strip_national_prefix_carrier_code: strips in place when it applies. */
static void strip_national_prefix(ctx *c, const struct twofa_region *r, numbuf *num)
{
	const struct twofa_numdesc *g = general_desc(r);
	numbuf out;
	twofa_phone_prefix_result m;
	int rc;
	bool viable_original;

	if (num->n == 0 || r->npp == NULL || c->failed)
		return;
	rc = twofa_phone_prefix_match(r->npp, num->d, num->n, &m);
	if (rc < 0) {
		c->failed = true;
		return;
	}
	if (rc == 0)
		return;
	viable_original = ere_match(c, g->ere, num->d);
	if (r->npt == NULL || m.groups[2 * m.ngroups] < 0) {
		nb_set(&out, num->d + m.end, num->n - m.end);
	} else {
		/* re.sub(pattern, rule, number, count=1): the rule, then the rest. */
		out.n = 0;
		for (const char *t = r->npt; *t != '\0'; t++) {
			const char *src = t;
			size_t len = 1;

			if (t[0] == '$' && t[1] >= '1' && t[1] <= '9') {
				int g_ = t[1] - '0';

				t++;
				if (g_ > m.ngroups || m.groups[2 * g_] < 0)
					continue; /* an unmatched group expands to nothing */
				src = num->d + m.groups[2 * g_];
				len = (size_t)(m.groups[2 * g_ + 1] - m.groups[2 * g_]);
			}
			if (out.n + len >= sizeof(out.d)) {
				c->failed = true;
				return;
			}
			memcpy(out.d + out.n, src, len);
			out.n += len;
		}
		if (out.n + (num->n - m.end) >= sizeof(out.d)) {
			c->failed = true;
			return;
		}
		memcpy(out.d + out.n, num->d + m.end, num->n - m.end);
		out.n += num->n - m.end;
		out.d[out.n] = '\0';
	}
	if (viable_original && !ere_match(c, g->ere, out.d))
		return;
	if (!c->failed)
		*num = out;
}

/* _extract_country_code: the calling code at the start of digits, or 0. */
static unsigned extract_country_code(const char *digits, size_t n, size_t *cc_len)
{
	unsigned v = 0;

	if (n == 0 || digits[0] == '0')
		return 0;
	for (size_t i = 0; i < 3 && i < n; i++) {
		v = v * 10 + (unsigned)(digits[i] - '0');
		if (calling_code(v) != NULL) {
			*cc_len = i + 1;
			return v;
		}
	}
	return 0;
}

typedef enum extract_status { EX_OK, EX_TOO_SHORT_AFTER_IDD, EX_INVALID_CC } extract_status;

/* _maybe_extract_country_code. digits are the normalised input; plus says a
 * '+' led it. On EX_OK, *cc is the calling code found (0 for none) and
 * national what follows it. */
static extract_status extract_calling_code(ctx *c, const struct twofa_region *r, const numbuf *digits,
					   bool plus, unsigned *cc, numbuf *national)
{
	const char *full = digits->d;
	size_t n = digits->n;
	bool international = plus;

	*cc = 0;
	national->n = 0;
	national->d[0] = '\0';
	if (n == 0)
		return EX_OK;
	if (!plus && r != NULL && r->idd != NULL) {
		/* _parse_prefix_as_idd: strip it unless a 0 follows. */
		twofa_phone_prefix_result m;
		int rc = twofa_phone_prefix_match(r->idd, full, n, &m);

		if (rc < 0) {
			c->failed = true;
			return EX_OK;
		}
		if (rc == 1 && !(m.end < n && full[m.end] == '0')) {
			full += m.end;
			n -= m.end;
			international = true;
		}
	}
	if (international) {
		size_t cc_len = 0;

		if (n <= MIN_LENGTH_FOR_NSN)
			return EX_TOO_SHORT_AFTER_IDD;
		*cc = extract_country_code(full, n, &cc_len);
		if (*cc == 0)
			return EX_INVALID_CC;
		nb_set(national, full + cc_len, n - cc_len);
		return EX_OK;
	}
	if (r != NULL) {
		/* The region's own calling code written without '+'. */
		char ccs[8];
		size_t cl = (size_t)snprintf(ccs, sizeof(ccs), "%u", r->cc);

		if (n >= cl && memcmp(full, ccs, cl) == 0) {
			const struct twofa_numdesc *g = general_desc(r);
			numbuf pot;

			nb_set(&pot, full + cl, n - cl);
			strip_national_prefix(c, r, &pot);
			if ((!ere_match(c, g->ere, full) && ere_match(c, g->ere, pot.d)) ||
			    test_length(r, n) == LEN_TOO_LONG) {
				*cc = r->cc;
				*national = pot;
			}
		}
	}
	return EX_OK;
}

typedef struct parsed {
	unsigned cc;
	numbuf nsn;
	const struct twofa_region *meta; /* the metadata parse() used, or NULL */
} parsed;

/* parse(): from normalised digits and the leading-'+' flag to a calling code
 * and national significant number. r is the region the number is read
 * against (NULL: none, the number must be international). */
static twofa_phone_reason parse_digits(ctx *c, const struct twofa_region *r, const numbuf *digits, bool plus,
				       parsed *out)
{
	extract_status st;
	numbuf national;
	unsigned cc;

	out->meta = r;
	st = extract_calling_code(c, r, digits, plus, &cc, &national);
	if (st == EX_INVALID_CC && plus) /* strip the '+' and try again */
		st = extract_calling_code(c, r, digits, false, &cc, &national);
	if (st == EX_TOO_SHORT_AFTER_IDD)
		return TWOFA_PHONE_TOO_SHORT;
	if (st == EX_INVALID_CC || (plus && cc == 0))
		return TWOFA_PHONE_BAD_CALLING_CODE;
	if (cc != 0) {
		/* The number's own metadata: its calling code's main region. */
		const struct twofa_calling_code *code = calling_code(cc);
		const struct twofa_region *main_region = code->nregions > 0 ? &twofa_regions[code->first]
									    : NULL;

		if (main_region != r)
			out->meta = main_region;
	} else if (r != NULL) {
		national = *digits;
		cc = r->cc;
	} else {
		return TWOFA_PHONE_BAD_CALLING_CODE;
	}
	out->cc = cc;
	if (national.n < MIN_LENGTH_FOR_NSN)
		return TWOFA_PHONE_TOO_SHORT;
	if (out->meta != NULL) {
		numbuf pot = national;
		length_result lr;

		strip_national_prefix(c, out->meta, &pot);
		lr = test_length(out->meta, pot.n);
		if (lr != LEN_TOO_SHORT && lr != LEN_LOCAL_ONLY && lr != LEN_INVALID)
			national = pot;
	}
	if (national.n > MAX_LENGTH_FOR_NSN)
		return TWOFA_PHONE_TOO_LONG;
	out->nsn = national;
	return TWOFA_PHONE_OK;
}

/* The first region of calling code cc the number is valid for, or NULL. */
static const struct twofa_region *region_of(ctx *c, unsigned cc, const char *nsn,
					    const struct twofa_region *skip)
{
	const struct twofa_calling_code *code = calling_code(cc);

	if (code == NULL)
		return NULL;
	for (unsigned i = 0; i < code->nregions; i++) {
		const struct twofa_region *r = &twofa_regions[code->first + i];
		if (r != skip && valid_for_region(c, r, nsn))
			return r;
	}
	return NULL;
}

/* Keeps digits and a leading '+'; the first other character decides. */
static twofa_phone_reason normalize_input(const char *input, numbuf *digits, bool *plus)
{
	size_t len = strnlen(input, TWOFA_PHONE_INPUT_MAX + 1);

	*plus = false;
	digits->n = 0;
	digits->d[0] = '\0';
	if (len > TWOFA_PHONE_INPUT_MAX)
		return TWOFA_PHONE_INPUT_TOO_LONG;
	for (const char *p = input; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch >= '0' && ch <= '9') {
			digits->d[digits->n++] = (char)ch;
		} else if (ch == '+') {
			if (*plus || digits->n > 0)
				return TWOFA_PHONE_BAD_CHAR;
			*plus = true;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
			return TWOFA_PHONE_LETTERS;
		} else if (ch != ' ' && ch != '-' && ch != '.' && ch != '(' && ch != ')' && ch != '/') {
			return TWOFA_PHONE_BAD_CHAR;
		}
	}
	digits->d[digits->n] = '\0';
	return digits->n == 0 ? TWOFA_PHONE_EMPTY : TWOFA_PHONE_OK;
}

static const struct twofa_region *country_region(const char *alpha2)
{
	const twofa_country *country = twofa_country_by_code(alpha2);

	if (country == NULL)
		return NULL;
	return &twofa_regions[twofa_country_regions[country - twofa_countries]];
}

static void set_other(twofa_phone_result *res, unsigned cc, const struct twofa_region *r)
{
	(void)snprintf(res->calling_code, sizeof(res->calling_code), "%u", cc);
	if (r != NULL)
		memcpy(res->region, r->code, sizeof(res->region));
}

/* parse() and is_valid_number_for_region() on normalised digits. *valid
 * says whether libphonenumber takes the number, which it may do and twofa
 * still refuse it (more than 15 digits). */
static twofa_phone_reason check_digits(ctx *c, const struct twofa_region *r, const numbuf *digits, bool plus,
				       twofa_phone_result *res, bool *valid)
{
	const struct twofa_region *other;
	twofa_phone_reason reason;
	length_result full, stripped;
	numbuf bare;
	parsed p;

	*valid = false;
	reason = parse_digits(c, r, digits, plus, &p);
	if (reason != TWOFA_PHONE_OK)
		return reason;
	if (p.cc != r->cc) {
		set_other(res, p.cc, region_of(c, p.cc, p.nsn.d, NULL));
		return TWOFA_PHONE_WRONG_COUNTRY;
	}
	if (valid_for_region(c, r, p.nsn.d)) {
		int n;

		*valid = true;
		n = snprintf(res->e164, sizeof(res->e164), "+%u%s", p.cc, p.nsn.d);

		if (n < 0 || (size_t)n >= sizeof(res->e164))
			return TWOFA_PHONE_TOO_LONG; /* more than E.164's 15 digits */
		if (!twofa_e164_valid(res->e164))
			return TWOFA_PHONE_TOO_SHORT;
		return TWOFA_PHONE_OK;
	}
	other = region_of(c, p.cc, p.nsn.d, r);
	if (other != NULL) {
		set_other(res, p.cc, other);
		return TWOFA_PHONE_WRONG_COUNTRY;
	}
	/* Why not. parse() keeps the trunk prefix when the rest is too short,
	 * so "0121 234" is read as a 7-digit number: call it short all the same. */
	bare = p.nsn;
	strip_national_prefix(c, r, &bare);
	full = test_length(r, p.nsn.n);
	stripped = test_length(r, bare.n);
	if (full == LEN_TOO_SHORT || full == LEN_LOCAL_ONLY ||
	    (bare.n < p.nsn.n && (stripped == LEN_TOO_SHORT || stripped == LEN_LOCAL_ONLY)))
		return TWOFA_PHONE_TOO_SHORT;
	if (full == LEN_TOO_LONG)
		return TWOFA_PHONE_TOO_LONG;
	return full == LEN_INVALID ? TWOFA_PHONE_WRONG_LENGTH : TWOFA_PHONE_INVALID;
}

static twofa_phone_reason phone_parse(ctx *c, const char *input, const char *country_alpha2,
				      twofa_phone_result *res)
{
	const struct twofa_region *r;
	twofa_phone_reason reason;
	numbuf digits;
	bool plus, valid;

	if (input == NULL)
		return TWOFA_PHONE_EMPTY;
	reason = normalize_input(input, &digits, &plus);
	if (reason != TWOFA_PHONE_OK)
		return reason;
	r = country_region(country_alpha2);
	if (r == NULL)
		return TWOFA_PHONE_UNKNOWN_COUNTRY;
	/* _is_viable_phone_number: at least two digits, three with punctuation;
	 * no valid number has fewer than four. */
	if (digits.n < 3)
		return TWOFA_PHONE_TOO_SHORT;

	reason = check_digits(c, r, &digits, plus, res, &valid);
	if (!valid && !plus && digits.n > 2 && digits.d[0] == '0' && digits.d[1] == '0') {
		/* twofa's one addition to libphonenumber: 00 is understood as the
		 * international prefix even where the country's own is another
		 * (011 in the US, 810 in Russia, 010 in Japan), once the number
		 * read as national has failed. It still has to be a valid number
		 * of this country. */
		twofa_phone_result again;
		twofa_phone_reason reason2;
		numbuf rest;

		memset(&again, 0, sizeof(again));
		nb_set(&rest, digits.d + 2, digits.n - 2);
		reason2 = check_digits(c, r, &rest, true, &again, &valid);
		if (reason2 == TWOFA_PHONE_OK || reason2 == TWOFA_PHONE_WRONG_COUNTRY) {
			*res = again;
			reason = reason2;
		}
	}
	return reason;
}

twofa_phone_reason twofa_phone_parse(const char *input, const char *country_alpha2, twofa_phone_result *res)
{
	ctx c = {.failed = false};
	twofa_phone_reason reason;

	memset(res, 0, sizeof(*res));
	reason = phone_parse(&c, input, country_alpha2, res);
	if (c.failed)
		reason = TWOFA_PHONE_INTERNAL;
	if (reason != TWOFA_PHONE_OK)
		res->e164[0] = '\0';
	res->reason = reason;
	return reason;
}

const char *twofa_phone_reason_name(twofa_phone_reason reason)
{
	switch (reason) {
	case TWOFA_PHONE_OK:
		return "ok";
	case TWOFA_PHONE_EMPTY:
		return "empty";
	case TWOFA_PHONE_INPUT_TOO_LONG:
		return "input-too-long";
	case TWOFA_PHONE_LETTERS:
		return "letters";
	case TWOFA_PHONE_BAD_CHAR:
		return "bad-char";
	case TWOFA_PHONE_UNKNOWN_COUNTRY:
		return "unknown-country";
	case TWOFA_PHONE_BAD_CALLING_CODE:
		return "bad-calling-code";
	case TWOFA_PHONE_TOO_SHORT:
		return "too-short";
	case TWOFA_PHONE_TOO_LONG:
		return "too-long";
	case TWOFA_PHONE_WRONG_LENGTH:
		return "wrong-length";
	case TWOFA_PHONE_WRONG_COUNTRY:
		return "wrong-country";
	case TWOFA_PHONE_INVALID:
		return "invalid";
	case TWOFA_PHONE_INTERNAL:
		return "internal";
	}
	return "unknown";
}

/* "France (+33)"; the country is known by the time a message names it. */
static void describe_country(char *buf, size_t size, const char *alpha2)
{
	const twofa_country *country = twofa_country_by_code(alpha2);

	if (country != NULL)
		(void)snprintf(buf, size, "%s (+%s)", country->name, country->calling_code);
	else
		(void)snprintf(buf, size, "that country");
}

twofa_status twofa_phone_normalize(const char *input, const char *country_alpha2, char out[TWOFA_E164_SIZE],
				   twofa_error *err)
{
	twofa_phone_result res;
	char where[160];
	char other[160];
	const twofa_country *oc;

	out[0] = '\0';
	switch (twofa_phone_parse(input, country_alpha2, &res)) {
	case TWOFA_PHONE_OK:
		memcpy(out, res.e164, sizeof(res.e164));
		return TWOFA_OK;
	case TWOFA_PHONE_EMPTY:
		return twofa_fail(err, TWOFA_EINVAL, "no phone number given (it has no digits)");
	case TWOFA_PHONE_INPUT_TOO_LONG:
		return twofa_fail(err, TWOFA_EINVAL, "phone number input is longer than %d characters",
				  TWOFA_PHONE_INPUT_MAX);
	case TWOFA_PHONE_LETTERS:
		return twofa_fail(err, TWOFA_EINVAL,
				  "a phone number has no letters: write it with digits only, without an extension");
	case TWOFA_PHONE_BAD_CHAR:
		return twofa_fail(err, TWOFA_EINVAL,
				  "a phone number may only have digits, spaces, - . ( ) / and a leading +");
	case TWOFA_PHONE_UNKNOWN_COUNTRY:
		return twofa_fail(err, TWOFA_EINVAL,
				  "unknown country code (use an ISO 3166-1 alpha-2 code such as GB; "
				  "twofa-enroll countries lists them)");
	case TWOFA_PHONE_INTERNAL:
		return twofa_fail(err, TWOFA_ESYS, "internal error while checking the phone number");
	default:
		break;
	}
	describe_country(where, sizeof(where), country_alpha2);
	switch (res.reason) {
	case TWOFA_PHONE_BAD_CALLING_CODE:
		return twofa_fail(err, TWOFA_EINVAL,
				  "no country calling code follows the + or international prefix");
	case TWOFA_PHONE_TOO_SHORT:
		return twofa_fail(err, TWOFA_EINVAL, "too short for a phone number in %s", where);
	case TWOFA_PHONE_TOO_LONG:
		return twofa_fail(err, TWOFA_EINVAL, "too long for a phone number in %s", where);
	case TWOFA_PHONE_WRONG_LENGTH:
		return twofa_fail(err, TWOFA_EINVAL, "wrong number of digits for a phone number in %s", where);
	case TWOFA_PHONE_WRONG_COUNTRY:
		oc = res.region[0] != '\0' ? twofa_country_by_code(res.region) : NULL;
		if (oc != NULL)
			(void)snprintf(other, sizeof(other), "%s (+%s)", oc->name, res.calling_code);
		else if (res.region[0] != '\0')
			(void)snprintf(other, sizeof(other), "region %s (+%s)", res.region, res.calling_code);
		else
			(void)snprintf(other, sizeof(other), "calling code +%s", res.calling_code);
		return twofa_fail(err, TWOFA_EINVAL, "this number belongs to %s, not %s", other, where);
	default:
		return twofa_fail(err, TWOFA_EINVAL, "not a valid phone number in %s", where);
	}
}

/* Appends src[0, n) to out, keeping it terminated; false if it does not fit. */
static bool put(char *out, size_t outlen, size_t *pos, const char *src, size_t n)
{
	if (*pos + n >= outlen)
		return false;
	memcpy(out + *pos, src, n);
	*pos += n;
	out[*pos] = '\0';
	return true;
}

/* Appends nsn[from, to) with every digit but the last `keep` of nsn starred. */
static bool put_masked(char *out, size_t outlen, size_t *pos, const char *nsn, size_t len, size_t keep,
		       size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (!put(out, outlen, pos, i >= len - keep ? nsn + i : "*", 1))
			return false;
	return true;
}

void twofa_phone_mask(const char *e164, char *out, size_t outlen)
{
	size_t pos = 0, cc_len = 0, len, keep, head;
	const char *nsn;
	unsigned cc;
	bool ok = true;

	if (out == NULL || outlen == 0)
		return;
	out[0] = '\0';
	if (!twofa_e164_valid(e164)) {
		if (!put(out, outlen, &pos, "+***", 4))
			out[0] = '\0';
		return;
	}
	cc = extract_country_code(e164 + 1, strlen(e164 + 1), &cc_len);
	if (cc == 0)
		cc_len = 0; /* unknown code: mask it too */
	nsn = e164 + 1 + cc_len;
	len = strlen(nsn);
	keep = len / 2;
	keep = keep < 2 ? 2 : keep > 4 ? 4 : keep;
	if (keep > len)
		keep = len;

	ok = put(out, outlen, &pos, e164, 1 + cc_len) && (cc_len == 0 || put(out, outlen, &pos, " ", 1));
	if (ok && cc == 1 && len == 10) {
		/* North American plan: ***-***-0123 */
		ok = put_masked(out, outlen, &pos, nsn, len, keep, 0, 3) && put(out, outlen, &pos, "-", 1) &&
		     put_masked(out, outlen, &pos, nsn, len, keep, 3, 6) && put(out, outlen, &pos, "-", 1) &&
		     put_masked(out, outlen, &pos, nsn, len, keep, 6, 10);
	} else if (ok && len >= 8) {
		/* Groups of four, then the last six: **** **4567, *** **5678. A
		 * lone leftover star joins the group before it. */
		head = len - 6;
		for (size_t i = 0; ok && i < head;) {
			size_t g = head - i >= 4 ? 4 : head - i;
			if (head - i - g == 1)
				g++;
			ok = put_masked(out, outlen, &pos, nsn, len, keep, i, i + g) &&
			     put(out, outlen, &pos, " ", 1);
			i += g;
		}
		ok = ok && put_masked(out, outlen, &pos, nsn, len, keep, head, len);
	} else if (ok) {
		ok = put_masked(out, outlen, &pos, nsn, len, keep, 0, len);
	}
	if (!ok)
		out[0] = '\0';
}

const char *twofa_phone_region(const char *e164)
{
	ctx c = {.failed = false};
	const struct twofa_region *r;
	numbuf digits;
	parsed p;

	if (!twofa_e164_valid(e164))
		return NULL;
	nb_set(&digits, e164 + 1, strlen(e164 + 1));
	if (parse_digits(&c, NULL, &digits, true, &p) != TWOFA_PHONE_OK)
		return NULL;
	r = region_of(&c, p.cc, p.nsn.d, NULL);
	return c.failed || r == NULL ? NULL : r->code;
}
