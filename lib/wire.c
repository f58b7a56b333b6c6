/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

long long twofa_wire_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. */
static twofa_wire_result wait_ready(int fd, short events, long long deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int timeout = -1, rc;

		if (deadline_ms >= 0) {
			long long left = deadline_ms - twofa_wire_now_ms();
			if (left <= 0)
				return TWOFA_WIRE_TIMEOUT;
			timeout = left > 60000 ? 60000 : (int)left;
		}
		rc = poll(&p, 1, timeout);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return TWOFA_WIRE_ERROR;
		if (rc == 0)
			continue; /* the loop re-checks the deadline */
		if ((p.revents & events) != 0)
			return TWOFA_WIRE_OK;
		if ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0)
			return TWOFA_WIRE_CLOSED;
	}
}

static twofa_wire_result write_all(int fd, const unsigned char *p, size_t len, long long deadline_ms)
{
	while (len > 0) {
		twofa_wire_result r = wait_ready(fd, POLLOUT, deadline_ms);
		ssize_t n;

		if (r != TWOFA_WIRE_OK)
			return r;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET ? TWOFA_WIRE_CLOSED : TWOFA_WIRE_ERROR;
		p += n;
		len -= (size_t)n;
	}
	return TWOFA_WIRE_OK;
}

static twofa_wire_result read_all(int fd, unsigned char *p, size_t len, long long deadline_ms)
{
	while (len > 0) {
		twofa_wire_result r = wait_ready(fd, POLLIN, deadline_ms);
		ssize_t n;

		if (r != TWOFA_WIRE_OK)
			return r;
		n = recv(fd, p, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? TWOFA_WIRE_CLOSED : TWOFA_WIRE_ERROR;
		if (n == 0)
			return TWOFA_WIRE_CLOSED;
		p += n;
		len -= (size_t)n;
	}
	return TWOFA_WIRE_OK;
}

twofa_wire_result twofa_wire_write(int fd, const char *buf, size_t len, long long deadline_ms)
{
	unsigned char head[4];
	twofa_wire_result r;

	if (len == 0 || len > TWOFA_FRAME_MAX)
		return TWOFA_WIRE_TOO_BIG;
	head[0] = (unsigned char)(len >> 24);
	head[1] = (unsigned char)(len >> 16);
	head[2] = (unsigned char)(len >> 8);
	head[3] = (unsigned char)len;
	r = write_all(fd, head, sizeof(head), deadline_ms);
	if (r != TWOFA_WIRE_OK)
		return r;
	return write_all(fd, (const unsigned char *)buf, len, deadline_ms);
}

twofa_wire_result twofa_wire_read(int fd, char *buf, size_t size, size_t *len, long long deadline_ms)
{
	unsigned char head[4];
	uint32_t n;
	twofa_wire_result r;

	*len = 0;
	r = read_all(fd, head, sizeof(head), deadline_ms);
	if (r != TWOFA_WIRE_OK)
		return r;
	n = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
	if (n == 0 || n > TWOFA_FRAME_MAX || n > size)
		return TWOFA_WIRE_TOO_BIG;
	r = read_all(fd, (unsigned char *)buf, n, deadline_ms);
	if (r == TWOFA_WIRE_OK)
		*len = n;
	return r;
}

/* Frame buffers live on the heap: the module runs on its host's stack,
 * which may be a small thread stack. */
twofa_wire_result twofa_wire_send(int fd, const twofa_msg *m, long long deadline_ms)
{
	char *buf = malloc(TWOFA_FRAME_MAX);
	size_t len;
	twofa_wire_result r = TWOFA_WIRE_TOO_BIG;

	if (buf == NULL)
		return TWOFA_WIRE_ERROR;
	if (twofa_msg_encode(m, buf, TWOFA_FRAME_MAX, &len))
		r = twofa_wire_write(fd, buf, len, deadline_ms);
	explicit_bzero(buf, TWOFA_FRAME_MAX);
	free(buf);
	return r;
}

twofa_wire_result twofa_wire_recv(int fd, twofa_msg *m, long *peer_version, long long deadline_ms)
{
	char *buf = malloc(TWOFA_FRAME_MAX);
	size_t len;
	twofa_wire_result r;

	*peer_version = TWOFA_PROTO_VERSION;
	twofa_msg_init(m, 0);
	if (buf == NULL)
		return TWOFA_WIRE_ERROR;
	r = twofa_wire_read(fd, buf, TWOFA_FRAME_MAX, &len, deadline_ms);
	if (r == TWOFA_WIRE_OK) {
		switch (twofa_msg_decode(buf, len, m, peer_version)) {
		case TWOFA_PROTO_OK:
			break;
		case TWOFA_PROTO_VERSION_MISMATCH:
			r = TWOFA_WIRE_VERSION;
			break;
		default:
			r = TWOFA_WIRE_BAD;
			break;
		}
	}
	explicit_bzero(buf, TWOFA_FRAME_MAX);
	free(buf);
	return r;
}

const char *twofa_wire_result_text(twofa_wire_result r)
{
	switch (r) {
	case TWOFA_WIRE_OK:
		return "ok";
	case TWOFA_WIRE_CLOSED:
		return "the connection closed";
	case TWOFA_WIRE_TIMEOUT:
		return "no answer before the deadline";
	case TWOFA_WIRE_TOO_BIG:
		return "a frame of a length the protocol does not allow";
	case TWOFA_WIRE_BAD:
		return "a message that is not of the protocol";
	case TWOFA_WIRE_VERSION:
		return "another protocol version";
	case TWOFA_WIRE_ERROR:
		break;
	}
	return "a socket error";
}
