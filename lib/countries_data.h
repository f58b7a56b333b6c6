/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to libtwofa: the tables tools/gen-countries-c.awk generates into
 * countries_data.c from data/phonemeta.tsv and data/countries.tsv, read by
 * countries.c and phone.c. */
#ifndef TWOFA_COUNTRIES_DATA_H
#define TWOFA_COUNTRIES_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "countries.h"

/* libphonenumber's number descriptions. A number is valid for a region when
 * it matches the general description and at least one of the others. */
enum twofa_numtype {
	TWOFA_NT_GENERAL = 0,
	TWOFA_NT_FIXED_LINE,
	TWOFA_NT_MOBILE,
	TWOFA_NT_TOLL_FREE,
	TWOFA_NT_PREMIUM_RATE,
	TWOFA_NT_SHARED_COST,
	TWOFA_NT_VOIP,
	TWOFA_NT_PERSONAL_NUMBER,
	TWOFA_NT_PAGER,
	TWOFA_NT_UAN,
	TWOFA_NT_VOICEMAIL,
};

struct twofa_numdesc {
	enum twofa_numtype type;
	uint32_t lengths; /* bit n: n digits is a possible length */
	uint32_t local;   /* bit n: n digits is a local-only length */
	const char *ere;  /* anchored POSIX ERE of the national significant number */
};

struct twofa_region {
	char code[3];         /* "GB"; also regions outside ISO 3166-1 (XK, AC, TA) */
	unsigned short cc;    /* calling code */
	const char *idd;      /* international prefix pattern (Perl rules), or NULL */
	const char *npp;      /* national prefix for parsing (Perl rules), or NULL */
	const char *npt;      /* national prefix transform rule ("9$1"), or NULL */
	unsigned short desc;  /* first entry in twofa_numdescs: the general one */
	unsigned short ndesc; /* number of entries */
};

/* Every calling code libphonenumber knows, ascending; its regions are
 * twofa_regions[first .. first + nregions), the main one first. Non-geographic
 * codes (+800, +882...) have none. */
struct twofa_calling_code {
	unsigned short cc;
	unsigned short first;
	unsigned short nregions;
};

extern const struct twofa_numdesc twofa_numdescs[];
extern const struct twofa_region twofa_regions[];
extern const size_t twofa_region_count;
extern const struct twofa_calling_code twofa_calling_codes[];
extern const size_t twofa_calling_code_count;
/* The country table in name order, and each row's index in twofa_regions. */
extern const twofa_country twofa_countries[];
extern const unsigned short twofa_country_regions[];
extern const size_t twofa_countries_count;

#endif
