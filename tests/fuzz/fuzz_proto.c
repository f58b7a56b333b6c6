/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target for the protocol's reader, twofa_msg_decode: what the
 * server (and the module) run on every frame a peer sends. Built and run by
 * scripts/fuzz (rules in tests/fuzz/fuzz.am). Whatever the input: no crash,
 * no leak; a refused frame leaves the message wiped, whatever it held; an
 * accepted one is within every bound, re-encodes into one frame, decodes
 * again to the same message and encodes again to the same bytes. */
#include "twofa_build.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static twofa_msg m, again;
static char frame[TWOFA_FRAME_MAX], frame2[TWOFA_FRAME_MAX];

static bool wiped(const twofa_msg *msg)
{
	static const twofa_msg zero;

	return memcmp(msg, &zero, sizeof(zero)) == 0;
}

static bool within_bounds(const twofa_msg *msg)
{
	if (msg->type < TWOFA_MSG_HELLO || msg->type > TWOFA_MSG_DONE || msg->nargs > TWOFA_PROTO_ARGS_MAX ||
	    strnlen(msg->text, sizeof(msg->text)) > TWOFA_PROTO_TEXT_MAX)
		return false;
	if (msg->type == TWOFA_MSG_HELLO && twofa_proto_call_name(msg->call) == NULL)
		return false;
	for (size_t i = 0; i < msg->nargs; i++)
		if (strnlen(msg->args[i], sizeof(msg->args[i])) > TWOFA_PROTO_ARG_MAX)
			return false;
	for (int i = 0; i < TWOFA_ITEM_COUNT; i++)
		if (strnlen(msg->items[i], sizeof(msg->items[i])) > twofa_proto_item_max((twofa_proto_item)i))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, len2;
	long version = -1;
	twofa_proto_result r;

	memset(&m, 0xa5, sizeof(m)); /* what a reused message may hold */
	r = twofa_msg_decode((const char *)data, size, &m, &version);
	if (r != TWOFA_PROTO_OK) {
		if (!wiped(&m) || (r == TWOFA_PROTO_BAD) != (version == TWOFA_PROTO_VERSION))
			abort();
		return 0;
	}
	if (version != TWOFA_PROTO_VERSION || !within_bounds(&m))
		abort();
	if (!twofa_msg_encode(&m, frame, sizeof(frame), &len))
		abort(); /* an accepted message always fits one frame */
	if (twofa_msg_decode(frame, len, &again, &version) != TWOFA_PROTO_OK ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	if (!twofa_msg_encode(&again, frame2, sizeof(frame2), &len2) || len2 != len ||
	    memcmp(frame, frame2, len) != 0)
		abort();
	twofa_msg_wipe(&m);
	twofa_msg_wipe(&again);
	return 0;
}
