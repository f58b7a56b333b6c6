/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The countries allow-list and the per-host send budget (lib/send_budget.h). */
#include "twofa_build.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "send_budget.h"
#include "store.h"
#include "tap.h"

static char dir[] = "/tmp/twofa-test-budget-XXXXXX";
static char state_db[256];

static void with(twofa_config *c, const char *key, const char *value)
{
	twofa_error err;

	if (twofa_config_set(c, key, value, TWOFA_CONFIG_FROM_FILE, &err) != TWOFA_OK)
		diag("set %s = %s: %s", key, value, err.msg);
}

static void test_parse(void)
{
	long n = 0, w = 0;
	char *norm = NULL, bad[8];

	ok(twofa_send_budget_parse("200/3600", &n, &w) == NULL && n == 200 && w == 3600, "200/3600");
	ok(twofa_send_budget_parse("1/1", &n, &w) == NULL && n == 1 && w == 1, "1/1: the smallest");
	ok(twofa_send_budget_parse("1000000/604800", &n, &w) == NULL, "1000000/604800: the largest");
	static const char *const badv[] = {"",           "200",
					   "/3600",      "200/",
					   "0/60",       "200/0",
					   "-1/60",      "20 /60",
					   "200/604801", "1000001/60",
					   "2e2/60",     "200/60/1",
					   "200/+60",    "99999999999999999999/1"};
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++)
		ok(twofa_send_budget_parse(badv[i], NULL, NULL) != NULL, "send_budget '%s' refused", badv[i]);

	ok(twofa_countries_parse("gb, IE  fr\tGB", &norm, bad) == NULL && norm != NULL &&
		   strcmp(norm, "GB IE FR") == 0,
	   "countries normalised: upper case, single spaces, duplicates dropped (%s)", norm ? norm : "-");
	free(norm);
	ok(twofa_countries_parse("XK AC TA", &norm, bad) == NULL && strcmp(norm, "XK AC TA") == 0,
	   "Kosovo, Ascension and Tristan da Cunha are countries");
	free(norm);
	ok(twofa_countries_parse("GB ZZ", NULL, bad) != NULL && strcmp(bad, "ZZ") == 0,
	   "an unknown code is refused and named");
	ok(twofa_countries_parse("GB GBR", NULL, bad) != NULL && bad[0] == '\0', "three letters refused");
	ok(twofa_countries_parse(" , ", NULL, bad) != NULL, "a list of no country refused");
	ok(twofa_countries_parse("G\x01", NULL, bad) != NULL && bad[0] == '\0',
	   "a control character is not echoed");
}

static void test_config_keys(void)
{
	twofa_config c;
	twofa_error err;

	twofa_config_init(&c);
	ok(c.countries == NULL && c.send_budget == NULL, "defaults: every country, no send budget");
	ok(twofa_country_allowed(&c, "GB") && twofa_country_allowed(&c, "xk"),
	   "no list: every country is allowed");
	ok(!twofa_country_allowed(&c, "ZZ") && !twofa_country_allowed(&c, "") &&
		   !twofa_country_allowed(&c, NULL),
	   "an unknown code is never allowed");
	ok(twofa_config_set(&c, "countries", "gb ie", TWOFA_CONFIG_FROM_FILE, &err) == TWOFA_OK &&
		   strcmp(c.countries, "GB IE") == 0,
	   "countries = gb ie");
	ok(twofa_country_allowed(&c, "GB") && twofa_country_allowed(&c, "ie") &&
		   !twofa_country_allowed(&c, "FR") && !twofa_country_allowed(&c, "XK"),
	   "the list allows its countries and no other");
	twofa_config_free(&c);
	twofa_config_init(&c);
	ok(twofa_config_set(&c, "countries", "GB XX", TWOFA_CONFIG_FROM_FILE, &err) == TWOFA_ECONFIG &&
		   strstr(err.msg, "XX") != NULL,
	   "an unknown code is a config error naming it (%s)", err.msg);
	ok(twofa_config_set(&c, "countries", "TA", TWOFA_CONFIG_FROM_FILE, &err) == TWOFA_OK &&
		   twofa_country_allowed(&c, "TA") && !twofa_country_allowed(&c, "SH"),
	   "TA alone: Tristan da Cunha, not Saint Helena");
	ok(twofa_config_set(&c, "send_budget", "10/60", TWOFA_CONFIG_FROM_FILE, &err) == TWOFA_OK &&
		   strcmp(c.send_budget, "10/60") == 0,
	   "send_budget = 10/60");
	twofa_config_free(&c);
	twofa_config_init(&c);
	ok(twofa_config_set(&c, "send_budget", "10", TWOFA_CONFIG_FROM_FILE, &err) == TWOFA_ECONFIG,
	   "send_budget = 10 refused (%s)", err.msg);
	twofa_config_free(&c);
}

static void budget_config(twofa_config *c, const char *budget)
{
	twofa_config_init(c);
	with(c, "state_db", state_db);
	if (budget != NULL)
		with(c, "send_budget", budget);
}

static void test_budget(void)
{
	twofa_config c;
	twofa_error err;
	bool allowed, first;
	time_t ends = 0;
	char path[300];
	int taken = 0;

	budget_config(&c, NULL);
	ok(twofa_send_budget_take(&c, 1000, &allowed, &first, &err) == TWOFA_OK && allowed && !first,
	   "no budget: every send allowed");
	ok(twofa_send_budget_path(&c, path, sizeof(path), &err) == TWOFA_OK && access(path, F_OK) != 0,
	   "no budget: nothing written");
	twofa_config_free(&c);

	budget_config(&c, "3/100");
	for (int i = 0; i < 3; i++)
		if (twofa_send_budget_take(&c, 1000 + i, &allowed, &first, &err) == TWOFA_OK && allowed &&
		    !first)
			taken++;
	ok(taken == 3, "3/100: three sends in the window");
	ok(twofa_send_budget_take_until(&c, 1050, &allowed, &first, &ends, &err) == TWOFA_OK && !allowed &&
		   first && ends == 1100,
	   "the fourth is refused, the first refusal of the window, which ends at 1100 (%ld)", (long)ends);
	ok(twofa_send_budget_take(&c, 1060, &allowed, &first, &err) == TWOFA_OK && !allowed && !first,
	   "the next refusal is not the first: one LOG_CRIT per window");
	ok(twofa_send_budget_take(&c, 1099, &allowed, &first, &err) == TWOFA_OK && !allowed && !first,
	   "still refused at the window's last second");
	ok(twofa_send_budget_take(&c, 1100, &allowed, &first, &err) == TWOFA_OK && allowed,
	   "a new window: allowed again");
	ok(twofa_send_budget_take(&c, 1101, &allowed, &first, &err) == TWOFA_OK && allowed &&
		   twofa_send_budget_take(&c, 1102, &allowed, &first, &err) == TWOFA_OK && allowed &&
		   twofa_send_budget_take(&c, 1103, &allowed, &first, &err) == TWOFA_OK && !allowed && first,
	   "and its first refusal is reported again");
	ok(twofa_send_budget_take(&c, 500, &allowed, &first, &err) == TWOFA_OK && allowed,
	   "a clock that went back starts a new window");
	twofa_config_free(&c);

	/* A corrupt record fails closed. */
	budget_config(&c, "3/100");
	{
		twofa_store *s = NULL;
		static const char *const damaged[] = {"v1 1000 1",   "v2 1000 1 0",  "v1 1000 1 2",
						      "v1 -5 1 0",   "v1 1000 1 0 ", "v1  1000 1 0",
						      "v1 1000 x 0", "junk"};
		for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
			twofa_status st;

			if (twofa_store_open(&s, path, TWOFA_STORE_WRITE, 1000, &err) != TWOFA_OK ||
			    twofa_store_put(s, "budget", damaged[i], strlen(damaged[i]), true, &err) !=
				    TWOFA_OK ||
			    twofa_store_close(s, &err) != TWOFA_OK)
				diag("could not write the record: %s", err.msg);
			allowed = true;
			st = twofa_send_budget_take(&c, 2000, &allowed, &first, &err);
			ok(st == TWOFA_ESTORE && !allowed, "damaged record '%s': an error, not allowed",
			   damaged[i]);
		}
	}
	{
		twofa_send_verdict v;

		ok(twofa_send_admit(&c, "GB", 2000, &v, &err) == TWOFA_ESTORE &&
			   v.kind == TWOFA_SEND_OVER_BUDGET,
		   "send_admit on a damaged record: an error and a refusing verdict");
		if (unlink(path) != 0)
			diag("unlink %s failed", path);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, "not a gdbm file at all, really not", 34) != 34)
			diag("could not write junk");
		if (fd >= 0)
			close(fd);
		allowed = true;
		ok(twofa_send_budget_take(&c, 2000, &allowed, &first, &err) != TWOFA_OK && !allowed,
		   "a file that is no database: an error, not allowed (%s)", err.msg);
		if (unlink(path) != 0)
			diag("unlink %s failed", path);
	}
	twofa_config_free(&c);
}

static void test_admit(void)
{
	twofa_config c;
	twofa_error err;
	twofa_send_verdict v;

	budget_config(&c, "1/100");
	with(&c, "countries", "GB");
	ok(twofa_send_admit(&c, "FR", 3000, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_COUNTRY_REFUSED,
	   "admit: a country not in the list is refused");
	ok(twofa_send_admit(&c, "GB", 3000, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_ADMIT,
	   "admit: GB admitted (the refused country spent no budget)");
	ok(twofa_send_admit(&c, "GB", 3001, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_OVER_BUDGET &&
		   v.first_in_window && v.window_ends == 3100 && v.budget == 1 && v.window == 100,
	   "admit: over budget, first in its window, ends at 3100");
	ok(twofa_send_admit(&c, "GB", 3002, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_OVER_BUDGET &&
		   !v.first_in_window,
	   "admit: over budget again, not the first");
	ok(twofa_send_admit(&c, NULL, 3003, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_OVER_BUDGET,
	   "admit: an email (no country) is not refused for its country, but counts against the budget");
	ok(twofa_send_admit(&c, NULL, 3100, &v, &err) == TWOFA_OK && v.kind == TWOFA_SEND_ADMIT,
	   "admit: an email in the next window: admitted");
	twofa_config_free(&c);
}

/* Parallel sends lose no count: 4 processes x 10 takes under 25/1000. */
static void test_parallel(void)
{
	twofa_config c;
	int good = 0, granted = 0;
	char path[300];
	twofa_error err;
	int fds[2];

	budget_config(&c, "25/1000");
	if (twofa_send_budget_path(&c, path, sizeof(path), &err) == TWOFA_OK)
		(void)unlink(path);
	if (pipe(fds) != 0)
		return;
	for (int p = 0; p < 4; p++) {
		pid_t pid = fork();
		if (pid == 0) {
			char n = 0;
			for (int i = 0; i < 10; i++) {
				bool allowed, first;
				if (twofa_send_budget_take(&c, 5000, &allowed, &first, &err) == TWOFA_OK &&
				    allowed)
					n++;
			}
			_exit(write(fds[1], &n, 1) == 1 ? 0 : 1);
		}
	}
	close(fds[1]);
	for (int p = 0; p < 4; p++) {
		int status;
		char n;
		if (read(fds[0], &n, 1) == 1) {
			granted += n;
			good++;
		}
		if (wait(&status) <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			good = -100;
	}
	close(fds[0]);
	ok(good == 4 && granted == 25, "4 processes x 10 sends under 25/1000: exactly 25 allowed (%d)",
	   granted);
	twofa_config_free(&c);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(state_db, sizeof(state_db), "%s/db/state.db", dir);
	test_parse();
	test_config_keys();
	test_budget();
	test_admit();
	test_parallel();
	tap_remove_dir(dir);
	return tap_done();
}
