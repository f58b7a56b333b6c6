/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What recovery and bypass share when they hand out one-time codes: the
 * one print of the codes, with write(2) from the caller's buffer (which the
 * caller wipes after), never through stdio's buffers; and the warning when
 * the member cannot use them yet. */
#include "twofa_build.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "cli.h"

bool cli_write_once(const char *buf, size_t len)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
	bool ok = true;
	int saved;

	if (fflush(stdout) != 0)
		return false;
	if (sigemptyset(&ignore.sa_mask) != 0 || sigaction(SIGPIPE, &ignore, &old) != 0)
		return false;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR && !cli_interrupted)
			continue;
		if (n <= 0) {
			if (n == 0 || cli_interrupted)
				errno = EINTR;
			ok = false;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	saved = errno;
	(void)sigaction(SIGPIPE, &old, NULL);
	errno = saved;
	return ok;
}

void cli_warn_codes_unusable(const char *shown, twofa_member_status status, const char *codes_do)
{
	if (status == TWOFA_MEMBER_DISABLED)
		cli_warn("%s is disabled: %s not work until 'twofa-enroll enable %s'", shown, codes_do, shown);
	else if (status == TWOFA_MEMBER_PENDING)
		cli_warn("%s is pending approval: %s not work until 'twofa-enroll approve %s'", shown,
			 codes_do, shown);
}
