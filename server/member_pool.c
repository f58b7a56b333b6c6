/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad's pool of LOGIN member stores (server/member_pool.h). Each entry
 * owns its handle and the copy of the config keys the handle reads (the
 * handle keeps a pointer to it); entries are found by a BLAKE2b digest of
 * those keys, so the pool compares no password and the digest alone says
 * whether two configs may share a handle. Handles are opened under the lock
 * (an LDAP open makes no connection) and closed outside it (an unbind
 * writes to the server). */
#include "twofa_build.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "member_pool.h"
#include "util.h"
#include "wire.h"

/* Every key of twofa.conf the member store reads (lib/member_store*.c,
 * lib/ldap_*.c, lib/member_cache.c) for a LOGIN handle: a key missing here
 * would be shared between configs that differ in it. size 0: a string. */
typedef struct store_key {
	size_t offset;
	size_t size;
} store_key;

#define TEXT(field)                              \
	{                                        \
		offsetof(twofa_config, field), 0 \
	}
#define VALUE(field)                                                                 \
	{                                                                            \
		offsetof(twofa_config, field), sizeof(((twofa_config *)NULL)->field) \
	}

static const store_key store_keys[] = {
	VALUE(store),
	TEXT(members_db),
	TEXT(state_db),
	TEXT(ldap_uri),
	TEXT(ldap_write_uri),
	TEXT(ldap_base),
	VALUE(ldap_scope),
	TEXT(ldap_filter),
	TEXT(ldap_bind_dn),
	TEXT(ldap_bind_password),
	VALUE(ldap_sasl),
	TEXT(ldap_client_cert),
	TEXT(ldap_client_key),
	VALUE(ldap_tls),
	TEXT(ldap_ca_file),
	VALUE(ldap_timeout),
	VALUE(ldap_cache_max_age),
	TEXT(ldap_run_dir),
};

#define KEY_BYTES crypto_generichash_BYTES

typedef struct pooled {
	twofa_member_store *store;
	twofa_config cfg; /* the keys of store_keys, the handle's own */
	unsigned char key[KEY_BYTES];
	long long idle_since_ms;
	long long opened_ms;
	bool in_use;
} pooled;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pooled **slots; /* NULL: a free slot */
static unsigned slot_count;
static long long idle_ms;
static long long max_age_ms;
static bool started;

static char **text_field(twofa_config *c, const store_key *k)
{
	return (char **)(void *)((char *)c + k->offset);
}

static void pool_key(const twofa_config *cfg, unsigned char key[KEY_BYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, KEY_BYTES);
	for (size_t i = 0; i < sizeof(store_keys) / sizeof(store_keys[0]); i++) {
		const store_key *k = &store_keys[i];
		const char *text = k->size == 0 ? *text_field((twofa_config *)cfg, k) : NULL;
		unsigned char present = text != NULL;
		unsigned long long len = text != NULL ? strlen(text) : 0;

		if (k->size != 0) {
			crypto_generichash_update(&h, (const unsigned char *)cfg + k->offset, k->size);
			continue;
		}
		/* Length-prefixed: no two lists of strings hash alike. */
		crypto_generichash_update(&h, &present, 1);
		crypto_generichash_update(&h, (const unsigned char *)&len, sizeof(len));
		if (text != NULL)
			crypto_generichash_update(&h, (const unsigned char *)text, len);
	}
	crypto_generichash_final(&h, key, KEY_BYTES);
}

static void discard(pooled *p)
{
	if (p == NULL)
		return;
	twofa_member_store_close(p->store);
	twofa_config_free(&p->cfg); /* wipes the bind password */
	free(p);
}

/* An entry for cfg: its own copy of the keys, its handle. */
static pooled *make_entry(const twofa_config *cfg, const unsigned char key[KEY_BYTES], twofa_error *err)
{
	pooled *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		twofa_error_set(err, TWOFA_ENOMEM, "member store: out of memory");
		return NULL;
	}
	twofa_config_init(&p->cfg);
	for (size_t i = 0; i < sizeof(store_keys) / sizeof(store_keys[0]); i++) {
		const store_key *k = &store_keys[i];
		char **to = text_field(&p->cfg, k);
		char *from = *text_field((twofa_config *)cfg, k);

		if (k->size != 0) {
			memcpy((char *)&p->cfg + k->offset, (const char *)cfg + k->offset, k->size);
		} else if (from != *to) { /* the same pointer: the default, not owned */
			*to = from != NULL ? strdup(from) : NULL;
			if (from != NULL && *to == NULL) {
				twofa_error_set(err, TWOFA_ENOMEM, "member store: out of memory");
				discard(p);
				return NULL;
			}
		}
	}
	memcpy(p->key, key, KEY_BYTES);
	p->opened_ms = twofa_wire_now_ms();
	if (twofa_member_store_open(&p->store, &p->cfg, TWOFA_MEMBER_STORE_LOGIN, err) != TWOFA_OK) {
		discard(p);
		return NULL;
	}
	return p;
}

bool twofa_member_pool_start(unsigned max, unsigned idle_seconds, unsigned max_age_seconds)
{
	bool ok = false;

	pthread_mutex_lock(&lock);
	if (!started && max > 0 && (slots = calloc(max, sizeof(*slots))) != NULL) {
		slot_count = max;
		idle_ms = idle_seconds * 1000LL;
		max_age_ms = max_age_seconds * 1000LL;
		started = ok = true;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

/* Closes the entries unused for the idle time, one at a time outside the lock. */
static void close_idle(void)
{
	for (;;) {
		long long now = twofa_wire_now_ms();
		pooled *victim = NULL;

		pthread_mutex_lock(&lock);
		for (unsigned i = 0; victim == NULL && i < slot_count; i++) {
			if (slots[i] != NULL && !slots[i]->in_use && now - slots[i]->idle_since_ms >= idle_ms) {
				victim = slots[i];
				slots[i] = NULL;
			}
		}
		pthread_mutex_unlock(&lock);
		if (victim == NULL)
			return;
		discard(victim);
	}
}

/* Under lock: an unused entry for key, a free slot for a new one (making
 * room by evicting an unused entry of another key), or NULL with *slot -1
 * when every slot is in use. An unused entry past the maximum age is
 * evicted on the way (one per call), whatever its key. */
static pooled *find(const unsigned char key[KEY_BYTES], int *slot, pooled **evicted)
{
	long long now = twofa_wire_now_ms();
	int free_slot = -1, unused = -1;

	*evicted = NULL;
	for (unsigned i = 0; i < slot_count; i++) {
		pooled *p = slots[i];

		if (p != NULL && !p->in_use && *evicted == NULL && now - p->opened_ms >= max_age_ms) {
			*evicted = p; /* too old to serve another call */
			slots[i] = p = NULL;
		}
		if (p == NULL) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (!p->in_use) {
			if (sodium_memcmp(p->key, key, KEY_BYTES) == 0)
				return p;
			if (unused < 0)
				unused = (int)i;
		}
	}
	if (free_slot < 0 && unused >= 0 && *evicted == NULL) {
		*evicted = slots[unused];
		slots[unused] = NULL;
		free_slot = unused;
	}
	*slot = free_slot;
	return NULL;
}

twofa_status twofa_member_pool_take(const twofa_config *cfg, twofa_member_store **out, twofa_error *err)
{
	unsigned char key[KEY_BYTES];
	pooled *p, *evicted = NULL;
	twofa_status st = TWOFA_OK;
	int slot = -1;
	bool pooling;

	*out = NULL;
	pthread_mutex_lock(&lock);
	pooling = started && cfg->store == TWOFA_STORE_LDAP;
	pthread_mutex_unlock(&lock);
	/* The per-call server, GDBM, and every slot in use: a handle of this call's own. */
	if (!pooling)
		return twofa_member_store_open(out, cfg, TWOFA_MEMBER_STORE_LOGIN, err);
	close_idle();
	pool_key(cfg, key);
	pthread_mutex_lock(&lock);
	p = find(key, &slot, &evicted);
	if (p == NULL && slot >= 0) {
		p = make_entry(cfg, key, err);
		slots[slot] = p;
		if (p == NULL)
			st = err != NULL && err->status != TWOFA_OK ? err->status : TWOFA_ENOMEM;
	}
	if (p != NULL)
		p->in_use = true;
	pthread_mutex_unlock(&lock);
	sodium_memzero(key, sizeof(key));
	discard(evicted);
	if (st != TWOFA_OK)
		return st;
	if (p == NULL)
		return twofa_member_store_open(out, cfg, TWOFA_MEMBER_STORE_LOGIN, err);
	twofa_member_store_new_call(p->store);
	*out = p->store;
	return TWOFA_OK;
}

void twofa_member_pool_give(twofa_member_store *s)
{
	pooled *dropped = NULL;
	bool pooled_here = false;

	if (s == NULL)
		return;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < slot_count; i++) {
		if (slots[i] == NULL || slots[i]->store != s)
			continue;
		pooled_here = true;
		long long now = twofa_wire_now_ms();

		if (twofa_member_store_healthy(s) && now - slots[i]->opened_ms < max_age_ms) {
			slots[i]->in_use = false;
			slots[i]->idle_since_ms = now;
		} else {
			/* Its connection failed, or it is old enough that the first
			 * server of ldap_uri may be back: the next call makes a new one. */
			dropped = slots[i];
			slots[i] = NULL;
		}
		break;
	}
	pthread_mutex_unlock(&lock);
	if (!pooled_here)
		twofa_member_store_close(s);
	discard(dropped);
}

void twofa_member_pool_stop(void)
{
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < slot_count; i++) {
		discard(slots[i]);
		slots[i] = NULL;
	}
	free(slots);
	slots = NULL;
	slot_count = 0;
	started = false;
	pthread_mutex_unlock(&lock);
}
