/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for lib/config_ldap: the rules between the ldap_* keys (at load
 * and through twofa_config_check_store), the URI helpers lib/ldap_conn.c
 * uses, and that the bind passwords stay file-only and out of messages.
 * Each key's own good and bad values are in tests/unit/test_config.c. */
#include "twofa_build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_ldap.h"
#include "error.h"
#include "tap.h"

#define BIND_SECRET "bind-S3cret pass#phrase"

static bool has(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* Parses text and runs the cross-key check, as a load does. */
static twofa_status check_text(const char *text, twofa_error *err)
{
	twofa_config c;
	twofa_status st;

	twofa_config_init(&c);
	twofa_error_clear(err);
	st = twofa_config_parse(&c, "t.conf", text, strlen(text), err);
	if (st == TWOFA_OK)
		st = twofa_config_check_store(&c, err);
	twofa_config_free(&c);
	return st;
}

static void expect(const char *text, twofa_status want, const char *says, const char *what)
{
	twofa_error err = {0};
	twofa_status st = check_text(text, &err);

	ok(st == want && (says == NULL || has(err.msg, says)) && !has(err.msg, BIND_SECRET), "%s: %s", what,
	   st == TWOFA_OK ? "ok" : err.msg);
}

static void test_rules(void)
{
	expect("", TWOFA_OK, NULL, "gdbm without ldap keys");
	expect("store = ldap\nldap_base = dc=example,dc=com\n", TWOFA_ECONFIG, "store = ldap needs ldap_uri",
	       "store = ldap without ldap_uri");
	expect("store = ldap\nldap_uri = ldaps://ldap.example.com\n", TWOFA_ECONFIG,
	       "store = ldap needs ldap_base", "store = ldap without ldap_base");
	expect("store = ldap\nldap_uri = ldaps://ldap.example.com\nldap_base = dc=example,dc=com\n", TWOFA_OK,
	       NULL, "store = ldap with ldap_uri and ldap_base");
	expect("ldap_tls = none\nldap_uri = ldap://127.0.0.1:3890 ldapi:// ldap://localhost ldap://[::1]:1\n",
	       TWOFA_OK, NULL, "ldap_tls = none to the loopback and ldapi://");
	expect("ldap_uri = ldap://127.0.0.1 ldap://ldap2.example.com\nldap_tls = none\n", TWOFA_ECONFIG,
	       "ldap_uri has ldap://ldap2.example.com", "ldap_tls = none to another host names the URI");
	expect("ldap_tls = none\nldap_uri = ldap://127.0.0.1\nldap_write_uri = ldap://10.0.0.1\n",
	       TWOFA_ECONFIG, "ldap_write_uri has ldap://10.0.0.1", "ldap_tls = none checks ldap_write_uri");
	expect("ldap_tls = none\nldap_uri = ldap://127.0.0.1.example.com\n", TWOFA_ECONFIG,
	       "127.0.0.1.example.com", "a name that starts like 127.0.0.1 is not the loopback");
	expect("ldap_tls = none\nldap_uri = ldap://localhost.example.com\n", TWOFA_ECONFIG,
	       "localhost.example", "localhost.example.com is not the loopback");
	expect("ldap_tls = ldaps\nldap_uri = ldaps://a.example.com ldap://b.example.com\n", TWOFA_ECONFIG,
	       "ldap://b.example.com", "ldap_tls = ldaps with an ldap:// URI");
	expect("ldap_tls = ldaps\nldap_uri = ldaps://a.example.com ldapi://\n", TWOFA_OK, NULL,
	       "ldap_tls = ldaps with ldaps:// and ldapi://");
	expect("ldap_uri = ldaps://a\nldap_client_cert = /etc/twofa/c.pem\n", TWOFA_ECONFIG,
	       "ldap_client_cert is set without ldap_client_key", "a client certificate without its key");
	expect("ldap_uri = ldaps://a\nldap_client_key = /etc/twofa/c.key\n", TWOFA_ECONFIG,
	       "ldap_client_key is set without ldap_client_cert", "a client key without its certificate");
	expect("ldap_uri = ldaps://a\nldap_sasl = external\n", TWOFA_ECONFIG, "ldap_sasl = external needs",
	       "SASL EXTERNAL over the network without a client certificate");
	expect("ldap_uri = ldaps://a\nldap_sasl = external\nldap_client_cert = /c.pem\nldap_client_key = /c.key\n",
	       TWOFA_OK, NULL, "SASL EXTERNAL with a client certificate");
	expect("ldap_uri = ldapi://%2Frun%2Fslapd%2Fldapi\nldap_sasl = external\n", TWOFA_OK, NULL,
	       "SASL EXTERNAL over ldapi:// alone");
	expect("ldap_uri = ldaps://a\nldap_bind_password = " BIND_SECRET "\nldap_sasl = external\n",
	       TWOFA_ECONFIG, NULL, "a failing check never shows the bind password");
}

static void test_uri_helpers(void)
{
	char uri[TWOFA_LDAP_URI_MAX + 1];
	char *list = NULL;
	const char *why;

	why = twofa_ldap_uri_list_check("ldap://a  ,ldaps://b:636\tldapi://", &list);
	ok(why == NULL && list != NULL && strcmp(list, "ldap://a,ldaps://b:636,ldapi://") == 0,
	   "a list is written with single commas: %s", list != NULL ? list : why);
	ok(twofa_ldap_uri_at(list, 0, uri) && strcmp(uri, "ldap://a") == 0, "first URI: %s", uri);
	ok(twofa_ldap_uri_at(list, 2, uri) && strcmp(uri, "ldapi://") == 0, "third URI: %s", uri);
	ok(!twofa_ldap_uri_at(list, 3, uri), "nothing past the last");
	ok(!twofa_ldap_uri_at(NULL, 0, uri), "no list, no URI");
	free(list);
	ok(twofa_ldap_uri_is_local("ldap://127.0.0.1") && twofa_ldap_uri_is_local("ldap://127.1.2.3:389/") &&
		   twofa_ldap_uri_is_local("ldaps://localhost:636") &&
		   twofa_ldap_uri_is_local("ldap://[::1]:389") && twofa_ldap_uri_is_local("ldapi://"),
	   "the loopback and ldapi:// are local");
	ok(!twofa_ldap_uri_is_local("ldap://128.0.0.1") &&
		   !twofa_ldap_uri_is_local("ldap://127.0.0.1.nip.io") &&
		   !twofa_ldap_uri_is_local("ldap://127.0.0.1000") &&
		   !twofa_ldap_uri_is_local("ldap://[::1]x") &&
		   !twofa_ldap_uri_is_local("ldap://localhostx") && !twofa_ldap_uri_is_local("ldap://127.0.0"),
	   "names and addresses that only look local are not");
}

static void test_secrets(void)
{
	twofa_config c;
	twofa_error err = {0};
	twofa_status st;

	ok(twofa_config_key_is_secret("ldap_bind_password") &&
		   twofa_config_key_is_secret("ldap_admin_bind_password"),
	   "both bind passwords are secrets");
	ok(!twofa_config_key_is_secret("ldap_bind_dn") && !twofa_config_key_is_secret("ldap_uri"),
	   "DNs and URIs are not");
	twofa_config_init(&c);
	st = twofa_config_set(&c, "ldap_bind_password", BIND_SECRET, TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, "only be set in the config file") &&
		   !has(err.msg, BIND_SECRET) && c.ldap_bind_password == NULL,
	   "a bind password as a module argument is refused: %s", err.msg);
	st = twofa_config_set(&c, "ldap_admin_bind_password", BIND_SECRET, TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_ECONFIG && c.ldap_admin_bind_password == NULL, "so is the admin's");
	st = twofa_config_set(&c, "ldap_uri", "ldaps://a.example.com", TWOFA_CONFIG_FROM_ARGS, &err);
	ok(st == TWOFA_OK && strcmp(c.ldap_uri, "ldaps://a.example.com") == 0,
	   "ldap_uri may be a module argument");
	twofa_config_free(&c);
	st = twofa_config_parse(&c, "t.conf", "ldap_bind_password = " BIND_SECRET "\n",
				strlen("ldap_bind_password = " BIND_SECRET "\n"), &err);
	ok(st == TWOFA_OK && c.ldap_bind_password != NULL && strcmp(c.ldap_bind_password, BIND_SECRET) == 0,
	   "the file sets it, spaces and '#' kept");
	twofa_config_free(&c);
}

/* A file with store = ldap and no ldap_uri fails at load, naming the file. */
static void test_load(void)
{
	char dir[] = "/tmp/twofa-config-ldap-XXXXXX", path[128];
	static const char text[] = "store = ldap\nldap_base = dc=example,dc=com\n";
	twofa_config c;
	twofa_error err = {0};
	twofa_status st;
	int fd;

	if (geteuid() != 0) {
		printf("ok %d # SKIP loading needs a root-owned file\n", ++tap_count);
		return;
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0700) != 0) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	(void)snprintf(path, sizeof(path), "%s/t.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0, "wrote %s",
	   path);
	twofa_config_init(&c);
	st = twofa_config_load(&c, path, &err);
	ok(st == TWOFA_ECONFIG && has(err.msg, path) && has(err.msg, "store = ldap needs ldap_uri"),
	   "load refuses store = ldap without ldap_uri: %s", err.msg);
	twofa_config_free(&c);
	(void)unlink(path);
	(void)rmdir(dir);
}

int main(void)
{
	test_rules();
	test_uri_helpers();
	test_secrets();
	test_load();
	return tap_done();
}
