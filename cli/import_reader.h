/* SPDX-License-Identifier: GPL-3.0-or-later */
/* import's input reader: JSON lines of member records, each decoded and
 * checked, bounded in line length and count, sorted by user with no user
 * twice. Nothing here touches the store; cmd_transfer.c writes what it
 * read. tests/fuzz/fuzz_import.c links it on its own. */
#ifndef TWOFA_CLI_IMPORT_READER_H
#define TWOFA_CLI_IMPORT_READER_H

#include <stddef.h>
#include <stdio.h>

#include "member.h" /* TWOFA_MEMBER_JSON_MAX */

/* A line holds one member record plus the state fields export adds. */
#define IMPORT_LINE_MAX (TWOFA_MEMBER_JSON_MAX + 1024)
#define IMPORT_MAX_RECORDS 2000000UL

typedef struct cli_import_record {
	char *user;
	char *json;     /* canonical record (holds the hash): wiped on free */
	char *previous; /* with --replace: the value it overwrote, for a rollback */
	size_t previous_len;
	unsigned long line;
} cli_import_record;

typedef struct cli_import_set {
	cli_import_record *recs;
	size_t count, cap;
} cli_import_set;

/* Reads and checks the whole input, name being what messages call it.
 * 0, or the exit code after cli_fail said why (set then holds nothing
 * useful; free it all the same). */
int cli_import_read(const char *name, FILE *in, cli_import_set *set);

/* Frees every record, wiping the JSON and previous values (they hold
 * password hashes), and empties set. */
void cli_import_set_free(cli_import_set *set);

#endif
