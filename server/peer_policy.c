/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <syslog.h>

#include <security/_pam_types.h>

#include "peer_policy.h"

#define PASSWD_BUFFER 16384

bool twofa_peer_unprivileged(const twofa_peer *peer)
{
	return peer->daemon && peer->uid != 0;
}

bool twofa_peer_may_act_for(const twofa_peer *peer, const char *canonical, twofa_decision *d)
{
	struct passwd pw, *found = NULL;
	char *buf;
	bool same = false;

	if (!twofa_peer_unprivileged(peer))
		return true;
	buf = malloc(PASSWD_BUFFER);
	if (buf != NULL && getpwnam_r(canonical, &pw, buf, PASSWD_BUFFER, &found) == 0 && found != NULL)
		same = pw.pw_uid == peer->uid;
	free(buf);
	if (!same)
		twofa_decide(d, PAM_PERM_DENIED, TWOFA_RESULT_DENIED, LOG_WARNING, TWOFA_MSG_NONE,
			     "a caller with uid %lu asked for another user", (unsigned long)peer->uid);
	return same;
}

bool twofa_peer_may_call(const twofa_peer *peer, twofa_proto_call call, twofa_decision *d)
{
	if (call != TWOFA_CALL_PASSWORD || !twofa_peer_unprivileged(peer))
		return true;
	twofa_decide(d, PAM_IGNORE, TWOFA_RESULT_IGNORED, LOG_NOTICE, TWOFA_MSG_NONE,
		     "a caller with uid %lu may not change a twofa password", (unsigned long)peer->uid);
	return false;
}

void twofa_peer_limit_options(const twofa_peer *peer, twofa_options *opts)
{
	if (!twofa_peer_unprivileged(peer))
		return;
	opts->groups = NULL;
	opts->cfg.grace_period = 0;
	if (opts->enroll != TWOFA_ENROLL_OFF) {
		opts->enroll = TWOFA_ENROLL_OFF;
		opts->enroll_off = "a caller that is not root is never offered enrolment";
	}
	if (opts->password == TWOFA_PASSWORD_NONE && opts->cfg.send_limit > TWOFA_PEER_SEND_LIMIT)
		opts->cfg.send_limit = TWOFA_PEER_SEND_LIMIT;
}
