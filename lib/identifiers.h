/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The syntax of the identifiers twofa stores and sends, each rule written
 * once: E.164 phone numbers and Twilio SIDs. Syntax only: whether a number
 * is assigned is lib/phone's question, whether a SID exists is Twilio's. */
#ifndef TWOFA_IDENTIFIERS_H
#define TWOFA_IDENTIFIERS_H

#include <stdbool.h>

/* ITU-T E.164 allows at most 15 digits, the calling code included. */
#define TWOFA_E164_MAX_DIGITS 15
/* The shortest numbers libphonenumber counts as valid have 6 digits with
 * the calling code (+43 1110 in Vienna, German pagers +49 164x, Iran's
 * +98 9601); Niue's and Tristan da Cunha's have 7 (+683 7012, +290 8999).
 * tests/unit/test_countries.c holds the metadata to it. */
#define TWOFA_E164_MIN_DIGITS 6
/* '+', the digits, NUL. */
#define TWOFA_E164_SIZE (TWOFA_E164_MAX_DIGITS + 2)

/* A Twilio SID: two upper-case letters naming the kind (AC account, SK API
 * key, VA Verify service, VE verification), then 32 hex digits. */
#define TWOFA_SID_LEN 34

/* True if s is '+', a digit 1-9, then digits: TWOFA_E164_MIN_DIGITS to
 * TWOFA_E164_MAX_DIGITS digits in all. */
bool twofa_e164_valid(const char *s);

/* True if s is a SID of the kind prefix ("AC", "SK", "VA", "VE"). */
bool twofa_sid_valid(const char *s, const char *prefix);

/* A name twofa gives Twilio to keep (a Service Rate Limit's unique name, a
 * member's rate-limit key): 1..64 of [A-Za-z0-9_.-]. Such names are never
 * PII (Twilio asks for none) and need no escaping in JSON or a form. */
#define TWOFA_TWILIO_NAME_MAX 64
bool twofa_twilio_name_valid(const char *s);

#endif
