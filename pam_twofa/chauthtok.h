/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef PAM_TWOFA_CHAUTHTOK_H
#define PAM_TWOFA_CHAUTHTOK_H

#include <security/pam_modules.h>

#include "options.h"

int twofa_chauthtok(pam_handle_t *pamh, int flags, const twofa_options *opts);

#endif
