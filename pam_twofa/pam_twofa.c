/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_twofa: the PAM entry points. The module keeps the conversation and
 * nothing else: each call goes to the server (pam_twofa/client.c), which
 * reads the config, the stores and Twilio in a process of its own. */
#include "twofa_build.h"

#include <security/pam_modules.h>

#include "client.h"

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return twofa_client_call(pamh, TWOFA_CALL_AUTH, flags, argc, argv);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return twofa_client_call(pamh, TWOFA_CALL_ACCOUNT, flags, argc, argv);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return twofa_client_call(pamh, TWOFA_CALL_PASSWORD, flags, argc, argv);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}
