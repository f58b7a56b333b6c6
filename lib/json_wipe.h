/* SPDX-License-Identifier: GPL-3.0-or-later */
/* jansson's allocator for twofa's own processes (twofa-server, twofad,
 * twofa-enroll): every block is wiped before it is freed, so passwords and
 * codes read from the module's frames, and the TOTP secret in Twilio's
 * answer, leave no copy in freed memory. Never in the module: the allocator
 * is process-wide, and the module's process belongs to its host. */
#ifndef TWOFA_JSON_WIPE_H
#define TWOFA_JSON_WIPE_H

/* Installs the allocator. The servers call it before any jansson use; the
 * CLI before it reads a TOTP factor's secret (the allocators differ only in
 * free, both malloc's, so blocks made before are freed right either way). */
void twofa_json_wipe_install(void);

#endif
