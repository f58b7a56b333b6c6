/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/wire over a real stream socket pair: frames arrive whole however the
 * peer cuts them, a silent peer meets the deadline, a closed one is CLOSED
 * (and never a SIGPIPE), a length out of bounds is refused before its body
 * is read, and what the reader cannot decode says why. */
#include "twofa_build.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "tap.h"
#include "wire.h"

/* The deadline of every test that expects an answer: long enough for a
 * loaded 2-core machine, short enough that a hang fails the test. */
#define ANSWER_MS 10000

static long long deadline(long long ms)
{
	return twofa_wire_now_ms() + ms;
}

static bool pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0;
}

static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

/* Writes all of buf with plain write(2), as a peer that is not lib/wire. */
static bool put_raw(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void put_header(unsigned char head[4], uint32_t n)
{
	head[0] = (unsigned char)(n >> 24);
	head[1] = (unsigned char)(n >> 16);
	head[2] = (unsigned char)(n >> 8);
	head[3] = (unsigned char)n;
}

/* A raw frame: header and body, in one write. */
static bool put_frame(int fd, const char *body)
{
	unsigned char head[4];

	put_header(head, (uint32_t)strlen(body));
	return put_raw(fd, head, sizeof(head)) && put_raw(fd, body, strlen(body));
}

static bool wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return false;
	return true;
}

static void sample_conv(twofa_msg *m)
{
	twofa_msg_init(m, TWOFA_MSG_CONV);
	m->code = 1;
	twofa_msg_set_text(m, "Verification code: \xff");
}

static void test_send_recv(void)
{
	static twofa_msg m, back;
	int sv[2];
	long version = -1;

	if (!ok(pair(sv), "socketpair"))
		return;
	twofa_msg_init(&m, TWOFA_MSG_HELLO);
	m.call = TWOFA_CALL_ACCOUNT;
	m.ruid = 1000;
	m.nargs = 1;
	strcpy(m.args[0], "daemon=no");
	m.has_item[TWOFA_ITEM_USER] = true;
	strcpy(m.items[TWOFA_ITEM_USER], "alice");
	ok(twofa_wire_send(sv[0], &m, deadline(ANSWER_MS)) == TWOFA_WIRE_OK, "send a hello");
	ok(twofa_wire_recv(sv[1], &back, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   version == TWOFA_PROTO_VERSION && memcmp(&m, &back, sizeof(m)) == 0,
	   "receive it, field for field");

	sample_conv(&m);
	ok(twofa_wire_send(sv[1], &m, -1) == TWOFA_WIRE_OK &&
		   twofa_wire_recv(sv[0], &back, &version, -1) == TWOFA_WIRE_OK &&
		   memcmp(&m, &back, sizeof(m)) == 0,
	   "and back the other way, with no deadline");

	/* Two frames in one write come out as two messages. */
	ok(put_frame(sv[0], "{\"v\":1,\"t\":\"get_user\"}") &&
		   put_frame(sv[0], "{\"v\":1,\"t\":\"ack\",\"code\":0}"),
	   "two frames written back to back");
	ok(twofa_wire_recv(sv[1], &back, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   back.type == TWOFA_MSG_GET_USER &&
		   twofa_wire_recv(sv[1], &back, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   back.type == TWOFA_MSG_ACK,
	   "read as two messages, in order");

	/* The largest hello the bounds allow crosses the socket whole. */
	twofa_msg_init(&m, TWOFA_MSG_HELLO);
	m.call = TWOFA_CALL_PASSWORD;
	m.ruid = 4294967295L;
	m.nargs = TWOFA_PROTO_ARGS_MAX;
	for (size_t i = 0; i < m.nargs; i++)
		memset(m.args[i], 'a' + (int)(i % 26), TWOFA_PROTO_ARG_MAX);
	for (int i = 0; i < TWOFA_ITEM_COUNT; i++) {
		m.has_item[i] = true;
		memset(m.items[i], 'A' + i, twofa_proto_item_max((twofa_proto_item)i));
	}
	ok(twofa_wire_send(sv[0], &m, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   twofa_wire_recv(sv[1], &back, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   memcmp(&m, &back, sizeof(m)) == 0,
	   "the largest hello crosses whole");

	/* A message that breaks a bound is not sent at all. */
	twofa_msg_init(&m, TWOFA_MSG_LOG);
	m.has_text = true;
	memset(m.text, 'x', sizeof(m.text));
	ok(twofa_wire_send(sv[0], &m, deadline(ANSWER_MS)) == TWOFA_WIRE_TOO_BIG,
	   "an overlong text is not sent");
	ok(recv(sv[1], &back, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "and nothing reached the peer");
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&back);
	close_pair(sv);
}

static void test_one_byte_writes(void)
{
	static twofa_msg m, back;
	char body[TWOFA_FRAME_MAX];
	size_t len = 0;
	long version = -1;
	int sv[2], status = -1;
	pid_t pid;

	if (!ok(pair(sv), "socketpair"))
		return;
	sample_conv(&m);
	if (!ok(twofa_msg_encode(&m, body, sizeof(body), &len), "encode a conv"))
		return;
	pid = fork();
	if (pid == 0) {
		unsigned char head[4];
		const struct timespec pause = {.tv_nsec = 1000000};

		close(sv[1]);
		put_header(head, (uint32_t)len);
		for (size_t i = 0; i < sizeof(head) + len; i++) {
			unsigned char c = i < sizeof(head) ? head[i] : (unsigned char)body[i - sizeof(head)];
			if (!put_raw(sv[0], &c, 1))
				_exit(1);
			nanosleep(&pause, NULL);
		}
		_exit(0);
	}
	close(sv[0]);
	ok(pid > 0, "fork a peer that writes one byte at a time");
	ok(twofa_wire_recv(sv[1], &back, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   memcmp(&m, &back, sizeof(m)) == 0,
	   "its %zu + 4 bytes are read as one whole message", len);
	ok(pid > 0 && wait_child(pid, &status) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the peer wrote every byte");
	close(sv[1]);
}

static void test_deadline(void)
{
	char buf[TWOFA_FRAME_MAX];
	const char *body = "{\"v\":1,\"t\":\"get_user\"}";
	unsigned char head[4];
	size_t len = 99;
	int sv[2];
	long long start, took;

	if (!ok(pair(sv), "socketpair"))
		return;
	put_header(head, (uint32_t)strlen(body));
	ok(put_raw(sv[0], head, sizeof(head)) && put_raw(sv[0], body, strlen(body) / 2),
	   "the peer sends half a frame and stops");
	start = twofa_wire_now_ms();
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, start + 300) == TWOFA_WIRE_TIMEOUT && len == 0,
	   "the reader times out");
	took = twofa_wire_now_ms() - start;
	ok(took >= 290 && took < 5000, "at its deadline of 300 ms, not before, not long after (%lld ms)",
	   took);

	start = twofa_wire_now_ms();
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, start - 1) == TWOFA_WIRE_TIMEOUT,
	   "a deadline already past times out at once");
	ok(twofa_wire_now_ms() - start < 1000, "without waiting");

	/* A peer that never reads: the writer meets its deadline too. */
	int sndbuf = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	twofa_wire_result r = TWOFA_WIRE_OK;
	start = twofa_wire_now_ms();
	memset(buf, ' ', sizeof(buf));
	for (int i = 0; i < 200 && r == TWOFA_WIRE_OK; i++)
		r = twofa_wire_write(sv[0], buf, TWOFA_FRAME_MAX, twofa_wire_now_ms() + 300);
	took = twofa_wire_now_ms() - start;
	ok(r == TWOFA_WIRE_TIMEOUT && took < 5000,
	   "a writer to a peer that does not read times out (%lld ms)", took);
	close_pair(sv);
}

static void test_closed(void)
{
	char buf[TWOFA_FRAME_MAX];
	const char *body = "{\"v\":1,\"t\":\"get_user\"}";
	unsigned char head[4];
	size_t len = 99;
	int sv[2];

	if (!ok(pair(sv), "socketpair"))
		return;
	put_header(head, (uint32_t)strlen(body));
	ok(put_raw(sv[0], head, sizeof(head)) && put_raw(sv[0], body, 5), "the peer sends part of a frame");
	close(sv[0]);
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, deadline(ANSWER_MS)) == TWOFA_WIRE_CLOSED &&
		   len == 0,
	   "then closes: CLOSED mid-frame");
	close(sv[1]);

	if (!ok(pair(sv), "socketpair"))
		return;
	ok(put_raw(sv[0], head, 2), "the peer sends half a header");
	close(sv[0]);
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, deadline(ANSWER_MS)) == TWOFA_WIRE_CLOSED,
	   "then closes: CLOSED mid-header");
	close(sv[1]);

	if (!ok(pair(sv), "socketpair"))
		return;
	close(sv[0]);
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, deadline(ANSWER_MS)) == TWOFA_WIRE_CLOSED,
	   "a peer that closes before a byte: CLOSED");
	close(sv[1]);
}

/* A length out of bounds is refused from the header alone: the bytes after
 * it are still in the socket. */
static void too_big(uint32_t n, const char *why)
{
	char buf[TWOFA_FRAME_MAX];
	unsigned char head[4];
	size_t len = 99;
	int sv[2];

	if (!ok(pair(sv), "socketpair"))
		return;
	put_header(head, n);
	ok(put_raw(sv[0], head, sizeof(head)) && put_raw(sv[0], "BODY", 4), "a header of %u and 4 more bytes",
	   n);
	ok(twofa_wire_read(sv[1], buf, sizeof(buf), &len, deadline(ANSWER_MS)) == TWOFA_WIRE_TOO_BIG &&
		   len == 0,
	   "TOO_BIG: %s", why);
	ok(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 4 && memcmp(buf, "BODY", 4) == 0,
	   "without reading a byte of the body");
	close_pair(sv);
}

static void test_lengths(void)
{
	static char buf[TWOFA_FRAME_MAX + 1];
	size_t len = 0;
	int sv[2];

	too_big(0, "a length of 0");
	too_big(TWOFA_FRAME_MAX + 1, "a length of TWOFA_FRAME_MAX + 1");
	too_big(UINT32_MAX, "a length of 2^32 - 1");

	if (!ok(pair(sv), "socketpair"))
		return;
	ok(twofa_wire_write(sv[0], buf, 0, deadline(ANSWER_MS)) == TWOFA_WIRE_TOO_BIG &&
		   twofa_wire_write(sv[0], buf, TWOFA_FRAME_MAX + 1, deadline(ANSWER_MS)) ==
			   TWOFA_WIRE_TOO_BIG,
	   "the writer refuses the same lengths");
	ok(recv(sv[1], buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "and writes nothing");
	memset(buf, ' ', TWOFA_FRAME_MAX);
	ok(twofa_wire_write(sv[0], buf, TWOFA_FRAME_MAX, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   twofa_wire_read(sv[1], buf, sizeof(buf), &len, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   len == TWOFA_FRAME_MAX,
	   "a frame of exactly TWOFA_FRAME_MAX bytes crosses");
	ok(twofa_wire_write(sv[0], buf, 100, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   twofa_wire_read(sv[1], buf, 99, &len, deadline(ANSWER_MS)) == TWOFA_WIRE_TOO_BIG,
	   "a frame longer than the reader's buffer is refused, not overrun");
	close_pair(sv);
}

/* In a child with SIGPIPE at its default (fatal) disposition and unblocked:
 * writes to a peer that has closed must come back CLOSED, not kill it. */
static void test_no_sigpipe(void)
{
	int sv[2], status = -1;
	pid_t pid;

	if (!ok(pair(sv), "socketpair"))
		return;
	close(sv[1]);
	pid = fork();
	if (pid == 0) {
		static twofa_msg m;
		sigset_t pipe_only;

		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&pipe_only);
		sigaddset(&pipe_only, SIGPIPE);
		sigprocmask(SIG_UNBLOCK, &pipe_only, NULL);
		if (twofa_wire_write(sv[0], "{}", 2, deadline(ANSWER_MS)) != TWOFA_WIRE_CLOSED)
			_exit(2);
		sample_conv(&m);
		if (twofa_wire_send(sv[0], &m, deadline(ANSWER_MS)) != TWOFA_WIRE_CLOSED)
			_exit(3);
		_exit(0);
	}
	bool waited = pid > 0 && wait_child(pid, &status);
	ok(waited, "a writer to a closed peer");
	ok(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "gets CLOSED from write and send (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ok(waited && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE), "and no SIGPIPE killed it");
	close(sv[0]);
}

static void test_bad_frames(void)
{
	static twofa_msg m;
	int sv[2];
	long version = -1;

	if (!ok(pair(sv), "socketpair"))
		return;
	ok(put_frame(sv[0], "{\"v\":2,\"t\":\"hello\",\"code\":0,\"call\":\"auth\",\"ruid\":0}"),
	   "a version-2 frame");
	bool good = twofa_wire_recv(sv[1], &m, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_VERSION &&
		    version == 2;
	ok(good, "VERSION, naming the peer's version 2 (%ld)", version);

	ok(put_frame(sv[0], "\x89PNG\r\n\x1a\n garbage"), "a frame of garbage");
	memset(&m, 0xa5, sizeof(m));
	version = -1;
	ok(twofa_wire_recv(sv[1], &m, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_BAD &&
		   version == TWOFA_PROTO_VERSION && m.type == 0 && m.text[0] == '\0',
	   "BAD, nothing decoded");
	ok(put_frame(sv[0], "{\"v\":1,\"t\":\"conv\",\"code\":1,\"text\":\"00\"}"),
	   "a frame with a NUL byte in hex");
	ok(twofa_wire_recv(sv[1], &m, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_BAD, "BAD");
	ok(put_frame(sv[0], "{\"v\":1,\"t\":\"ack\",\"code\":0}"), "then a good frame");
	ok(twofa_wire_recv(sv[1], &m, &version, deadline(ANSWER_MS)) == TWOFA_WIRE_OK &&
		   m.type == TWOFA_MSG_ACK,
	   "the bad ones were read whole: the next frame is in step");
	for (int r = TWOFA_WIRE_OK; r <= TWOFA_WIRE_ERROR + 1; r++)
		ok(twofa_wire_result_text((twofa_wire_result)r) != NULL, "result %d has a text: %s", r,
		   twofa_wire_result_text((twofa_wire_result)r));
	close_pair(sv);
}

int main(void)
{
	/* What a PAM host may have: the default disposition, not SIG_IGN. */
	signal(SIGPIPE, SIG_DFL);
	/* A deadline that never fires would hang the suite: SIGALRM ends it. */
	alarm(120);
	test_send_recv();
	test_one_byte_writes();
	test_deadline();
	test_closed();
	test_lengths();
	test_no_sigpipe();
	test_bad_frames();
	return tap_done();
}
