/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared pieces of twofa-enroll: the command table, errors, configuration,
 * terminal input (prompt.c), output helpers (output.c) and the code flow
 * shared by add, phone and test (flow.c). */
#ifndef TWOFA_CLI_H
#define TWOFA_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "error.h"
#include "member.h"
#include "member_store.h"
#include "state.h"
#include "verify.h"

/* Exit status when the run was interrupted (SIGINT, SIGTERM, SIGHUP). */
#define CLI_EXIT_INTERRUPTED 1

typedef struct cli_context {
	const char *config_path; /* --config, or the default */
	bool color;              /* stdout is a terminal and NO_COLOR is unset */
	bool color_err;          /* the same for stderr */
	bool config_loaded;
	twofa_config config;         /* valid once cli_load_config succeeded */
	twofa_member_store *members; /* opened by cli_members, closed with the config */
} cli_context;

typedef struct cli_command {
	const char *name;
	int (*run)(cli_context *ctx, int argc, char **argv); /* argv[0] is the command */
	const char *synopsis;
	const char *summary;
	bool needs_root;
	const char *help; /* options and notes for COMMAND --help, or NULL */
} cli_command;

/* main.c ------------------------------------------------------------------ */

/* Prints "twofa-enroll: <message>" on stderr and returns exit_code. */
int cli_fail(int exit_code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints err's message and returns the exit code its status maps to. */
int cli_fail_status(const twofa_error *err);

/* Prints "twofa-enroll: warning: <message>" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "twofa-enroll: <message>" on stderr: progress and results that are
 * not errors. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the usage of one command on stream. */
void cli_usage(FILE *stream, const cli_command *cmd);

/* Prints "twofa-enroll: usage: ..." for the named command and returns EX_USAGE. */
int cli_usage_error(const char *command, const char *why);

/* True if argv[i] asks for help. */
bool cli_wants_help(int argc, char **argv);

/* Loads ctx->config_path once. Returns 0, or the exit code after printing
 * why: 77 for an owner/mode/permission problem, 78 for anything else. */
int cli_load_config(cli_context *ctx);

/* As cli_load_config, saying nothing: false with why in *err. */
bool cli_try_config(cli_context *ctx, twofa_error *err);

/* Exit code for a Verify outcome that is not the one the caller wanted:
 * outage and rate limit 69, credentials/service/channel 78, data 65. */
int cli_outcome_exit(twofa_verify_outcome o);

/* Validates a login name given on the command line (exit 65 with a message
 * when it is not one). Returns 0 when it is fine. */
int cli_check_user_arg(const char *user);

/* prompt.c ---------------------------------------------------------------- */

/* Set by the SIGINT/SIGTERM/SIGHUP handler. */
extern volatile sig_atomic_t cli_interrupted;

/* Installs the handler above without SA_RESTART, so a blocked read returns. */
void cli_signals_install(void);

/* True if stdin is a terminal: prompts then go to /dev/tty. */
bool cli_interactive(void);

typedef enum cli_read_result {
	CLI_READ_OK = 0,
	CLI_READ_EOF,         /* end of input before any byte of a line */
	CLI_READ_TOO_LONG,    /* the line did not fit (it was read and wiped) */
	CLI_READ_INTERRUPTED, /* a signal arrived */
	CLI_READ_ERROR,       /* errno says why */
} cli_read_result;

/* Reads one line: at a terminal from /dev/tty after printing prompt (echo
 * off when secret); otherwise from stdin, unbuffered so nothing of later
 * lines is held in a stdio buffer, without a prompt. The newline (and a CR
 * before it) is removed. buf is wiped on every result but OK. */
cli_read_result cli_read_line(const char *prompt, bool secret, char *buf, size_t size);

/* Trims spaces and tabs around s in place; returns the first kept byte. */
char *cli_trim(char *s);

/* Asks a yes/no question at the terminal; true only for y or yes. */
bool cli_confirm(const char *question);

/* Prints a line on the terminal (only when interactive); for progress. */
void cli_tty_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a new password: twice at a terminal, or once with once (the
 * --password-stdin form); when stdin is not a terminal the lines come from
 * stdin in the same order. Hashes it with the configured strength into
 * hash and wipes the plain text. Returns 0 or an exit code (after a message). */
int cli_read_new_password(const char *user, bool once, twofa_strength strength, char *hash, size_t hash_size);

/* output.c ---------------------------------------------------------------- */

typedef enum cli_color_id { CLI_RESET, CLI_BOLD, CLI_RED, CLI_GREEN, CLI_YELLOW, CLI_DIM } cli_color_id;

/* The escape sequence for c when on is true, else "". */
const char *cli_color(bool on, cli_color_id c);

/* "2026-11-25T17:52:19Z", or "-" for 0. buf has TWOFA_ISO8601_LEN bytes. */
const char *cli_time_text(time_t t, char *buf);

/* Masks an email address for display: "a***@example.com". */
void cli_mask_email(const char *email, char *out, size_t size);

/* What list, show and export tell of a member's login state: the part of a
 * twofa_state_entry worth keeping per row (the entry itself is ~3 KiB, too
 * much to hold for a million members). */
typedef struct cli_login_state {
	long failures;
	time_t locked_until;
	time_t last_login;
} cli_login_state;
void cli_login_state_from(const twofa_state_entry *e, cli_login_state *out);
/* The lockout end, or 0 when not locked at now. */
time_t cli_locked_until(const cli_login_state *st, time_t now);

/* The member as a JSON object with the documented fields (user, email,
 * phone, country, channel, status, created, updated, verified, last_login,
 * failures, locked_until). NULL when out of memory. */
json_t *cli_member_json(const twofa_member *m, const struct cli_login_state *st, time_t now);

/* Adds the member's one-time codes to obj as show and list give them:
 * recovery_codes, how many are left, and bypass, null or the bypass code's
 * state (active, uses, expires, issuer); never a code or a hash. false when
 * out of memory. */
bool cli_member_codes_json(json_t *obj, const twofa_member *m, time_t now);

/* export's line (no newline): the stored record itself, as lib/member.c
 * writes it (every field, "v" and "password_hash" included, so an import
 * gets back all of it), with last_login, failures and locked_until added.
 * *line is malloc'd (free it with twofa_free_secret); false when out of
 * memory. */
bool cli_export_line(const twofa_member *m, const struct cli_login_state *st, time_t now, char **line);

/* Prints a JSON value on stdout (indent 2 unless compact). 0 or exit code. */
int cli_print_json(json_t *value, bool compact);

/* What list and export read: members and their login state (as this host's
 * next login will find it: an unlock from any host honoured), a chunk at a
 * time. state.db is opened for a chunk of members and let go before the
 * chunk goes to out, so output that blocks (a pager, a slow pipe) never holds
 * the lock on state.db that every login waits for. */
typedef struct cli_member_row {
	const twofa_member *member;
	cli_login_state state;
} cli_member_row;

/* Formats one row onto chunk (a memory stream). 0, or an exit code after a
 * message, which ends the walk. */
typedef int (*cli_row_format)(FILE *chunk, const cli_member_row *row, void *arg);

typedef struct cli_member_walk {
	cli_row_format format;
	void *arg;
	FILE *out;
	size_t rows;    /* rows formatted */
	size_t damaged; /* records that do not decode (a warning each) */
	size_t longest; /* cli_walk_sorted: the longest name, before the first row */
} cli_member_walk;

/* Every member sorted by user, with filter (NULL: all) choosing the rows.
 * One walk of the store keeps each chosen row in an unlinked temporary file
 * ($TMPDIR, else /tmp) and only the names in memory; the login states come
 * from one walk of state.db before it (list_state.c). The rows are read back
 * by name in passes of 32 MiB and formatted once the walk is over, with no
 * lock held (members.db is held shared for the walk, as by export: logins
 * only read it); some 80 MiB at a million members. A row's member has only the fields list shows: user, email,
 * phone, country, channel, status, created, updated and verified (the rest
 * is zero). 0 or an exit code after a message. */
typedef bool (*cli_member_filter)(const twofa_member *m, void *arg);
int cli_walk_sorted(cli_context *ctx, cli_member_filter filter, cli_member_walk *w);

/* Every member in the store's own order (one record at a time). 0 or an
 * exit code after a message. */
int cli_walk_all(cli_context *ctx, cli_member_walk *w);

/* list_state.c: every member's login state from one walk of state.db (held
 * shared for that walk only), kept by name in memory: some 80 bytes per
 * member with a state. A state.db that does not exist is an empty table. */
typedef struct cli_state_table cli_state_table;
/* 0 or an exit code after a message. */
int cli_state_table_load(const char *state_db, cli_state_table **out);
/* user's state as this host's next login will see it (unlocked: the
 * member's admin unlock time, honoured); zero when there is none; a damaged
 * entry is warned about and shown as empty. Fastest when users come in
 * strcmp order (list's), which moves a cursor; any order is right. */
void cli_state_table_get(cli_state_table *t, const char *user, time_t unlocked, cli_login_state *out);
void cli_state_table_free(cli_state_table *t);

/* member_access.c --------------------------------------------------------- */

/* The member store twofa.conf names (cli_load_config first), opened on the
 * first use. 0 or an exit code after a message. */
int cli_members(cli_context *ctx, twofa_member_store **out);

/* 0 when store = gdbm; otherwise 64 after saying that what (a command on
 * members.db's file: db backup, db recover) is for GDBM only. */
int cli_require_gdbm(const cli_context *ctx, const char *what);

/* Loads user's record. 0, or 65 when not enrolled (also when there is no
 * member store yet, and for an invited record: an invite is no membership),
 * or the store's exit code, after a message. */
int cli_load_member(cli_context *ctx, const char *user, twofa_member *m);

/* As cli_load_member, an invited record included (show, invite). */
int cli_load_record(cli_context *ctx, const char *user, twofa_member *m);

/* 65 after "<user> is invited, not enrolled yet ..." (for a command on a
 * member given an invited record). */
int cli_refuse_invited(const char *user);

/* What the store holds for a user: nothing, an invited record, a member. */
typedef enum cli_record { CLI_RECORD_NONE, CLI_RECORD_INVITED, CLI_RECORD_MEMBER } cli_record;

/* Sets *kind to what the store holds for user. 0, or the store's exit code
 * after a message (*kind is CLI_RECORD_NONE then). */
int cli_record_kind(cli_context *ctx, const char *user, cli_record *kind);

/* 0 when user is not enrolled, 65 when enrolled or invited, or another exit
 * code. */
int cli_refuse_enrolled(cli_context *ctx, const char *user);

/* The exit code of a store's write: 0 for TWOFA_OK; after a message, for a
 * write that lost a race (TWOFA_ECONFLICT) "<error>; <undone>: run the
 * command again", else the error's own. */
int cli_write_result(twofa_status st, const twofa_error *err, const char *undone);

/* Read-modify-write of user's record under one exclusive lock: change edits
 * the record (return TWOFA_EEXIST for "nothing to change"); an invited
 * record is refused (cli_refuse_invited) before change sees it. 0 or an exit
 * code after a message. */
int cli_update_member(cli_context *ctx, const char *user, twofa_member_change change, void *arg);

/* print_once.c ------------------------------------------------------------ */

/* Writes all of buf to stdout with write(2) (stdio flushed first), for the
 * one print of one-time codes: no copy is left in a stdio buffer. SIGPIPE
 * is ignored meanwhile, so a closed pipe is an error to report, not a silent
 * death. False with errno set when not all of it was written. */
bool cli_write_once(const char *buf, size_t len);

/* Warns that a disabled or pending member's new codes do not work until
 * enabled or approved: "<shown> is disabled: <codes_do> not work until ...";
 * nothing for an active member. */
void cli_warn_codes_unusable(const char *shown, twofa_member_status status, const char *codes_do);

/* Formats the one print of a code into buf (size bytes), writes it with
 * cli_write_once and wipes buf. False with errno set when it did not fit or
 * was not all written. */
bool cli_print_once(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The arguments of a command that issues one code (bypass, invite):
 * [--uses N] [--ttl DURATION] [--json] USER, or --revoke USER. */
typedef struct cli_issue_spec {
	const char *command;   /* its name, for the usage line */
	long ttl_min, ttl_max; /* seconds */
	const char *ttl_help;  /* "10m to 30d: SECONDS, or ...", after "--ttl must be " */
	long uses_max;         /* --uses takes 1..uses_max; 0: no --uses */
} cli_issue_spec;

typedef struct cli_issue_args {
	const char *user;
	long ttl, uses; /* the caller's defaults until an option sets them */
	bool json, revoke;
} cli_issue_args;

/* Parses argv into *a (ttl and uses hold the defaults). 0, or the usage exit
 * code after a message. */
int cli_parse_issue_args(const cli_issue_spec *spec, int argc, char **argv, cli_issue_args *a);

/* flow.c ------------------------------------------------------------------ */

/* Where a code goes: an E.164 number, or an address for the email channel. */
typedef struct cli_destination {
	const char *to;
	twofa_channel channel;
	char shown[TWOFA_EMAIL_MAX + 8]; /* masked for display */
} cli_destination;

/* Fills d for sending by channel to phone (or email for that channel). */
void cli_destination_set(cli_destination *d, const char *phone, const char *email, twofa_channel channel);

/* Confirms phone with Lookup. 0 when it is valid or Lookup could not tell
 * (a warning then: the code proves the number anyway); 65 when Lookup calls
 * it invalid; 78 when the credentials are refused. */
int cli_lookup_number(twofa_verify *v, const char *e164, const char *country);

/* Sends a code to d, reads codes (call / sms / resend re-send by that
 * channel) up to max_tries wrong ones. 0 on approval; otherwise the exit
 * code, after a message, with what was pending canceled. */
int cli_prove_possession(twofa_verify *v, cli_destination *d, const char *phone, long max_tries);

/* Makes a Verify client from the loaded configuration (0 or exit 78). */
int cli_verify_new(cli_context *ctx, twofa_verify **v);

/* qr.c -------------------------------------------------------------------- */

/* True when the environment's locale (LANG, LC_ALL, LC_CTYPE) is UTF-8. */
bool cli_qr_utf8_terminal(void);

/* Draws text as a QR code on stdout, once, with write(2), and wipes what it
 * built: Unicode half blocks for a terminal of light text on a dark
 * background, or "##" for a dark module with ascii. 0 or an exit code. */
int cli_qr_draw(const char *text, bool ascii);

/* cmd_totp.c -------------------------------------------------------------- */

/* How an authenticator app is set up: --print-secret (print the QR code and
 * secret when stdout is not a terminal), --ascii, --label TEXT. */
typedef struct cli_totp_options {
	const char *command; /* for messages */
	bool print_secret;
	bool ascii;
	const char *label;
	char label_buf[65]; /* the label in use (cli_totp_preflight) */
} cli_totp_options;

/* getopt's opt 'P', 'A' or 'L' into o: 1 when it was one of them. */
int cli_totp_parse_option(int opt, const char *arg, cli_totp_options *o);

/* Before anything is made or asked: the label, and a terminal on stdout
 * unless print_secret. 0 or an exit code after a message. */
int cli_totp_preflight(cli_totp_options *o);

/* Makes a TOTP factor under identity, shows its QR code and secret once,
 * and reads the first code (max_tries tries). 0 with factor_sid set to the
 * verified factor; otherwise an exit code after a message, with the factor
 * deleted at Twilio (and the entity, when new_entity). */
int cli_totp_enrol(twofa_verify *v, const char *identity, bool new_entity, const cli_totp_options *o,
		   long max_tries, char factor_sid[TWOFA_SID_LEN + 1]);

/* Deletes factor_sid, or with entity_too the entity and all its factors; a
 * failure is a warning. */
void cli_totp_undo(twofa_verify *v, const char *identity, const char *factor_sid, bool entity_too);

/* Command implementations, one file per group. ---------------------------- */
/* cmd_countries.c: 0 when twofa.conf's countries allows numbers of iso2
 * (upper case; cli_load_config first), else 65 after saying so, naming the key and the
 * file. There is no override: every send refuses such a number too. */
int cli_check_country(const cli_context *ctx, const char *iso2);
int cmd_countries(cli_context *ctx, int argc, char **argv);
int cmd_normalize(cli_context *ctx, int argc, char **argv);
int cmd_add(cli_context *ctx, int argc, char **argv);
int cmd_phone(cli_context *ctx, int argc, char **argv);
int cmd_passwd(cli_context *ctx, int argc, char **argv);
int cmd_test(cli_context *ctx, int argc, char **argv);
int cmd_totp(cli_context *ctx, int argc, char **argv);
int cmd_approve(cli_context *ctx, int argc, char **argv);
int cmd_disable(cli_context *ctx, int argc, char **argv);
int cmd_enable(cli_context *ctx, int argc, char **argv);
int cmd_remove(cli_context *ctx, int argc, char **argv);
int cmd_unlock(cli_context *ctx, int argc, char **argv);
int cmd_recovery(cli_context *ctx, int argc, char **argv);
int cmd_bypass(cli_context *ctx, int argc, char **argv);
int cmd_invite(cli_context *ctx, int argc, char **argv);
int cmd_list(cli_context *ctx, int argc, char **argv);
int cmd_show(cli_context *ctx, int argc, char **argv);
int cmd_export(cli_context *ctx, int argc, char **argv);
int cmd_import(cli_context *ctx, int argc, char **argv);
int cmd_db(cli_context *ctx, int argc, char **argv);
int cmd_check_config(cli_context *ctx, int argc, char **argv);
int cmd_rate_limit(cli_context *ctx, int argc, char **argv);
/* check-config's step for rate_limit: 0, or an exit code after a message. */
int cli_check_rate_limit(cli_context *ctx, twofa_verify *v);

extern const cli_command cli_commands[];

#endif
