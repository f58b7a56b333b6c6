/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests for lib/ldap_conn without a directory: how twofa_ldap_fail
 * maps libldap's result codes, and what twofa_ldap_connect refuses before
 * it opens any connection (the key rules again, for module arguments; a
 * bind DN without its password). The connections themselves:
 * tests/ldapconn/test_ldap_conn.py. */
#include "twofa_build.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ldap_conn.h"
#include "ldap_socket.h"
#include "tap.h"
#include "wire.h"

static void test_fail(void)
{
	static const struct {
		int rc;
		twofa_status want;
	} map[] = {
		{LDAP_SERVER_DOWN, TWOFA_EUNAVAIL},        {LDAP_TIMEOUT, TWOFA_EUNAVAIL},
		{LDAP_CONNECT_ERROR, TWOFA_EUNAVAIL},      {LDAP_ASSERTION_FAILED, TWOFA_ECONFLICT},
		{LDAP_NO_SUCH_OBJECT, TWOFA_ENOTFOUND},    {LDAP_ALREADY_EXISTS, TWOFA_EEXIST},
		{LDAP_TYPE_OR_VALUE_EXISTS, TWOFA_EEXIST}, {LDAP_INSUFFICIENT_ACCESS, TWOFA_EPERM},
		{LDAP_SIZELIMIT_EXCEEDED, TWOFA_ESTORE},   {LDAP_OTHER, TWOFA_ESTORE},
		{LDAP_CONSTRAINT_VIOLATION, TWOFA_ESTORE},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		twofa_error err = {0};
		twofa_status st = twofa_ldap_fail(NULL, map[i].rc, "search", &err);
		ok(st == map[i].want && err.status == st && strstr(err.msg, "search") != NULL, "%s -> %s: %s",
		   ldap_err2string(map[i].rc), twofa_status_name(map[i].want), err.msg);
	}
	ok(twofa_ldap_handle(NULL) == NULL && twofa_ldap_op_deadline_ms(NULL) == 0 &&
		   strcmp(twofa_ldap_uri(NULL), "") == 0,
	   "no connection: no handle, no time, no URI");
	twofa_ldap_new_budget(NULL);
	twofa_ldap_close(NULL);
	ok(1, "new_budget and close take NULL");
}

static twofa_status connect_text(const char *text, const char *arg_key, const char *arg_value,
				 twofa_ldap_identity who, twofa_error *err)
{
	twofa_config c;
	twofa_ldap *l = (twofa_ldap *)&c; /* must come back NULL */
	twofa_status st;

	twofa_config_init(&c);
	st = twofa_config_parse(&c, "t.conf", text, strlen(text), err);
	if (st == TWOFA_OK && arg_key != NULL)
		st = twofa_config_set(&c, arg_key, arg_value, TWOFA_CONFIG_FROM_ARGS, err);
	if (st == TWOFA_OK) {
		st = twofa_ldap_connect(&l, &c, who, false, err);
		if (l != NULL)
			st = TWOFA_ESYS; /* a failed connect leaves *out NULL */
	}
	twofa_config_free(&c);
	return st;
}

static void test_refused(void)
{
	twofa_error err = {0};
	twofa_status st;
	char dir[] = "/tmp/twofa-ldap-conn-XXXXXX", base[256], run[64];

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	(void)snprintf(run, sizeof(run), "%s/run", dir);
	(void)snprintf(base, sizeof(base),
		       "store = ldap\nldap_base = dc=example,dc=com\nldap_uri = ldap://127.0.0.1:1\n"
		       "ldap_tls = none\nldap_run_dir = %s\n",
		       run);

	st = connect_text("store = ldap\nldap_base = dc=example,dc=com\n", NULL, NULL, TWOFA_LDAP_LOGIN, &err);
	ok(st == TWOFA_ECONFIG && strstr(err.msg, "ldap_uri") != NULL, "no ldap_uri: %s", err.msg);
	st = connect_text(base, "ldap_uri", "ldap://ldap.example.com", TWOFA_LDAP_LOGIN, &err);
	ok(st == TWOFA_ECONFIG && strstr(err.msg, "ldap://ldap.example.com") != NULL,
	   "ldap_tls = none with a remote URI from a module argument: %s", err.msg);
	st = connect_text("ldap_uri = ldap://127.0.0.1:1\nldap_tls = none\nldap_bind_dn = cn=x,dc=example,dc=com\n",
			  NULL, NULL, TWOFA_LDAP_LOGIN, &err);
	ok(st == TWOFA_ECONFIG && strstr(err.msg, "ldap_bind_dn is set without ldap_bind_password") != NULL,
	   "a login DN without its password: %s", err.msg);
	st = connect_text("ldap_uri = ldap://127.0.0.1:1\nldap_tls = none\nldap_admin_bind_password = pw\n",
			  NULL, NULL, TWOFA_LDAP_ADMIN, &err);
	ok(st == TWOFA_ECONFIG && strstr(err.msg, "ldap_admin_bind_password is set without") != NULL &&
		   strstr(err.msg, "pw\n") == NULL,
	   "an admin password without its DN: %s", err.msg);
	st = connect_text(base, NULL, NULL, TWOFA_LDAP_LOGIN, &err);
	ok(st == TWOFA_EUNAVAIL && strstr(err.msg, "ldap://127.0.0.1:1 (connection refused)") != NULL,
	   "a refused port: unavailable, named: %s", err.msg);
	ok(twofa_ldap_connect(NULL, NULL, TWOFA_LDAP_LOGIN, false, &err) == TWOFA_EINVAL, "NULL: EINVAL");
	{
		char record[128];
		(void)snprintf(record, sizeof(record), "rm -rf '%s'", dir);
		ok(system(record) == 0, "removed %s", dir);
	}
}

/* The TCP socket handed to libldap has TCP_NODELAY, as libldap's own have:
 * without it the bind waits behind the TLS Finished for the server's
 * delayed ACK, 40 ms on every connection (bench/RESULTS.md). */
static void test_nodelay(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int listener = socket(AF_INET, SOCK_STREAM, 0), fd = -1, on = 0;
	socklen_t on_len = sizeof(on);
	const char *why = NULL;
	bool dead = false;
	char uri[64];

	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(listener, 1) != 0 || getsockname(listener, (struct sockaddr *)&a, &len) != 0) {
		ok(0, "a listener on the loopback");
		return;
	}
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	fd = twofa_ldap_socket_connect(uri, twofa_wire_now_ms() + 2000, &why, &dead);
	ok(fd >= 0, "connects to %s (%s)", uri, fd >= 0 ? "ok" : why);
	ok(fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0 && on != 0,
	   "the socket has TCP_NODELAY");
	if (fd >= 0)
		close(fd);
	close(listener);
}

int main(void)
{
	test_fail();
	test_refused();
	test_nodelay();
	return tap_done();
}
