/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>
#include <sys/socket.h>

#include "netif.h"

bool twofa_network_present(void)
{
	struct ifaddrs *all = NULL;
	bool present = false;

	if (getifaddrs(&all) != 0)
		return false;
	for (struct ifaddrs *i = all; i != NULL && !present; i = i->ifa_next)
		present = i->ifa_addr != NULL &&
			  (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
			  (i->ifa_flags & IFF_UP) != 0 && (i->ifa_flags & IFF_LOOPBACK) == 0;
	freeifaddrs(all);
	return present;
}
