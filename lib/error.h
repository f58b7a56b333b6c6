/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Error reporting for libtwofa: a status plus one human-readable line.
 * Nothing in lib/ prints or logs; callers decide where the line goes. */
#ifndef TWOFA_ERROR_H
#define TWOFA_ERROR_H

#include <stddef.h>

typedef enum twofa_status {
	TWOFA_OK = 0,
	TWOFA_EINVAL,    /* input data is not valid */
	TWOFA_ENOTFOUND, /* no such member or entry */
	TWOFA_EEXIST,    /* already present */
	TWOFA_ECONFIG,   /* configuration is wrong */
	TWOFA_EPERM,     /* owner or mode of a file is wrong, or not root */
	TWOFA_ESTORE,    /* store unreadable, corrupt or not writable */
	TWOFA_EBUSY,     /* a lock was not obtained before the deadline */
	TWOFA_ENOMEM,    /* out of memory */
	TWOFA_ESYS,      /* another system error */
	TWOFA_EUNAVAIL,  /* remote service unreachable */
	TWOFA_ECONFLICT, /* changed by someone else meanwhile: read again and retry */
} twofa_status;

#define TWOFA_ERROR_MSG_MAX 512

typedef struct twofa_error {
	twofa_status status;
	char msg[TWOFA_ERROR_MSG_MAX];
} twofa_error;

/* Records status and message in err (which may be NULL). */
void twofa_error_set(twofa_error *err, twofa_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* twofa_error_set, evaluating to status, so error paths read:
 *   return twofa_fail(err, TWOFA_EINVAL, "...", ...);
 * A macro (status must have no side effects) so that static analysers see
 * which status comes back instead of assuming any value could. */
#define twofa_fail(err, status, ...)                           \
	__extension__({                                        \
		twofa_error_set((err), (status), __VA_ARGS__); \
		(twofa_status)(status);                        \
	})

void twofa_error_clear(twofa_error *err);

/* A short stable name ("invalid", "store", ...) for logs and tests. */
const char *twofa_status_name(twofa_status status);

/* The twofa-enroll exit code (sysexits.h values) for a status. */
int twofa_status_exit_code(twofa_status status);

#endif
