/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/countries: the table's size, order, rows and lookups, and the
 * generated metadata behind lib/phone (every pattern compiles). */
#include "twofa_build.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "countries.h"
#include "countries_data.h"
#include "phone.h"
#include "tap.h"

/* ASCII letters for U+00C0..U+00FF; '?' where there is no letter. */
static const char latin1_fold[] = "aaaaaaaceeeeiiiidnooooo?ouuuuytsaaaaaaaceeeeiiiidnooooo?ouuuuyty";

/* Folds a UTF-8 name for comparison: case and accents away. Returns false
 * for a character it does not know, so a new name cannot slip past. */
static bool fold(const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		char c;

		if (*p < 0x80) {
			c = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		} else if (*p == 0xc3 && p[1] >= 0x80 && p[1] <= 0xbf) {
			c = latin1_fold[p[1] - 0x80];
			p++;
			if (c == '?')
				return false;
		} else {
			return false;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

static size_t index_of(const char *code)
{
	for (size_t i = 0; i < twofa_country_count(); i++)
		if (strcmp(twofa_country_at(i)->code, code) == 0)
			return i;
	return (size_t)-1;
}

static void test_rows(void)
{
	size_t n = twofa_country_count();
	bool codes_ok = true, names_ok = true, cc_ok = true, unique = true, folds = true, sorted = true;
	char prev[128] = "", cur[128];

	ok(n >= 240 && n <= 260, "%zu countries", n);
	ok(twofa_country_at(n) == NULL, "no country past the end");
	for (size_t i = 0; i < n; i++) {
		const twofa_country *c = twofa_country_at(i);
		const char *d;

		if (strlen(c->code) != 2 || c->code[0] < 'A' || c->code[0] > 'Z' || c->code[1] < 'A' ||
		    c->code[1] > 'Z')
			codes_ok = false;
		if (c->name == NULL || c->name[0] == '\0')
			names_ok = false;
		if (c->calling_code[0] < '1' || c->calling_code[0] > '9' || strlen(c->calling_code) > 3)
			cc_ok = false;
		for (d = c->calling_code; *d != '\0'; d++)
			if (*d < '0' || *d > '9')
				cc_ok = false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(twofa_country_at(j)->code, c->code) == 0)
				unique = false;
		if (!fold(c->name, cur, sizeof(cur))) {
			folds = false;
			diag("cannot fold %s", c->name);
			continue;
		}
		if (strcmp(prev, cur) > 0) {
			sorted = false;
			diag("%s sorts before %s", prev, cur);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	ok(codes_ok, "every code is two capital letters");
	ok(names_ok, "every row has a name");
	ok(cc_ok, "every calling code is 1 to 3 digits");
	ok(unique, "no code twice");
	ok(folds, "every name folds to ASCII");
	ok(sorted, "sorted by name, accents and case folded");
}

static void test_known(void)
{
	static const struct {
		const char *code, *name, *cc;
	} known[] = {
		{"GB", "United Kingdom", "44"},
		{"US", "United States", "1"},
		{"CA", "Canada", "1"},
		{"AX", "\xc3\x85land Islands", "358"},
		{"VA", "Holy See (Vatican City State)", "39"},
		{"KZ", "Kazakhstan", "7"},
		{"RU", "Russian Federation", "7"},
		{"FR", "France", "33"},
		{"JE", "Jersey", "44"},
		{"CI", "C\xc3\xb4te d'Ivoire", "225"},
		{"CW",
		 "Cura\xc3\xa7"
		 "ao",
		 "599"},
		{"RE", "R\xc3\xa9union", "262"},
		{"BO", "Bolivia", "591"}, /* common_name */
		{"KR", "South Korea", "82"},
		{"TW", "Taiwan", "886"},
		{"IT", "Italy", "39"},
		{"SM", "San Marino", "378"},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const twofa_country *c = twofa_country_by_code(known[i].code);
		ok(c != NULL && strcmp(c->code, known[i].code) == 0 && strcmp(c->name, known[i].name) == 0 &&
			   strcmp(c->calling_code, known[i].cc) == 0,
		   "%s is %s, +%s", known[i].code, known[i].name, known[i].cc);
	}
	/* The Vatican's own +379 was assigned but is not in use. */
	ok(strcmp(twofa_country_by_code("VA")->calling_code, "379") != 0, "VA is +39, not +379");

	/* Accented names sort under their letter. */
	ok(index_of("AF") < index_of("AX") && index_of("AX") < index_of("AL"),
	   "Åland Islands between Afghanistan and Albania");
	ok(index_of("CK") < index_of("CI") && index_of("CI") < index_of("HR"),
	   "Côte d'Ivoire between Cook Islands and Croatia");
	ok(index_of("CU") < index_of("CW") && index_of("CW") < index_of("CY"),
	   "Curaçao between Cuba and Cyprus");
	ok(index_of("QA") < index_of("RE") && index_of("RE") < index_of("RO"),
	   "Réunion between Qatar and Romania");
	ok(index_of("BL") < index_of("SH"), "Saint Barthélemy before Saint Helena");
	ok(strcmp(twofa_country_at(0)->code, "AF") == 0, "Afghanistan first");
}

static void test_lookup(void)
{
	static const char *const unknown[] = {"",   "G",  "GBR", "XX", "ZZ",    "AQ",
					      "BV", "UM", "1A",  "G1", "G\xc3", "gb "};
	static const char *const outside_iso[][3] = {{"XK", "Kosovo", "383"},
						     {"AC", "Ascension Island", "247"},
						     {"TA", "Tristan da Cunha", "290"}};

	ok(twofa_country_by_code("gb") == twofa_country_by_code("GB") && twofa_country_by_code("gB") != NULL,
	   "lookup ignores letter case");
	ok(twofa_country_by_code("us") == twofa_country_at(index_of("US")), "lookup returns the table row");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		ok(twofa_country_by_code(unknown[i]) == NULL, "no country '%s'", unknown[i]);
	/* Outside ISO 3166-1, but libphonenumber and Twilio serve them (issue 15). */
	for (size_t i = 0; i < sizeof(outside_iso) / sizeof(outside_iso[0]); i++) {
		const twofa_country *c = twofa_country_by_code(outside_iso[i][0]);
		ok(c != NULL && strcmp(c->name, outside_iso[i][1]) == 0 &&
			   strcmp(c->calling_code, outside_iso[i][2]) == 0,
		   "%s is %s (+%s)", outside_iso[i][0], outside_iso[i][1], outside_iso[i][2]);
	}
	ok(twofa_country_by_code(NULL) == NULL, "no country NULL");
}

/* The generated metadata: consistent, and every pattern compiles. */
static void test_metadata(void)
{
	size_t ndescs = 0, bad = 0, min_digits = 99;
	bool cc_sorted = true, regions_ok = true, table_ok = true;

	for (size_t i = 0; i < twofa_region_count; i++) {
		const struct twofa_region *r = &twofa_regions[i];
		size_t end = (size_t)r->desc + r->ndesc;
		unsigned cc_digits = r->cc >= 100 ? 3 : r->cc >= 10 ? 2 : 1;

		if (end > ndescs)
			ndescs = end;
		if (r->ndesc == 0 || twofa_numdescs[r->desc].type != TWOFA_NT_GENERAL)
			regions_ok = false;
		/* The shortest valid number of any type, calling code included. */
		for (unsigned d = 1; d < r->ndesc; d++) {
			uint32_t lengths = twofa_numdescs[r->desc + d].lengths;
			for (unsigned l = 1; l < 32; l++)
				if (lengths & (UINT32_C(1) << l)) {
					if (cc_digits + l < min_digits)
						min_digits = cc_digits + l;
					break;
				}
		}
	}
	for (size_t i = 0; i < ndescs; i++) {
		regex_t re;
		if (regcomp(&re, twofa_numdescs[i].ere, REG_EXTENDED | REG_NOSUB) != 0) {
			bad++;
			continue;
		}
		regfree(&re);
	}
	for (size_t i = 1; i < twofa_calling_code_count; i++)
		if (twofa_calling_codes[i - 1].cc >= twofa_calling_codes[i].cc)
			cc_sorted = false;
	for (size_t i = 0; i < twofa_calling_code_count; i++) {
		const struct twofa_calling_code *c = &twofa_calling_codes[i];
		for (unsigned j = 0; j < c->nregions; j++)
			if (twofa_regions[c->first + j].cc != c->cc)
				regions_ok = false;
	}
	for (size_t i = 0; i < twofa_countries_count; i++) {
		const struct twofa_region *r = &twofa_regions[twofa_country_regions[i]];
		char cc[8];
		(void)snprintf(cc, sizeof(cc), "%u", r->cc);
		if (strcmp(r->code, twofa_countries[i].code) != 0 ||
		    strcmp(cc, twofa_countries[i].calling_code) != 0)
			table_ok = false;
	}
	ok(twofa_region_count >= twofa_countries_count, "%zu regions with metadata", twofa_region_count);
	ok(bad == 0, "all %zu national number patterns compile as POSIX EREs (%zu do not)", ndescs, bad);
	ok(cc_sorted, "%zu calling codes, ascending", twofa_calling_code_count);
	ok(regions_ok, "each region: general description first, under its calling code");
	ok(table_ok, "each country row points at its own metadata");
	ok(min_digits >= TWOFA_E164_MIN_DIGITS, "no valid number is shorter than %d digits (shortest %zu)",
	   TWOFA_E164_MIN_DIGITS, min_digits);

	/* The prefix patterns are read by lib/phone's own matcher: run each
	 * country's international and national prefix once. */
	size_t internal = 0;
	for (size_t i = 0; i < twofa_countries_count; i++) {
		static const char *const inputs[] = {"00 1 234 567 890", "011 44 1234 5678", "0 123 456 789",
						     "8 123 456 7890",   "1 234 567 8901",   "123456"};
		for (size_t j = 0; j < sizeof(inputs) / sizeof(inputs[0]); j++) {
			twofa_phone_result res;
			if (twofa_phone_parse(inputs[j], twofa_countries[i].code, &res) ==
			    TWOFA_PHONE_INTERNAL)
				internal++;
		}
	}
	ok(internal == 0, "every country's prefix patterns run (%zu internal errors)", internal);
	internal = 0;
	for (size_t i = 0; i < twofa_calling_code_count; i++) {
		char num[TWOFA_E164_SIZE];
		(void)snprintf(num, sizeof(num), "+%u0123456789", twofa_calling_codes[i].cc);
		num[13] = '\0';
		(void)twofa_phone_region(num); /* NULL or a region; must not fail */
		twofa_phone_result res;
		if (twofa_phone_parse(num, "GB", &res) == TWOFA_PHONE_INTERNAL)
			internal++;
	}
	ok(internal == 0, "every calling code's main region parses (%zu internal errors)", internal);
}

int main(void)
{
	test_rows();
	test_known();
	test_lookup();
	test_metadata();
	return tap_done();
}
