/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/phone_prefix on its own: Perl's leftmost-first choice where POSIX
 * would take the longest match, capture groups, '$', the quantifiers, the
 * refused syntax and the step budget. The answers are Python's re.match on
 * the same pattern and digits. */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>

#include "phone_prefix.h"
#include "tap.h"

/* Group g as "start,end", "-" when unset, "?" when the pattern has fewer. */
static const char *group(const twofa_phone_prefix_result *r, int g, char buf[32])
{
	if (g > r->ngroups)
		return "?";
	if (r->groups[2 * g] < 0)
		return "-";
	(void)snprintf(buf, 32, "%d,%d", r->groups[2 * g], r->groups[2 * g + 1]);
	return buf;
}

/* The match of pattern on digits written as "END g1 g2 ...", or "none"/"error". */
static void describe(const char *pattern, const char *digits, char *out, size_t outlen)
{
	twofa_phone_prefix_result r;
	int rc;
	size_t n;

	memset(&r, 0x5a, sizeof(r));
	rc = twofa_phone_prefix_match(pattern, digits, strlen(digits), &r);
	if (rc != 1) {
		(void)snprintf(out, outlen, "%s", rc == 0 ? "none" : rc < 0 ? "error" : "?");
		return;
	}
	n = (size_t)snprintf(out, outlen, "%zu", r.end);
	for (int g = 1; g <= r.ngroups && n < outlen; g++) {
		char buf[32];
		n += (size_t)snprintf(out + n, outlen - n, " %s", group(&r, g, buf));
	}
}

static void test_matches(void)
{
	static const struct {
		const char *pattern, *digits, *want, *what;
	} cases[] = {
		{"00", "0044", "2", "a literal prefix"},
		{"00", "0144", "none", "no match"},
		{"00", "0", "none", "a subject shorter than the pattern"},
		{"", "123", "0", "the empty pattern matches nothing of the digits"},
		{"0|01", "01", "1", "alternation: the first that matches, not the longest"},
		{"01|0", "01", "2", "... in pattern order"},
		{"0|([0-24-8][0-9]{5})$", "012345", "1 -",
		 "Jersey's trunk prefix: Perl reads '0' (POSIX: six digits)"},
		{"0|([0-24-8][0-9]{5})$", "123456", "6 0,6", "Jersey's local number: group 1"},
		{"0|([0-24-8][0-9]{5})$", "1234567", "none", "'$' is the end of the digits"},
		{"0|([0-24-8][0-9]{5})$", "323456", "none", "a class with two ranges leaves out 3"},
		{"0{1,3}", "00000", "3", "{n,m} takes at most m"},
		{"0{2,}", "00000", "5", "{n,} takes all it can"},
		{"0{2}1", "0001", "none", "{n} is exactly n"},
		{"0*01", "0001", "4", "greedy, then gives back"},
		{"0+", "1", "none", "+ needs one"},
		{"(0)?1", "1", "1 -", "an optional group left out is unset"},
		{"(0)?1", "01", "2 0,1", "... and set when taken"},
		{"((1)(2))3", "1234", "3 0,2 0,1 1,2", "groups numbered by their opening parenthesis"},
		{"(?:([0-9]))+", "123", "3 2,3", "a repeated group keeps its last iteration"},
		{"(?:|0)1", "01", "2", "an empty alternative first, then backtracking into the next"},
		{"(?:0?)*1", "1", "1", "a group that can match empty does not loop"},
		{"(?:0?)*1", "0001", "4", "... and still repeats"},
		{"8(?:10)?", "81044", "3", "Russia's 8, then 10 when it follows"},
		{"001[14-689]|14(?:1[14]|34|4[17]|[56]6|7[47]|88)0011", "14880011", "8",
		 "Australia's international prefixes"},
		{"001[14-689]|14(?:1[14]|34|4[17]|[56]6|7[47]|88)0011", "0017", "none",
		 "... 7 is not in [14-689]"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[128];

		describe(cases[i].pattern, cases[i].digits, got, sizeof(got));
		ok(strcmp(got, cases[i].want) == 0, "%s: \"%s\" on %s -> %s (got %s)", cases[i].what,
		   cases[i].pattern, cases[i].digits, cases[i].want, got);
	}
}

static void test_refused(void)
{
	static const struct {
		const char *pattern, *what;
	} bad[] = {
		{"\\d", "\\d (the generator writes [0-9])"},
		{"(?=0)", "a lookahead"},
		{"(?P<a>0)", "a named group"},
		{"[a]", "a letter in a class"},
		{"[^0]", "a negated class"},
		{"[9-0]", "a backwards range"},
		{"[0", "an unclosed class"},
		{"(0", "an unclosed group"},
		{"0)", "a parenthesis never opened"},
		{"0{3,1}", "{n,m} with m < n"},
		{"0{}", "an empty count"},
		{"0{256}", "a count over 255"},
		{"0*?", "a lazy quantifier"},
		{"0**", "stacked quantifiers"},
		{"a", "a letter"},
		{".", "a dot"},
		{"((((((((((0))))))))))", "ten capturing groups"},
	};
	twofa_phone_prefix_result r;
	char big[2048];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(twofa_phone_prefix_match(bad[i].pattern, "0000", 4, &r) == -1, "refused: %s", bad[i].what);
	ok(twofa_phone_prefix_match("(((((((((0)))))))))", "0", 1, &r) == 1 && r.ngroups == 9,
	   "nine capturing groups are fine");
	ok(twofa_phone_prefix_match("0", "0a", 2, &r) == -1, "a subject with a non-digit is refused");
	ok(twofa_phone_prefix_match(NULL, "0", 1, &r) == -1 &&
		   twofa_phone_prefix_match("0", NULL, 0, &r) == -1 &&
		   twofa_phone_prefix_match("0", "0", 1, NULL) == -1,
	   "NULL arguments are refused");
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(twofa_phone_prefix_match(big, big, strlen(big), &r) == -1, "a pattern of 2047 nodes is too big");
	ok(twofa_phone_prefix_match("(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:(?:"
				    "(?:(?:(?:(?:(?:(?:(?:(?:(?:0)))))))))))))))))))))))))))))))))",
				    "0", 1, &r) == -1,
	   "groups nested deeper than 32 are refused");
}

static void test_budget(void)
{
	/* Exponential backtracking: every split of 40 zeros into 0s and 00s
	 * is tried before the 1 fails. The budget ends it. */
	char zeros[41];
	twofa_phone_prefix_result r;

	memset(zeros, '0', 40);
	zeros[40] = '\0';
	ok(twofa_phone_prefix_match("(?:0|00)*(?:0|00)*(?:0|00)*1", zeros, 40, &r) == -1,
	   "a pattern that backtracks without end runs out of steps (an error, not a hang)");
	ok(twofa_phone_prefix_match("(?:0|00)*1", "00001", 5, &r) == 1 && r.end == 5,
	   "the same shape on a short subject still matches");
}

int main(void)
{
	test_matches();
	test_refused();
	test_budget();
	return tap_done();
}
