/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One PAM call, server side: the hello names the call; its flow fills a
 * twofa_decision; run_flow is the one place that logs the decision line and
 * hands the module the code and the text to show. */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "account.h"
#include "audit.h"
#include "authenticate.h"
#include "chauthtok.h"
#include "decision.h"
#include "host.h"
#include "member_pool.h"
#include "member_store.h"
#include "options.h"
#include "peer_policy.h"
#include "serve.h"
#include "util.h"
#include "wire.h"

typedef void (*twofa_flow)(twofa_host *host, int flags, const twofa_options *opts,
			   twofa_member_store *members, twofa_audit *audit, twofa_decision *d);

/* "config=PATH" for the config the transport chose, kept for the options. */
#define CONFIG_ARG_MAX (TWOFA_PROTO_ARG_MAX + 8)

/* The module arguments the flow sees. A caller that is not root may not
 * name another config: twofad's own counts (config= counts for root only). */
static size_t flow_arguments(const twofa_peer *peer, const twofa_msg *hello, const char **argv,
			     char config_arg[CONFIG_ARG_MAX])
{
	size_t argc = 0;
	bool named = false;

	for (size_t i = 0; i < hello->nargs; i++) {
		bool is_config = twofa_skip_prefix(hello->args[i], "config=") != NULL;
		if (is_config && peer->uid != 0)
			continue;
		named = named || is_config;
		argv[argc++] = hello->args[i];
	}
	if (!named && peer->config_path != NULL &&
	    (size_t)snprintf(config_arg, CONFIG_ARG_MAX, "config=%s", peer->config_path) < CONFIG_ARG_MAX) {
		memmove(argv + 1, argv, argc * sizeof(*argv));
		argv[0] = config_arg;
		argc++;
	}
	return argc;
}

/* The flow, with a member store handle for this call: twofa-server's own,
 * or one of twofad's warm ones (server/member_pool.h), with its directory
 * budget new either way. */
static void run_with_members(twofa_host *host, int flags, const twofa_options *opts, twofa_audit *audit,
			     twofa_decision *d, twofa_flow flow)
{
	twofa_member_store *members = NULL;
	twofa_error err;

	twofa_error_clear(&err);
	if (twofa_member_pool_take(&opts->cfg, &members, &err) != TWOFA_OK) {
		twofa_decide(d, err.status == TWOFA_ENOMEM ? PAM_BUF_ERR : PAM_SERVICE_ERR,
			     TWOFA_RESULT_ERROR, LOG_ERR, TWOFA_MSG_NONE, "member store: %s", err.msg);
		return;
	}
	flow(host, flags, opts, members, audit, d);
	twofa_member_pool_give(members);
}

static void run_flow(twofa_host *host, const twofa_msg *hello, twofa_flow flow)
{
	const char *argv[TWOFA_PROTO_ARGS_MAX + 1];
	char config_arg[CONFIG_ARG_MAX];
	const char *action = twofa_proto_call_name(hello->call);
	const void *user = NULL;
	twofa_options opts;
	twofa_audit audit;
	twofa_decision d;
	char text[512];
	int flags = hello->code;
	size_t argc = flow_arguments(host->peer, hello, argv, config_arg);

	/* PAM_USER as given, until the flow resolves it: nobody is asked for it
	 * before the options hold. */
	if (twofa_host_get_item(host, PAM_USER, &user) != PAM_SUCCESS)
		user = NULL;
	twofa_audit_init(&audit, host, action, user, false);
	twofa_decide_nothing_yet(&d);
	if (twofa_options_load(action, (int)argc, argv, &opts, &d) &&
	    twofa_peer_may_call(host->peer, hello->call, &d)) {
		twofa_peer_limit_options(host->peer, &opts);
		run_with_members(host, flags, &opts, &audit, &d, flow);
	}
	if (twofa_decision_logged(&d, opts.debug))
		twofa_audit_decision(&audit, &d);
	if (!twofa_decision_user_text(&d, text, sizeof(text)) || (flags & PAM_SILENT) != 0)
		text[0] = '\0';
	(void)twofa_host_done(host, d.pam_code, text);
	twofa_options_free(&opts);
}

bool twofa_serve(int fd, const twofa_peer *peer)
{
	twofa_msg hello;
	twofa_host host;
	long version;
	twofa_wire_result r;
	bool served = false;

	r = twofa_wire_recv(fd, &hello, &version, twofa_wire_now_ms() + TWOFA_SERVE_HELLO_MS);
	if (r == TWOFA_WIRE_VERSION) {
		/* After an upgrade: the module's side says so too, on our frame. */
		syslog(LOG_ERR,
		       "a pam_twofa.so of protocol version %ld called; this server speaks %d: "
		       "the module and the server must come from the same twofa version",
		       version, TWOFA_PROTO_VERSION);
		twofa_msg_init(&hello, TWOFA_MSG_DONE);
		hello.code = PAM_AUTHINFO_UNAVAIL;
		(void)twofa_wire_send(fd, &hello, twofa_wire_now_ms() + TWOFA_SERVE_WRITE_MS);
		return false;
	}
	if (r != TWOFA_WIRE_OK || hello.type != TWOFA_MSG_HELLO) {
		if (r != TWOFA_WIRE_CLOSED)
			syslog(LOG_WARNING, "refused a connection: %s",
			       r == TWOFA_WIRE_OK ? "its first message was not a hello"
						  : twofa_wire_result_text(r));
		twofa_msg_wipe(&hello);
		return false;
	}
	twofa_host_init(&host, fd, peer, &hello);
	switch (hello.call) {
	case TWOFA_CALL_AUTH:
		run_flow(&host, &hello, twofa_authenticate);
		break;
	case TWOFA_CALL_ACCOUNT:
		run_flow(&host, &hello, twofa_account);
		break;
	case TWOFA_CALL_PASSWORD:
		run_flow(&host, &hello, twofa_chauthtok);
		break;
	}
	served = !host.broken;
	twofa_host_wipe(&host);
	twofa_msg_wipe(&hello);
	return served;
}
