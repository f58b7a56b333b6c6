/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "module_args.h"
#include "util.h"

static bool fail(char *why, size_t size, const char *what, const char *arg)
{
	(void)snprintf(why, size, "%s: %.80s", what, arg);
	return false;
}

static bool absolute_path(const char *value, size_t max)
{
	return value[0] == '/' && strlen(value) < max && !twofa_has_control(value, strlen(value));
}

bool twofa_module_args_parse(int argc, const char **argv, twofa_module_args *a, char *why, size_t why_size)
{
	const char *v;
	long n;

	memset(a, 0, sizeof(*a));
	a->daemon = TWOFA_DAEMON_AUTO;
	a->socket = TWOFA_DEFAULT_SOCKET;
	a->server = TWOFA_SERVER_PATH;
	a->server_timeout = TWOFA_SERVER_TIMEOUT_DEFAULT;
	for (int i = 0; i < argc; i++) {
		if ((v = twofa_skip_prefix(argv[i], "daemon=")) != NULL) {
			if (strcmp(v, "auto") == 0)
				a->daemon = TWOFA_DAEMON_AUTO;
			else if (strcmp(v, "yes") == 0)
				a->daemon = TWOFA_DAEMON_YES;
			else if (strcmp(v, "no") == 0)
				a->daemon = TWOFA_DAEMON_NO;
			else
				return fail(why, why_size, "daemon= takes auto, yes or no", argv[i]);
		} else if ((v = twofa_skip_prefix(argv[i], "socket=")) != NULL) {
			if (!absolute_path(v, sizeof(((struct sockaddr_un *)0)->sun_path)))
				return fail(why, why_size, "socket= needs an absolute path that fits a socket address",
					    argv[i]);
			a->socket = v;
		} else if ((v = twofa_skip_prefix(argv[i], "server=")) != NULL) {
			if (!absolute_path(v, 4096))
				return fail(why, why_size, "server= needs an absolute path", argv[i]);
			a->server = v;
		} else if ((v = twofa_skip_prefix(argv[i], "server_timeout=")) != NULL) {
			if (!twofa_parse_long(v, 1, TWOFA_SERVER_TIMEOUT_MAX, &n))
				return fail(why, why_size, "server_timeout= takes seconds, 1..3600", argv[i]);
			a->server_timeout = (int)n;
		} else if (strcmp(argv[i], "split_answer") == 0) {
			a->split_answer = true;
		} else if (a->nforward == TWOFA_PROTO_ARGS_MAX) {
			return fail(why, why_size, "more module arguments than the server takes (32)", argv[i]);
		} else if (strlen(argv[i]) > TWOFA_PROTO_ARG_MAX) {
			return fail(why, why_size, "a module argument longer than 255 bytes", argv[i]);
		} else {
			a->debug = a->debug || strcmp(argv[i], "debug") == 0;
			a->forward[a->nforward++] = argv[i];
		}
	}
	/* That line never reaches a server: an argument for one would be lost
	 * (config= is the one that loses nothing, so one list serves both lines). */
	for (size_t i = 0; a->split_answer && i < a->nforward; i++)
		if (strcmp(a->forward[i], "debug") != 0 && twofa_skip_prefix(a->forward[i], "config=") == NULL)
			return fail(why, why_size,
				    "split_answer takes no argument but debug (the server's go on the "
				    "code_from_answer line)",
				    a->forward[i]);
	return true;
}
