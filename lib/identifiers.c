/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>

#include "identifiers.h"

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

bool twofa_e164_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (s++; *s != '\0'; s++) {
		if (!is_digit(*s) || ++n > TWOFA_E164_MAX_DIGITS)
			return false;
	}
	return n >= TWOFA_E164_MIN_DIGITS;
}

bool twofa_sid_valid(const char *s, const char *prefix)
{
	if (s == NULL || prefix == NULL || strlen(prefix) != 2 ||
	    strnlen(s, TWOFA_SID_LEN + 1) != TWOFA_SID_LEN || s[0] != prefix[0] || s[1] != prefix[1])
		return false;
	for (size_t i = 2; i < TWOFA_SID_LEN; i++) {
		if (!is_hex(s[i]))
			return false;
	}
	return true;
}

bool twofa_twilio_name_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= TWOFA_TWILIO_NAME_MAX ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n > 0;
}
