/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad's view of its twofa.conf. Every call reads the file afresh (as the
 * module did), so a change applies to the next login; twofad itself notices
 * the change (a stat per connection) or a SIGHUP, says in the log whether the
 * new file is usable, and drops the warm connections made under the old one
 * (its CA file or proxy may have changed). */
#ifndef TWOFA_DAEMON_CONFIG_H
#define TWOFA_DAEMON_CONFIG_H

#include <stdbool.h>

/* Reads path once and logs what it found. A broken file does not stop
 * twofad: logins fail closed until it is fixed. False only when the warm
 * connections cannot be set up. */
bool twofad_config_start(const char *path);

/* Reloads when the file changed since the last look, or always when forced
 * (SIGHUP). Called by the accepting thread only. */
void twofad_config_check(bool forced);

#endif
