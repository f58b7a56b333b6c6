/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

#define SERVER_FD 3
#define FD_LIMIT 256
#define CPU_SECONDS 300
#define FILE_BYTES (1024L * 1024 * 1024)
/* Argon2id at strength=sensitive takes 1 GiB; the rest is headroom. */
#define ADDRESS_BYTES (4L * 1024 * 1024 * 1024)
#define REAP_WAIT_MS 2000
/* ioprio_set(2): glibc has no wrapper; the best-effort class at its middle
 * level is what a process gets by default. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_BE 2
#define IOPRIO_BEST_EFFORT_NORMAL (IOPRIO_CLASS_BE << 13 | 4)

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif

static bool root_only(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static bool path_safe(const char *path, char *why, size_t why_size)
{
	char dir[4096];
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (lstat(path, &st) != 0) {
		(void)snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode) || !root_only(&st) || (st.st_mode & S_IXUSR) == 0) {
		(void)snprintf(why, why_size, "%s is not a root-owned executable that only root may write",
			       path);
		return false;
	}
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir)) {
		(void)snprintf(why, why_size, "%s is not an absolute path", path);
		return false;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash == path ? 1 : slash - path] = '\0';
	if (slash == path)
		dir[0] = '/';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !root_only(&st)) {
		(void)snprintf(why, why_size, "%s is in a directory that someone other than root may change",
			       path);
		return false;
	}
	return true;
}

static bool try_limit(int resource, rlim_t value)
{
	struct rlimit l = {.rlim_cur = value, .rlim_max = value};

	return setrlimit(resource, &l) == 0;
}

static void set_limit(int resource, rlim_t value)
{
	if (!try_limit(resource, value))
		_exit(127);
}

/* The child between fork and exec: async-signal-safe calls only, since the
 * host may have threads whose locks the fork copied. Any failure ends it. */
static void become_server(const char *path, int sock)
{
	static char *const server_argv[] = {"twofa-server", NULL};
	static char *const empty_env[] = {NULL};
	static const struct sched_param normal = {.sched_priority = 0};
	struct sigaction dfl;
	sigset_t none;
	int devnull;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL); /* SIGKILL, SIGSTOP and the gaps refuse: fine */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0 || setsid() < 0)
		_exit(127);
	if (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
		_exit(127);
	/* The caller may run at nice 19, SCHED_IDLE and the idle I/O class, all
	 * of which a child inherits: starved past the HTTP timeout, the server
	 * would see an outage the caller made. Back to the defaults, or fail. */
	if (sched_setscheduler(0, SCHED_OTHER, &normal) != 0 || setpriority(PRIO_PROCESS, 0, 0) != 0 ||
	    syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_BEST_EFFORT_NORMAL) != 0)
		_exit(127);
	/* First the fd limit, which the caller may have lowered to fake an outage.
	 * Without CAP_SYS_RESOURCE (some containers) root cannot raise it: then
	 * the server runs with the hard limit, and a lack of fds is a local
	 * error there, never an outage. */
	if (!try_limit(RLIMIT_NOFILE, FD_LIMIT)) {
		struct rlimit l;
		if (getrlimit(RLIMIT_NOFILE, &l) != 0)
			_exit(127);
		set_limit(RLIMIT_NOFILE, l.rlim_max);
	}
	/* Above every fd the dup2s below write to, so none clobbers the socket. */
	sock = fcntl(sock, F_DUPFD, SERVER_FD + 1);
	devnull = open("/dev/null", O_RDWR);
	if (sock < 0 || devnull < 0 || dup2(devnull, 0) != 0 || dup2(devnull, 1) != 1 ||
	    dup2(devnull, 2) != 2 || dup2(sock, SERVER_FD) != SERVER_FD)
		_exit(127);
	if (close_range(SERVER_FD + 1, ~0U, 0) != 0)
		for (int fd = SERVER_FD + 1; fd < 65536; fd++)
			(void)close(fd);
	umask(077);
	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_CPU, CPU_SECONDS);
	set_limit(RLIMIT_FSIZE, FILE_BYTES);
#ifndef ASAN_BUILD
	/* ASan reserves terabytes of shadow address space. */
	set_limit(RLIMIT_AS, ADDRESS_BYTES);
#endif
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		_exit(127);
	execve(path, server_argv, empty_env);
	_exit(127);
}

int twofa_spawn_server(const char *path, pid_t *pid, char *why, size_t why_size)
{
	int sv[2];

	*pid = -1;
	if (geteuid() != 0) {
		(void)snprintf(why, why_size, "the per-call server needs a caller running as root (euid %ld)",
			       (long)geteuid());
		return -1;
	}
	if (!path_safe(path, why, why_size))
		return -1;
	/* Two fds is all the caller's process spends. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		(void)snprintf(why, why_size, "socketpair: %s", strerror(errno));
		return -1;
	}
	*pid = fork();
	if (*pid == 0)
		become_server(path, sv[1]);
	close(sv[1]);
	if (*pid < 0) {
		(void)snprintf(why, why_size, "fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

static void describe_exit(int status, char *how, size_t how_size)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		(void)snprintf(how, how_size, " (the server exited with status %d)", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)snprintf(how, how_size, " (the server was killed by signal %d)", WTERMSIG(status));
}

void twofa_reap_server(pid_t pid, char *how, size_t how_size)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 10 * 1000000L};
	int status = 0;
	pid_t r;

	how[0] = '\0';
	if (pid <= 0)
		return;
	for (int waited = 0; waited < REAP_WAIT_MS; waited += 10) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			describe_exit(status, how, how_size);
		if (r == pid || (r < 0 && errno != EINTR))
			return; /* reaped, or not ours to reap any more (ECHILD) */
		(void)nanosleep(&pause, NULL);
	}
	/* Still our unreaped child: it cannot be another process yet. */
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	(void)snprintf(how, how_size, " (the server did not exit and was killed)");
}
