/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofa-server: one PAM call, for a module running as root. The module
 * starts it from libexec with the socket on fd 3, an empty environment,
 * fds 0-2 on /dev/null, its own session, fixed limits and umask 077
 * (pam_twofa/spawn.c): nothing of the caller's process reaches it. */
#include "twofa_build.h"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "json_wipe.h"
#include "serve.h"

#define SERVER_FD 3

int main(int argc, char **argv)
{
	struct stat st;
	twofa_peer peer = {.daemon = false, .uid = 0, .config_path = NULL};

	(void)argv;
	openlog("twofa-server", LOG_PID, LOG_AUTHPRIV);
	if (argc != 1 || fstat(SERVER_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		syslog(LOG_ERR, "started without the module's socket on fd %d: pam_twofa.so starts this "
				"program, nobody else",
		       SERVER_FD);
		return 2;
	}
	twofa_json_wipe_install();
	/* The module that started us is the caller: its login session binds grace. */
	peer.pid = getppid();
	return twofa_serve(SERVER_FD, &peer) ? 0 : 1;
}
