/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A bound directory connection with failover (lib/ldap_conn.h).
 *
 * Per server, each step within min(ldap_timeout, budget left): the socket
 * (lib/ldap_socket.c, with a deadline), handed to libldap with ldap_init_fd;
 * every option set explicitly; TLS for ldaps://, or StartTLS for ldap://
 * when ldap_tls = starttls (the handshake under a watchdog); then a simple
 * or SASL EXTERNAL bind, or an anonymous one, which also proves the server
 * speaks LDAP. A server that refused or timed out is remembered as dead
 * (lib/ldap_dead.c) and tried after the others; a refused bind ends the
 * call (the next server would refuse it too). */
#include "twofa_build.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#include <openldap.h>
#include <sodium.h>

#include "config_ldap.h"
#include "ldap_conn.h"
#include "ldap_dead.h"
#include "ldap_socket.h"
#include "util.h"
#include "wire.h"

#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

struct twofa_ldap {
	LDAP *ld;
	const twofa_config *cfg;
	long long budget_end_ms;
	bool broken; /* the server failed: the handle is not to be used again */
	char uri[TWOFA_LDAP_URI_MAX + 1];
};

/* ---- the process ---- */

static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void process_init(void)
{
	struct sigaction old;

	/* libldap reads ldaprc, .ldaprc, $LDAPCONF, ldap.conf and LDAP*
	 * variables when it first initialises, unless LDAPNOINIT is set.
	 * The CLI runs with its caller's environment and working directory,
	 * and nothing there may choose a server, a CA or a bind DN: every
	 * option is set here. So before the first libldap call. */
	(void)setenv("LDAPNOINIT", "1", 1);
	/* liblber writes with write(2): a server that went away must be an
	 * error (EPIPE), not the death of the server or the CLI. */
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		(void)signal(SIGPIPE, SIG_IGN);
}

/* ---- time ---- */

static long long left_ms(long long end_ms)
{
	long long left = end_ms - twofa_wire_now_ms();

	return left > 0 ? left : 0;
}

static long long step_end(const twofa_config *cfg, long long budget_end_ms)
{
	long long end = twofa_wire_now_ms() + cfg->ldap_timeout * 1000LL;

	return end < budget_end_ms ? end : budget_end_ms;
}

/* LDAP_OPT_NETWORK_TIMEOUT and LDAP_OPT_TIMEOUT to what is left until end
 * (at least 1 ms: libldap reads 0 as "do not wait at all"). */
static bool set_timeouts(LDAP *ld, long long end_ms)
{
	long long ms = left_ms(end_ms);
	struct timeval tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) == LDAP_OPT_SUCCESS &&
	       ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) == LDAP_OPT_SUCCESS;
}

/* ---- one server ---- */

/* How trying one server ended. */
typedef enum {
	TRY_OK,
	TRY_DEAD,   /* refused or timed out: remembered, the next is tried */
	TRY_FAILED, /* another failure of this server: the next is tried */
	TRY_TLS,    /* its certificate did not verify: the next is tried */
	TRY_DENIED, /* the bind was refused: the call ends */
	TRY_LOCAL,  /* this machine: memory, a bad option */
} try_result;

typedef struct attempt {
	char why[160];
} attempt;

__attribute__((format(printf, 2, 3))) static void say(attempt *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	twofa_sanitize(a->why);
}

static bool is_ldaps(const char *uri)
{
	return strncmp(uri, "ldaps://", 8) == 0;
}

static bool is_ldapi(const char *uri)
{
	return strncmp(uri, "ldapi://", 8) == 0;
}

/* Every option, on this handle alone. */
static bool set_options(LDAP *ld, const twofa_config *cfg, bool tls)
{
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
	int client = 0;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS)
		return false;
	if (!tls)
		return true;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
			    cfg->ldap_ca_file != NULL ? cfg->ldap_ca_file : SYSTEM_CA_FILE) !=
		    LDAP_OPT_SUCCESS)
		return false;
	if (cfg->ldap_client_cert != NULL &&
	    (ldap_set_option(ld, LDAP_OPT_X_TLS_CERTFILE, cfg->ldap_client_cert) != LDAP_OPT_SUCCESS ||
	     ldap_set_option(ld, LDAP_OPT_X_TLS_KEYFILE, cfg->ldap_client_key) != LDAP_OPT_SUCCESS))
		return false;
	/* A context of this handle's own, made from the options above. */
	return ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client) == LDAP_OPT_SUCCESS;
}

static bool unreachable_code(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR || rc == LDAP_BUSY ||
	       rc == LDAP_UNAVAILABLE;
}

static bool refused_bind(int rc)
{
	return rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
	       rc == LDAP_INVALID_DN_SYNTAX || rc == LDAP_INSUFFICIENT_ACCESS ||
	       rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_AUTH_UNKNOWN ||
	       rc == LDAP_STRONG_AUTH_REQUIRED || rc == LDAP_CONFIDENTIALITY_REQUIRED ||
	       rc == LDAP_NO_SUCH_OBJECT;
}

/* TLS for ldaps://, StartTLS for ldap:// with ldap_tls = starttls. */
static try_result start_tls(twofa_ldap *l, int fd, long long budget_end_ms, attempt *a)
{
	const twofa_config *cfg = l->cfg;
	long long end;
	bool timed_out;
	char *diag = NULL;
	int rc;

	if (!is_ldaps(l->uri)) {
		struct berval *data = NULL;
		char *oid = NULL;

		end = step_end(cfg, budget_end_ms);
		if (!set_timeouts(l->ld, end))
			return TRY_LOCAL;
		rc = ldap_extended_operation_s(l->ld, LDAP_EXOP_START_TLS, NULL, NULL, NULL, &oid, &data);
		ldap_memfree(oid);
		ber_bvfree(data);
		if (rc != LDAP_SUCCESS) {
			say(a, "StartTLS: %s", ldap_err2string(rc));
			return unreachable_code(rc) ? TRY_DEAD : TRY_FAILED;
		}
	}
	end = step_end(cfg, budget_end_ms);
	if (!set_timeouts(l->ld, end))
		return TRY_LOCAL;
	rc = twofa_ldap_tls_bounded(l->ld, fd, end, &timed_out);
	if (rc == LDAP_SUCCESS)
		return TRY_OK;
	if (timed_out) {
		say(a, "TLS handshake: %s", "timed out");
		return TRY_DEAD;
	}
	/* libldap 2.5 with GnuTLS says "(unknown error code)" for a
	 * certificate that does not verify or does not name the host; a
	 * reason it gives (no secret in it) is kept. */
	(void)ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	if (diag != NULL && diag[0] != '\0' && diag[0] != '(')
		say(a, "TLS handshake failed: %s", diag);
	else
		say(a, "TLS handshake failed: %s",
		    "the server's certificate does not verify against ldap_ca_file or does not name the host");
	ldap_memfree(diag);
	return TRY_TLS;
}

static try_result bind_server(twofa_ldap *l, twofa_ldap_identity who, long long budget_end_ms, attempt *a)
{
	const twofa_config *cfg = l->cfg;
	const char *dn = who == TWOFA_LDAP_ADMIN ? cfg->ldap_admin_bind_dn : cfg->ldap_bind_dn;
	const char *password = who == TWOFA_LDAP_ADMIN ? cfg->ldap_admin_bind_password
						       : cfg->ldap_bind_password;
	struct berval cred = {0, NULL};
	char empty[] = "";
	int rc;

	if (!set_timeouts(l->ld, step_end(cfg, budget_end_ms)))
		return TRY_LOCAL;
	if (cfg->ldap_sasl == TWOFA_LDAP_SASL_EXTERNAL) {
		/* An empty initial response: the identity is the one TLS or the
		 * ldapi socket already shows the server. */
		cred.bv_val = empty;
		rc = ldap_sasl_bind_s(l->ld, NULL, "EXTERNAL", &cred, NULL, NULL, NULL);
	} else {
		if (password != NULL) {
			/* A copy libldap may read; wiped as soon as the bind is sent. */
			cred.bv_len = strlen(password);
			cred.bv_val = malloc(cred.bv_len + 1);
			if (cred.bv_val == NULL)
				return TRY_LOCAL;
			memcpy(cred.bv_val, password, cred.bv_len + 1);
		}
		rc = ldap_sasl_bind_s(l->ld, dn != NULL ? dn : "", LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		if (cred.bv_val != NULL)
			twofa_free_wiped(cred.bv_val, cred.bv_len + 1);
	}
	if (rc == LDAP_SUCCESS)
		return TRY_OK;
	say(a, "bind: %s", ldap_err2string(rc));
	if (refused_bind(rc))
		return TRY_DENIED;
	return unreachable_code(rc) ? TRY_DEAD : TRY_FAILED;
}

static try_result try_server(twofa_ldap *l, twofa_ldap_identity who, long long budget_end_ms, attempt *a)
{
	const twofa_config *cfg = l->cfg;
	bool dead, tls = !is_ldapi(l->uri) && (is_ldaps(l->uri) || cfg->ldap_tls == TWOFA_LDAP_TLS_STARTTLS);
	const char *why = NULL;
	try_result r;
	int fd;

	fd = twofa_ldap_socket_connect(l->uri, step_end(cfg, budget_end_ms), &why, &dead);
	if (fd < 0) {
		say(a, "%s", why);
		return dead ? TRY_DEAD : TRY_FAILED;
	}
	if (ldap_init_fd(fd, is_ldapi(l->uri) ? LDAP_PROTO_IPC : LDAP_PROTO_TCP, l->uri, &l->ld) !=
	    LDAP_SUCCESS) {
		(void)close(fd);
		l->ld = NULL;
		return TRY_LOCAL;
	}
	if (!set_options(l->ld, cfg, tls)) {
		say(a, "%s",
		    "cannot set the TLS options (a CA, certificate or key file that cannot be read?)");
		return TRY_TLS;
	}
	if (tls && (r = start_tls(l, fd, budget_end_ms, a)) != TRY_OK)
		return r;
	/* A connection libldap did not open itself it never reopens either
	 * (measured with 2.5.13: tests/ldapconn), so a lost one stays lost
	 * rather than coming back without StartTLS, the bind or a deadline. */
	return bind_server(l, who, budget_end_ms, a);
}

static void drop_handle(twofa_ldap *l)
{
	if (l->ld != NULL)
		(void)ldap_unbind_ext_s(l->ld, NULL, NULL);
	l->ld = NULL;
}

/* ---- failover ---- */

/* The servers to try, in order: those not marked dead first. */
static size_t server_order(const twofa_config *cfg, bool write, char uris[][TWOFA_LDAP_URI_MAX + 1])
{
	char all[TWOFA_LDAP_URIS_MAX][TWOFA_LDAP_URI_MAX + 1];
	bool dead[TWOFA_LDAP_URIS_MAX];
	size_t n = 0, out = 0;

	if (write) {
		if (cfg->ldap_write_uri != NULL)
			return twofa_strlcpy(uris[0], cfg->ldap_write_uri, TWOFA_LDAP_URI_MAX + 1) ? 1 : 0;
		return twofa_ldap_uri_at(cfg->ldap_uri, 0, uris[0]) ? 1 : 0;
	}
	while (n < TWOFA_LDAP_URIS_MAX && twofa_ldap_uri_at(cfg->ldap_uri, n, all[n]))
		n++;
	for (size_t i = 0; i < n; i++)
		dead[i] = twofa_ldap_dead_recent(cfg->ldap_run_dir, all[i]);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (dead[i] == (pass == 1))
				memcpy(uris[out++], all[i], TWOFA_LDAP_URI_MAX + 1);
		}
	}
	return out;
}

static twofa_status check_identity(const twofa_config *cfg, twofa_ldap_identity who, twofa_error *err)
{
	bool admin = who == TWOFA_LDAP_ADMIN;
	const char *dn = admin ? cfg->ldap_admin_bind_dn : cfg->ldap_bind_dn;
	const char *password = admin ? cfg->ldap_admin_bind_password : cfg->ldap_bind_password;
	const char *dn_key = admin ? "ldap_admin_bind_dn" : "ldap_bind_dn";
	const char *password_key = admin ? "ldap_admin_bind_password" : "ldap_bind_password";

	if (cfg->ldap_sasl == TWOFA_LDAP_SASL_EXTERNAL)
		return TWOFA_OK;
	/* A DN without a password is an "unauthenticated bind" (RFC 4513):
	 * anonymous in disguise. */
	if (dn != NULL && password == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s is set without %s", dn_key, password_key);
	if (dn == NULL && password != NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "%s is set without %s", password_key, dn_key);
	return TWOFA_OK;
}

twofa_status twofa_ldap_connect(twofa_ldap **out, const twofa_config *cfg, twofa_ldap_identity who,
				bool write, twofa_error *err)
{
	long long end_ms = twofa_wire_now_ms() + (cfg != NULL ? 2 * cfg->ldap_timeout * 1000LL : 0);

	return twofa_ldap_connect_until(out, cfg, who, write, end_ms, err);
}

twofa_status twofa_ldap_connect_until(twofa_ldap **out, const twofa_config *cfg, twofa_ldap_identity who,
				      bool write, long long end_ms, twofa_error *err)
{
	char uris[TWOFA_LDAP_URIS_MAX][TWOFA_LDAP_URI_MAX + 1];
	char tried[TWOFA_ERROR_MSG_MAX] = "";
	twofa_ldap *l;
	size_t count;
	twofa_status st;
	bool tls_failed = false;

	if (out != NULL)
		*out = NULL;
	if (out == NULL || cfg == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "ldap: invalid call to connect");
	if ((st = twofa_config_check_store(cfg, err)) != TWOFA_OK)
		return st;
	if (cfg->ldap_uri == NULL)
		return twofa_fail(err, TWOFA_ECONFIG, "ldap_uri is not set");
	if ((st = check_identity(cfg, who, err)) != TWOFA_OK)
		return st;
	(void)pthread_once(&process_once, process_init);
	count = server_order(cfg, write, uris);
	if (count == 0)
		return twofa_fail(err, TWOFA_ECONFIG, "ldap_uri names no server");
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "ldap: out of memory");
	l->cfg = cfg;
	l->budget_end_ms = end_ms;
	for (size_t i = 0; i < count; i++) {
		attempt a = {""};
		try_result r;
		char one[TWOFA_LDAP_URI_MAX + 200];

		(void)twofa_strlcpy(l->uri, uris[i], sizeof(l->uri));
		if (left_ms(l->budget_end_ms) == 0) {
			r = TRY_FAILED;
			say(&a, "%s", "not tried: the time was up");
		} else {
			r = try_server(l, who, l->budget_end_ms, &a);
		}
		if (r == TRY_OK) {
			twofa_ldap_dead_clear(cfg->ldap_run_dir, l->uri);
			*out = l;
			return TWOFA_OK;
		}
		drop_handle(l);
		if (r == TRY_DENIED) {
			st = twofa_fail(err, TWOFA_EPERM, "ldap: %s refused the bind as %s: %s", l->uri,
					cfg->ldap_sasl == TWOFA_LDAP_SASL_EXTERNAL ? "SASL EXTERNAL"
					: who == TWOFA_LDAP_ADMIN                  ? "ldap_admin_bind_dn"
										   : "ldap_bind_dn",
					a.why);
			free(l);
			return st;
		}
		if (r == TRY_LOCAL) {
			free(l);
			return twofa_fail(err, TWOFA_ESYS, "ldap: cannot set up a connection to %s", uris[i]);
		}
		if (r == TRY_DEAD)
			twofa_ldap_dead_mark(cfg->ldap_run_dir, l->uri);
		tls_failed |= r == TRY_TLS;
		(void)snprintf(one, sizeof(one), "%s%s (%s)", tried[0] != '\0' ? ", " : "", l->uri, a.why);
		if (strlen(tried) + strlen(one) < sizeof(tried) - 4)
			(void)strcat(tried, one);
		else if (strlen(tried) + 4 < sizeof(tried))
			(void)strcat(tried, " ...");
	}
	free(l);
	/* A certificate that does not verify is a wrong ldap_ca_file or
	 * someone in the way, not an outage: no cache may stand in for it. */
	return twofa_fail(err, tls_failed ? TWOFA_ECONFIG : TWOFA_EUNAVAIL,
			  "ldap: no directory server answered: %s", tried);
}

/* ---- the connection ---- */

LDAP *twofa_ldap_handle(twofa_ldap *l)
{
	if (l == NULL || l->ld == NULL || l->broken)
		return NULL;
	(void)set_timeouts(l->ld, step_end(l->cfg, l->budget_end_ms));
	return l->ld;
}

const char *twofa_ldap_uri(const twofa_ldap *l)
{
	return l != NULL ? l->uri : "";
}

long twofa_ldap_op_deadline_ms(const twofa_ldap *l)
{
	long long left, step;

	if (l == NULL || l->broken)
		return 0;
	left = left_ms(l->budget_end_ms);
	step = l->cfg->ldap_timeout * 1000LL;
	return (long)(left < step ? left : step);
}

void twofa_ldap_new_budget(twofa_ldap *l)
{
	if (l != NULL)
		l->budget_end_ms = twofa_wire_now_ms() + 2 * l->cfg->ldap_timeout * 1000LL;
}

void twofa_ldap_set_deadline(twofa_ldap *l, long long end_ms)
{
	if (l != NULL)
		l->budget_end_ms = end_ms;
}

bool twofa_ldap_broken(const twofa_ldap *l)
{
	return l != NULL && (l->broken || l->ld == NULL);
}

/* ---- the budget of a PAM call ---- */

void twofa_ldap_budget_init(twofa_ldap_budget *b, const twofa_config *cfg)
{
	b->left_ms = 2 * cfg->ldap_timeout * 1000LL;
	b->resumed_ms = 0;
}

long long twofa_ldap_budget_resume(twofa_ldap_budget *b)
{
	b->resumed_ms = twofa_wire_now_ms();
	return b->resumed_ms + b->left_ms;
}

void twofa_ldap_budget_pause(twofa_ldap_budget *b)
{
	long long spent;

	if (b->resumed_ms == 0)
		return;
	spent = twofa_wire_now_ms() - b->resumed_ms;
	b->left_ms = spent >= b->left_ms ? 0 : b->left_ms - (spent > 0 ? spent : 0);
	b->resumed_ms = 0;
}

bool twofa_ldap_all_dead(const twofa_config *cfg, twofa_error *why)
{
	char uri[TWOFA_LDAP_URI_MAX + 1], list[TWOFA_ERROR_MSG_MAX] = "";
	size_t n;

	if (cfg == NULL || cfg->ldap_uri == NULL)
		return false;
	for (n = 0; n < TWOFA_LDAP_URIS_MAX && twofa_ldap_uri_at(cfg->ldap_uri, n, uri); n++) {
		if (!twofa_ldap_dead_recent(cfg->ldap_run_dir, uri))
			return false;
		if (strlen(list) + strlen(uri) + 3 < sizeof(list))
			(void)snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				       n > 0 ? ", " : "", uri);
	}
	if (n == 0)
		return false;
	twofa_error_set(why, TWOFA_EUNAVAIL,
			"ldap: every directory server failed less than %d s ago, not tried again: %s",
			TWOFA_LDAP_DEAD_SECONDS, list);
	return true;
}

twofa_status twofa_ldap_fail(twofa_ldap *l, int rc, const char *doing, twofa_error *err)
{
	const char *uri = l != NULL ? l->uri : "(no server)";
	const char *what = doing != NULL ? doing : "operation";
	twofa_status st;

	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
		st = TWOFA_EUNAVAIL;
		if (l != NULL) {
			l->broken = true;
			twofa_ldap_dead_mark(l->cfg->ldap_run_dir, l->uri);
		}
		break;
	case LDAP_ASSERTION_FAILED:
		st = TWOFA_ECONFLICT;
		break;
	case LDAP_NO_SUCH_OBJECT:
		st = TWOFA_ENOTFOUND;
		break;
	case LDAP_ALREADY_EXISTS:
	case LDAP_TYPE_OR_VALUE_EXISTS:
		st = TWOFA_EEXIST;
		break;
	case LDAP_INSUFFICIENT_ACCESS:
		st = TWOFA_EPERM;
		break;
	default:
		st = TWOFA_ESTORE;
		break;
	}
	return twofa_fail(err, st, "ldap: %s on %s: %s", what, uri, ldap_err2string(rc));
}

void twofa_ldap_close(twofa_ldap *l)
{
	if (l == NULL)
		return;
	drop_handle(l);
	free(l);
}
