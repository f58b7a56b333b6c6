/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_sm_authenticate's flow: first factor, member checks, then the code. */
#ifndef PAM_TWOFA_AUTHENTICATE_H
#define PAM_TWOFA_AUTHENTICATE_H

#include <security/pam_modules.h>

#include "options.h"

int twofa_authenticate(pam_handle_t *pamh, int flags, const twofa_options *opts);

#endif
