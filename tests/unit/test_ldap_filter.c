/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for lib/ldap_filter: RFC 4515 escaping of a login name and the
 * member filter built from ldap_filter, with the injection names. */
#include "twofa_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ldap_conn.h"
#include "tap.h"

static void expect_escape(const char *value, size_t len, const char *want, const char *what)
{
	char out[128];
	bool fit = twofa_ldap_escape_filter_value(value, len, out, sizeof(out));

	ok(fit && strcmp(out, want) == 0, "escape %s: %s", what, fit ? out : "(did not fit)");
}

static void test_escape(void)
{
	char out[16], big[1024];
	char name[300];

	expect_escape("alice", 5, "alice", "a plain name");
	expect_escape("*", 1, "\\2a", "'*'");
	expect_escape("a*", 2, "a\\2a", "'a*'");
	expect_escape("x)(uid=*", 8, "x\\29\\28uid=\\2a", "'x)(uid=*'");
	expect_escape("back\\slash", 10, "back\\5cslash", "a backslash");
	expect_escape("al\0ice", 6, "al\\00ice", "a NUL inside (len counts it)");
	expect_escape("j\xc3\xbcrgen", 7, "j\\c3\\bcrgen", "non-ASCII bytes");
	expect_escape("tab\there\x7f", 9, "tab\\09here\\7f", "controls and DEL");
	expect_escape("", 0, "", "the empty value");
	ok(twofa_ldap_escape_filter_value("abcdefghijklmno", 15, out, sizeof(out)) && strlen(out) == 15,
	   "a value that just fits");
	ok(!twofa_ldap_escape_filter_value("abcdefghijklmnop", 16, out, sizeof(out)) && out[0] == '\0',
	   "one byte more does not fit, out left empty");
	ok(!twofa_ldap_escape_filter_value("abcdefghijklm*", 14, out, sizeof(out)) && out[0] == '\0',
	   "an escape that does not fit whole is refused");
	ok(!twofa_ldap_escape_filter_value("a", 1, out, 0) &&
		   !twofa_ldap_escape_filter_value(NULL, 1, out, 16),
	   "no room or no value: refused");
	memset(name, '*', sizeof(name));
	ok(twofa_ldap_escape_filter_value(name, sizeof(name), big, sizeof(big)) && strlen(big) == 900,
	   "300 '*' escape to 900 bytes when there is room");
}

static void expect_filter(twofa_config *c, const char *user, twofa_status want, const char *filter,
			  const char *what)
{
	twofa_error err = {0};
	char *got = (char *)"untouched";
	twofa_status st = twofa_ldap_member_filter(c, user, &got, &err);

	const char *shown = st == TWOFA_OK && got != NULL ? got : err.msg;

	if (want == TWOFA_OK)
		ok(st == TWOFA_OK && got != NULL && strcmp(got, filter) == 0, "filter %s: %.400s", what,
		   shown);
	else
		ok(st == want && got == NULL, "filter %s refused: %s", what, err.msg);
	if (st == TWOFA_OK)
		free(got);
}

static void test_member_filter(void)
{
	twofa_config c;
	twofa_error err = {0};
	char name[301];
	static const char tmpl[] =
		"ldap_filter = (&(objectClass=posixAccount)(|(uid=%u)(mail=%u@example.com)))\n";

	twofa_config_init(&c);
	expect_filter(&c, "alice", TWOFA_OK, "(&(objectClass=twofaMember)(uid=alice))", "default template");
	expect_filter(&c, "*", TWOFA_OK, "(&(objectClass=twofaMember)(uid=\\2a))", "'*'");
	expect_filter(&c, "a*", TWOFA_OK, "(&(objectClass=twofaMember)(uid=a\\2a))", "'a*'");
	expect_filter(&c, "x)(uid=*", TWOFA_OK, "(&(objectClass=twofaMember)(uid=x\\29\\28uid=\\2a))",
		      "'x)(uid=*'");
	expect_filter(&c, "j\xc3\xbcrgen", TWOFA_OK, "(&(objectClass=twofaMember)(uid=j\\c3\\bcrgen))",
		      "non-ASCII");
	memset(name, 'a', 256);
	name[256] = '\0';
	{
		char want[400];
		(void)snprintf(want, sizeof(want), "(&(objectClass=twofaMember)(uid=%s))", name);
		expect_filter(&c, name, TWOFA_OK, want, "a 256-byte name (the longest member name)");
	}
	memset(name, 'a', 300);
	name[300] = '\0';
	expect_filter(&c, name, TWOFA_EINVAL, "", "a 300-byte name");
	expect_filter(&c, "", TWOFA_EINVAL, "", "the empty name");
	twofa_config_free(&c);

	twofa_config_init(&c);
	ok(twofa_config_parse(&c, "t.conf", tmpl, strlen(tmpl), &err) == TWOFA_OK, "a template with two %%u");
	expect_filter(&c, "b*b", TWOFA_OK,
		      "(&(objectClass=twofaMember)(&(objectClass=posixAccount)(|(uid=b\\2ab)(mail=b\\2ab@example.com))))",
		      "each %u replaced");
	twofa_config_free(&c);
	ok(twofa_ldap_member_filter(NULL, "a", &(char *){NULL}, &err) == TWOFA_EINVAL, "no config: EINVAL");
}

int main(void)
{
	test_escape();
	test_member_filter();
	return tap_done();
}
