/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The country table; the rows themselves are generated into countries_data.c
 * from data/countries.tsv. */
#include "twofa_build.h"

#include <stdbool.h>

#include "countries.h"
#include "countries_data.h"

size_t twofa_country_count(void)
{
	return twofa_countries_count;
}

const twofa_country *twofa_country_at(size_t i)
{
	return i < twofa_countries_count ? &twofa_countries[i] : NULL;
}

/* ASCII only: the result must not depend on the locale (Turkish 'i'). */
static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static bool ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

const twofa_country *twofa_country_by_code(const char *alpha2)
{
	char a, b;

	if (alpha2 == NULL || !ascii_letter(alpha2[0]) || !ascii_letter(alpha2[1]) || alpha2[2] != '\0')
		return NULL;
	a = ascii_upper(alpha2[0]);
	b = ascii_upper(alpha2[1]);
	for (size_t i = 0; i < twofa_countries_count; i++)
		if (twofa_countries[i].code[0] == a && twofa_countries[i].code[1] == b)
			return &twofa_countries[i];
	return NULL;
}
