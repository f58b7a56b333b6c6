/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target holding lib/json_read to jansson, differentially. Built
 * and run by scripts/fuzz (rules in tests/fuzz/fuzz.am). For every input:
 *   - what twofa_json_read reads, json_loadb(JSON_REJECT_DUPLICATES) reads
 *     too, to an equal value (json_equal);
 *   - what jansson reads and twofa_json_read refuses is one of the three
 *     documented exclusions (lib/json_read.h), and the input or jansson's
 *     value shows it: a real in the value, nesting deeper than
 *     TWOFA_JSON_READ_DEPTH_MAX, or a NUL byte after a number or a literal
 *     that jansson skipped (without it, the reader reads what jansson did);
 *   - a refusal gives a reason and a position inside the input. */
#include "twofa_build.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_real(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_is_real(v))
		return true;
	json_object_foreach(v, key, item) {
		if (has_real(item))
			return true;
	}
	json_array_foreach(v, i, item) {
		if (has_real(item))
			return true;
	}
	return false;
}

/* Objects and arrays inside each other, v's own level counted. */
static size_t depth(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i, d = 0, inner;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	json_object_foreach(v, key, item) {
		if ((inner = depth(item)) > d)
			d = inner;
	}
	json_array_foreach(v, i, item) {
		if ((inner = depth(item)) > d)
			d = inner;
	}
	return d + 1;
}

/* jansson's lexer drops one NUL byte straight after a number or a literal. */
static bool jansson_skips(const uint8_t *data, size_t size, size_t at)
{
	return at > 0 && at < size && data[at] == '\0' && isalnum(data[at - 1]);
}

/* The reader refused what jansson read: as documented? */
static bool documented(const uint8_t *data, size_t size, twofa_json_read_error err, json_t *theirs)
{
	uint8_t *without;
	json_t *again;
	bool ok;

	if (strcmp(err.reason, "out of memory") == 0)
		return true;
	if (strcmp(err.reason, TWOFA_JSON_READ_REAL) == 0)
		return has_real(theirs);
	if (strcmp(err.reason, TWOFA_JSON_READ_DEEP) == 0)
		return depth(theirs) > TWOFA_JSON_READ_DEPTH_MAX;
	if (strcmp(err.reason, TWOFA_JSON_READ_NUL) != 0 || !jansson_skips(data, size, err.position))
		return false;
	/* Without the byte jansson skipped, the same value (or another exclusion). */
	if ((without = malloc(size - 1)) == NULL)
		return true;
	memcpy(without, data, err.position);
	memcpy(without + err.position, data + err.position + 1, size - err.position - 1);
	again = twofa_json_read((const char *)without, size - 1, &err);
	ok = again != NULL ? json_equal(again, theirs) : documented(without, size - 1, err, theirs);
	json_decref(again);
	free(without);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	twofa_json_read_error err = {.position = (size_t)-1, .reason = NULL};
	json_t *mine = twofa_json_read((const char *)data, size, &err);
	json_t *theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (mine != NULL) {
		if (theirs == NULL || !json_equal(mine, theirs))
			abort(); /* read what jansson refuses, or read it otherwise */
	} else {
		if (err.reason == NULL || err.position > size)
			abort();
		if (theirs != NULL && !documented(data, size, err, theirs))
			abort(); /* refused what jansson reads, and not as documented */
	}
	json_decref(mine);
	json_decref(theirs);
	return 0;
}
