/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test only, never installed: an LD_PRELOAD library that records each
 * getenv and secure_getenv call made through the dynamic linker, as
 * "getenv NAME LIBRARY" lines appended to the file $TWOFA_GETENV_TRACE, so
 * tests/verify/test_environment.py can hold what the caller's process reads
 * during a login to the module side of tests/verify/environment.md. It sees
 * only the process it is preloaded into: twofa-server starts with an empty
 * environment, so neither LD_PRELOAD nor the trace file name reaches it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef char *(*getenv_fn)(const char *);

static void record(getenv_fn real_getenv, const char *kind, const char *name, const void *caller)
{
	const char *out = real_getenv("TWOFA_GETENV_TRACE");
	Dl_info info;
	char line[640];
	int n, fd;

	if (out == NULL || name == NULL)
		return;
	n = snprintf(line, sizeof(line), "%s %.200s %.400s\n", kind, name,
		     dladdr(caller, &info) != 0 && info.dli_fname != NULL ? info.dli_fname : "?");
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n) {
		/* a short trace fails the test that reads it */
	}
	close(fd);
}

static getenv_fn next(const char *symbol)
{
	return (getenv_fn)dlsym(RTLD_NEXT, symbol);
}

char *getenv(const char *name)
{
	getenv_fn real = next("getenv");

	record(real, "getenv", name, __builtin_return_address(0));
	return real(name);
}

char *secure_getenv(const char *name)
{
	getenv_fn real = next("secure_getenv");

	record(next("getenv"), "secure_getenv", name, __builtin_return_address(0));
	return real(name);
}
