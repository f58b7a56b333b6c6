/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Whether this process can have a network at all: a sandbox without one
 * (polkit's PrivateNetwork=yes, unshare -n) fails every connection for its
 * own reasons, which must never count as a Twilio outage. */
#ifndef TWOFA_NETIF_H
#define TWOFA_NETIF_H

#include <stdbool.h>

/* True when an interface other than loopback is up with an IPv4 or IPv6
 * address. False when none is, or when the interfaces cannot be read: an
 * unknown answer never opens failmode=safe. */
bool twofa_network_present(void);

#endif
