/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libphonenumber's prefix patterns (international prefix, national prefix
 * for parsing) matched at the start of a number's digits with Perl's
 * leftmost-first rules, as Python's re.match does, with their capture
 * groups. POSIX regexec takes the longest match instead, which differs:
 * Jersey's "0|([0-24-8]\d{5})$" on "012345" is "0" for Perl, all six digits
 * for POSIX.
 *
 * The syntax is the subset tools/gen-countries.py lets through: digits,
 * classes of digits and ranges ("[0-24-8]"), capturing and "(?:" groups,
 * '|', the greedy quantifiers ? * + {n} {n,} {n,m}, and '$' for the end of
 * the digits. Anything else (lazy quantifiers, "\d", letters) is an error,
 * never a guess. For lib/phone; not part of any interface beyond it. */
#ifndef TWOFA_PHONE_PREFIX_H
#define TWOFA_PHONE_PREFIX_H

#include <stddef.h>

#define TWOFA_PHONE_PREFIX_MAX_GROUPS 9

typedef struct twofa_phone_prefix_result {
	size_t end;  /* the match is digits[0, end) */
	int ngroups; /* capturing groups in the pattern */
	/* Group i (0: the whole match) is digits[groups[2i], groups[2i+1]);
	 * both -1 when the group took no part in the match. */
	int groups[2 * (TWOFA_PHONE_PREFIX_MAX_GROUPS + 1)];
} twofa_phone_prefix_result;

/* Matches pattern at the start of digits[0, len) (ASCII digits only).
 * Returns 1 and fills res on a match, 0 if there is none, -1 if the pattern
 * is outside the subset or too big, the subject has a non-digit, or the
 * match runs out of its step budget (a pattern built to backtrack forever).
 * Thread-safe; keeps no state. */
int twofa_phone_prefix_match(const char *pattern, const char *digits, size_t len,
			     twofa_phone_prefix_result *res);

#endif
