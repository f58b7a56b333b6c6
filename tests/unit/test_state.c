/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/twofa-test-state-XXXXXX";
static char path[256];

static twofa_state_origin rhost_a, rhost_b, tty_3;

/* A login of user from origin o under lockout_failures 3, lockout_seconds 900. */
static twofa_state_login who(const char *user, bool enrolled, const twofa_state_origin *o)
{
	twofa_state_login l = {.user = user,
			       .enrolled = enrolled,
			       .origin = o,
			       .lockout_failures = 3,
			       .lockout_seconds = 900};
	return l;
}

static void fail_n(const twofa_state_login *l, int n, time_t now)
{
	twofa_error err;

	for (int i = 0; i < n; i++)
		if (twofa_state_record_failure(path, l, now, 0, NULL, NULL, &err) != TWOFA_OK)
			diag("record_failure: %s", err.msg);
}

static void test_origin_keys(void)
{
	twofa_state_origin a, b;
	char long_a[200], long_b[200];

	twofa_state_origin_make(&a, "sudo", "tty", "/dev/pts/3", "100 5000", "tty=/dev/pts/3");
	twofa_state_origin_make(&b, "su", "tty", "/dev/pts/3", "100 5000", "tty=/dev/pts/3");
	ok(strlen(a.grace) == 64 && strlen(a.source) == 64, "keys are 64 hex digits");
	ok(strcmp(a.grace, b.grace) != 0, "grace: another service, another key");
	ok(strcmp(a.source, b.source) == 0, "throttling: the source does not depend on the service");
	twofa_state_origin_make(&b, "sudo", "tty", "/dev/pts/3", "101 5000", "tty=/dev/pts/3");
	ok(strcmp(a.grace, b.grace) != 0, "grace: another session leader, another key");
	twofa_state_origin_make(&b, "sudo", "tty", "/dev/pts/3", "100 5001", "tty=/dev/pts/3");
	ok(strcmp(a.grace, b.grace) != 0, "grace: a leader pid reused (other start time), another key");
	twofa_state_origin_make(&b, "sudo", "tty", "/dev/pts/3", NULL, "tty=/dev/pts/3");
	ok(b.grace[0] == '\0' && strlen(b.source) == 64,
	   "a tty without a session gets no grace, but a source");
	twofa_state_origin_make(&b, "sudo", "rhost", "/dev/pts/3", NULL, "rhost=/dev/pts/3");
	ok(strcmp(a.grace, b.grace) != 0 && strcmp(a.source, b.source) != 0 && strlen(b.grace) == 64,
	   "rhost and tty never share a key");
	twofa_state_origin_make(&a, "sshd", "rhost", "a b", NULL, "rhost=a_b");
	twofa_state_origin_make(&b, "sshd", "rhost", "a_b", NULL, "rhost=a_b");
	ok(strcmp(a.grace, b.grace) != 0 && strcmp(a.source, b.source) != 0, "'a b' and 'a_b' differ");
	memset(long_a, 'h', sizeof(long_a));
	long_a[sizeof(long_a) - 1] = '\0';
	memcpy(long_b, long_a, sizeof(long_b));
	long_a[sizeof(long_a) - 2] = 'X';
	long_b[sizeof(long_b) - 2] = 'Y';
	twofa_state_origin_make(&a, "sshd", "rhost", long_a, NULL, long_a);
	twofa_state_origin_make(&b, "sshd", "rhost", long_b, NULL, long_b);
	ok(strcmp(a.grace, b.grace) != 0 && strcmp(a.source, b.source) != 0,
	   "199-byte hosts differing in the last byte differ");
	ok(strlen(a.from) == TWOFA_STATE_FROM_MAX - 1, "the shown copy is bounded");
	twofa_state_origin_make(&a, "sshd", "rhost", "h\xc3\xa9\x1b[31m", NULL, "rhost=h\xc3\xa9\x1b[31m");
	ok(strcmp(a.from, "rhost=h???[31m") == 0, "the shown copy is printable ASCII (%s)", a.from);
	twofa_state_origin_make(&a, "cron", NULL, NULL, NULL, NULL);
	ok(a.grace[0] == '\0' && strlen(a.source) == 64 && strcmp(a.from, "local") == 0,
	   "a local login: a source, no grace");
}

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
	strcpy(e.last_from, "rhost=192.0.2.1");
	e.grace_count = 1;
	strcpy(e.grace[0].key, rhost_a.grace);
	e.grace[0].at = 40;
	e.source_count = 1;
	strcpy(e.sources[0].key, rhost_a.source);
	strcpy(e.sources[0].from, "rhost=192.0.2.1");
	e.sources[0].failures = 2;
	e.sources[0].locked_until = 50;
	e.sources[0].last_seen = 45;
	e.sources[0].pending_count = 1;
	e.sources[0].pending[0] = 44;
	ok(twofa_state_encode(&e, &json, &err) == TWOFA_OK, "encode a state record");
	ok(json != NULL && strstr(json, "\"v\":2") != NULL, "it is a version 2 record");
	ok(json != NULL && twofa_state_decode(json, strlen(json), &back, &err) == TWOFA_OK, "decode it back");
	ok(back.failures == 3 && back.locked_until == 1000 && back.send_count == 2 && back.sends[1] == 20 &&
		   back.last_login == 30 && strcmp(back.last_service, "sshd") == 0 &&
		   strcmp(back.last_from, "rhost=192.0.2.1") == 0 && back.grace_count == 1 &&
		   strcmp(back.grace[0].key, rhost_a.grace) == 0 && back.grace[0].at == 40 &&
		   back.source_count == 1 && strcmp(back.sources[0].key, rhost_a.source) == 0 &&
		   back.sources[0].failures == 2 && back.sources[0].locked_until == 50 &&
		   back.sources[0].last_seen == 45 && back.sources[0].pending_count == 1 &&
		   back.sources[0].pending[0] == 44,
	   "round trip keeps every field");
	free(json);

	{
		const char *old =
			"{\"v\":1,\"failures\":4,\"locked_until\":900,\"sends\":[5,6],\"last_login\":7,"
			"\"last_service\":\"su\",\"last_from\":\"pts/0\",\"grace\":[{\"from\":\"/dev/pts/0\",\"at\":8}]}";
		ok(twofa_state_decode(old, strlen(old), &back, &err) == TWOFA_OK && back.failures == 4 &&
			   back.locked_until == 900 && back.send_count == 2 && back.last_login == 7 &&
			   back.grace_count == 0,
		   "a version 1 record keeps failures, lockout and sends; its grace entries are dropped");
	}

	const char *bad[] = {
		"",
		"[]",
		"{}",
		"{\"v\":3}",
		"{\"v\":2,\"failures\":-1}",
		"{\"v\":2,\"failures\":\"3\"}",
		"{\"v\":2,\"locked_until\":-5}",
		"{\"v\":2,\"sends\":{}}",
		"{\"v\":2,\"sends\":[\"x\"]}",
		"{\"v\":2,\"last_from\":\"a\\nb\"}",
		"{\"v\":2,\"grace\":[1]}",
		"{\"v\":2,\"v\":2}",
		"{\"v\":2,\"locked_until\":99999999999999}",
		"{\"v\":1,\"grace\":{}}",
		"{\"v\":2,\"grace\":[{\"from\":\"/dev/pts/0\",\"at\":8}]}",
		"{\"v\":2,\"grace\":[{\"key\":\"ab\",\"at\":8}]}",
		"{\"v\":2,\"sources\":[{\"key\":\"x\"}]}",
		"{\"v\":2,\"sources\":{}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(twofa_state_decode(bad[i], strlen(bad[i]), &back, &err) == TWOFA_ESTORE,
		   "decode refuses damaged record %zu: %s", i, bad[i]);
	{
		char big[200 * 8 + 64];
		size_t n = (size_t)snprintf(big, sizeof(big), "{\"v\":2,\"sends\":[");
		for (int i = 0; i < 101; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "%s%d", i ? "," : "", i);
		snprintf(big + n, sizeof(big) - n, "]}");
		ok(twofa_state_decode(big, strlen(big), &back, &err) == TWOFA_ESTORE,
		   "decode refuses 101 sends");
	}
	{
		/* The largest record there can be still encodes and decodes. */
		memset(&e, 0, sizeof(e));
		e.failures = 1000000;
		e.send_count = TWOFA_STATE_SENDS_MAX;
		for (size_t i = 0; i < TWOFA_STATE_SENDS_MAX; i++)
			e.sends[i] = 253402300799LL;
		memset(e.last_service, 'x', sizeof(e.last_service) - 1);
		memset(e.last_from, 'x', sizeof(e.last_from) - 1);
		e.grace_count = TWOFA_STATE_GRACE_MAX;
		for (size_t i = 0; i < TWOFA_STATE_GRACE_MAX; i++) {
			strcpy(e.grace[i].key, rhost_a.grace);
			e.grace[i].at = 253402300799LL;
		}
		e.source_count = TWOFA_STATE_SOURCES_MAX;
		for (size_t i = 0; i < TWOFA_STATE_SOURCES_MAX; i++) {
			twofa_source_entry *s = &e.sources[i];
			strcpy(s->key, rhost_a.source);
			memset(s->from, '"', sizeof(s->from) - 1); /* escaped: twice as long in JSON */
			s->failures = 1000000;
			s->locked_until = s->last_seen = 253402300799LL;
			s->pending_count = TWOFA_STATE_PENDING_MAX;
			for (size_t j = 0; j < TWOFA_STATE_PENDING_MAX; j++)
				s->pending[j] = 253402300799LL;
		}
		bool coded = twofa_state_encode(&e, &json, &err) == TWOFA_OK &&
			     twofa_state_decode(json, strlen(json), &back, &err) == TWOFA_OK;
		ok(coded && back.source_count == TWOFA_STATE_SOURCES_MAX,
		   "the largest record round-trips (%zu bytes)", coded ? strlen(json) : 0);
		free(json);
	}
}

static void test_send_limit(void)
{
	twofa_state_entry e;
	twofa_error err;
	bool allowed = false;
	time_t retry = 0, next = 0;
	size_t in_window = 0;
	int granted = 0;

	for (int i = 0; i < 7; i++) {
		ok(twofa_state_reserve_send(path, "alice", 1000 + i, 5, 600, &allowed, &retry, &err) ==
			   TWOFA_OK,
		   "reserve_send %d succeeds as an operation", i);
		granted += allowed;
	}
	ok(granted == 5, "5 of 7 sends granted with send_limit 5 (got %d)", granted);
	ok(retry == 1000 + 600, "retry time is when the oldest send leaves the window (%ld)", (long)retry);
	ok(twofa_state_read(path, "alice", &e, &err) == TWOFA_OK, "read alice");
	twofa_state_send_window(&e, 1010, 5, 600, &in_window, &next);
	ok(in_window == 5 && next == 1600, "send_window: 5 in the window, next send at 1600 (%zu, %ld)",
	   in_window, (long)next);
	twofa_state_send_window(&e, 1010, 6, 600, &in_window, &next);
	ok(in_window == 5 && next == 1010, "send_window: below the limit, the next send is now");
	twofa_state_send_window(&e, 1602, 5, 600, &in_window, &next);
	ok(in_window == 2 && next == 1602, "send_window: old sends leave the window (%zu)", in_window);
	ok(twofa_state_reserve_send(path, "alice", 1600, 5, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "a send is granted again once the oldest left the window");
	ok(twofa_state_reserve_send(path, "bob", 1001, 5, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "limits are per user");
	/* Parallel logins read the time before the lock: the one that read it
	 * first may record after one that read it a second later. */
	ok(twofa_state_reserve_send(path, "carl", 2001, 1, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "carl's send at 2001 is granted");
	ok(twofa_state_reserve_send(path, "carl", 2000, 1, 600, &allowed, NULL, &err) == TWOFA_OK && !allowed,
	   "a login whose time read 2000 still sees that send: send_limit 1 holds");
	ok(twofa_state_reserve_send(path, "carl", 1900, 1, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "one a clock set back far behind it (101 s) does not count it");
	ok(twofa_state_unlock(path, "alice", 1700, &err) == TWOFA_OK &&
		   twofa_state_read(path, "alice", &e, &err) == TWOFA_OK && e.send_count == 0,
	   "unlock clears the send limit's count");
	ok(twofa_state_reserve_send(path, "alice", 1601, 5, 600, &allowed, NULL, &err) == TWOFA_OK && allowed,
	   "and a send is granted at once");
}

/* Services whose program answered the code prompt with the password. */
static void test_single_answer(void)
{
	twofa_state_entry e;
	twofa_error err;
	char *json = NULL, name[16];
	const char *old = "{\"v\":2,\"failures\":1,\"sends\":[5],\"grace\":[],\"sources\":[]}";

	ok(twofa_state_decode(old, strlen(old), &e, &err) == TWOFA_OK && e.failures == 1 &&
		   e.single_answer_count == 0,
	   "a version 2 record written before single_answer existed still reads");
	ok(twofa_state_encode(&e, &json, &err) == TWOFA_OK && strstr(json, "single_answer") == NULL,
	   "a record with none writes none");
	free(json);
	ok(twofa_state_note_single_answer(path, "ivy", "swaylock", "local", 7000, &err) == TWOFA_OK &&
		   twofa_state_read(path, "ivy", &e, &err) == TWOFA_OK,
	   "remember swaylock for ivy");
	ok(twofa_state_single_answer(&e, "swaylock", "local", 7000) &&
		   twofa_state_single_answer(&e, "swaylock", "local",
					     7000 + TWOFA_STATE_SINGLE_ANSWER_SECONDS - 1),
	   "remembered for the service, for TWOFA_STATE_SINGLE_ANSWER_SECONDS");
	ok(!twofa_state_single_answer(&e, "swaylock", "local", 7000 + TWOFA_STATE_SINGLE_ANSWER_SECONDS) &&
		   !twofa_state_single_answer(&e, "swaylock", "local", 6999) &&
		   !twofa_state_single_answer(&e, "i3lock", "local", 7000),
	   "not after that, not before it was noted, not for another service");
	ok(!twofa_state_single_answer(&e, "swaylock", "rhost=192.0.2.1", 7000),
	   "not from another origin: one host's answers do not stop the member's codes from others");
	ok(twofa_state_encode(&e, &json, &err) == TWOFA_OK && json != NULL &&
		   twofa_state_decode(json, strlen(json), &e, &err) == TWOFA_OK &&
		   e.single_answer_count == 1 && strcmp(e.single_answer[0].service, "swaylock") == 0 &&
		   strcmp(e.single_answer[0].from, "local") == 0 && e.single_answer[0].at == 7000,
	   "it survives the codec");
	free(json);
	for (int i = 0; i < TWOFA_STATE_SINGLE_ANSWER_MAX + 3; i++) {
		snprintf(name, sizeof(name), "locker%d", i);
		(void)twofa_state_note_single_answer(path, "ivy", name, "local", 7001 + i, &err);
	}
	ok(twofa_state_read(path, "ivy", &e, &err) == TWOFA_OK &&
		   e.single_answer_count == TWOFA_STATE_SINGLE_ANSWER_MAX &&
		   twofa_state_single_answer(&e, "locker10", "local", 7020) &&
		   !twofa_state_single_answer(&e, "swaylock", "local", 7020),
	   "bounded: the oldest service goes first");
	ok(twofa_state_note_single_answer(path, "ivy", "", "local", 7100, &err) == TWOFA_EINVAL,
	   "no service, nothing remembered");
	(void)twofa_state_note_single_answer(path, "ivy", "swaylock", "local",
					     7100 + TWOFA_STATE_SINGLE_ANSWER_SECONDS, &err);
	ok(twofa_state_read(path, "ivy", &e, &err) == TWOFA_OK && e.single_answer_count == 1,
	   "the expired ones are dropped at the next note");
	ok(twofa_state_unlock(path, "ivy", 7200, &err) == TWOFA_OK &&
		   twofa_state_read(path, "ivy", &e, &err) == TWOFA_OK && e.single_answer_count == 0,
	   "twofa-enroll unlock forgets them");
	old = "{\"v\":2,\"single_answer\":[{\"service\":\"\",\"from\":\"local\",\"at\":1}]}";
	ok(twofa_state_decode(old, strlen(old), &e, &err) == TWOFA_ESTORE,
	   "an entry without a service is damage");
	old = "{\"v\":2,\"single_answer\":[{\"service\":\"swaylock\",\"at\":1}]}";
	ok(twofa_state_decode(old, strlen(old), &e, &err) == TWOFA_ESTORE,
	   "an entry without an origin is damage");
}

/* The replay guard of authenticator-app codes. */
static void test_app_code_guard(void)
{
	const long g = TWOFA_STATE_APP_GUARD_SECONDS;
	twofa_state_entry e;
	twofa_error err;
	bool replayed = true;
	char *json = NULL, code[8];
	const char *f = "YF0123456789abcdef0123456789abcdef";
	const char *bad = "{\"v\":2,\"app_used\":[{\"key\":\"x\",\"until\":1}]}";

	ok(twofa_state_app_code_claim(path, "jo", f, "123456", 9000, &replayed, &err) == TWOFA_OK && !replayed,
	   "an app code is claimed the first time");
	ok(twofa_state_app_code_claim(path, "jo", f, "123456", 9000 + g - 1, &replayed, &err) == TWOFA_OK &&
		   replayed,
	   "the same code within the guard is a replay");
	ok(twofa_state_app_code_claim(path, "jo", f, "123457", 9001, &replayed, &err) == TWOFA_OK &&
		   !replayed &&
		   twofa_state_app_code_claim(path, "kim", f, "123456", 9001, &replayed, &err) == TWOFA_OK &&
		   !replayed,
	   "another code, or another member's same code, is not");
	ok(twofa_state_read(path, "jo", &e, &err) == TWOFA_OK && e.app_used_count == 2 &&
		   twofa_state_encode(&e, &json, &err) == TWOFA_OK && strstr(json, "123456") == NULL &&
		   strstr(json, "123457") == NULL,
	   "state.db keeps hashes, never the code");
	free(json);
	ok(twofa_state_app_code_claim(path, "jo", f, "123456", 9000 + g, &replayed, &err) == TWOFA_OK &&
		   !replayed,
	   "after the guard the code may pass again (Twilio judges its time)");
	for (int i = 0; i < TWOFA_STATE_APP_USED_MAX + 4; i++) {
		snprintf(code, sizeof(code), "%06d", i);
		(void)twofa_state_app_code_claim(path, "jo", f, code, 9100 + i, &replayed, &err);
	}
	ok(twofa_state_read(path, "jo", &e, &err) == TWOFA_OK && e.app_used_count == TWOFA_STATE_APP_USED_MAX,
	   "bounded: at most TWOFA_STATE_APP_USED_MAX kept");
	ok(twofa_state_app_code_claim(path, "jo", f, "000019", 9130, &replayed, &err) == TWOFA_OK && replayed,
	   "the newest stay");
	ok(twofa_state_decode(bad, strlen(bad), &e, &err) == TWOFA_ESTORE, "a bad app_used key is damage");

	long n = 0;
	for (int i = 0; i < 3; i++)
		(void)twofa_state_app_failure(path, "jo", &n, &err);
	ok(n == 3 && twofa_state_read(path, "jo", &e, &err) == TWOFA_OK && e.app_failures == 3,
	   "wrong app codes are counted");
	ok(twofa_state_unlock(path, "jo", 9500, &err) == TWOFA_OK &&
		   twofa_state_read(path, "jo", &e, &err) == TWOFA_OK && e.app_failures == 0,
	   "an admin unlock clears them");
	{
		twofa_state_login jo = who("jo", true, &rhost_a);
		time_t until = 0;

		jo.lockout_failures = 2;
		jo.lockout_seconds = 10;
		(void)twofa_state_app_failure(path, "jo", &n, &err);
		(void)twofa_state_record_failure(path, &jo, 9600, 0, NULL, &until, &err);
		(void)twofa_state_record_failure(path, &jo, 9601, 0, NULL, &until, &err);
		ok(until != 0, "a lockout begins");
		(void)twofa_state_record_failure(path, &jo, 9700, 0, NULL, &until, &err);
		ok(twofa_state_read(path, "jo", &e, &err) == TWOFA_OK && e.app_failures == 1,
		   "the lockout's expiry leaves the wrong app codes counted");
	}
	bad = "{\"v\":2,\"app_failures\":-1}";
	ok(twofa_state_decode(bad, strlen(bad), &e, &err) == TWOFA_ESTORE, "a negative count is damage");
}

static void test_failures(void)
{
	twofa_state_login carol_a = who("carol", true, &rhost_a), carol_b = who("carol", true, &rhost_b);
	twofa_state_entry e;
	twofa_error err;
	long failures = 0;
	time_t until = 0;

	fail_n(&carol_a, 2, 2000);
	twofa_state_record_failure(path, &carol_a, 2000, 0, &failures, &until, &err);
	ok(failures == 3 && until == 2900,
	   "third failure from one source locks it for 900 s (failures %ld until %ld)", failures, (long)until);
	ok(twofa_state_read(path, "carol", &e, &err) == TWOFA_OK &&
		   twofa_state_locked_until(&e, rhost_a.source, 2899) == 2900 &&
		   twofa_state_locked_until(&e, rhost_a.source, 2900) == 0,
	   "locked until the deadline, not after");
	ok(!twofa_state_is_locked(&e, 2000) && twofa_state_locked_until(&e, rhost_b.source, 2000) == 0,
	   "another source is not locked, nor is the user everywhere");
	ok(twofa_state_latest_lock(&e, 2000) == 2900 && twofa_state_latest_lock(&e, 2900) == 0,
	   "latest_lock reports the source's lockout while it runs");
	fail_n(&carol_b, 3, 2001);
	fail_n(&carol_a, 3, 2002); /* from a locked source: still counted */
	ok(twofa_state_read(path, "carol", &e, &err) == TWOFA_OK && e.failures == 9 &&
		   e.locked_until == 2002 + 900,
	   "%d failures from all sources lock everywhere (failures %ld until %ld)",
	   3 * TWOFA_STATE_GLOBAL_FACTOR, e.failures, (long)e.locked_until);
	ok(twofa_state_locked_until(&e, tty_3.source, 2003) == 2902, "then every source is locked");
	twofa_state_record_failure(path, &carol_a, 2950, 0, &failures, &until, &err);
	ok(failures == 1 && until == 0, "an expired lockout starts the count again (%ld)", failures);
	{
		twofa_state_login dave = who("dave", true, &rhost_a);
		dave.lockout_failures = 0;
		twofa_state_record_failure(path, &dave, 2000, 0, &failures, &until, &err);
		ok(until == 0 && failures == 1, "lockout_failures 0 never locks");
	}
	fail_n(&carol_a, 3, 3000);
	ok(twofa_state_unlock(path, "carol", 3001, &err) == TWOFA_OK &&
		   twofa_state_read(path, "carol", &e, &err) == TWOFA_OK && e.failures == 0 &&
		   e.locked_until == 0 && e.source_count == 0 && twofa_state_latest_lock(&e, 3000) == 0,
	   "unlock clears failures and lockouts, everywhere and per source");
	{
		/* More sources than are kept: the count everywhere still locks. */
		twofa_state_origin o;
		char host[32];
		for (int i = 0; i < 40; i++) {
			snprintf(host, sizeof(host), "198.51.100.%d", i);
			twofa_state_origin_make(&o, "sshd", "rhost", host, NULL, host);
			twofa_state_login l = who("gina", true, &o);
			fail_n(&l, 1, 4000);
		}
		ok(twofa_state_read(path, "gina", &e, &err) == TWOFA_OK &&
			   e.source_count <= TWOFA_STATE_SOURCES_MAX && e.failures == 40 &&
			   twofa_state_is_locked(&e, 4000),
		   "sources are bounded (%zu) and the count everywhere locks", e.source_count);
	}
}

/* The admin unlock of the fleet: member.unlocked, honoured once per time. */
static void test_unlock_time(void)
{
	twofa_state_login erin = who("erin", true, &rhost_a);
	twofa_state_entry e;
	twofa_error err;
	char *json = NULL;

	ok(twofa_state_unlock(path, "erin", 0, &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.unlock_honoured == 0,
	   "never unlocked: nothing to honour, nothing written");
	fail_n(&erin, 3, 4000);
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK &&
		   twofa_state_locked_until(&e, rhost_a.source, 4000) != 0,
	   "erin is locked out from rhost_a");
	ok(twofa_state_unlock(path, "erin", 4100, &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 0 &&
		   e.source_count == 0 && e.unlock_honoured == 4100 &&
		   twofa_state_locked_until(&e, rhost_a.source, 4101) == 0,
	   "an unlock time newer than the one honoured clears the lockout and the count");
	fail_n(&erin, 2, 4200);
	ok(twofa_state_unlock(path, "erin", 4100, &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 2,
	   "the same unlock time again keeps the failures made after it (%ld)", e.failures);
	ok(twofa_state_unlock(path, "erin", 3000, &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 2 &&
		   e.unlock_honoured == 4100,
	   "an older unlock time changes nothing");
	fail_n(&erin, 1, 4201);
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK &&
		   twofa_state_locked_until(&e, rhost_a.source, 4201) != 0,
	   "and three failures after the unlock lock again");
	ok(twofa_state_encode(&e, &json, &err) == TWOFA_OK && json != NULL &&
		   strstr(json, "\"unlock_honoured\":4100") &&
		   twofa_state_decode(json, strlen(json), &e, &err) == TWOFA_OK && e.unlock_honoured == 4100,
	   "the honoured time survives the codec");
	free(json);
	ok(twofa_state_unlock(path, "erin", 4300, &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 0 &&
		   twofa_state_locked_until(&e, rhost_a.source, 4301) == 0,
	   "a later unlock clears them");
}

static void test_attempts(void)
{
	twofa_state_login hal = who("hal", true, &rhost_a), hal_b = who("hal", true, &rhost_b);
	twofa_attempt gate;
	twofa_state_entry e;
	twofa_error err;
	time_t r[4] = {0};
	int go = 0;

	for (int i = 0; i < 4; i++) {
		ok(twofa_state_begin_attempt(path, &hal, 5000, &gate, &r[i], &err) == TWOFA_OK,
		   "begin_attempt %d", i);
		go += gate == TWOFA_ATTEMPT_GO;
	}
	ok(go == 3 && gate == TWOFA_ATTEMPT_BUSY && r[0] == 5000 && r[3] == 0,
	   "lockout_failures 3: three checks may be in flight, the fourth is busy (go %d)", go);
	ok(twofa_state_release(path, &hal, 5001, r[0], &err) == TWOFA_OK &&
		   twofa_state_begin_attempt(path, &hal, 5001, &gate, &r[0], &err) == TWOFA_OK &&
		   gate == TWOFA_ATTEMPT_GO,
	   "a released reservation frees its place");
	for (int i = 0; i < 3; i++)
		twofa_state_record_failure(path, &hal, 5002, r[i], NULL, NULL, &err);
	ok(twofa_state_read(path, "hal", &e, &err) == TWOFA_OK && e.failures == 3 &&
		   e.sources[0].pending_count == 0 && e.sources[0].failures == 3,
	   "reservations become failures: exact counts (%ld)", e.failures);
	ok(twofa_state_begin_attempt(path, &hal, 5003, &gate, &r[0], &err) == TWOFA_OK &&
		   gate == TWOFA_ATTEMPT_LOCKED,
	   "then the source is locked");
	ok(twofa_state_begin_attempt(path, &hal_b, 5003, &gate, &r[0], &err) == TWOFA_OK &&
		   gate == TWOFA_ATTEMPT_GO,
	   "another source may still try");
	/* hal_b's reservation is never ended: a login killed mid-check. */
	for (int i = 0; i < 2; i++)
		twofa_state_begin_attempt(path, &hal_b, 5004, &gate, &r[1], &err);
	ok(gate == TWOFA_ATTEMPT_GO, "three in flight from the second source");
	ok(twofa_state_begin_attempt(path, &hal_b, 5004 + TWOFA_STATE_PENDING_SECONDS - 2, &gate, &r[1],
				     &err) == TWOFA_OK &&
		   gate == TWOFA_ATTEMPT_BUSY,
	   "reservations of killed logins hold until they expire");
	ok(twofa_state_begin_attempt(path, &hal_b, 5004 + TWOFA_STATE_PENDING_SECONDS, &gate, &r[1], &err) ==
			   TWOFA_OK &&
		   gate == TWOFA_ATTEMPT_GO,
	   "after %d s they expire, and never counted as failures", TWOFA_STATE_PENDING_SECONDS);
	ok(twofa_state_read(path, "hal", &e, &err) == TWOFA_OK && e.failures == 3 &&
		   twofa_state_locked_until(&e, rhost_b.source, 5100) == 0,
	   "only real failures count and lock");
	{
		twofa_state_login off = who("ian", true, &rhost_a);
		off.lockout_failures = 0;
		for (int i = 0; i < 20; i++)
			twofa_state_begin_attempt(path, &off, 5000, &gate, &r[0], &err);
		ok(gate == TWOFA_ATTEMPT_GO && r[0] == 0, "lockout off: nothing is reserved");
	}
}

static void test_success_and_grace(void)
{
	twofa_state_login erin = who("erin", true, &rhost_a), erin_b = who("erin", true, &rhost_b);
	twofa_state_entry e;
	twofa_error err;
	bool locked = true;
	twofa_state_origin tty[20];
	char name[32];

	fail_n(&erin, 1, 3000);
	fail_n(&erin_b, 1, 3000);
	ok(twofa_state_record_success(path, &erin, 3010, "sshd", 300, &locked, &err) == TWOFA_OK && !locked,
	   "record_success");
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.failures == 0 && e.last_login == 3010 &&
		   strcmp(e.last_service, "sshd") == 0 && strcmp(e.last_from, rhost_a.from) == 0,
	   "success clears failures everywhere and records the last login");
	ok(e.source_count == 1 && strcmp(e.sources[0].key, rhost_b.source) == 0,
	   "and clears its own source's count, not another's");
	ok(twofa_state_in_grace(&e, rhost_a.grace, 3309, 300), "same origin within the grace period");
	ok(!twofa_state_in_grace(&e, rhost_a.grace, 3310, 300), "grace ends after the period");
	ok(!twofa_state_in_grace(&e, rhost_b.grace, 3011, 300), "another origin has no grace");
	ok(!twofa_state_in_grace(&e, rhost_a.grace, 3011, 0), "grace_period 0 never grants grace");
	ok(!twofa_state_in_grace(&e, rhost_a.grace, 3000, 300),
	   "a grace entry from the future does not count");
	ok(!twofa_state_in_grace(&e, "", 3011, 300), "an origin without a grace key never has grace");
	fail_n(&erin_b, 2, 3020);
	ok(twofa_state_record_success(path, &erin_b, 3021, "sshd", 300, &locked, &err) == TWOFA_OK && locked,
	   "a code approved after its source was locked does not succeed");
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.last_login == 3010 && e.failures == 2 &&
		   !twofa_state_in_grace(&e, rhost_b.grace, 3022, 300),
	   "and records nothing");
	ok(twofa_state_record_success(path, &erin, 3022, "sshd", 300, &locked, &err) == TWOFA_OK && !locked,
	   "the other source succeeds meanwhile");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "tty%d", i);
		twofa_state_origin_make(&tty[i], "login", "tty", name, "1 1", name);
		twofa_state_login l = who("erin", true, &tty[i]);
		twofa_state_record_success(path, &l, 4000 + i, "login", 300, &locked, &err);
	}
	ok(twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.grace_count == TWOFA_STATE_GRACE_MAX,
	   "grace entries are bounded (%zu)", e.grace_count);
	ok(twofa_state_in_grace(&e, tty[19].grace, 4100, 300) &&
		   !twofa_state_in_grace(&e, tty[0].grace, 4100, 300),
	   "the oldest grace entries are dropped first");
	{
		twofa_state_origin none;
		memset(&none, 0, sizeof(none));
		twofa_state_login l = who("erin", true, &none);
		ok(twofa_state_record_success(path, &l, 4200, "x", 300, &locked, &err) == TWOFA_EINVAL &&
			   locked,
		   "an origin without keys fails closed");
	}
	ok(twofa_state_forget(path, "erin", &err) == TWOFA_OK &&
		   twofa_state_read(path, "erin", &e, &err) == TWOFA_OK && e.last_login == 0,
	   "forget removes the user's state");
	ok(twofa_state_forget(path, "nobody-here", &err) == TWOFA_OK, "forget of an unknown user is fine");
}

/* Counts the records of the store and whether any key or value holds needle. */
struct scan {
	const char *needle;
	size_t records, anon;
	bool found;
};

static int scan_record(const char *key, const char *value, size_t len, void *arg)
{
	struct scan *s = arg;
	twofa_error err;

	(void)len;
	s->records++;
	s->anon += strncmp(key, "anon:", 5) == 0;
	if (strstr(key, s->needle) != NULL || strstr(value, s->needle) != NULL)
		s->found = true;
	if (twofa_state_check_record(key, value, strlen(value), &err) != TWOFA_OK)
		diag("record %s does not check: %s", key, err.msg);
	return 0;
}

static struct scan scan_store(const char *needle)
{
	struct scan sc = {.needle = needle};
	twofa_store *s = NULL;
	twofa_error err;

	if (twofa_store_open(&s, path, TWOFA_STORE_READ, 1000, &err) == TWOFA_OK) {
		(void)twofa_store_iterate(s, scan_record, &sc, &err);
		(void)twofa_store_close(s, &err);
	}
	return sc;
}

static void test_unknown_names(void)
{
	twofa_state_login ghost = who("ghost-of-zed", false, &rhost_a), member = who("zed", true, &rhost_a);
	twofa_attempt g1 = TWOFA_ATTEMPT_GO, g2 = TWOFA_ATTEMPT_GO;
	time_t r = 0;
	twofa_error err;
	struct scan sc;

	for (int i = 0; i < 3; i++) {
		twofa_state_begin_attempt(path, &ghost, 6000, &g1, &r, &err);
		twofa_state_record_failure(path, &ghost, 6000, r, NULL, NULL, &err);
		twofa_state_begin_attempt(path, &member, 6000, &g2, &r, &err);
		twofa_state_record_failure(path, &member, 6000, r, NULL, NULL, &err);
	}
	ok(g1 == TWOFA_ATTEMPT_GO && g2 == TWOFA_ATTEMPT_GO, "three tries each");
	ok(twofa_state_begin_attempt(path, &ghost, 6001, &g1, &r, &err) == TWOFA_OK &&
		   twofa_state_begin_attempt(path, &member, 6001, &g2, &r, &err) == TWOFA_OK &&
		   g1 == TWOFA_ATTEMPT_LOCKED && g2 == TWOFA_ATTEMPT_LOCKED,
	   "a name that is not enrolled is locked out like a member");
	sc = scan_store("ghost-of-zed");
	ok(!sc.found && sc.anon == 1, "its record is under a keyed hash, the name is nowhere in the store");
	ok(twofa_state_check_record("key:unknown-names", "00", 2, &err) == TWOFA_ESTORE &&
		   twofa_state_check_record("anon:zz", "{\"v\":2}", 7, &err) == TWOFA_ESTORE &&
		   twofa_state_check_record("a:b", "{\"v\":2}", 7, &err) == TWOFA_ESTORE &&
		   twofa_state_check_record("zed", "{\"v\":2}", 7, &err) == TWOFA_OK,
	   "check_record knows the reserved keys");
	{
		twofa_state_login other = who("ghost-of-amy", false, &rhost_a);
		ok(twofa_state_begin_attempt(path, &other, 6001, &g1, &r, &err) == TWOFA_OK &&
			   g1 == TWOFA_ATTEMPT_GO,
		   "another unknown name has its own state");
		ok(twofa_state_release(path, &other, 6001, r, &err) == TWOFA_OK && scan_store("x").anon == 1,
		   "an unknown name's record goes once nothing is left in it");
	}
	ok(twofa_state_begin_attempt(path, &ghost, 6000 + 900, &g1, &r, &err) == TWOFA_OK &&
		   g1 == TWOFA_ATTEMPT_GO,
	   "its lockout ends like a member's");
}

static void test_parallel(void)
{
	enum { PROCS = 8, EACH = 25 };
	twofa_state_login frank = who("frank", true, &rhost_a);
	twofa_state_entry e;
	twofa_error err;
	int good = 0, go = 0;

	frank.lockout_failures = 0;
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int i = 0; i < EACH; i++)
				if (twofa_state_record_failure(path, &frank, 5000, 0, NULL, NULL, NULL) !=
				    TWOFA_OK)
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

	/* 12 parallel password checks with lockout_failures 3: three reserve. */
	for (int p = 0; p < 12; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			twofa_state_login gus = who("gus", true, &rhost_a);
			twofa_attempt gate = TWOFA_ATTEMPT_LOCKED;
			time_t r = 0;
			if (twofa_state_begin_attempt(path, &gus, 7000, &gate, &r, NULL) != TWOFA_OK)
				_exit(2);
			_exit(gate == TWOFA_ATTEMPT_GO ? 0 : 1);
		}
	}
	for (int p = 0; p < 12; p++) {
		int status = 0;
		if (wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			go++;
	}
	ok(go == 3, "12 parallel attempts, lockout_failures 3: exactly 3 may check (%d)", go);
}

int main(void)
{
	twofa_state_entry e;
	twofa_error err;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/db/state.db", dir);
	twofa_state_origin_make(&rhost_a, "sshd", "rhost", "192.0.2.1", NULL, "rhost=192.0.2.1");
	twofa_state_origin_make(&rhost_b, "sshd", "rhost", "192.0.2.2", NULL, "rhost=192.0.2.2");
	twofa_state_origin_make(&tty_3, "su", "tty", "/dev/pts/3", "1 1", "tty=/dev/pts/3");
	ok(twofa_state_read(path, "alice", &e, &err) == TWOFA_OK && e.failures == 0 && e.send_count == 0,
	   "a missing state store reads as empty");
	ok(twofa_state_read(path, "anon:00", &e, &err) == TWOFA_EINVAL, "read takes member names only");
	test_origin_keys();
	test_codec();
	test_send_limit();
	test_single_answer();
	test_app_code_guard();
	test_failures();
	test_unlock_time();
	test_attempts();
	test_success_and_grace();
	test_unknown_names();
	test_parallel();
	tap_remove_dir(dir);
	return tap_done();
}
