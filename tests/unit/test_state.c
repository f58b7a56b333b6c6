/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "tap.h"

static char dir[] = "/tmp/twofa-test-state-XXXXXX";
static char path[256];

static void test_codec(void)
{
	twofa_state_entry e, back;
	twofa_error err;
	char *json = NULL;

	memset(&e, 0, sizeof(e));
	e.failures = 3;
	e.locked_until = 1000;
	e.send_count = 2;
	e.sends[0] = 10;
	e.sends[1] = 20;
	e.last_login = 30;
	strcpy(e.last_service, "sshd");
	strcpy(e.last_from, "192.0.2.1");
	e.grace_count = 1;
	strcpy(e.grace[0].from, "2001:db8::1");
	e.grace[0].at = 40;
	ok(twofa_state_encode(&e, &json, &err) == TWOFA_OK, "encode a state record");
	ok(json != NULL && twofa_state_decode(json, strlen(json), &back, &err) == TWOFA_OK, "decode it back");
	ok(back.failures == 3 && back.locked_until == 1000 && back.send_count == 2 && back.sends[1] == 20 &&
	   back.last_login == 30 && strcmp(back.last_service, "sshd") == 0 &&
	   strcmp(back.last_from, "192.0.2.1") == 0 && back.grace_count == 1 &&
	   strcmp(back.grace[0].from, "2001:db8::1") == 0 && back.grace[0].at == 40,
	   "round trip keeps every field");
	free(json);

	const char *bad[] = {
		"", "[]", "{}", "{\"v\":2}", "{\"v\":1,\"failures\":-1}", "{\"v\":1,\"failures\":\"3\"}",
		"{\"v\":1,\"locked_until\":-5}", "{\"v\":1,\"sends\":{}}", "{\"v\":1,\"sends\":[\"x\"]}",
		"{\"v\":1,\"last_from\":\"a\\nb\"}", "{\"v\":1,\"grace\":[1]}", "{\"v\":1,\"v\":1}",
		"{\"v\":1,\"locked_until\":99999999999999}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(twofa_state_decode(bad[i], strlen(bad[i]), &back, &err) == TWOFA_ESTORE,
		   "decode refuses damaged record %zu: %s", i, bad[i]);
	{
		char big[200 * 8 + 64];
		size_t n = (size_t)snprintf(big, sizeof(big), "{\"v\":1,\"sends\":[");
		for (int i = 0; i < 101; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%s%d", i ? "," : "", i);
		snprintf(big + n, sizeof(big) - n, "]}");
		ok(twofa_state_decode(big, strlen(big), &back, &err) == TWOFA_ESTORE, "decode refuses 101 sends");
	}
}

static void test_send_limit(void)
{
	twofa_error err;
	bool allowed = false;
	time_t retry = 0;
	int granted = 0;

	for (int i = 0; i < 7; i++) {
		ok(twofa_state_reserve_send(path, "alice", 1000 + i, 5, 600, &allowed, &retry, &err) == TWOFA_OK,
		   "reserve_send %d succeeds as an operation", i);
		granted += allowed;
	}
	ok(granted == 5, "5 of 7 sends granted with send_limit 5 (got %d)", granted);
	ok(retry == 1000 + 600, "retry time is when the oldest send leaves the window (%ld)", (long)retry);
	ok(twofa_state_reserve_send(path, "alice", 1600, 5, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "a send is granted again once the oldest left the window");
	ok(twofa_state_reserve_send(path, "bob", 1001, 5, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "limits are per user");
}

static void test_failures(void)
{
	twofa_state_entry e;
	twofa_error err;
	long failures = 0;
	time_t until = 0;

	for (int i = 0; i < 3; i++)
		twofa_state_record_failure(path, "carol", 2000, 3, 900, &failures, &until, &err);
	ok(failures == 3 && until == 2900, "third failure locks for 900 s (failures %ld until %ld)", failures,
	   (long)until);
	ok(twofa_state_read(path, "carol", &e, &err) == TWOFA_OK && twofa_state_is_locked(&e, 2899) &&
	   !twofa_state_is_locked(&e, 2900), "locked until the deadline, not after");
	twofa_state_record_failure(path, "carol", 2950, 3, 900, &failures, &until, &err);
	ok(failures == 1 && until == 0, "an expired lockout starts the count again");
	twofa_state_record_failure(path, "dave", 2000, 0, 900, &failures, &until, &err);
	ok(until == 0, "lockout_failures 0 never locks");
	ok(twofa_state_unlock(path, "carol", &err) == TWOFA_OK && twofa_state_read(path, "carol", &e, &err) == TWOFA_OK &&
	   e.failures == 0 && e.locked_until == 0, "unlock clears failures and lockout");
}

static void test_success_and_grace(void)
{
	twofa_state_entry e;
	twofa_error err;
	char from[32];

	twofa_state_record_failure(path, "erin", 3000, 10, 900, NULL, NULL, &err);
	ok(twofa_state_record_success(path, "erin", 3010, "sshd", "198.51.100.7", 300, &err) == TWOFA_OK,
	   "record_success");
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 0 && e.last_login == 3010 &&
	   strcmp(e.last_service, "sshd") == 0 && strcmp(e.last_from, "198.51.100.7") == 0,
	   "success clears failures and records the last login");
	ok(twofa_state_in_grace(&e, "198.51.100.7", 3309, 300), "same host within the grace period");
	ok(!twofa_state_in_grace(&e, "198.51.100.7", 3310, 300), "grace ends after the period");
	ok(!twofa_state_in_grace(&e, "198.51.100.8", 3011, 300), "another host has no grace");
	ok(!twofa_state_in_grace(&e, "198.51.100.7", 3011, 0), "grace_period 0 never grants grace");
	ok(!twofa_state_in_grace(&e, "198.51.100.7", 3000, 300), "a grace entry from the future does not count");
	for (int i = 0; i < 20; i++) {
		snprintf(from, sizeof(from), "tty%d", i);
		twofa_state_record_success(path, "erin", 4000 + i, "login", from, 300, &err);
	}
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.grace_count == TWOFA_STATE_GRACE_MAX,
	   "grace entries are bounded (%zu)", e.grace_count);
	ok(twofa_state_in_grace(&e, "tty19", 4100, 300) && !twofa_state_in_grace(&e, "tty0", 4100, 300),
	   "the oldest grace entries are dropped first");
	ok(twofa_state_forget(path, "erin", &err) == TWOFA_OK && twofa_state_read(path, "erin", &e, &err) == TWOFA_OK &&
	   e.last_login == 0, "forget removes the user's state");
	ok(twofa_state_forget(path, "nobody-here", &err) == TWOFA_OK, "forget of an unknown user is fine");
}

static void test_parallel(void)
{
	enum { PROCS = 8, EACH = 25 };
	twofa_state_entry e;
	twofa_error err;
	int good = 0;

	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < EACH; i++)
				if (twofa_state_record_failure(path, "frank", 5000, 0, 0, NULL, NULL, NULL) != TWOFA_OK)
					_exit(1);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status = 0;
		if (wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			good++;
	}
	ok(good == PROCS, "every parallel writer succeeded (%d/%d)", good, PROCS);
	ok(twofa_state_read(path, "frank", &e, &err) == TWOFA_OK && e.failures == PROCS * EACH,
	   "no failure count lost under %d parallel writers (%ld)", PROCS, e.failures);
}

int main(void)
{
	twofa_state_entry e;
	twofa_error err;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/db/state.db", dir);
	ok(twofa_state_read(path, "alice", &e, &err) == TWOFA_OK && e.failures == 0 && e.send_count == 0,
	   "a missing state store reads as empty");
	test_codec();
	test_send_limit();
	test_failures();
	test_success_and_grace();
	test_parallel();
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return tap_done();
}
