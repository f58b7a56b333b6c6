/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A minimal TAP producer for the unit tests: every ok() is one counted result. */
#ifndef TWOFA_TAP_H
#define TWOFA_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 4, 5), unused)) static int tap_ok(int passed, const char *file, int line,
								const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", passed ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!passed) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return passed;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

/* Removes a test's temporary directory (made with mkdtemp, so its name has
 * no quote) and everything in it; a diag line when that fails. */
__attribute__((unused)) static void tap_remove_dir(const char *dir)
{
	char cmd[4200];

	if (snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir) >= (int)sizeof(cmd) || system(cmd) != 0)
		diag("could not remove %s", dir);
}

__attribute__((unused)) static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

#endif
