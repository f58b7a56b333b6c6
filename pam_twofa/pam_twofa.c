/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_twofa: the PAM entry points. Each loads the options, runs one flow and
 * frees everything; the flows live in their own files. */
#include "twofa_build.h"

#include <security/pam_modules.h>

#include "account.h"
#include "authenticate.h"
#include "chauthtok.h"
#include "options.h"

typedef int (*twofa_flow)(pam_handle_t *pamh, int flags, const twofa_options *opts);

static int run_flow(pam_handle_t *pamh, const char *action, int flags, int argc, const char **argv,
		    twofa_flow flow)
{
	twofa_options opts;
	int rc = twofa_options_load(pamh, action, argc, argv, &opts);

	if (rc == PAM_SUCCESS)
		rc = flow(pamh, flags, &opts);
	twofa_options_free(&opts);
	return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_flow(pamh, "auth", flags, argc, argv, twofa_authenticate);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_flow(pamh, "account", flags, argc, argv, twofa_account);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return run_flow(pamh, "password", flags, argc, argv, twofa_chauthtok);
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
