/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/code_round: the refusals a round comes to before any request to
 * Twilio (so no Verify client is needed), and its result as a decision. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/_pam_types.h>

#include "code_round.h"
#include "tap.h"

static char dir[] = "/tmp/twofa-test-round-XXXXXX";
static int asked;

static twofa_round_ask never_ask(void *ctx, bool echo_on, const char *prompt, char **answer)
{
	(void)ctx;
	(void)echo_on;
	(void)prompt;
	*answer = NULL;
	asked++;
	return TWOFA_ROUND_ASK_CANCELLED;
}

/* The login's hooks, scripted: the answers given, the prompts seen. */
static const char *script[4];
static int script_at;
static char seen[4][512];
static bool seen_echo[4];

static twofa_round_ask scripted_ask(void *ctx, bool echo_on, const char *prompt, char **answer)
{
	(void)ctx;
	*answer = NULL;
	if (script_at >= 4 || script[script_at] == NULL)
		return TWOFA_ROUND_ASK_CANCELLED;
	snprintf(seen[script_at], sizeof(seen[0]), "%s", prompt);
	seen_echo[script_at] = echo_on;
	*answer = strdup(script[script_at++]);
	return *answer != NULL ? TWOFA_ROUND_ASK_OK : TWOFA_ROUND_ASK_CANCELLED;
}

static bool held(void *ctx)
{
	(void)ctx;
	return true;
}

static int used;
static twofa_round_onetime use_code(void *ctx, const char *code, bool outage, twofa_round_result *res)
{
	(void)ctx;
	(void)outage;
	used++;
	if (strcmp(code, "good") != 0)
		return TWOFA_ROUND_ONETIME_WRONG;
	res->message = TWOFA_MSG_RECOVERY_LOW;
	res->message_arg = 1;
	snprintf(res->reason, sizeof(res->reason), "recovery code used, 1 left");
	return TWOFA_ROUND_ONETIME_USED;
}

static bool screen_pw(void *ctx, const char *answer, twofa_message *message, char *reason, size_t size)
{
	(void)ctx;
	if (strcmp(answer, "hunter2") != 0)
		return false;
	*message = TWOFA_MSG_SINGLE_ANSWER;
	snprintf(reason, size, "the password at the code prompt");
	return true;
}

static twofa_round_admit refuse_country(void *ctx, const char *country, twofa_message *message, long *arg,
					char *reason, size_t size)
{
	(void)ctx;
	*message = TWOFA_MSG_CHANNEL_REFUSED;
	*arg = 0;
	snprintf(reason, size, "country %s is not in countries", country != NULL ? country : "?");
	return TWOFA_ROUND_ADMIT_REFUSED;
}

int main(void)
{
	twofa_config cfg;
	twofa_state_origin origin;
	twofa_round_io io = {.ask = never_ask};
	twofa_round_target t = {.user = "alice",
				.enrolled = false,
				.phone = "+441632960123",
				.country = "GB",
				.channel = TWOFA_CHANNEL_SMS,
				.own_channel = TWOFA_CHANNEL_SMS};
	twofa_round_options o = {.max_tries = 3, .reserve_sends = true, .count_failures = true};
	twofa_round_result res;
	twofa_decision d;
	char path[256], *saved;
	bool allowed;
	time_t retry_at;
	twofa_error err;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/state.db", dir);
	twofa_config_init(&cfg);
	saved = cfg.state_db;
	cfg.state_db = path;
	cfg.send_limit = 2;
	cfg.send_window = 3600;
	twofa_state_origin_make(&origin, "sshd", "rhost", "192.0.2.1", NULL, "rhost=192.0.2.1");

	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_ERROR &&
		   res.pam_code == PAM_SERVICE_ERR,
	   "counting failures without an origin is an error, before any send");
	o.origin = &origin;

	io.ask = NULL;
	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_ERROR,
	   "no prompt callback: an error");
	io.ask = never_ask;

	t.channel = t.own_channel = TWOFA_CHANNEL_EMAIL;
	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_REFUSED &&
		   res.message == TWOFA_MSG_NO_EMAIL,
	   "email without an address: refused, said so");
	t.channel = t.own_channel = TWOFA_CHANNEL_SMS;

	cfg.allowed_channels = TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_CALL);
	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_REFUSED &&
		   res.message == TWOFA_MSG_CHANNEL_REFUSED && res.message_arg == TWOFA_CHANNEL_SMS,
	   "a channel outside allowed_channels: refused");
	o.allowed_channels = TWOFA_ALLOW_CHANNEL(TWOFA_CHANNEL_SMS);
	io.admit_send = refuse_country;
	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_REFUSED &&
		   strstr(res.reason, "country GB") != NULL && res.pam_code == PAM_AUTH_ERR,
	   "the send policy refuses before the send, with its reason: %s", res.reason);
	io.admit_send = NULL;

	for (int i = 0; i < 2; i++)
		if (twofa_state_reserve_send(path, "alice", time(NULL), 2, 3600, &allowed, &retry_at, &err) !=
		    TWOFA_OK)
			diag("reserve: %s", err.msg);
	ok(twofa_code_round(&cfg, NULL, &t, &o, &io, &res) == TWOFA_ROUND_REFUSED &&
		   res.message == TWOFA_MSG_SEND_LIMIT && res.pam_code == PAM_MAXTRIES && res.sends == 0,
	   "send_limit used up: refused, nothing sent");
	ok(asked == 0, "no refusal before a send ever prompts");

	twofa_round_decide(&res, &d);
	ok(d.pam_code == PAM_MAXTRIES && d.result == TWOFA_RESULT_DENIED &&
		   d.message == TWOFA_MSG_SEND_LIMIT && strcmp(d.reason, res.reason) == 0,
	   "the result as a decision");
	res.outcome = TWOFA_ROUND_ERROR;
	twofa_round_decide(&res, &d);
	ok(d.result == TWOFA_RESULT_ERROR, "an error decides error");

	/* The login's hooks: a spent send limit asks for a recovery code. */
	{
		twofa_round_io lio = {.ask = scripted_ask, .onetime_held = held, .onetime_use = use_code};
		twofa_round_options lo = o;

		lo.recovery = true;
		lo.record_success = true;
		lo.service = "sshd";
		t.enrolled = true;
		script[0] = "wrong";
		script[1] = "good";
		ok(twofa_code_round(&cfg, NULL, &t, &lo, &lio, &res) == TWOFA_ROUND_APPROVED && res.onetime &&
			   res.tries == 2 && used == 2 && res.message == TWOFA_MSG_RECOVERY_LOW &&
			   strcmp(res.reason, "recovery code used, 1 left") == 0,
		   "send limit spent, a code held: a wrong and a good recovery code let in: %s", res.reason);
		ok(!seen_echo[0] && !seen_echo[1] && seen[0][0] != '\0' && strcmp(seen[0], seen[1]) != 0,
		   "the recovery prompts are echo off: %s | %s", seen[0], seen[1]);
		twofa_round_decide(&res, &d);
		ok(d.pam_code == PAM_SUCCESS && d.priority == LOG_NOTICE && d.channel[0] == '\0',
		   "a one-time code's success: LOG_NOTICE, no destination");

		lo.recovery = false;
		script_at = 0;
		used = 0;
		ok(twofa_code_round(&cfg, NULL, &t, &lo, &lio, &res) == TWOFA_ROUND_REFUSED && used == 0 &&
			   script_at == 0 && res.message == TWOFA_MSG_SEND_LIMIT,
		   "recovery = no: the spent send limit refuses, nothing asked");

		lo.recovery = true;
		lio.screen = screen_pw;
		script_at = 0;
		script[0] = "hunter2";
		ok(twofa_code_round(&cfg, NULL, &t, &lo, &lio, &res) == TWOFA_ROUND_DENIED &&
			   res.pam_code == PAM_AUTH_ERR && res.message == TWOFA_MSG_SINGLE_ANSWER &&
			   used == 0 && res.tries == 0,
		   "the screen hook ends the round before the answer is tried, no try counted");
		t.enrolled = false;
	}

	cfg.state_db = saved;
	twofa_config_free(&cfg);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
