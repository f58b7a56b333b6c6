/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The country table: every ISO 3166-1 region with an international calling
 * code, sorted by name as a person reads it (accents folded: Åland Islands
 * under A). Built from data/countries.tsv; see its header for the sources. */
#ifndef TWOFA_COUNTRIES_H
#define TWOFA_COUNTRIES_H

#include <stddef.h>

typedef struct twofa_country {
	const char *code;         /* ISO 3166-1 alpha-2, upper case: "GB" */
	const char *name;         /* English short name, UTF-8: "United Kingdom" */
	const char *calling_code; /* digits without '+': "44" */
} twofa_country;

/* Number of countries in the table. */
size_t twofa_country_count(void);

/* The i-th country in name order; NULL if i >= twofa_country_count(). */
const twofa_country *twofa_country_at(size_t i);

/* The country with this alpha-2 code, any letter case; NULL if unknown or
 * not exactly two ASCII letters. */
const twofa_country *twofa_country_by_code(const char *alpha2);

#endif
