/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "locker.h"
#include "state.h"
#include "util.h"

static const char *service_of(twofa_host *host)
{
	const void *service = NULL;

	if (twofa_host_get_item(host, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL)
		return "";
	return service;
}

bool twofa_locker_look_up(twofa_host *host, const twofa_options *opts, const twofa_member *member,
			  twofa_locker_look *look, twofa_error *err)
{
	twofa_state_entry e;
	time_t now = time(NULL);
	bool ok = twofa_state_read(opts->cfg.state_db, member->user, &e, err) == TWOFA_OK;

	memset(look, 0, sizeof(*look));
	if (ok) {
		look->remembered = twofa_state_single_answer(&e, service_of(host), now);
		look->last_send = twofa_state_last_send(&e, now, TWOFA_LOCKER_CODE_LIFETIME);
	}
	sodium_memzero(&e, sizeof(e));
	return ok;
}

bool twofa_locker_answered_with_password(twofa_host *host, const char *answer)
{
	const void *password = NULL;

	/* An empty password would match every empty answer, which is a try. */
	if (twofa_host_get_item(host, PAM_AUTHTOK, &password) != PAM_SUCCESS || password == NULL ||
	    ((const char *)password)[0] == '\0')
		return false;
	return twofa_streq_ct(answer, password, TWOFA_PROTO_ITEM_MAX);
}

void twofa_locker_remember(twofa_host *host, const twofa_options *opts, const twofa_member *member)
{
	twofa_error err;

	if (twofa_state_note_single_answer(opts->cfg.state_db, member->user, service_of(host), time(NULL),
					   &err) != TWOFA_OK)
		twofa_host_syslog(host, LOG_ERR,
				  "could not remember that this service answers with the password: %s", err.msg);
}

const char *twofa_locker_kept_code(twofa_host *host)
{
	if (!host->has_item[TWOFA_ITEM_ANSWER_CODE] || host->items[TWOFA_ITEM_ANSWER_CODE][0] == '\0')
		return NULL;
	return host->items[TWOFA_ITEM_ANSWER_CODE];
}
