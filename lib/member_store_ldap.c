/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The member store on a directory (store = ldap): each member is the
 * twofaMember class and attributes on a user entry under ldap_base
 * (lib/ldap_member.c maps them), found with ldap_filter through
 * lib/ldap_conn.h. Every lookup is "exactly one entry or fail closed": a
 * name that matches two entries (a uid in two subtrees) is an error, never
 * the first one. Writes go to ldap_write_uri; an update asserts the version
 * it read (RFC 4528), so two admins changing one member at once cannot lose
 * an update silently. listing pages through the members (RFC 2696) with one
 * page in memory at a time. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "ldap_conn.h"
#include "ldap_member.h"
#include "member_store_backend.h"
#include "util.h"

#define MEMBER_FILTER "(objectClass=" TWOFA_LDAP_MEMBER_CLASS ")"
#define PAGE_SIZE 500
/* Attributes one entry may bring back: the 18 asked for, with room for a
 * server that sends more; beyond that the entry is refused. */
#define ENTRY_ATTRS_MAX 32

typedef struct ldap_store {
	twofa_ldap *read;  /* LOGIN: ldap_uri in order; ADMIN: unused (it reads where it writes) */
	twofa_ldap *write; /* ldap_write_uri */
	/* LOGIN: the PAM call's directory time, shared by its store calls
	 * (from open, or from twofa_member_store_new_call); ADMIN: each call's. */
	twofa_ldap_budget budget;
	long long call_end_ms; /* the running call's deadline */
	bool failed;           /* a connect found no server: not worth keeping (twofad's pool) */
} ldap_store;

static ldap_store *store_of(twofa_member_store *s)
{
	return s->impl;
}

/* ---- connections ---- */

/* The handle's connection for reading or writing, made on first use.
 * *fresh tells whether it was made just now (a reused one may have died
 * since, and is worth one reconnect). ADMIN handles read where they write,
 * so that an update reads the version it asserts from the same server. */
static twofa_status conn(twofa_member_store *s, bool write, twofa_ldap **out, bool *fresh, twofa_error *err)
{
	ldap_store *ls = store_of(s);
	bool admin = s->role == TWOFA_MEMBER_STORE_ADMIN;
	twofa_ldap **slot = write || admin ? &ls->write : &ls->read;
	twofa_status st;

	*fresh = false;
	/* A connection that failed is of no more use (ldap_conn gives no handle). */
	if (*slot != NULL && twofa_ldap_handle(*slot) == NULL) {
		twofa_ldap_close(*slot);
		*slot = NULL;
	}
	if (*slot == NULL) {
		st = twofa_ldap_connect_until(slot, s->cfg, admin ? TWOFA_LDAP_ADMIN : TWOFA_LDAP_LOGIN,
					      write || admin, ls->call_end_ms, err);
		if (st != TWOFA_OK) {
			ls->failed = true;
			return st;
		}
		*fresh = true;
	}
	*out = *slot;
	return TWOFA_OK;
}

/* A store call runs on the budget: a LOGIN handle's is its PAM call's, so
 * two store calls of one login wait ldap_timeout x 2 in all, not each;
 * an ADMIN handle (twofa-enroll: long batches, an import of 100k) gives each
 * call a whole one. Every operation pairs begin_call with end_call. */
static void begin_call(twofa_member_store *s)
{
	ldap_store *ls = store_of(s);

	if (s->role == TWOFA_MEMBER_STORE_ADMIN)
		twofa_ldap_budget_init(&ls->budget, s->cfg);
	ls->call_end_ms = twofa_ldap_budget_resume(&ls->budget);
	twofa_ldap_set_deadline(ls->read, ls->call_end_ms);
	twofa_ldap_set_deadline(ls->write, ls->call_end_ms);
}

static twofa_status end_call(twofa_member_store *s, twofa_status st)
{
	twofa_ldap_budget_pause(&store_of(s)->budget);
	return st;
}

static void drop_conn(twofa_member_store *s, twofa_ldap *l)
{
	ldap_store *ls = store_of(s);

	if (ls->read == l)
		ls->read = NULL;
	if (ls->write == l)
		ls->write = NULL;
	twofa_ldap_close(l);
}

/* A struct timeval for the next operation, or TWOFA_EUNAVAIL when the
 * budget is spent. */
static twofa_status op_timeout(twofa_ldap *l, struct timeval *tv, twofa_error *err)
{
	long ms = twofa_ldap_op_deadline_ms(l);

	if (ms <= 0)
		return twofa_fail(err, TWOFA_EUNAVAIL, "ldap: %s: no time left for the directory",
				  twofa_ldap_uri(l));
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return TWOFA_OK;
}

static int scope_of(const twofa_config *cfg)
{
	return cfg->ldap_scope == TWOFA_LDAP_SCOPE_SUB ? LDAP_SCOPE_SUBTREE : LDAP_SCOPE_ONELEVEL;
}

/* A search whose result code counts: ldap_base missing is a broken
 * configuration, never "not enrolled" (which could let a login through). */
static twofa_status search_failed(twofa_member_store *s, twofa_ldap *l, int rc, twofa_error *err)
{
	if (rc == LDAP_NO_SUCH_OBJECT)
		return twofa_fail(err, TWOFA_ESTORE, "ldap: %s: ldap_base %s does not exist",
				  twofa_ldap_uri(l), s->cfg->ldap_base);
	return twofa_ldap_fail(l, rc, "search", err);
}

/* One search on the handle's connection. If may_reconnect, a connection
 * that was reused and turns out dead is made again once: a call finds out at
 * its first operation, always a search, before it changes anything. *res is
 * set whatever happens (free with ldap_msgfree); *code is the result code
 * (LDAP_SUCCESS or LDAP_SIZELIMIT_EXCEEDED on TWOFA_OK). */
static twofa_status search(twofa_member_store *s, bool write, bool may_reconnect, const char *filter,
			   char *const *attrs, int size_limit, LDAPControl **ctrls, twofa_ldap **used,
			   LDAPMessage **res, int *code, twofa_error *err)
{
	for (int attempt = 0;; attempt++) {
		struct timeval tv;
		twofa_ldap *l;
		twofa_status st;
		bool fresh;
		int rc;

		*res = NULL;
		if ((st = conn(s, write, &l, &fresh, err)) != TWOFA_OK ||
		    (st = op_timeout(l, &tv, err)) != TWOFA_OK)
			return st;
		rc = ldap_search_ext_s(twofa_ldap_handle(l), s->cfg->ldap_base, scope_of(s->cfg), filter,
				       (char **)attrs, 0, ctrls, NULL, &tv, size_limit, res);
		*used = l;
		*code = rc;
		if ((rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR) && may_reconnect && !fresh &&
		    attempt == 0) {
			ldap_msgfree(*res);
			drop_conn(s, l);
			continue;
		}
		if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED)
			return TWOFA_OK;
		ldap_msgfree(*res);
		*res = NULL;
		return search_failed(s, l, rc, err);
	}
}

/* ---- one entry ---- */

/* The entry of a search for one name: exactly one, or TWOFA_ENOTFOUND for
 * none and TWOFA_ESTORE for more (size limit 2: LDAP_SIZELIMIT_EXCEEDED is
 * "more than one" as well). */
typedef struct found {
	twofa_ldap *l;
	LDAPMessage *res;
	LDAPMessage *entry;
	char *dn;
} found;

static void found_free(found *f)
{
	ldap_msgfree(f->res);
	ldap_memfree(f->dn);
	memset(f, 0, sizeof(*f));
}

static twofa_status find_one(twofa_member_store *s, bool write, const char *filter, char *const *attrs,
			     const char *user, found *f, twofa_error *err)
{
	twofa_status st;
	int n, code = LDAP_SUCCESS;

	memset(f, 0, sizeof(*f));
	if ((st = search(s, write, true, filter, attrs, 2, NULL, &f->l, &f->res, &code, err)) != TWOFA_OK)
		return st;
	n = ldap_count_entries(twofa_ldap_handle(f->l), f->res);
	if (n > 1 || code == LDAP_SIZELIMIT_EXCEEDED) {
		found_free(f);
		return twofa_fail(err, TWOFA_ESTORE,
				  "ldap: %d or more entries under %s match %s: twofa uses none of them "
				  "(a uid in two subtrees?)",
				  n > 2 ? n : 2, s->cfg->ldap_base, user);
	}
	if (n <= 0) {
		found_free(f);
		return n < 0 ? twofa_fail(err, TWOFA_ESTORE,
					  "ldap: cannot read the result of a search for %s", user)
			     : twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user);
	}
	f->entry = ldap_first_entry(twofa_ldap_handle(f->l), f->res);
	f->dn = f->entry != NULL ? ldap_get_dn(twofa_ldap_handle(f->l), f->entry) : NULL;
	if (f->dn == NULL) {
		found_free(f);
		return twofa_fail(err, TWOFA_ESTORE, "ldap: the entry found for %s has no DN", user);
	}
	return TWOFA_OK;
}

/* An entry's attributes as lib/ldap_member takes them. */
typedef struct entry_attrs {
	size_t n;
	twofa_ldap_attr attr[ENTRY_ATTRS_MAX];
} entry_attrs;

/* Wipes every value (one of them is the password hash) before freeing. */
static void attrs_free(entry_attrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		for (size_t v = 0; a->attr[i].values != NULL && a->attr[i].values[v] != NULL; v++)
			sodium_memzero(a->attr[i].values[v]->bv_val, a->attr[i].values[v]->bv_len);
		ldap_value_free_len(a->attr[i].values);
		ldap_memfree((char *)a->attr[i].name);
	}
	memset(a, 0, sizeof(*a));
}

static twofa_status attrs_read(LDAP *ld, LDAPMessage *entry, entry_attrs *a, twofa_error *err)
{
	BerElement *ber = NULL;
	twofa_status st = TWOFA_OK;

	memset(a, 0, sizeof(*a));
	for (char *name = ldap_first_attribute(ld, entry, &ber); name != NULL;
	     name = ldap_next_attribute(ld, entry, ber)) {
		if (a->n == ENTRY_ATTRS_MAX) {
			ldap_memfree(name);
			st = twofa_fail(err, TWOFA_ESTORE, "ldap: an entry with more than %d attributes",
					ENTRY_ATTRS_MAX);
			break;
		}
		a->attr[a->n].name = name;
		a->attr[a->n].values = ldap_get_values_len(ld, entry, name);
		a->n++;
	}
	ber_free(ber, 0);
	if (st != TWOFA_OK)
		attrs_free(a);
	return st;
}

static twofa_status decode_entry(LDAP *ld, LDAPMessage *entry, const char *user, twofa_member *m,
				 twofa_error *err)
{
	entry_attrs a;
	twofa_status st;

	memset(m, 0, sizeof(*m));
	if ((st = attrs_read(ld, entry, &a, err)) != TWOFA_OK)
		return st;
	st = twofa_ldap_member_decode(a.attr, a.n, user, m, err);
	attrs_free(&a);
	return st;
}

/* The values of one attribute, NULL-terminated (free with ldap_value_free_len). */
static bool has_value(struct berval **values, const char *value, bool ignore_case)
{
	size_t len = strlen(value);

	for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
		if (values[i]->bv_len == len && (ignore_case ? strncasecmp(values[i]->bv_val, value, len) == 0
							     : memcmp(values[i]->bv_val, value, len) == 0))
			return true;
	}
	return false;
}

/* Whether the entry is user's membership: twofaUser is the name, byte for byte. */
static bool is_members(LDAP *ld, LDAPMessage *entry, const char *user)
{
	struct berval **values = ldap_get_values_len(ld, entry, TWOFA_LDAP_USER_ATTR);
	bool yes = values != NULL && values[0] != NULL && values[1] == NULL && has_value(values, user, false);

	ldap_value_free_len(values);
	return yes;
}

/* user's member entry (the member filter, then twofaUser exactly). */
static twofa_status find_member(twofa_member_store *s, bool write, const char *user, char *const *attrs,
				found *f, twofa_error *err)
{
	char *filter = NULL;
	twofa_status st;

	if ((st = twofa_ldap_member_filter(s->cfg, user, &filter, err)) != TWOFA_OK)
		return st == TWOFA_EINVAL ? twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user) : st;
	st = find_one(s, write, filter, attrs, user, f, err);
	free(filter);
	return st;
}

static twofa_status read_member(twofa_member_store *s, bool write, const char *user, twofa_member *m,
				found *f, twofa_error *err)
{
	twofa_error why = {TWOFA_OK, ""};
	twofa_status st;

	memset(m, 0, sizeof(*m));
	if ((st = find_member(s, write, user, twofa_ldap_member_attrs, f, err)) != TWOFA_OK)
		return st;
	st = decode_entry(twofa_ldap_handle(f->l), f->entry, user, m, &why);
	if (st == TWOFA_ENOTFOUND)
		twofa_error_set(err, st, "%s is not enrolled", user);
	else if (st != TWOFA_OK)
		twofa_error_set(err, st, "ldap: %s: %s", f->dn, why.msg);
	if (st != TWOFA_OK)
		found_free(f);
	return st;
}

/* ---- the operations ---- */

static twofa_status ldap_open(twofa_member_store *s, twofa_error *err)
{
	const twofa_config *cfg = s->cfg;
	const char *uris = s->role == TWOFA_MEMBER_STORE_ADMIN && cfg->ldap_write_uri != NULL
				   ? cfg->ldap_write_uri
				   : cfg->ldap_uri;
	size_t len;

	if (cfg->ldap_uri == NULL || cfg->ldap_base == NULL || cfg->ldap_filter == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "store = ldap needs ldap_uri and ldap_base");
	if ((s->impl = calloc(1, sizeof(ldap_store))) == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	len = strlen("ldap ") + strlen(uris) + 1;
	if ((s->description = malloc(len)) == NULL) {
		free(s->impl);
		s->impl = NULL;
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}
	snprintf(s->description, len, "ldap %s", uris);
	twofa_ldap_budget_init(&store_of(s)->budget, cfg);
	return TWOFA_OK;
}

static void ldap_close(twofa_member_store *s)
{
	ldap_store *ls = store_of(s);

	if (ls == NULL)
		return;
	twofa_ldap_close(ls->read);
	twofa_ldap_close(ls->write);
	free(ls);
	s->impl = NULL;
}

static twofa_status ldap_load(twofa_member_store *s, const char *user, twofa_member *m, twofa_error *err)
{
	twofa_status st;
	found f;

	begin_call(s);
	st = read_member(s, false, user, m, &f, err);
	if (st == TWOFA_OK)
		found_free(&f);
	return end_call(s, st);
}

/* ldap_filter with the escaped name and without the member class: the
 * user's entry, enrolled or not, for add. (lib/ldap_filter.c builds only
 * the member filter.) */
static twofa_status user_filter(const twofa_config *cfg, const char *user, char **filter, twofa_error *err)
{
	char escaped[3 * TWOFA_USER_NAME_MAX + 1];
	size_t len = strnlen(user, TWOFA_USER_NAME_MAX + 1), size = 1, used = 0;
	char *out;

	*filter = NULL;
	if (len > TWOFA_USER_NAME_MAX || !twofa_ldap_escape_filter_value(user, len, escaped, sizeof(escaped)))
		return twofa_fail(err, TWOFA_EINVAL, "ldap: the login name does not fit a search filter");
	for (const char *t = cfg->ldap_filter; *t != '\0'; t++)
		size += t[0] == '%' && t[1] == 'u' ? strlen(escaped) : 1;
	if ((out = malloc(size)) == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	for (const char *t = cfg->ldap_filter; *t != '\0'; t++) {
		if (t[0] == '%' && t[1] == 'u') {
			memcpy(out + used, escaped, strlen(escaped));
			used += strlen(escaped);
			t++;
		} else {
			out[used++] = *t;
		}
	}
	out[used] = '\0';
	*filter = out;
	return TWOFA_OK;
}

/* A value to delete that is gone, or one to add that is there: another
 * writer (a login consuming a code) got in between this caller's read and
 * its write. */
static bool lost_race(int rc)
{
	return rc == LDAP_NO_SUCH_ATTRIBUTE || rc == LDAP_TYPE_OR_VALUE_EXISTS;
}

static int modify_rc(twofa_ldap *l, const char *dn, twofa_ldap_mods *mods, LDAPControl **ctrls)
{
	int rc = ldap_modify_ext_s(twofa_ldap_handle(l), dn, mods->list, ctrls, NULL);

	twofa_ldap_mods_clear(mods);
	return rc;
}

static twofa_status modify(twofa_ldap *l, const char *dn, twofa_ldap_mods *mods, LDAPControl **ctrls,
			   twofa_error *err)
{
	int rc = modify_rc(l, dn, mods, ctrls);

	return rc == LDAP_SUCCESS ? TWOFA_OK : twofa_ldap_fail(l, rc, "modify", err);
}

/* No entry for the name: a minimal one under ldap_base. */
static twofa_status create_entry(twofa_member_store *s, const twofa_member *m, twofa_error *err)
{
	twofa_ldap_mods mods;
	twofa_ldap *l;
	twofa_status st;
	bool fresh;
	char *dn = NULL;
	int rc;

	if ((st = conn(s, true, &l, &fresh, err)) != TWOFA_OK ||
	    (st = twofa_ldap_member_dn(m->user, s->cfg->ldap_base, &dn, err)) != TWOFA_OK)
		return st;
	if ((st = twofa_ldap_member_mods(m, TWOFA_LDAP_MODS_CREATE, &mods, err)) != TWOFA_OK) {
		free(dn);
		return st;
	}
	rc = ldap_add_ext_s(twofa_ldap_handle(l), dn, mods.list, NULL, NULL);
	twofa_ldap_mods_clear(&mods);
	if (rc == LDAP_ALREADY_EXISTS)
		st = twofa_fail(err, TWOFA_EEXIST, "ldap: %s exists but ldap_filter does not find it for %s",
				dn, m->user);
	else if (rc != LDAP_SUCCESS)
		st = twofa_ldap_fail(l, rc, "add", err);
	free(dn);
	return st;
}

/* The user's entry as ldap_filter finds it, member or not yet. */
static char *const entry_attrs_asked[] = {"objectClass", "uid", TWOFA_LDAP_USER_ATTR, NULL};

static twofa_status put_member(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
			       twofa_error *err)
{
	twofa_member record = *m; /* shallow: only the version may differ */
	twofa_ldap_mods mods;
	struct berval **values;
	char *filter = NULL;
	twofa_status st;
	LDAP *ld;
	found f;
	bool member;

	/* A record from before versions is stored as version 1 (the class
	 * requires twofaVersion). */
	if (record.version == 0)
		record.version = 1;
	if ((st = user_filter(s->cfg, m->user, &filter, err)) != TWOFA_OK)
		return st;
	st = find_one(s, true, filter, entry_attrs_asked, m->user, &f, err);
	free(filter);
	if (st == TWOFA_ENOTFOUND)
		return create_entry(s, &record, err);
	if (st != TWOFA_OK)
		return st;
	ld = twofa_ldap_handle(f.l);
	values = ldap_get_values_len(ld, f.entry, "objectClass");
	member = has_value(values, TWOFA_LDAP_MEMBER_CLASS, true);
	ldap_value_free_len(values);
	if (member && !is_members(ld, f.entry, m->user)) {
		st = twofa_fail(err, TWOFA_ESTORE, "ldap: %s, found for %s, is another member's", f.dn,
				m->user);
	} else if (member && mode != TWOFA_MEMBER_PUT_REPLACE) {
		/* ADD, and IMPORT: a member enrolled since the caller checked. */
		st = twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", m->user);
	} else {
		/* uid matches case-insensitively: alice's entry is not Alice's. */
		values = ldap_get_values_len(ld, f.entry, "uid");
		if (values != NULL && values[0] != NULL && !has_value(values, m->user, false))
			st = twofa_fail(err, TWOFA_ESTORE, "ldap: %s, found for %s, has another uid", f.dn,
					m->user);
		ldap_value_free_len(values);
		if (st == TWOFA_OK)
			st = twofa_ldap_member_mods(&record,
						    member ? TWOFA_LDAP_MODS_REPLACE
							   : TWOFA_LDAP_MODS_ADD_CLASS,
						    &mods, err);
		if (st == TWOFA_OK) {
			st = modify(f.l, f.dn, &mods, NULL, err);
			/* Someone added the class between our search and our add. */
			if (st == TWOFA_EEXIST)
				twofa_error_set(err, st, "%s is already enrolled", m->user);
		}
	}
	found_free(&f);
	sodium_memzero(&record, sizeof(record));
	return st;
}

static twofa_status ldap_put(twofa_member_store *s, const twofa_member *m, twofa_member_put_mode mode,
			     twofa_error *err)
{
	begin_call(s);
	return end_call(s, put_member(s, m, mode, err));
}

/* The assertion of an update: the version as read is still there. */
static twofa_status version_assertion(twofa_ldap *l, unsigned long long version, LDAPControl **ctrl,
				      twofa_error *err)
{
	char filter[64];
	int rc;

	if (version == 0)
		snprintf(filter, sizeof(filter), "(!(%s=*))", TWOFA_LDAP_VERSION_ATTR);
	else
		snprintf(filter, sizeof(filter), "(%s=%llu)", TWOFA_LDAP_VERSION_ATTR, version);
	rc = ldap_create_assertion_control(twofa_ldap_handle(l), filter, 1, ctrl);
	return rc == LDAP_SUCCESS ? TWOFA_OK : twofa_ldap_fail(l, rc, "assertion control", err);
}

/* Writes only what the change changed (twofa_ldap_member_change_mods), with
 * the version read asserted: a code a login consumed meanwhile (which moves
 * no version) is not written back, and a code set the change edits value by
 * value fails when one of its values went meanwhile. */
static twofa_status update_member(twofa_member_store *s, const char *user, twofa_member_change change,
				  void *arg, twofa_error *err)
{
	LDAPControl *assertion = NULL, *ctrls[2] = {NULL, NULL};
	twofa_ldap_mods mods;
	twofa_member m, was;
	twofa_status st;
	found f;
	int rc;

	memset(&was, 0, sizeof(was));
	if ((st = read_member(s, true, user, &m, &f, err)) != TWOFA_OK)
		return st;
	/* The record as read, again from the same answer: change edits m. */
	if ((st = decode_entry(twofa_ldap_handle(f.l), f.entry, user, &was, err)) != TWOFA_OK)
		goto out;
	st = change(&m, arg, err);
	if (st == TWOFA_EEXIST) {
		st = TWOFA_OK; /* nothing to store */
		goto out;
	}
	if (st != TWOFA_OK || (st = version_assertion(f.l, was.version, &assertion, err)) != TWOFA_OK ||
	    (st = twofa_ldap_member_change_mods(&was, &m, &mods, err)) != TWOFA_OK)
		goto out;
	ctrls[0] = assertion;
	rc = modify_rc(f.l, f.dn, &mods, ctrls);
	if (rc == LDAP_SUCCESS)
		st = TWOFA_OK;
	else if (rc == LDAP_ASSERTION_FAILED || lost_race(rc))
		st = twofa_fail(err, TWOFA_ECONFLICT,
				"%s was changed by someone else meanwhile: run the command again", user);
	else
		st = twofa_ldap_fail(f.l, rc, "modify", err);
out:
	ldap_control_free(assertion);
	found_free(&f);
	twofa_member_free(&m);
	twofa_member_free(&was);
	return st;
}

static twofa_status ldap_update(twofa_member_store *s, const char *user, twofa_member_change change,
				void *arg, twofa_error *err)
{
	begin_call(s);
	return end_call(s, update_member(s, user, change, arg, err));
}

static twofa_status remove_member(twofa_member_store *s, const char *user, twofa_error *err)
{
	twofa_ldap_mods mods;
	twofa_status st;
	found f;

	if ((st = find_member(s, true, user, twofa_ldap_user_attrs, &f, err)) != TWOFA_OK)
		return st;
	if (!is_members(twofa_ldap_handle(f.l), f.entry, user))
		st = twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user);
	else if ((st = twofa_ldap_member_mods(NULL, TWOFA_LDAP_MODS_REMOVE, &mods, err)) == TWOFA_OK)
		st = modify(f.l, f.dn, &mods, NULL, err);
	found_free(&f);
	return st;
}

static twofa_status ldap_remove(twofa_member_store *s, const char *user, twofa_error *err)
{
	begin_call(s);
	return end_call(s, remove_member(s, user, err));
}

/* ---- a login's one write: consuming a code ---- */

/* Deletes exactly one value of attr on dn, and nothing else: the modify a
 * login identity may make (etc/ldap/twofa-access.*). The value not there
 * (LDAP_NO_SUCH_ATTRIBUTE) is another consumer's win: TWOFA_ECONFLICT. */
static twofa_status delete_value(twofa_ldap *l, const char *dn, const char *attr, const struct berval *value,
				 twofa_error *err)
{
	struct berval bv = *value, *values[2] = {&bv, NULL};
	LDAPMod mod = {.mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
		       .mod_type = (char *)attr,
		       .mod_bvalues = values};
	LDAPMod *list[2] = {&mod, NULL};
	int rc = ldap_modify_ext_s(twofa_ldap_handle(l), dn, list, NULL, NULL);

	if (rc == LDAP_SUCCESS)
		return TWOFA_OK;
	if (rc == LDAP_NO_SUCH_ATTRIBUTE)
		return twofa_fail(err, TWOFA_ECONFLICT, "ldap: that code of %s was used already or replaced",
				  dn);
	return twofa_ldap_fail(l, rc, "modify", err);
}

#define BYPASS_ATTR "twofaBypassCode"
#define RECOVERY_ATTR "twofaRecoveryCode"
static char *const bypass_attrs[] = {TWOFA_LDAP_USER_ATTR, BYPASS_ATTR, NULL};

/* The value of a use of the bypass code hash: "<hash> <expires> <n>[ <issuer>]",
 * the one with the highest n (so that the remaining ones keep 1..N); NULL if
 * none is left. */
static const struct berval *last_use(struct berval **values, const char *hash)
{
	size_t hash_len = strlen(hash);
	const struct berval *best = NULL;
	long best_n = 0;

	for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
		const struct berval *bv = values[i];
		size_t at = hash_len + 1 + TWOFA_LDAP_TIME_SIZE; /* "<hash> <expires> " */
		long n = 0;

		if (bv->bv_len <= at || memcmp(bv->bv_val, hash, hash_len) != 0 || bv->bv_val[hash_len] != ' ')
			continue;
		for (; at < bv->bv_len && bv->bv_val[at] >= '0' && bv->bv_val[at] <= '9' && n < 1000; at++)
			n = n * 10 + (bv->bv_val[at] - '0');
		if (best == NULL || n > best_n) {
			best = bv;
			best_n = n;
		}
	}
	return best;
}

static twofa_status consume_bypass(twofa_member_store *s, const char *user, const char *hash, twofa_error *err)
{
	twofa_status st = TWOFA_ECONFLICT;

	/* Each lost race is a use another login took: at most one try per use. */
	for (int attempt = 0; attempt < TWOFA_MEMBER_BYPASS_USES_MAX; attempt++) {
		struct berval **values;
		const struct berval *use;
		found f;

		if ((st = find_member(s, true, user, bypass_attrs, &f, err)) != TWOFA_OK)
			return st;
		if (!is_members(twofa_ldap_handle(f.l), f.entry, user)) {
			found_free(&f);
			return twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user);
		}
		values = ldap_get_values_len(twofa_ldap_handle(f.l), f.entry, BYPASS_ATTR);
		use = last_use(values, hash);
		st = use == NULL ? twofa_fail(err, TWOFA_ECONFLICT,
					      "the bypass code of %s is used up or was replaced", user)
				 : delete_value(f.l, f.dn, BYPASS_ATTR, use, err);
		ldap_value_free_len(values);
		found_free(&f);
		if (st != TWOFA_ECONFLICT || use == NULL)
			return st;
	}
	return st;
}

static twofa_status consume_code(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
				 const char *hash, twofa_error *err)
{
	struct berval value = {strlen(hash), (char *)hash};
	twofa_status st;
	found f;

	if (kind == TWOFA_MEMBER_CODE_BYPASS)
		return consume_bypass(s, user, hash, err);
	/* The value is the hash itself: no read of the codes needed, only the DN. */
	if ((st = find_member(s, true, user, twofa_ldap_user_attrs, &f, err)) != TWOFA_OK)
		return st;
	if (!is_members(twofa_ldap_handle(f.l), f.entry, user))
		st = twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user);
	else
		st = delete_value(f.l, f.dn, RECOVERY_ATTR, &value, err);
	found_free(&f);
	return st;
}

static twofa_status ldap_consume(twofa_member_store *s, const char *user, twofa_member_code_kind kind,
				 const char *hash, twofa_error *err)
{
	begin_call(s);
	return end_call(s, consume_code(s, user, kind, hash, err));
}

/* ---- a login's self-enrolment (etc/ldap/twofa-enrol.*) ---- */

/* After a refused enrolment modify: whether user is a member now (another
 * enrolment won), read again on the write connection. */
static bool enrolled_now(twofa_member_store *s, const char *user)
{
	twofa_member m;
	twofa_error ignored;
	bool yes = false;
	found f;

	if (read_member(s, true, user, &m, &f, &ignored) == TWOFA_OK) {
		yes = m.status != TWOFA_MEMBER_INVITED;
		found_free(&f);
	}
	twofa_member_free(&m);
	return yes;
}

/* A refused enrolment modify: another enrolment's win (the entry is a member
 * now) is TWOFA_EEXIST; else lost (TWOFA_EPERM, saying what) or the server's
 * error. */
static twofa_status enrol_refused(twofa_member_store *s, twofa_ldap *l, const char *user, int rc,
				  const char *lost, twofa_error *err)
{
	if (rc != LDAP_INSUFFICIENT_ACCESS && rc != LDAP_NO_SUCH_ATTRIBUTE && rc != LDAP_TYPE_OR_VALUE_EXISTS)
		return twofa_ldap_fail(l, rc, "modify", err);
	if (enrolled_now(s, user))
		return twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", user);
	if (rc == LDAP_INSUFFICIENT_ACCESS)
		return twofa_fail(err, TWOFA_EPERM,
				  "ldap: %s refused the enrolment of %s: the login identity needs the rights "
				  "of etc/ldap/twofa-enrol.ldif for this entry",
				  twofa_ldap_uri(l), user);
	return twofa_fail(err, TWOFA_EPERM, "%s", lost);
}

/* Self mode: the class and the member's attributes added to the user's
 * entry in one modify, which fails when the class is there already. */
static twofa_status enrol_self(twofa_member_store *s, const twofa_member *m, twofa_error *err)
{
	twofa_ldap_mods mods;
	struct berval **values;
	char *filter = NULL;
	twofa_status st;
	bool member;
	LDAP *ld;
	found f;
	int rc;

	if ((st = user_filter(s->cfg, m->user, &filter, err)) != TWOFA_OK)
		return st;
	st = find_one(s, true, filter, entry_attrs_asked, m->user, &f, err);
	free(filter);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_EPERM,
				  "ldap: %s has no entry under %s: self-enrolment needs the user's entry",
				  m->user, s->cfg->ldap_base);
	if (st != TWOFA_OK)
		return st;
	ld = twofa_ldap_handle(f.l);
	values = ldap_get_values_len(ld, f.entry, "objectClass");
	member = has_value(values, TWOFA_LDAP_MEMBER_CLASS, true);
	ldap_value_free_len(values);
	values = ldap_get_values_len(ld, f.entry, "uid");
	if (member)
		st = twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", m->user);
	else if (values != NULL && values[0] != NULL && !has_value(values, m->user, false))
		st = twofa_fail(err, TWOFA_ESTORE, "ldap: %s, found for %s, has another uid", f.dn, m->user);
	ldap_value_free_len(values);
	if (st == TWOFA_OK &&
	    (st = twofa_ldap_member_mods(m, TWOFA_LDAP_MODS_ADD_CLASS, &mods, err)) == TWOFA_OK) {
		rc = modify_rc(f.l, f.dn, &mods, NULL);
		if (rc != LDAP_SUCCESS)
			st = enrol_refused(s, f.l, m->user, rc, "the entry changed meanwhile", err);
	}
	found_free(&f);
	return st;
}

/* Invite mode: the invited entry becomes the member in one modify that
 * deletes the exact invite value read, so of two enrolments with one
 * invite only one finds it to delete. */
static twofa_status enrol_invite(twofa_member_store *s, const twofa_member *m, const char *code, time_t now,
				 twofa_error *err)
{
	twofa_member was, stored = *m; /* shallow: only the version differs */
	struct berval **invite = NULL;
	twofa_ldap_mods mods;
	twofa_status st;
	found f;
	int rc;

	st = read_member(s, true, m->user, &was, &f, err);
	if (st == TWOFA_ENOTFOUND)
		return twofa_fail(err, TWOFA_EPERM, "no valid invite for %s", m->user);
	if (st != TWOFA_OK)
		return st;
	if (was.status != TWOFA_MEMBER_INVITED)
		st = twofa_fail(err, TWOFA_EEXIST, "%s is already enrolled", m->user);
	else if (!twofa_member_invite_matches(&was, code, now) ||
		 (invite = ldap_get_values_len(twofa_ldap_handle(f.l), f.entry, "twofaInvite")) == NULL ||
		 invite[0] == NULL)
		st = twofa_fail(err, TWOFA_EPERM, "no valid invite for %s", m->user);
	if (st == TWOFA_OK) {
		stored.version = was.version + 1;
		st = twofa_ldap_member_enrol_mods(&was, &stored, invite[0]->bv_val, invite[0]->bv_len, &mods,
						  err);
	}
	if (st == TWOFA_OK) {
		rc = modify_rc(f.l, f.dn, &mods, NULL);
		if (rc != LDAP_SUCCESS)
			st = enrol_refused(s, f.l, m->user, rc,
					   "no valid invite (used or replaced meanwhile)", err);
	}
	ldap_value_free_len(invite);
	found_free(&f);
	twofa_member_free(&was);
	return st;
}

static twofa_status ldap_enrol(twofa_member_store *s, const twofa_member *m, const char *invite_code,
			       time_t now, twofa_error *err)
{
	begin_call(s);
	return end_call(s, invite_code == NULL ? enrol_self(s, m, err)
					       : enrol_invite(s, m, invite_code, now, err));
}

/* The members with the number: a search on twofaPhone (caseExactIA5Match),
 * with a size limit one above what a count may say. */
static twofa_status phone_users(twofa_member_store *s, const char *e164, const char *except, size_t *count,
				twofa_error *err)
{
	char escaped[3 * TWOFA_E164_SIZE + 1], filter[sizeof(escaped) + 64];
	LDAPMessage *res = NULL;
	twofa_ldap *l = NULL;
	twofa_status st;
	int code = LDAP_SUCCESS;

	if (!twofa_ldap_escape_filter_value(e164, strlen(e164), escaped, sizeof(escaped)))
		return twofa_fail(err, TWOFA_EINVAL, "ldap: the phone number does not fit a search filter");
	snprintf(filter, sizeof(filter), "(&" MEMBER_FILTER "(twofaPhone=%s))", escaped);
	if ((st = search(s, false, true, filter, twofa_ldap_user_attrs, TWOFA_MEMBER_PHONE_USERS_MAX + 1,
			 NULL, &l, &res, &code, err)) != TWOFA_OK)
		return st;
	for (LDAPMessage *e = ldap_first_entry(twofa_ldap_handle(l), res);
	     e != NULL && *count < TWOFA_MEMBER_PHONE_USERS_MAX;
	     e = ldap_next_entry(twofa_ldap_handle(l), e)) {
		if (except == NULL || !is_members(twofa_ldap_handle(l), e, except))
			(*count)++;
	}
	if (code == LDAP_SIZELIMIT_EXCEEDED)
		*count = TWOFA_MEMBER_PHONE_USERS_MAX;
	ldap_msgfree(res);
	return TWOFA_OK;
}

static twofa_status ldap_phone_users(twofa_member_store *s, const char *e164, const char *except_user,
				     size_t *count, twofa_error *err)
{
	begin_call(s);
	return end_call(s, phone_users(s, e164, except_user, count, err));
}

/* Removes user's invited record, and only an invited one: the remove
 * asserts twofaStatus=invited (an enrolment in between fails it). */
static char *const status_attrs[] = {TWOFA_LDAP_USER_ATTR, "twofaStatus", NULL};

static twofa_status revoke_invite(twofa_member_store *s, const char *user, twofa_error *err)
{
	LDAPControl *assertion = NULL, *ctrls[2] = {NULL, NULL};
	twofa_ldap_mods mods;
	struct berval **status;
	twofa_status st;
	found f;
	int rc;

	if ((st = find_member(s, true, user, status_attrs, &f, err)) != TWOFA_OK)
		return st;
	status = ldap_get_values_len(twofa_ldap_handle(f.l), f.entry, "twofaStatus");
	if (!is_members(twofa_ldap_handle(f.l), f.entry, user))
		st = twofa_fail(err, TWOFA_ENOTFOUND, "%s is not enrolled", user);
	else if (!has_value(status, "invited", false))
		st = twofa_fail(err, TWOFA_EEXIST, "%s is enrolled, not invited", user);
	ldap_value_free_len(status);
	if (st == TWOFA_OK) {
		rc = ldap_create_assertion_control(twofa_ldap_handle(f.l), "(twofaStatus=invited)", 1,
						   &assertion);
		st = rc == LDAP_SUCCESS ? twofa_ldap_member_mods(NULL, TWOFA_LDAP_MODS_REMOVE, &mods, err)
					: twofa_ldap_fail(f.l, rc, "assertion control", err);
	}
	if (st == TWOFA_OK) {
		ctrls[0] = assertion;
		rc = modify_rc(f.l, f.dn, &mods, ctrls);
		if (rc == LDAP_ASSERTION_FAILED)
			st = twofa_fail(err, TWOFA_EEXIST,
					"%s enrolled meanwhile: the record is a member's now", user);
		else if (rc != LDAP_SUCCESS)
			st = twofa_ldap_fail(f.l, rc, "modify", err);
	}
	ldap_control_free(assertion);
	found_free(&f);
	return st;
}

static twofa_status ldap_revoke_invite(twofa_member_store *s, const char *user, twofa_error *err)
{
	begin_call(s);
	return end_call(s, revoke_invite(s, user, err));
}

/* ---- walks ---- */

/* Called for each entry of a walk: 0 goes on, 1 stops (TWOFA_OK), -1 fails
 * with err set. */
typedef int (*entry_fn)(LDAP *ld, LDAPMessage *entry, void *arg, twofa_error *err);

/* The page control of the answer: its cookie (empty: the last page). */
static twofa_status next_cookie(twofa_ldap *l, LDAPMessage *res, struct berval *cookie, twofa_error *err)
{
	LDAP *ld = twofa_ldap_handle(l);
	LDAPControl **ctrls = NULL, *page;
	ber_int_t estimate = 0;
	int code = LDAP_SUCCESS, rc;

	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	rc = ldap_parse_result(ld, res, &code, NULL, NULL, NULL, &ctrls, 0);
	if (rc != LDAP_SUCCESS || code != LDAP_SUCCESS) {
		ldap_controls_free(ctrls);
		return twofa_ldap_fail(l, rc != LDAP_SUCCESS ? rc : code, "paged search", err);
	}
	page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, NULL);
	/* The control was critical: a server that answers without one has
	 * sent everything. */
	if (page != NULL)
		rc = ldap_parse_pageresponse_control(ld, page, &estimate, cookie);
	ldap_controls_free(ctrls);
	return rc == LDAP_SUCCESS ? TWOFA_OK : twofa_ldap_fail(l, rc, "paged search", err);
}

/* A walk stopped early tells the server to drop the rest (RFC 2696: a page
 * size of 0 with the cookie), so a reused connection holds no paged search.
 * Best effort: the walk itself has succeeded. */
static void abandon_pages(twofa_member_store *s, twofa_ldap *l, char *const *attrs, struct berval *cookie)
{
	LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
	LDAPMessage *res = NULL;
	twofa_error ignored;
	int code;

	if (ldap_create_page_control(twofa_ldap_handle(l), 0, cookie, 1, &page) != LDAP_SUCCESS)
		return;
	ctrls[0] = page;
	(void)search(s, false, false, MEMBER_FILTER, attrs, 0, ctrls, &l, &res, &code, &ignored);
	ldap_msgfree(res);
	ldap_control_free(page);
}

/* Every member entry, PAGE_SIZE at a time, in no particular order. */
static twofa_status walk(twofa_member_store *s, char *const *attrs, entry_fn fn, void *arg, twofa_error *err)
{
	struct berval cookie = {0, NULL};
	twofa_status st = TWOFA_OK;
	bool first = true, stop = false;

	while (!stop && (first || cookie.bv_len > 0)) {
		LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL};
		LDAPMessage *res = NULL;
		twofa_ldap *l = NULL;
		bool fresh;
		int rc, code;

		/* The first page makes the connection, so that the control is
		 * made with it. */
		if ((st = conn(s, false, &l, &fresh, err)) != TWOFA_OK)
			break;
		rc = ldap_create_page_control(twofa_ldap_handle(l), PAGE_SIZE, first ? NULL : &cookie, 1,
					      &page);
		if (rc != LDAP_SUCCESS) {
			st = twofa_ldap_fail(l, rc, "page control", err);
			break;
		}
		ctrls[0] = page;
		/* The cookie is the connection's: only the first page may reconnect. */
		st = search(s, false, first, MEMBER_FILTER, attrs, 0, ctrls, &l, &res, &code, err);
		ldap_control_free(page);
		first = false;
		if (st != TWOFA_OK)
			break;
		for (LDAPMessage *e = ldap_first_entry(twofa_ldap_handle(l), res); e != NULL && !stop;
		     e = ldap_next_entry(twofa_ldap_handle(l), e)) {
			int r = fn(twofa_ldap_handle(l), e, arg, err);

			if (r < 0)
				st = err != NULL && err->status != TWOFA_OK ? err->status : TWOFA_ESTORE;
			stop = r != 0;
		}
		if (st == TWOFA_OK)
			st = next_cookie(l, res, &cookie, err);
		ldap_msgfree(res);
		if (st == TWOFA_OK && stop && cookie.bv_len > 0)
			abandon_pages(s, l, attrs, &cookie);
	}
	ber_memfree(cookie.bv_val);
	return st;
}

typedef struct names_walk {
	twofa_member_name_cb cb;
	void *arg;
} names_walk;

static int name_entry(LDAP *ld, LDAPMessage *entry, void *arg, twofa_error *err)
{
	const names_walk *w = arg;
	struct berval **values = ldap_get_values_len(ld, entry, TWOFA_LDAP_USER_ATTR);
	char name[TWOFA_USER_NAME_MAX + 1];
	bool one = values != NULL && values[0] != NULL && values[1] == NULL &&
		   values[0]->bv_len <= TWOFA_USER_NAME_MAX;
	int r;

	if (one) {
		memcpy(name, values[0]->bv_val, values[0]->bv_len);
		name[values[0]->bv_len] = '\0';
		one = strlen(name) == values[0]->bv_len && twofa_user_name_valid(name);
	}
	ldap_value_free_len(values);
	if (!one) {
		char *dn = ldap_get_dn(ld, entry);

		twofa_error_set(err, TWOFA_ESTORE, "ldap: %s has no single valid twofaUser",
				dn != NULL ? dn : "an entry");
		ldap_memfree(dn);
		return -1;
	}
	r = w->cb(name, w->arg);
	return r != 0 ? 1 : 0;
}

static twofa_status ldap_names(twofa_member_store *s, twofa_member_name_cb cb, void *arg, twofa_error *err)
{
	names_walk w = {cb, arg};

	begin_call(s);
	return end_call(s, walk(s, twofa_ldap_user_attrs, name_entry, &w, err));
}

typedef struct each_walk {
	twofa_member_cb cb;
	twofa_member_bad_cb bad;
	void *arg;
} each_walk;

static int member_entry(LDAP *ld, LDAPMessage *entry, void *arg, twofa_error *err)
{
	const each_walk *w = arg;
	twofa_error why = {TWOFA_OK, ""};
	twofa_member m;
	int r;

	(void)err;
	if (decode_entry(ld, entry, NULL, &m, &why) != TWOFA_OK) {
		char *dn = ldap_get_dn(ld, entry);

		r = w->bad(dn != NULL ? dn : "(an entry without a DN)", why.msg, w->arg);
		ldap_memfree(dn);
		return r != 0 ? 1 : 0;
	}
	r = w->cb(&m, w->arg);
	twofa_member_free(&m);
	return r != 0 ? 1 : 0;
}

static twofa_status ldap_each(twofa_member_store *s, twofa_member_cb cb, twofa_member_bad_cb bad, void *arg,
			      twofa_error *err)
{
	each_walk w = {cb, bad, arg};

	begin_call(s);
	return end_call(s, walk(s, twofa_ldap_member_attrs, member_entry, &w, err));
}

static int count_name(const char *user, void *arg)
{
	(void)user;
	(*(size_t *)arg)++;
	return 0;
}

static twofa_status ldap_count(twofa_member_store *s, size_t *count, twofa_error *err)
{
	*count = 0;
	return ldap_names(s, count_name, count, err);
}

/* ---- a PAM call on a kept handle ---- */

static void ldap_new_call(twofa_member_store *s)
{
	ldap_store *ls = store_of(s);

	twofa_ldap_budget_init(&ls->budget, s->cfg);
	/* A connection that failed is of no more use: the next call connects. */
	if (twofa_ldap_broken(ls->read))
		drop_conn(s, ls->read);
	if (twofa_ldap_broken(ls->write))
		drop_conn(s, ls->write);
}

/* sssd's offline mode: every server of ldap_uri failed moments ago (the
 * dead-server memory), so a login takes its cached record at once instead of
 * waiting on them again. An open connection is tried all the same. */
static bool ldap_offline(twofa_member_store *s, twofa_error *why)
{
	ldap_store *ls = store_of(s);

	if (s->role != TWOFA_MEMBER_STORE_LOGIN || (ls->read != NULL && !twofa_ldap_broken(ls->read)))
		return false;
	return twofa_ldap_all_dead(s->cfg, why);
}

static bool ldap_healthy(const twofa_member_store *s)
{
	const ldap_store *ls = s->impl;

	return !ls->failed && !twofa_ldap_broken(ls->read) && !twofa_ldap_broken(ls->write);
}

const twofa_member_store_ops twofa_member_store_ldap_ops = {
	.open = ldap_open,
	.close = ldap_close,
	.load = ldap_load,
	.put = ldap_put,
	.update = ldap_update,
	.remove = ldap_remove,
	.names = ldap_names,
	.each = ldap_each,
	.count = ldap_count,
	.batch_begin = NULL,
	.batch_end = NULL,
	.consume = ldap_consume,
	.enrol = ldap_enrol,
	.phone_users = ldap_phone_users,
	.revoke_invite = ldap_revoke_invite,
	.new_call = ldap_new_call,
	.offline = ldap_offline,
	.healthy = ldap_healthy,
};
