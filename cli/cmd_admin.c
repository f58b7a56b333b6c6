/* SPDX-License-Identifier: GPL-3.0-or-later */
/* approve, disable, enable, remove, unlock, list, show: the administrator's
 * commands on enrolled members. Only remove talks to Twilio, to delete an
 * app member's TOTP entity and factor. */
#include "twofa_build.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "phone.h"
#include "util.h"
#include "verify_totp.h"

/* Parses "COMMAND USER" plus the flags in allowed ('y' --yes; 'j' --json or
 * 'f' --force, which no command takes both of, in *json). */
static int parse_user_args(const char *command, const char *allowed, int argc, char **argv, const char **user,
			   bool *yes, bool *json)
{
	static const struct option options[] = {
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'j'},
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	char why[128];
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == '?' || opt == ':' || strchr(allowed, opt) == NULL) {
			snprintf(why, sizeof(why), "%s: unknown option '%s'", command,
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			twofa_sanitize(why);
			return cli_usage_error(command, why);
		}
		if (opt == 'y')
			*yes = true;
		else
			*json = true;
	}
	if (optind + 1 != argc) {
		snprintf(why, sizeof(why), "%s needs exactly one USER", command);
		return cli_usage_error(command, why);
	}
	*user = argv[optind];
	return cli_check_user_arg(*user);
}

typedef struct status_change {
	const char *command;
	time_t now;
	bool changed;
} status_change;

static void touch(twofa_member *m, status_change *c)
{
	m->updated = c->now > m->created ? c->now : m->created;
	c->changed = true;
}

static twofa_status change_status(twofa_member *m, void *arg, twofa_error *err)
{
	status_change *c = arg;

	if (strcmp(c->command, "approve") == 0) {
		if (m->status == TWOFA_MEMBER_DISABLED)
			return twofa_fail(err, TWOFA_EINVAL,
					  "%s is disabled, not pending; use 'twofa-enroll enable'", m->user);
		if (m->status == TWOFA_MEMBER_ACTIVE)
			return TWOFA_EEXIST;
		m->status = TWOFA_MEMBER_ACTIVE;
	} else if (strcmp(c->command, "enable") == 0) {
		if (m->status == TWOFA_MEMBER_PENDING)
			return twofa_fail(err, TWOFA_EINVAL,
					  "%s is pending approval; use 'twofa-enroll approve'", m->user);
		if (m->status == TWOFA_MEMBER_ACTIVE)
			return TWOFA_EEXIST;
		m->status = TWOFA_MEMBER_ACTIVE;
	} else {
		if (m->status == TWOFA_MEMBER_DISABLED)
			return TWOFA_EEXIST;
		m->status = TWOFA_MEMBER_DISABLED;
	}
	touch(m, c);
	return TWOFA_OK;
}

static int set_status(cli_context *ctx, const char *command, int argc, char **argv)
{
	status_change c = {.command = command};
	const char *user = NULL;
	bool unused = false;
	int rc;

	if ((rc = parse_user_args(command, "", argc, argv, &user, &unused, &unused)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	c.now = time(NULL);
	if ((rc = cli_update_member(ctx, user, change_status, &c)) != 0)
		return rc;
	printf("%s %s\n", user,
	       !c.changed ? (strcmp(command, "disable") == 0 ? "was already disabled" : "was already active")
	       : strcmp(command, "disable") == 0 ? "disabled"
						 : "is active");
	return EX_OK;
}

int cmd_approve(cli_context *ctx, int argc, char **argv)
{
	return set_status(ctx, "approve", argc, argv);
}

int cmd_disable(cli_context *ctx, int argc, char **argv)
{
	return set_status(ctx, "disable", argc, argv);
}

int cmd_enable(cli_context *ctx, int argc, char **argv)
{
	return set_status(ctx, "enable", argc, argv);
}

/* An app member's entity (and with it the factor) at Twilio, before the
 * record goes: a failure keeps the member unless force. 0 or an exit code. */
static int remove_app(cli_context *ctx, const char *user, const char *entity, bool force)
{
	twofa_verify *v = NULL;
	twofa_verify_result r;
	twofa_verify_outcome o = TWOFA_VERIFY_LOCAL_ERROR;
	int rc;

	memset(&r, 0, sizeof(r));
	(void)twofa_strlcpy(r.log_message, "no Verify client", sizeof(r.log_message));
	if ((rc = cli_verify_new(ctx, &v)) == 0) {
		o = twofa_totp_entity_delete(v, entity, &r);
		twofa_verify_free(v);
	}
	if (o == TWOFA_VERIFY_OK || o == TWOFA_VERIFY_EXPIRED)
		return 0;
	if (rc != 0 && !force)
		return rc; /* cli_verify_new said why */
	if (force) {
		cli_warn("could not delete the TOTP entity of %s at Twilio (%s); removing %s anyway (--force): "
			 "'twofa-enroll db check' lists the entity",
			 user, r.log_message, user);
		return 0;
	}
	return cli_fail(cli_outcome_exit(o),
			"could not delete the TOTP entity of %s at Twilio (%s); nothing was removed: pass "
			"--force to remove %s anyway",
			user, r.log_message, user);
}

int cmd_remove(cli_context *ctx, int argc, char **argv)
{
	char question[TWOFA_USER_NAME_MAX + 96];
	char shown[TWOFA_PHONE_MASK_SIZE];
	char entity[TWOFA_MEMBER_ID_SIZE];
	const char *user = NULL;
	bool yes = false, force = false;
	twofa_member_store *members = NULL;
	twofa_member m;
	twofa_error err;
	int rc;

	if ((rc = parse_user_args("remove", "yf", argc, argv, &user, &yes, &force)) != 0)
		return rc;
	if (!yes && !cli_interactive())
		return cli_usage_error("remove", "remove: stdin is not a terminal, so pass --yes to confirm");
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if ((rc = cli_load_member(ctx, user, &m)) != 0)
		return rc;
	if (m.phone[0] != '\0')
		twofa_phone_mask(m.phone, shown, sizeof(shown));
	else
		(void)twofa_strlcpy(shown, twofa_channel_label(m.channel), sizeof(shown));
	(void)twofa_strlcpy(entity, m.totp_entity, sizeof(entity));
	twofa_member_free(&m);
	if (!yes) {
		snprintf(question, sizeof(question), "Remove %s (%s) and their login state? [y/N] ", user,
			 shown);
		if (!cli_confirm(question))
			return cli_fail(cli_interrupted ? CLI_EXIT_INTERRUPTED : 1,
					"not confirmed; nothing was removed");
	}
	if (entity[0] != '\0' && (rc = remove_app(ctx, user, entity, force)) != 0)
		return rc;
	if ((rc = cli_members(ctx, &members)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_member_store_remove(members, user, &err) != TWOFA_OK)
		return err.status == TWOFA_ENOTFOUND ? cli_fail(EX_DATAERR, "%s is not enrolled", user)
						     : cli_fail_status(&err);
	if (twofa_state_forget(ctx->config.state_db, user, &err) != TWOFA_OK && err.status != TWOFA_ENOTFOUND)
		return cli_fail(twofa_status_exit_code(err.status),
				"%s was removed, but their login state was not: %s", user, err.msg);
	printf("%s removed\n", user);
	return EX_OK;
}

/* The unlock time goes into the member record, so every host of a fleet
 * that shares the member store honours it (twofa_state_unlock); a later
 * unlock always writes a later time, even when this host's clock is behind
 * the one that wrote the last. */
static twofa_status stamp_unlock(twofa_member *m, void *arg, twofa_error *err)
{
	time_t *at = arg;

	(void)err;
	if (*at <= m->unlocked)
		*at = m->unlocked + 1;
	m->unlocked = *at;
	return TWOFA_OK;
}

int cmd_unlock(cli_context *ctx, int argc, char **argv)
{
	const char *user = NULL;
	bool unused = false;
	time_t at;
	twofa_error err;
	int rc;

	if ((rc = parse_user_args("unlock", "", argc, argv, &user, &unused, &unused)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	at = time(NULL);
	if ((rc = cli_update_member(ctx, user, stamp_unlock, &at)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_state_unlock(ctx->config.state_db, user, at, &err) != TWOFA_OK &&
	    err.status != TWOFA_ENOTFOUND)
		return cli_fail(twofa_status_exit_code(err.status),
				"%s: the unlock is stored, but this host's login state was not reset: %s",
				user, err.msg);
	printf("%s unlocked (failures, lockouts and the send limit's count reset)\n", user);
	return EX_OK;
}

/* Colours the status word in the table. */
static cli_color_id status_color(twofa_member_status s)
{
	return s == TWOFA_MEMBER_ACTIVE                                 ? CLI_GREEN
	       : s == TWOFA_MEMBER_PENDING || s == TWOFA_MEMBER_INVITED ? CLI_YELLOW
									: CLI_RED;
}

typedef struct list_out {
	const cli_context *ctx;
	cli_member_walk *w;
	bool json;
	bool filter;
	twofa_member_status want;
	time_t now;
} list_out;

static bool list_wanted(const twofa_member *m, void *arg)
{
	const list_out *o = arg;

	return !o->filter || m->status == o->want;
}

/* One element of the --json array, indented as a whole array would be. */
static int list_json_row(FILE *chunk, const list_out *o, const cli_member_row *row)
{
	json_t *obj = cli_member_json(row->member, &row->state, o->now);

	if (obj != NULL && !cli_member_codes_json(obj, row->member, o->now)) {
		json_decref(obj);
		obj = NULL;
	}
	char *text = obj != NULL ? json_dumps(obj, JSON_PRESERVE_ORDER | JSON_INDENT(2)) : NULL;
	bool ok = text != NULL && fputs(o->w->rows == 0 ? "[\n  " : ",\n  ", chunk) >= 0;

	json_decref(obj);
	for (const char *p = text; ok && *p != '\0'; p++)
		ok = putc(*p, chunk) != EOF && (*p != '\n' || fputs("  ", chunk) >= 0);
	free(text);
	return ok ? 0 : cli_fail(1, "out of memory");
}

/* A table row being built: each field padded to its width with spaces, as
 * "%-*s" pads, then (gap) the two spaces between columns. */
typedef struct list_line {
	char buf[TWOFA_USER_NAME_MAX + 512]; /* the longest name, and room for every other field */
	size_t len;
} list_line;

static void line_put(list_line *l, const char *s, int width, bool gap)
{
	size_t n = strnlen(s, 128 + TWOFA_USER_NAME_MAX);

	memcpy(l->buf + l->len, s, n);
	l->len += n;
	for (; (int)n < width; n++)
		l->buf[l->len++] = ' ';
	if (gap) {
		l->buf[l->len++] = ' ';
		l->buf[l->len++] = ' ';
	}
}

static int list_row(FILE *chunk, const cli_member_row *row, void *arg)
{
	const list_out *o = arg;
	const cli_context *ctx = o->ctx;
	const twofa_member *m = row->member;
	const cli_login_state *st = &row->state;
	char shown[TWOFA_PHONE_MASK_SIZE];
	char last[TWOFA_ISO8601_LEN], locked[TWOFA_ISO8601_LEN], recovery[24], failures[24];
	list_line l;
	/* The longest name of all (the walk knows it before the first row). */
	int width = (int)(o->w->longest < 4 ? 4 : o->w->longest > 32 ? 32 : o->w->longest);

	if (o->json)
		return list_json_row(chunk, o, row);
	if (o->w->rows == 0)
		fprintf(chunk, "%s%-*s  %-18s  %-2s  %-8s  %-8s  %-8s  %-7s  %-20s  %-8s  %s%s\n",
			cli_color(ctx->color, CLI_BOLD), width, "USER", "PHONE", "CC", "CHANNEL", "STATUS",
			"RECOVERY", "BYPASS", "LAST LOGIN", "FAILURES", "LOCKED UNTIL",
			cli_color(ctx->color, CLI_RESET));
	twofa_phone_mask(m->phone, shown, sizeof(shown));
	/* The row as "%-*s  %-18s  ...\n" would print it, built by hand: a
	 * million rows through fprintf took a tenth of list's time. */
	snprintf(recovery, sizeof(recovery), "%zu", m->recovery_count);
	snprintf(failures, sizeof(failures), "%ld", st->failures);
	l.len = 0;
	line_put(&l, m->user, width, true);
	line_put(&l, shown, 18, true);
	line_put(&l, m->country, 2, true);
	line_put(&l, twofa_channel_name(m->channel), 8, true);
	line_put(&l, cli_color(ctx->color, status_color(m->status)), 0, false);
	line_put(&l, twofa_member_status_name(m->status), 8, false);
	line_put(&l, cli_color(ctx->color, CLI_RESET), 0, true);
	line_put(&l, recovery, 8, true);
	line_put(&l,
		 m->bypass[0] == '\0'                    ? "-"
		 : twofa_member_bypass_active(m, o->now) ? "active"
							 : "expired",
		 7, true);
	line_put(&l, cli_time_text(st->last_login, last), 20, true);
	line_put(&l, failures, 8, true);
	line_put(&l, cli_time_text(cli_locked_until(st, o->now), locked), 0, false);
	l.buf[l.len++] = '\n';
	if (fwrite(l.buf, 1, l.len, chunk) != l.len)
		return cli_fail(1, "out of memory");
	return 0;
}

int cmd_list(cli_context *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"status", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	cli_member_walk w = {.format = list_row, .out = stdout};
	list_out o = {.ctx = ctx, .w = &w, .want = TWOFA_MEMBER_ACTIVE, .now = time(NULL)};
	int opt, rc = EX_OK;

	optind = 0;
	while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		if (opt == 'j') {
			o.json = true;
		} else if (opt == 's') {
			if (!twofa_member_status_parse(optarg, &o.want))
				return cli_usage_error("list",
						       "list: --status must be active, pending, disabled or invited");
			o.filter = true;
		} else {
			return cli_usage_error("list", "list: unknown option or missing value");
		}
	}
	if (optind != argc)
		return cli_usage_error("list", "list takes no arguments");
	w.arg = &o;
	rc = cli_walk_sorted(ctx, list_wanted, &w);
	if (rc == EX_OK && o.json)
		rc = fputs(w.rows > 0 ? "\n]\n" : "[]\n", stdout) >= 0 ? EX_OK : cli_fail(1, "cannot write");
	else if (rc == EX_OK && w.rows == 0)
		cli_note("no members%s%s", o.filter ? " with status " : "",
			 o.filter ? twofa_member_status_name(o.want) : "");
	if (rc == EX_OK && w.damaged > 0)
		rc = cli_fail(EX_CANTCREAT, "%zu damaged record%s left out; run 'twofa-enroll db check'",
			      w.damaged, w.damaged == 1 ? "" : "s");
	return rc;
}

/* The send limit and the lockouts per source, which show adds to the
 * fields list has: an admin told "locked" must see which lock it is. */
static bool add_state_json(json_t *obj, const twofa_state_entry *st, const twofa_config *c, time_t now)
{
	json_t *from = json_array();
	size_t sends = 0;
	time_t next_at = 0;
	bool ok = from != NULL;
	char when[TWOFA_ISO8601_LEN];

	for (size_t i = 0; ok && i < st->source_count; i++) {
		const twofa_source_entry *s = &st->sources[i];
		if (twofa_state_source_is_locked(s, now))
			ok = twofa_format_time(s->locked_until, when) &&
			     json_array_append_new(from, json_pack("{s:s, s:s}", "from", s->from, "until",
								   when)) == 0;
	}
	if (!ok) {
		json_decref(from);
		return false;
	}
	if (json_object_set_new(obj, "locked_from", from) != 0) /* which takes from, also on failure */
		return false;
	twofa_state_send_window(st, now, c->send_limit, c->send_window, &sends, &next_at);
	ok = json_object_set_new(obj, "sends", json_integer((json_int_t)sends)) == 0;
	ok = ok && twofa_format_time(next_at, when);
	return ok &&
	       json_object_set_new(obj, "next_send", next_at > now ? json_string(when) : json_null()) == 0;
}

static void print_state(const twofa_state_entry *st, const twofa_config *c, time_t now)
{
	size_t sends = 0;
	time_t next_at = 0;
	char when[TWOFA_ISO8601_LEN];

	for (size_t i = 0; i < st->source_count; i++) {
		const twofa_source_entry *s = &st->sources[i];
		if (twofa_state_source_is_locked(s, now))
			printf("locked from   %s until %s\n", s->from, cli_time_text(s->locked_until, when));
	}
	twofa_state_send_window(st, now, c->send_limit, c->send_window, &sends, &next_at);
	printf("sends         %zu of %ld in the last %ld s\n"
	       "next send     %s\n",
	       sends, c->send_limit, c->send_window, next_at > now ? cli_time_text(next_at, when) : "now");
}

/* The one-time codes a member holds, never the codes or their hashes: the
 * number of recovery codes left, and the bypass code's uses left, expiry
 * and issuer ("active" false once it has expired). */
static void print_codes(const twofa_member *m, time_t now)
{
	char when[TWOFA_ISO8601_LEN], issuer[TWOFA_USER_NAME_MAX + 1];

	printf("recovery      %zu code%s left\n", m->recovery_count, m->recovery_count == 1 ? "" : "s");
	if (m->bypass[0] == '\0') {
		printf("bypass        none\n");
		return;
	}
	twofa_strlcpy(issuer, m->bypass_issuer[0] != '\0' ? m->bypass_issuer : "-", sizeof(issuer));
	twofa_sanitize(issuer);
	if (twofa_member_bypass_active(m, now))
		printf("bypass        active: %ld use%s left, expires %s, issued by %s\n", m->bypass_uses,
		       m->bypass_uses == 1 ? "" : "s", cli_time_text(m->bypass_expires, when), issuer);
	else
		printf("bypass        expired %s (%ld use%s unused), issued by %s\n",
		       cli_time_text(m->bypass_expires, when), m->bypass_uses, m->bypass_uses == 1 ? "" : "s",
		       issuer);
}

/* The invite of an invited record: when it expires, never its hash. */
static void print_invite(const twofa_member *m, time_t now)
{
	char when[TWOFA_ISO8601_LEN];

	if (m->invite[0] == '\0')
		return;
	printf("invite        %s %s\n", m->invite_expires > now ? "expires" : "expired",
	       cli_time_text(m->invite_expires, when));
}

int cmd_show(cli_context *ctx, int argc, char **argv)
{
	const char *user = NULL;
	bool json = false, unused = false;
	twofa_state_entry st;
	twofa_member m;
	twofa_error err;
	time_t now = time(NULL);
	char shown[TWOFA_PHONE_MASK_SIZE];
	char t1[TWOFA_ISO8601_LEN], t2[TWOFA_ISO8601_LEN], t3[TWOFA_ISO8601_LEN], t4[TWOFA_ISO8601_LEN],
		t5[TWOFA_ISO8601_LEN];
	int rc;

	if ((rc = parse_user_args("show", "j", argc, argv, &user, &unused, &json)) != 0)
		return rc;
	if ((rc = cli_load_config(ctx)) != 0)
		return rc;
	if ((rc = cli_load_record(ctx, user, &m)) != 0)
		return rc;
	twofa_error_clear(&err);
	if (twofa_state_read(ctx->config.state_db, user, &st, &err) != TWOFA_OK) {
		cli_warn("cannot read the login state of %s: %s", user, err.msg);
		memset(&st, 0, sizeof(st));
	}
	/* As this host's next login of the member will: an unlock from any
	 * host of the fleet clears what was counted here before it. */
	(void)twofa_state_honour_unlock(&st, m.unlocked);
	if (json) {
		cli_login_state summary;
		json_t *obj;

		cli_login_state_from(&st, &summary);
		obj = cli_member_json(&m, &summary, now);
		if (obj != NULL &&
		    (!add_state_json(obj, &st, &ctx->config, now) || !cli_member_codes_json(obj, &m, now) ||
		     json_object_set_new(obj, "totp_factor",
					 m.totp_factor[0] != '\0' ? json_string(m.totp_factor)
								  : json_null()) != 0)) {
			json_decref(obj);
			obj = NULL;
		}
		rc = obj != NULL ? cli_print_json(obj, false) : cli_fail(1, "out of memory");
		json_decref(obj);
	} else {
		twofa_phone_mask(m.phone, shown, sizeof(shown));
		printf("user          %s\n"
		       "email         %s\n"
		       "phone         %s\n"
		       "country       %s\n"
		       "channel       %s\n"
		       "status        %s%s%s\n"
		       "created       %s\n"
		       "updated       %s\n"
		       "verified      %s\n"
		       "last login    %s\n"
		       "failures      %ld\n"
		       "locked until  %s\n",
		       m.user, m.email != NULL ? m.email : "-", shown, m.country,
		       twofa_channel_name(m.channel), cli_color(ctx->color, status_color(m.status)),
		       twofa_member_status_name(m.status), cli_color(ctx->color, CLI_RESET),
		       cli_time_text(m.created, t1), cli_time_text(m.updated, t2),
		       cli_time_text(m.verified, t3), cli_time_text(st.last_login, t4), st.failures,
		       cli_time_text(twofa_state_latest_lock(&st, now), t5));
		if (m.totp_factor[0] != '\0')
			printf("app factor    %s (Verify TOTP)\n", m.totp_factor);
		print_state(&st, &ctx->config, now);
		print_codes(&m, now);
		print_invite(&m, now);
	}
	twofa_member_free(&m);
	return rc;
}
