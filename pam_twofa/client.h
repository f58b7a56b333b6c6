/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The module's side of a PAM call: reach a server, send the hello, do what
 * it asks in the caller's process (the conversation, pam_get_user, setting
 * PAM_AUTHTOK, syslog lines) until it is done. */
#ifndef PAM_TWOFA_CLIENT_H
#define PAM_TWOFA_CLIENT_H

#include <security/pam_modules.h>

#include "proto.h"

/* The PAM code to return. Every failure to reach or follow the server is
 * PAM_AUTHINFO_UNAVAIL with one decision line, whatever nullok and
 * failmode say: only the server decides anything else. */
int twofa_client_call(pam_handle_t *pamh, twofa_proto_call call, int flags, int argc, const char **argv);

#endif
