/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_twofa: the PAM entry points. Each loads the options and runs one flow,
 * which returns its answer as a twofa_decision; run_flow is the one place
 * that logs the decision line, tells the user and returns the code. */
#include "twofa_build.h"

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "account.h"
#include "audit.h"
#include "authenticate.h"
#include "chauthtok.h"
#include "conv.h"
#include "decision.h"
#include "options.h"

typedef void (*twofa_flow)(pam_handle_t *pamh, int flags, const twofa_options *opts, twofa_audit *audit,
			   twofa_decision *d);

static int run_flow(pam_handle_t *pamh, const char *action, int flags, int argc, const char **argv,
		    twofa_flow flow)
{
	const void *user = NULL;
	twofa_options opts;
	twofa_audit audit;
	twofa_decision d;
	char text[512];

	/* PAM_USER as given, until the flow resolves it: nobody is asked for it
	 * before the options hold. */
	if (pam_get_item(pamh, PAM_USER, &user) != PAM_SUCCESS)
		user = NULL;
	twofa_audit_init(&audit, pamh, action, user, false);
	twofa_decide_nothing_yet(&d);
	if (twofa_options_load(action, argc, argv, &opts, &d))
		flow(pamh, flags, &opts, &audit, &d);
	if (twofa_decision_logged(&d, opts.debug))
		twofa_audit_decision(&audit, &d);
	if (twofa_decision_user_text(&d, text, sizeof(text)) && text[0] != '\0')
		twofa_conv_tell(pamh, PAM_ERROR_MSG, (flags & PAM_SILENT) != 0, text);
	twofa_options_free(&opts);
	return d.pam_code;
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
