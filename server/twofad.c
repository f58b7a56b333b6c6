/* SPDX-License-Identifier: GPL-3.0-or-later */
/* twofad: the root daemon that serves pam_twofa over a Unix socket, for
 * callers that are not root (screen lockers) and sandboxes without network
 * (polkit's helper). One thread per connection runs twofa_serve; main() sets
 * the process up, accepts, and handles SIGHUP, SIGTERM and SIGINT. */
#include "twofa_build.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "daemon_config.h"
#include "daemon_conns.h"
#include "daemon_listen.h"
#include "http_share.h"
#include "json_wipe.h"
#include "member_pool.h"
#include "password.h"
#include "util.h"

/* At SIGTERM, how long the calls in progress get to end once their
 * connections are shut down. */
#define STOP_WAIT_MS 3000
/* Argon2id checks at once, by default: one per CPU, at most this many. */
#define PASSWORD_CHECKS_DEFAULT_MAX 4

typedef struct twofad_options {
	const char *socket_path;
	const char *config_path;
	bool foreground;
	twofad_limits limits;
	unsigned password_checks;
	unsigned ldap_idle;    /* seconds a warm directory connection may stay unused */
	unsigned ldap_max_age; /* seconds a warm directory connection is used at most */
} twofad_options;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: twofad [--foreground] [--socket PATH] [--config PATH]\n"
		"              [--max-connections N] [--max-per-uid N] [--max-password-checks N]\n"
		"              [--ldap-idle SECONDS] [--ldap-max-age SECONDS]\n"
		"Serves pam_twofa on a Unix socket: the one systemd passes (socket activation),\n"
		"or with --foreground one it makes itself at PATH (default " TWOFAD_SOCKET_DEFAULT ").\n"
		"  --config PATH              twofa.conf (default " TWOFA_DEFAULT_CONFIG ")\n"
		"  --max-connections N        connections at once, all callers (default %d)\n"
		"  --max-per-uid N            connections at once per caller uid but root (default %d)\n"
		"  --max-password-checks N    Argon2id checks at once (default: CPUs, at most %d)\n"
		"  --ldap-idle SECONDS        store = ldap: close a warm directory connection unused\n"
		"                             this long (default %d)\n"
		"  --ldap-max-age SECONDS     store = ldap: reconnect a warm directory connection\n"
		"                             this old, however busy (default %d)\n"
		"See twofad(8).\n",
		TWOFAD_MAX_CONNECTIONS, TWOFAD_MAX_PER_UID, PASSWORD_CHECKS_DEFAULT_MAX,
		TWOFA_MEMBER_POOL_IDLE_DEFAULT, TWOFA_MEMBER_POOL_MAX_AGE_DEFAULT);
}

static bool parse_count(const char *opt, const char *text, unsigned *out)
{
	long n;

	if (!twofa_parse_long(text, 1, TWOFAD_LIMIT_MAX, &n)) {
		fprintf(stderr, "twofad: %s takes a number from 1 to %d\n", opt, TWOFAD_LIMIT_MAX);
		return false;
	}
	*out = (unsigned)n;
	return true;
}

/* 0: go on; otherwise the exit status. */
static int parse_options(int argc, char **argv, twofad_options *o)
{
	enum { OPT_MAX_CONN = 256, OPT_PER_UID, OPT_CHECKS, OPT_LDAP_IDLE, OPT_LDAP_MAX_AGE };
	static const struct option options[] = {
		{"socket", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"max-connections", required_argument, NULL, OPT_MAX_CONN},
		{"max-per-uid", required_argument, NULL, OPT_PER_UID},
		{"max-password-checks", required_argument, NULL, OPT_CHECKS},
		{"ldap-idle", required_argument, NULL, OPT_LDAP_IDLE},
		{"ldap-max-age", required_argument, NULL, OPT_LDAP_MAX_AGE},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int opt;

	*o = (twofad_options){
		.socket_path = TWOFAD_SOCKET_DEFAULT,
		.config_path = TWOFA_DEFAULT_CONFIG,
		.limits = {.connections = TWOFAD_MAX_CONNECTIONS, .per_uid = TWOFAD_MAX_PER_UID},
		.password_checks = cpus < 1                             ? 1
				   : cpus > PASSWORD_CHECKS_DEFAULT_MAX ? PASSWORD_CHECKS_DEFAULT_MAX
									: (unsigned)cpus,
		.ldap_idle = TWOFA_MEMBER_POOL_IDLE_DEFAULT,
		.ldap_max_age = TWOFA_MEMBER_POOL_MAX_AGE_DEFAULT,
	};
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			o->socket_path = optarg;
			break;
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case OPT_MAX_CONN:
			if (!parse_count("--max-connections", optarg, &o->limits.connections))
				return 64;
			break;
		case OPT_PER_UID:
			if (!parse_count("--max-per-uid", optarg, &o->limits.per_uid))
				return 64;
			break;
		case OPT_CHECKS:
			if (!parse_count("--max-password-checks", optarg, &o->password_checks))
				return 64;
			break;
		case OPT_LDAP_IDLE:
			if (!parse_count("--ldap-idle", optarg, &o->ldap_idle))
				return 64;
			break;
		case OPT_LDAP_MAX_AGE:
			if (!parse_count("--ldap-max-age", optarg, &o->ldap_max_age))
				return 64;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("twofad %s\n", PACKAGE_VERSION);
			return -1;
		default:
			usage(stderr);
			return 64;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "twofad: unexpected argument: %s\n", argv[optind]);
		return 64;
	}
	if (o->config_path[0] != '/') {
		fprintf(stderr, "twofad: --config takes an absolute path\n");
		return 64;
	}
	return 0;
}

/* What a root process holding secrets should be, whoever started it: no
 * core dumps, no ptrace by the same uid's others, private new files, enough
 * descriptors for its connections, nothing of the starter's environment or
 * working directory. */
static bool harden(void)
{
	struct rlimit core = {0, 0}, files;

	(void)umask(077);
	if (chdir("/") != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return false;
	/* Under the unit, LimitCORE=0 and LimitNOFILE are set already and its
	 * system call filter refuses setrlimit: ask only for what is missing. */
	if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_max != 0) {
		core.rlim_cur = core.rlim_max = 0;
		if (setrlimit(RLIMIT_CORE, &core) != 0)
			return false;
	}
	if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &files); /* more connections if it works */
	}
	return clearenv() == 0;
}

static int signals_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before any thread starts, so every thread has them blocked
	 * and only the signalfd sees them. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The process-wide state of the libraries, before the first thread. */
static bool libraries_init(unsigned password_checks)
{
	twofa_error err = {0};

	if (twofa_crypto_init(&err) != TWOFA_OK) {
		syslog(LOG_ERR, "%s", err.msg);
		return false;
	}
	twofa_json_wipe_install(); /* before any jansson use: frames hold passwords and codes */
	json_object_seed(0);
	twofa_password_set_parallel(password_checks);
	return true;
}

static void accept_ready(int listen_fd)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			twofad_config_check(false);
			twofad_conns_take(fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors: the waiting callers stay queued; try again soon,
			 * without spinning. */
			struct timespec pause = {0, 100 * 1000000L};

			syslog(LOG_ERR, "accept: %s", strerror(errno));
			nanosleep(&pause, NULL);
		} else if (errno != EAGAIN) {
			syslog(LOG_ERR, "accept: %s", strerror(errno));
		}
		return;
	}
}

/* Until SIGTERM or SIGINT: the signal's number, or 0 when poll failed. */
static int serve_loop(int listen_fd, int sig_fd)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			syslog(LOG_ERR, "poll: %s", strerror(errno));
			return 0;
		}
		if (p[1].revents & POLLIN) {
			while (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					twofad_config_check(true);
				else
					return (int)si.ssi_signo;
			}
		}
		if (p[0].revents & POLLIN)
			accept_ready(listen_fd);
	}
}

int main(int argc, char **argv)
{
	twofad_options o;
	twofad_listener l;
	char why[256];
	int rc, sig_fd, sig;

	if ((rc = parse_options(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (geteuid() != 0) {
		fprintf(stderr, "twofad: must run as root\n");
		return 1;
	}
	/* Run by hand or by a supervisor, its lines go to stderr too; under
	 * systemd, stderr would only repeat them in the journal. */
	openlog("twofad", LOG_PID | (o.foreground || isatty(STDERR_FILENO) ? LOG_PERROR : 0), LOG_AUTHPRIV);
	/* The activation variables are read before the environment goes. */
	rc = twofad_listen_activated(&l, why, sizeof(why));
	if (rc < 0) {
		syslog(LOG_ERR, "%s", why);
		return 1;
	}
	if (rc == 0) {
		if (why[0] != '\0')
			syslog(LOG_WARNING, "%s", why);
		if (!o.foreground) {
			syslog(LOG_ERR,
			       "not started by socket activation: run twofad --foreground to listen on %s "
			       "itself",
			       o.socket_path);
			return 1;
		}
		if (!twofad_listen_create(&l, o.socket_path, why, sizeof(why))) {
			syslog(LOG_ERR, "%s", why);
			return 1;
		}
	}
	if (!harden()) {
		syslog(LOG_ERR, "cannot set up the process: %s", strerror(errno));
		twofad_listen_close(&l);
		return 1;
	}
	sig_fd = signals_open();
	if (sig_fd < 0 || !libraries_init(o.password_checks) || !twofad_config_start(o.config_path) ||
	    !twofad_conns_init(&o.limits, o.config_path) ||
	    !twofa_member_pool_start(o.limits.connections, o.ldap_idle, o.ldap_max_age)) {
		syslog(LOG_ERR, "cannot start: %s",
		       sig_fd < 0 ? strerror(errno) : "see above (or out of memory)");
		twofad_listen_close(&l);
		return 1;
	}
	syslog(LOG_INFO, "serving on %s with %s: %u connections, %u per uid, %u password checks at once",
	       l.activated ? "the socket systemd passed" : l.path, o.config_path, o.limits.connections,
	       o.limits.per_uid, o.password_checks);

	sig = serve_loop(l.fd, sig_fd);
	twofad_listen_close(&l);
	rc = sig != 0 ? 0 : 1;
	syslog(LOG_INFO, "stopped by %s", sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "an error");
	if (!twofad_conns_stop(STOP_WAIT_MS)) {
		/* exit() would run the libraries' atexit cleanups (OpenSSL's) under
		 * the threads still in a call: leave without them. */
		syslog(LOG_WARNING,
		       "calls still running %d ms after their connections were shut down: "
		       "leaving them",
		       STOP_WAIT_MS);
		closelog();
		_exit(rc);
	}
	twofa_member_pool_stop();
	twofa_http_share_stop();
	closelog();
	return rc;
}
