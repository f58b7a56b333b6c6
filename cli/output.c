/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Output helpers: colours, times, masked addresses, the JSON form of a
 * member and the walks over every member for list and export. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "store.h"
#include "util.h"

const char *cli_color(bool on, cli_color_id c)
{
	static const char *const codes[] = {
		[CLI_RESET] = "\033[0m",  [CLI_BOLD] = "\033[1m",    [CLI_RED] = "\033[31m",
		[CLI_GREEN] = "\033[32m", [CLI_YELLOW] = "\033[33m", [CLI_DIM] = "\033[2m",
	};

	return on ? codes[c] : "";
}

const char *cli_time_text(time_t t, char *buf)
{
	if (t == 0 || !twofa_format_time(t, buf))
		return "-";
	return buf;
}

void cli_mask_email(const char *email, char *out, size_t size)
{
	const char *at = email != NULL ? strrchr(email, '@') : NULL;

	if (size == 0)
		return;
	if (at == NULL || at == email) {
		twofa_strlcpy(out, "***", size);
		return;
	}
	snprintf(out, size, "%c***%s", email[0], at);
	twofa_sanitize(out);
}

/* A time as ISO 8601 UTC, or null for 0. */
static json_t *time_value(time_t t)
{
	char buf[TWOFA_ISO8601_LEN];

	if (t == 0 || !twofa_format_time(t, buf))
		return json_null();
	return json_string(buf);
}

static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

void cli_login_state_from(const twofa_state_entry *e, cli_login_state *out)
{
	out->failures = e->failures;
	out->locked_until = twofa_state_latest_lock(e, time(NULL)); /* everywhere or from one source */
	out->last_login = e->last_login;
}

time_t cli_locked_until(const cli_login_state *st, time_t now)
{
	return st->locked_until != 0 && now < st->locked_until ? st->locked_until : 0;
}

/* The state list and show add to a member. */
static void put_state(json_t *obj, const cli_login_state *st, time_t now, bool *ok)
{
	put(obj, "last_login", time_value(st->last_login), ok);
	put(obj, "failures", json_integer(st->failures), ok);
	/* A lockout that has run out is no lockout. */
	put(obj, "locked_until", time_value(cli_locked_until(st, now)), ok);
}

/* A time as a JSON value: "null" for 0, else the quoted ISO 8601 text. */
static const char *json_time(time_t t, char buf[TWOFA_ISO8601_LEN + 2])
{
	if (t == 0 || !twofa_format_time(t, buf + 1))
		return "null";
	buf[0] = '"';
	strcat(buf, "\"");
	return buf;
}

bool cli_export_line(const twofa_member *m, const cli_login_state *st, time_t now, char **line)
{
	static const char format[] = "%.*s,\"last_login\":%s,\"failures\":%ld,\"locked_until\":%s}";
	char last[TWOFA_ISO8601_LEN + 2], locked[TWOFA_ISO8601_LEN + 2];
	const char *last_v = json_time(st->last_login, last),
		   *locked_v = json_time(cli_locked_until(st, now), locked);
	char *record = NULL;
	size_t len;
	int n;

	*line = NULL;
	if (twofa_member_encode(m, &record, NULL) != TWOFA_OK)
		return false;
	/* The record is one compact object: the state goes in before its
	 * closing brace, so the record is never parsed again. Sized first, so
	 * the hash is written once, into the line itself. */
	len = strlen(record);
	n = len >= 2 && record[len - 1] == '}'
		    ? snprintf(NULL, 0, format, (int)(len - 1), record, last_v, st->failures, locked_v)
		    : -1;
	if (n > 0 && (*line = malloc((size_t)n + 1)) != NULL)
		snprintf(*line, (size_t)n + 1, format, (int)(len - 1), record, last_v, st->failures, locked_v);
	twofa_free_secret(record);
	return *line != NULL;
}

bool cli_member_codes_json(json_t *obj, const twofa_member *m, time_t now)
{
	char when[TWOFA_ISO8601_LEN];
	json_t *bypass = json_null();

	if (m->bypass[0] != '\0')
		bypass = twofa_format_time(m->bypass_expires, when)
				 ? json_pack("{s:b, s:I, s:s, s:s?}", "active",
					     twofa_member_bypass_active(m, now), "uses",
					     (json_int_t)m->bypass_uses, "expires", when, "issuer",
					     m->bypass_issuer[0] != '\0' ? m->bypass_issuer : NULL)
				 : NULL;
	return json_object_set_new(obj, "recovery_codes", json_integer((json_int_t)m->recovery_count)) == 0 &&
	       json_object_set_new(obj, "bypass", bypass) == 0;
}

json_t *cli_member_json(const twofa_member *m, const cli_login_state *st, time_t now)
{
	json_t *obj = json_object();
	bool ok = obj != NULL;

	if (!ok)
		return NULL;
	put(obj, "user", json_string(m->user), &ok);
	put(obj, "email", m->email != NULL ? json_string(m->email) : json_null(), &ok);
	put(obj, "phone", json_string(m->phone), &ok);
	put(obj, "country", json_string(m->country), &ok);
	put(obj, "channel", json_string(twofa_channel_name(m->channel)), &ok);
	put(obj, "status", json_string(twofa_member_status_name(m->status)), &ok);
	put(obj, "created", time_value(m->created), &ok);
	put(obj, "updated", time_value(m->updated), &ok);
	put(obj, "verified", time_value(m->verified), &ok);
	put_state(obj, st, now, &ok);
	if (!ok) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int cli_print_json(json_t *value, bool compact)
{
	size_t flags = JSON_PRESERVE_ORDER | (compact ? JSON_COMPACT : JSON_INDENT(2));
	char *text = json_dumps(value, flags);

	if (text == NULL)
		return cli_fail(1, "out of memory");
	puts(text);
	free(text);
	return 0;
}

/* ---- list and export: members a chunk at a time (see cli.h) ---- */

/* Rows per chunk: enough that the stores' opens (each reads GDBM's whole
 * directory, a few MiB at a million members) cost little, few enough that
 * a chunk's text stays a few MiB and a lock is held for a fraction of a
 * second. */
#define CHUNK_ROWS 16384
/* export's chunks end at this much text too (its lines are long); the walk
 * holds members.db open meanwhile, so only state.db is reopened. */
#define CHUNK_BYTES (1024L * 1024L)

typedef struct chunk {
	cli_member_walk *w;
	const char *state_db;
	twofa_store *state; /* open while a chunk is read */
	bool no_state;      /* state.db does not exist: nobody logged in yet */
	FILE *text;         /* the chunk's output, in memory */
	char *buf;
	size_t len;
	size_t rows; /* in this chunk */
} chunk;

static int chunk_start(chunk *c, cli_member_walk *w, const char *state_db)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->state_db = state_db;
	c->text = open_memstream(&c->buf, &c->len);
	return c->text == NULL ? cli_fail(1, "out of memory") : 0;
}

/* The member's login state, with state.db opened for the chunk on first use,
 * as this host's next login of the member will see it (an unlock from any
 * host of the fleet honoured). */
static twofa_status chunk_state(chunk *c, const twofa_member *m, cli_login_state *out, twofa_error *err)
{
	const char *user = m->user;
	char *value = NULL;
	size_t len = 0;
	twofa_status st;

	memset(out, 0, sizeof(*out));
	if (c->no_state)
		return TWOFA_OK;
	if (c->state == NULL) {
		st = twofa_store_open(&c->state, c->state_db, TWOFA_STORE_READ, TWOFA_STORE_LOCK_TIMEOUT_MS,
				      err);
		if (st == TWOFA_ENOTFOUND) {
			c->no_state = true; /* no login happened yet */
			return TWOFA_OK;
		}
		if (st != TWOFA_OK)
			return st;
	}
	st = twofa_store_get(c->state, user, &value, &len, err);
	if (st == TWOFA_ENOTFOUND)
		return TWOFA_OK;
	if (st == TWOFA_OK) {
		twofa_state_entry entry;
		twofa_error e;

		twofa_error_clear(&e);
		if (twofa_state_decode(value, len, &entry, &e) == TWOFA_OK) {
			(void)twofa_state_honour_unlock(&entry, m->unlocked);
			cli_login_state_from(&entry, out);
		} else {
			cli_warn("login state of '%s' is damaged (%s); shown as empty", user, e.msg);
		}
		sodium_memzero(&entry, sizeof(entry));
	}
	free(value);
	return st;
}

/* One row onto the chunk. 0 or an exit code. */
static int chunk_put(chunk *c, const cli_member_row *row)
{
	int rc = c->w->format(c->text, row, c->w->arg);

	if (rc != 0)
		return rc;
	c->rows++;
	c->w->rows++;
	return 0;
}

/* One member: its state, then its row onto the chunk. 0 or an exit code. */
static int chunk_add(chunk *c, const twofa_member *m)
{
	cli_member_row row = {.member = m};
	twofa_error err;

	twofa_error_clear(&err);
	if (chunk_state(c, m, &row.state, &err) != TWOFA_OK)
		return cli_fail_status(&err);
	return chunk_put(c, &row);
}

static void chunk_damaged(chunk *c, const char *key, const char *why)
{
	char shown[TWOFA_USER_NAME_MAX + 1];

	twofa_strlcpy(shown, key, sizeof(shown));
	twofa_sanitize(shown);
	cli_warn("record '%s' is damaged (%s); see 'twofa-enroll db check'", shown, why);
	c->w->damaged++;
}

/* Closes the chunk's text, wiping it: export's rows hold password hashes. */
static void chunk_drop(chunk *c)
{
	if (c->text != NULL)
		(void)fclose(c->text);
	c->text = NULL;
	if (c->buf != NULL)
		sodium_memzero(c->buf, c->len);
	free(c->buf);
	c->buf = NULL;
	c->len = 0;
}

/* Lets state.db go, then writes the chunk out and starts the next. */
static int chunk_flush(chunk *c)
{
	int rc = 0;

	(void)twofa_store_close(c->state, NULL);
	c->state = NULL;
	if (fclose(c->text) != 0) {
		c->text = NULL;
		chunk_drop(c);
		return cli_fail(1, "out of memory");
	}
	c->text = NULL;
	if (c->len > 0 && fwrite(c->buf, 1, c->len, c->w->out) != c->len)
		rc = cli_fail(1, "cannot write the output: %s", strerror(errno));
	chunk_drop(c);
	c->rows = 0;
	if (rc == 0 && (c->text = open_memstream(&c->buf, &c->len)) == NULL)
		rc = cli_fail(1, "out of memory");
	return rc;
}

static void chunk_end(chunk *c)
{
	(void)twofa_store_close(c->state, NULL);
	c->state = NULL;
	chunk_drop(c);
}

/* ---- list: one walk in the store's order, then the rows by name ----
 *
 * Loading every record again by name cost a random read per member on GDBM
 * and a search per member on LDAP. Instead one walk (GDBM's hash order, the
 * directory's paged search) keeps what list shows of each member in an
 * unlinked temporary file; only the names and where their rows are stay in
 * memory. The names are sorted, and the rows formatted from the file in
 * that order once the longest name is known. */

/* A kept row: the fields cli.h says a sorted row's member has, then
 * email_len bytes of email and issuer_len of the bypass code's issuer. Never
 * a hash or a code (only whether there is a bypass code); the phone and the email
 * are personal data, so the file is private, and overwritten at the end. */
typedef struct kept_fields {
	time_t unlocked; /* the admin unlock, which clears the state shown */
	time_t created, updated, verified;
	twofa_channel channel;
	twofa_member_status status;
	char phone[TWOFA_E164_SIZE];
	char country[3];
	bool has_email;
	unsigned short email_len;
	unsigned short issuer_len; /* bytes of the bypass code's issuer, after the email */
	bool has_bypass;
	size_t recovery_count;
	long bypass_uses;
	time_t bypass_expires;
} kept_fields;

/* The most a row takes in the file (and the buffer a row is read into). */
#define KEPT_MAX (sizeof(kept_fields) + TWOFA_EMAIL_MAX + TWOFA_USER_NAME_MAX)

typedef struct kept_row {
	size_t name;   /* where the name is in the arena */
	uint32_t len;  /* the row's bytes in the file */
	uint32_t walk; /* its place in the walk: rows lie in the file in that order */
} kept_row;

/* The rows are read back in name order without a read per row: the file is
 * read from the start in READ_BLOCK pieces, once per pass, and each pass
 * picks out the next PASS_BYTES of rows by name into memory, where they are
 * formatted (some 85 MB of rows at a million members: three passes). */
#define PASS_BYTES (32L * 1024L * 1024L)
#define READ_BLOCK (1024L * 1024L)

typedef struct sorted_walk {
	chunk c; /* state.db, CHUNK_ROWS members at a time; then the output */
	cli_member_filter filter;
	int fd;      /* the kept rows: unlinked, 0600 */
	FILE *file;  /* writes to fd */
	off_t end;   /* bytes written */
	char *arena; /* the names, each with its NUL */
	size_t used, size;
	kept_row *rows;
	size_t count, cap;
	cli_state_table *states; /* every member's login state, from one walk of state.db */
	twofa_member shown;      /* the row being printed */
	int rc;
} sorted_walk;

/* state.db is read in a thread of its own while members.db is walked, and
 * each row's state looked up as it is printed: the two walks share no
 * lock and no data, and the list then waits for the slower one only. */
typedef struct state_load {
	const char *state_db;
	cli_state_table *states;
	int rc;
} state_load;

static void *state_load_run(void *arg)
{
	state_load *l = arg;

	l->rc = cli_state_table_load(l->state_db, &l->states);
	return NULL;
}

/* Starts the load; false when no thread could be started (then nothing
 * ran, and the caller loads in its own thread). */
static bool state_load_start(state_load *l, pthread_t *thread)
{
	sigset_t all, old;
	int rc;

	/* Signals stay the caller's thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(thread, NULL, state_load_run, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

/* An unlinked file in $TMPDIR (else /tmp) that only this process reaches:
 * O_TMPFILE, or, where the filesystem has none, a mkstemp name removed at
 * once. -1 with errno. */
static int kept_open(void)
{
	const char *env = getenv("TMPDIR");
	const char *dir = env != NULL && env[0] == '/' ? env : "/tmp";
	char path[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	if (snprintf(path, sizeof(path), "%s/twofa-list-XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0 && unlink(path) != 0) {
		int saved = errno;

		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Overwrites what was kept, then closes the file, which frees it. Not
 * synced: rows that already reached the disk may stay in its free blocks, as
 * with any deleted file; none holds a secret or anything the member store
 * does not hold itself. */
static void kept_close(sorted_walk *sw)
{
	static const char zeros[65536];

	if (sw->file != NULL && fflush(sw->file) == 0)
		for (off_t at = 0; at < sw->end;) {
			size_t n = sw->end - at < (off_t)sizeof(zeros) ? (size_t)(sw->end - at)
								       : sizeof(zeros);
			ssize_t done = pwrite(sw->fd, zeros, n, at);

			if (done <= 0)
				break;
			at += done;
		}
	if (sw->file != NULL)
		(void)fclose(sw->file); /* and fd */
	else if (sw->fd >= 0)
		(void)close(sw->fd);
	sw->file = NULL;
	sw->fd = -1;
}

/* Room for one more name of len bytes (with its NUL) and its row. */
static bool kept_grow(sorted_walk *sw, size_t len)
{
	if (sw->used + len > sw->size) {
		size_t size = sw->size ? sw->size * 2 : 65536;
		char *arena;

		while (size < sw->used + len)
			size *= 2;
		if ((arena = realloc(sw->arena, size)) == NULL)
			return false;
		sw->arena = arena;
		sw->size = size;
	}
	if (sw->count == sw->cap) {
		size_t cap = sw->cap ? sw->cap * 2 : 4096;
		kept_row *rows = realloc(sw->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return false;
		sw->rows = rows;
		sw->cap = cap;
	}
	return true;
}

/* Every name counts for the width, listed or not, damaged ones included. */
static void kept_width(sorted_walk *sw, const char *name)
{
	size_t len = strlen(name);

	if (len > sw->c.w->longest)
		sw->c.w->longest = len;
}

/* The walk's callback: the member's state, then its row into the file. */
static int kept_member(const twofa_member *m, void *arg)
{
	sorted_walk *sw = arg;
	size_t len = strlen(m->user) + 1, email_len = m->email != NULL ? strlen(m->email) : 0;
	kept_fields f;

	kept_width(sw, m->user);
	if (sw->filter != NULL && !sw->filter(m, sw->c.w->arg))
		return 0;
	memset(&f, 0, sizeof(f)); /* no padding of the stack reaches the file */
	f.unlocked = m->unlocked;
	f.created = m->created;
	f.updated = m->updated;
	f.verified = m->verified;
	f.channel = m->channel;
	f.status = m->status;
	twofa_strlcpy(f.phone, m->phone, sizeof(f.phone));
	twofa_strlcpy(f.country, m->country, sizeof(f.country));
	f.has_email = m->email != NULL;
	f.email_len = (unsigned short)email_len;
	f.recovery_count = m->recovery_count;
	f.has_bypass = m->bypass[0] != '\0';
	f.bypass_uses = m->bypass_uses;
	f.bypass_expires = m->bypass_expires;
	f.issuer_len = (unsigned short)strnlen(m->bypass_issuer, sizeof(m->bypass_issuer));
	if (email_len > TWOFA_EMAIL_MAX) { /* the decoder refuses it: never here */
		sw->rc = cli_fail(EX_SOFTWARE, "the email of %s is longer than %d bytes", m->user,
				  TWOFA_EMAIL_MAX);
		return 1;
	}
	if (sw->count >= UINT32_MAX) {
		sw->rc = cli_fail(1, "too many members to list (more than %lu)", (unsigned long)UINT32_MAX);
		return 1;
	}
	if (!kept_grow(sw, len)) {
		sw->rc = cli_fail(1, "out of memory");
		return 1;
	}
	if (fwrite(&f, sizeof(f), 1, sw->file) != 1 ||
	    (f.email_len > 0 && fwrite(m->email, f.email_len, 1, sw->file) != 1) ||
	    (f.issuer_len > 0 && fwrite(m->bypass_issuer, f.issuer_len, 1, sw->file) != 1)) {
		sw->rc = cli_fail(1, "cannot write the list's temporary file: %s", strerror(errno));
		return 1;
	}
	memcpy(sw->arena + sw->used, m->user, len);
	sw->rows[sw->count].name = sw->used;
	sw->rows[sw->count].len = (uint32_t)(sizeof(f) + f.email_len + f.issuer_len);
	sw->rows[sw->count].walk = (uint32_t)sw->count;
	sw->count++;
	sw->used += len;
	sw->end += (off_t)(sizeof(f) + f.email_len + f.issuer_len);
	return 0;
}

static int kept_bad(const char *key, const char *why, void *arg)
{
	sorted_walk *sw = arg;

	kept_width(sw, key);
	chunk_damaged(&sw->c, key, why);
	return 0;
}

static const char *sort_arena; /* qsort's comparison has no argument */

static int by_name(const void *a, const void *b)
{
	return strcmp(sort_arena + ((const kept_row *)a)->name, sort_arena + ((const kept_row *)b)->name);
}

/* The sorted row i, whose bytes (as kept_member wrote them) are at p,
 * formatted onto the chunk. */
static int kept_print(sorted_walk *sw, size_t i, const char *p)
{
	kept_fields f;
	/* Zeroed once (some 3 KB, most of it recovery hashes a kept row never
	 * has): every field a row sets is set again for each row. */
	twofa_member *m = &sw->shown;
	cli_member_row row = {.member = m};
	char email[TWOFA_EMAIL_MAX + 1];
	int rc;

	memcpy(&f, p, sizeof(f));
	if (f.email_len > TWOFA_EMAIL_MAX || f.issuer_len > TWOFA_USER_NAME_MAX ||
	    sizeof(f) + f.email_len + f.issuer_len != sw->rows[i].len)
		return cli_fail(1, "cannot read the list's temporary file: it is not what was written");
	m->user = sw->arena + sw->rows[i].name;
	memcpy(email, p + sizeof(f), f.email_len);
	email[f.email_len] = '\0';
	m->email = f.has_email ? email : NULL;
	twofa_strlcpy(m->phone, f.phone, sizeof(m->phone));
	twofa_strlcpy(m->country, f.country, sizeof(m->country));
	m->channel = f.channel;
	m->status = f.status;
	m->created = f.created;
	m->updated = f.updated;
	m->verified = f.verified;
	memcpy(m->bypass_issuer, p + sizeof(f) + f.email_len, f.issuer_len);
	m->bypass_issuer[f.issuer_len] = '\0';
	/* A kept row has no hash: "-" only says there is a bypass code. */
	m->bypass[0] = f.has_bypass ? '-' : '\0';
	m->bypass_uses = f.bypass_uses;
	m->bypass_expires = f.bypass_expires;
	m->recovery_count = f.recovery_count;
	cli_state_table_get(sw->states, m->user, f.unlocked, &row.state);
	rc = chunk_put(&sw->c, &row);
	m->email = NULL;
	sodium_memzero(email, sizeof(email));
	return rc;
}

/* Reads the file of kept rows from its start, a block at a time. */
typedef struct kept_reader {
	int fd;
	off_t pos;    /* file offset of the bytes after the block's */
	char *block;  /* READ_BLOCK + KEPT_MAX bytes */
	size_t start; /* the unread bytes of the block: [start, end) */
	size_t end;
} kept_reader;

/* The next len (<= KEPT_MAX) bytes of the file, or NULL after a message. */
static const char *kept_next(kept_reader *r, size_t len)
{
	while (r->end - r->start < len) {
		ssize_t got;

		if (r->start > 0) {
			memmove(r->block, r->block + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		got = pread(r->fd, r->block + r->end, READ_BLOCK + KEPT_MAX - r->end, r->pos);
		if (got <= 0) {
			(void)cli_fail(1, "cannot read the list's temporary file: %s",
				       got < 0 ? strerror(errno) : "it is shorter than written");
			return NULL;
		}
		r->end += (size_t)got;
		r->pos += got;
	}
	r->start += len;
	return r->block + r->start - len;
}

/* The w-th row of the walk: its sorted place and its bytes (read in walk
 * order, so a pass never looks into the sorted rows at random). */
typedef struct kept_walked {
	uint32_t rank;
	uint32_t len;
} kept_walked;

/* One pass: the sorted rows [lo, hi), whose bytes fit in pass, read from
 * the file into their places there (place[i - lo] for row i), then
 * formatted in that order. */
static int kept_pass(sorted_walk *sw, kept_reader *r, const kept_walked *walked, size_t lo, size_t hi,
		     char *pass, size_t *place)
{
	size_t at = 0, found = 0;
	int rc = 0;

	for (size_t i = lo; i < hi; i++) {
		place[i - lo] = at;
		at += sw->rows[i].len;
	}
	r->pos = 0;
	r->start = r->end = 0;
	/* The rows lie in the file in walk order; the pass ends at the last
	 * one it needs. */
	for (size_t w = 0; found < hi - lo && w < sw->count; w++) {
		size_t i = walked[w].rank;
		const char *p = kept_next(r, walked[w].len);

		if (p == NULL)
			return 1;
		if (i >= lo && i < hi) {
			memcpy(pass + place[i - lo], p, walked[w].len);
			found++;
		}
	}
	for (size_t i = lo; rc == 0 && i < hi; i++) {
		rc = kept_print(sw, i, pass + place[i - lo]);
		if (rc == 0 && (sw->c.rows >= CHUNK_ROWS || ftell(sw->c.text) >= CHUNK_BYTES))
			rc = chunk_flush(&sw->c);
	}
	return rc;
}

/* The bytes of a pass. Test builds (TWOFA_TEST_HTTP) take a smaller one
 * from TWOFA_TEST_LIST_PASS_BYTES, so a few members need many passes. */
static size_t pass_bytes(void)
{
#ifdef TWOFA_TEST_HTTP
	const char *v = getenv("TWOFA_TEST_LIST_PASS_BYTES");
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	if (n > 0 && n < PASS_BYTES)
		return n < (long)KEPT_MAX ? KEPT_MAX : (size_t)n;
#endif
	return PASS_BYTES;
}

/* The kept rows in name order: nothing is locked now, so output may block. */
static int kept_output(sorted_walk *sw)
{
	/* Read once: the passes below rely on it, and so does the analyzer. */
	const size_t count = sw->count;
	kept_reader r = {.fd = sw->fd};
	size_t pass_size, most_rows = pass_bytes() / sizeof(kept_fields) + 1;
	kept_walked *walked = NULL;
	size_t *place = NULL;
	char *pass = NULL;
	int rc = 0;

	if (fflush(sw->file) != 0)
		return cli_fail(1, "cannot write the list's temporary file: %s", strerror(errno));
	sort_arena = sw->arena;
	if (count > 1)
		qsort(sw->rows, count, sizeof(sw->rows[0]), by_name);
	/* Every row fits in a pass: the pass is never smaller than one row. */
	pass_size = pass_bytes();
	if (sw->end < (off_t)pass_size)
		pass_size = (size_t)sw->end;
	if (count > 0 &&
	    ((walked = malloc(count * sizeof(*walked))) == NULL ||
	     (place = malloc((most_rows < count ? most_rows : count) * sizeof(*place))) == NULL ||
	     (pass = malloc(pass_size)) == NULL || (r.block = malloc(READ_BLOCK + KEPT_MAX)) == NULL)) {
		/* rc set here, not from cli_fail's value, which the analyzer cannot see. */
		(void)cli_fail(1, "out of memory");
		rc = 1;
	}
	for (size_t i = 0; rc == 0 && i < count; i++)
		walked[sw->rows[i].walk] = (kept_walked){.rank = (uint32_t)i, .len = sw->rows[i].len};
	for (size_t lo = 0, hi; rc == 0 && lo < count; lo = hi) {
		size_t bytes = 0;

		/* A row is far smaller than a pass: each pass takes one at least. */
		for (hi = lo; hi < count && bytes + sw->rows[hi].len <= pass_size; hi++)
			bytes += sw->rows[hi].len;
		rc = kept_pass(sw, &r, walked, lo, hi, pass, place);
	}
	if (rc == 0)
		rc = chunk_flush(&sw->c);
	/* The phones and emails of the rows. */
	if (pass != NULL)
		sodium_memzero(pass, pass_size);
	if (r.block != NULL)
		sodium_memzero(r.block, READ_BLOCK + KEPT_MAX);
	free(pass);
	free(r.block);
	free(place);
	free(walked);
	return rc;
}

int cli_walk_sorted(cli_context *ctx, cli_member_filter filter, cli_member_walk *w)
{
	sorted_walk sw = {.filter = filter, .fd = -1};
	state_load load = {.rc = 0};
	twofa_member_store *s;
	pthread_t thread;
	bool loading = false;
	twofa_error err;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	if ((rc = chunk_start(&sw.c, w, ctx->config.state_db)) != 0)
		return rc;
	load.state_db = ctx->config.state_db; /* known once the store is open */
	if ((sw.fd = kept_open()) < 0 || (sw.file = fdopen(sw.fd, "w+")) == NULL) {
		rc = cli_fail(1, "cannot make the list's temporary file: %s", strerror(errno));
	} else if (!(loading = state_load_start(&load, &thread)) &&
		   (rc = load.rc = cli_state_table_load(load.state_db, &load.states)) != 0) {
		/* said */
	} else {
		twofa_error_clear(&err);
		if (twofa_member_store_each(s, kept_member, kept_bad, &sw, &err) != TWOFA_OK)
			rc = sw.rc != 0 ? sw.rc : cli_fail_status(&err);
		else
			rc = sw.rc;
	}
	if (loading && pthread_join(thread, NULL) != 0 && rc == 0)
		rc = cli_fail(EX_SOFTWARE, "cannot wait for the login states");
	if (rc == 0 && load.rc != 0)
		rc = load.rc; /* said by the load */
	sw.states = load.states;
	if (rc == 0)
		rc = kept_output(&sw);
	cli_state_table_free(sw.states);
	sw.states = NULL;
	chunk_end(&sw.c);
	kept_close(&sw);
	sodium_memzero(&sw.shown, sizeof(sw.shown)); /* the last row's phone */
	free(sw.arena);
	free(sw.rows);
	return rc;
}

typedef struct each_walk {
	chunk c;
	int rc;
} each_walk;

static int each_member(const twofa_member *m, void *arg)
{
	each_walk *e = arg;

	e->rc = chunk_add(&e->c, m);
	if (e->rc == 0 && (e->c.rows >= CHUNK_ROWS || ftell(e->c.text) >= CHUNK_BYTES))
		e->rc = chunk_flush(&e->c);
	return e->rc != 0;
}

static int each_bad(const char *key, const char *why, void *arg)
{
	each_walk *e = arg;

	chunk_damaged(&e->c, key, why);
	return 0;
}

int cli_walk_all(cli_context *ctx, cli_member_walk *w)
{
	twofa_member_store *s;
	twofa_error err;
	each_walk e;
	int rc;

	if ((rc = cli_members(ctx, &s)) != 0)
		return rc;
	if ((rc = chunk_start(&e.c, w, ctx->config.state_db)) != 0)
		return rc;
	e.rc = 0;
	twofa_error_clear(&err);
	if (twofa_member_store_each(s, each_member, each_bad, &e, &err) != TWOFA_OK)
		rc = e.rc != 0 ? e.rc : cli_fail_status(&err);
	else
		rc = e.rc != 0 ? e.rc : chunk_flush(&e.c);
	chunk_end(&e.c);
	return rc;
}
