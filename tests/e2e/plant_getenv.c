/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test only, never installed: a PAM module that does what libcurl 7.88 did
 * inside pam_twofa (fopen(getenv("SSLKEYLOGFILE"), "a")), so the tests of
 * that hole can show they see a planted getenv (the negative control of
 * tests/e2e/test_e2e_setuid_env.py and tests/verify/test_environment.py).
 * It decides nothing: PAM_IGNORE. */
#include <stdio.h>
#include <stdlib.h>

#include <security/pam_modules.h>

static int plant(void)
{
	const char *path = getenv("SSLKEYLOGFILE");
	FILE *f = path != NULL ? fopen(path, "a") : NULL;

	if (f != NULL)
		fclose(f);
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return plant();
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return plant();
}
