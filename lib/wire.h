/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Frames on a stream socket: a 4-byte big-endian length, then the bytes.
 * Every read and write has a deadline, writes never raise SIGPIPE
 * (MSG_NOSIGNAL: a dead peer must not kill the PAM host), and a frame longer
 * than TWOFA_FRAME_MAX is refused before it is read. */
#ifndef TWOFA_WIRE_H
#define TWOFA_WIRE_H

#include <stddef.h>

#include "proto.h"

typedef enum twofa_wire_result {
	TWOFA_WIRE_OK = 0,
	TWOFA_WIRE_CLOSED,  /* the peer closed the connection (or died) */
	TWOFA_WIRE_TIMEOUT, /* the deadline passed */
	TWOFA_WIRE_TOO_BIG, /* a length of 0 or over TWOFA_FRAME_MAX */
	TWOFA_WIRE_BAD,     /* the frame is not a message of this protocol */
	TWOFA_WIRE_VERSION, /* the frame is of another protocol version */
	TWOFA_WIRE_ERROR,   /* any other socket error (errno is kept) */
} twofa_wire_result;

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
long long twofa_wire_now_ms(void);

/* Writes one frame of len bytes before the deadline (twofa_wire_now_ms()
 * scale; < 0 means none). */
twofa_wire_result twofa_wire_write(int fd, const char *buf, size_t len, long long deadline_ms);

/* Reads one frame into buf (size >= TWOFA_FRAME_MAX) before the deadline. */
twofa_wire_result twofa_wire_read(int fd, char *buf, size_t size, size_t *len, long long deadline_ms);

/* Encodes and writes m; the frame buffer is wiped. */
twofa_wire_result twofa_wire_send(int fd, const twofa_msg *m, long long deadline_ms);

/* Reads and decodes one message into *m; on TWOFA_WIRE_VERSION,
 * *peer_version is the version the peer speaks. The frame buffer is wiped. */
twofa_wire_result twofa_wire_recv(int fd, twofa_msg *m, long *peer_version, long long deadline_ms);

/* A short English phrase for r, for log lines. */
const char *twofa_wire_result_text(twofa_wire_result r);

#endif
