/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Phone numbers: what a person typed plus an ISO 3166-1 country -> E.164, or
 * a precise reason why not; masking for display.
 *
 * The reference for what is valid is libphonenumber (the metadata in
 * data/phonemeta.tsv): a number is accepted exactly when libphonenumber's
 * parse() + is_valid_number_for_region() accept it, for input made of ASCII
 * digits, spaces, '-', '.', '(', ')', '/' and one leading '+'. On top of
 * that, twofa is stricter in three ways: letters (vanity numbers, "ext")
 * and other characters are refused, input is capped at
 * TWOFA_PHONE_INPUT_MAX bytes, and the E.164 result has at most 15 digits
 * (ITU-T E.164), which some long German and Japanese numbers exceed. And it
 * reads one thing more: 00 as the international prefix in every country,
 * not only where it is the country's own (011 in the US, 810 in Russia),
 * when the digits read as a national number are not valid.
 * tests/unit/phone_oracle.py checks all of this against python3-phonenumbers. */
#ifndef TWOFA_PHONE_H
#define TWOFA_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "identifiers.h" /* TWOFA_E164_SIZE and the E.164 syntax */

/* Longest input accepted, in bytes. */
#define TWOFA_PHONE_INPUT_MAX 64
/* Enough for any masked number ("+1 ***-***-0123"). */
#define TWOFA_PHONE_MASK_SIZE 32

typedef enum twofa_phone_reason {
	TWOFA_PHONE_OK = 0,
	TWOFA_PHONE_EMPTY,            /* no digits at all */
	TWOFA_PHONE_INPUT_TOO_LONG,   /* more than TWOFA_PHONE_INPUT_MAX bytes */
	TWOFA_PHONE_LETTERS,          /* a letter: vanity numbers and extensions are refused */
	TWOFA_PHONE_BAD_CHAR,         /* a character other than digits, space, + - . ( ) / */
	TWOFA_PHONE_UNKNOWN_COUNTRY,  /* not an alpha-2 code of the country table */
	TWOFA_PHONE_BAD_CALLING_CODE, /* after '+' or an international prefix: no calling code */
	TWOFA_PHONE_TOO_SHORT,
	TWOFA_PHONE_TOO_LONG,
	TWOFA_PHONE_WRONG_LENGTH,  /* between the shortest and longest, but no number has it */
	TWOFA_PHONE_WRONG_COUNTRY, /* belongs to another calling code or region */
	TWOFA_PHONE_INVALID,       /* not in any range the country assigns */
	TWOFA_PHONE_INTERNAL,      /* out of memory or a bad pattern: never the input's fault */
} twofa_phone_reason;

typedef struct twofa_phone_result {
	twofa_phone_reason reason;
	char e164[TWOFA_E164_SIZE]; /* OK: the number */
	char calling_code[4];       /* WRONG_COUNTRY: the number's calling code, digits */
	char region[3];             /* WRONG_COUNTRY: its region, or "" when none fits */
} twofa_phone_result;

/* Parses input as a number of country_alpha2 (any letter case) and fills
 * res. Returns res->reason. Thread-safe; keeps no state between calls. */
twofa_phone_reason twofa_phone_parse(const char *input, const char *country_alpha2, twofa_phone_result *res);

/* A stable short name for a reason: "ok", "empty", "input-too-long",
 * "letters", "bad-char", "unknown-country", "bad-calling-code", "too-short",
 * "too-long", "wrong-length", "wrong-country", "invalid", "internal". */
const char *twofa_phone_reason_name(twofa_phone_reason reason);

/* The same as twofa_phone_parse, for callers that want one line: on success
 * out holds the E.164 number; otherwise err says why (TWOFA_EINVAL for bad
 * input, naming the country; TWOFA_ESYS for an internal error) and out is "". */
twofa_status twofa_phone_normalize(const char *input, const char *country_alpha2, char out[TWOFA_E164_SIZE],
				   twofa_error *err);

/* Writes e164 masked for display into out: the calling code and the last 2
 * to 4 digits stay, every other digit becomes '*', grouped for reading:
 * "+1 ***-***-0123", "+44 **** **4567", "+33 *** **5678". The last 4
 * digits show from 8 national digits up, 3 for 6 or 7, 2 below; never more.
 * Input that is not E.164 gives "+***". If out is too small (see
 * TWOFA_PHONE_MASK_SIZE) it gets "" (when outlen > 0). */
void twofa_phone_mask(const char *e164, char *out, size_t outlen);

/* The region ("GB", "JE", "CA"...) whose valid number e164 is, or NULL.
 * The region may be one outside the country table (XK, AC, TA). */
const char *twofa_phone_region(const char *e164);

#endif
