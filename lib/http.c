/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "http.h"
#include "http_share.h"
#include "netif.h"
#include "url.h"
#include "util.h"

struct twofa_http {
	CURL *curl;
	struct twofa_http_share *share; /* NULL: the handle keeps its own connection */
	struct curl_slist *headers;
	long connections;
	char errbuf[CURL_ERROR_SIZE];
};

/* The body being received: a fixed buffer, so nothing is ever reallocated
 * (and left behind unwiped) and the cap is a plain comparison. */
typedef struct body_sink {
	char *buf;
	size_t len;
	bool too_large;
} body_sink;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_status = CURLE_FAILED_INIT;
static char user_agent[96];

/* libcurl opens the file named by SSLKEYLOGFILE at global init, with plain
 * getenv: inside a setuid su or chfn that is the caller's variable, and root
 * would create the file with the caller's umask and write TLS secrets to it.
 * So the variable is hidden for the one init and put back as it was (same
 * value, set or unset). setenv/unsetenv take glibc's environment lock, so a
 * host thread changing the environment meanwhile is serialised with us; this
 * runs once per process, under pthread_once. The other variables the
 * libraries read are listed in tests/verify/environment.md. */
#define KEYLOG_VARIABLE "SSLKEYLOGFILE"

static CURLcode init_without_keylog(void)
{
	const char *value = getenv(KEYLOG_VARIABLE);
	char *saved = NULL;
	CURLcode rc;

	if (value != NULL && (saved = strdup(value)) == NULL)
		return CURLE_OUT_OF_MEMORY; /* could not put it back: do not init */
	if (saved != NULL && unsetenv(KEYLOG_VARIABLE) != 0) {
		free(saved);
		return CURLE_FAILED_INIT;
	}
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (saved != NULL) {
		if (setenv(KEYLOG_VARIABLE, saved, 1) != 0 && rc == CURLE_OK)
			rc = CURLE_OUT_OF_MEMORY; /* the host's environment lost it: say so */
		free(saved);
	}
	return rc;
}

/* curl_global_init is not thread-safe before libcurl 7.84 (and a PAM module
 * lives in threaded hosts), so it runs once under pthread_once. It is never
 * undone: another user of libcurl in the same process may still need it.
 * OpenSSL is required: the keylog guard below is OpenSSL's, and naming the
 * backend keeps a multi-backend libcurl from reading CURL_SSL_BACKEND. */
static void global_init(void)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	if (curl_global_sslset(CURLSSLBACKEND_OPENSSL, NULL, NULL) != CURLSSLSET_OK)
		global_status = CURLE_SSL_ENGINE_INITFAILED;
	else
		global_status = init_without_keylog();
	snprintf(user_agent, sizeof(user_agent), "twofa/%s (libcurl/%s)", PACKAGE_VERSION,
		 info != NULL && info->version != NULL ? info->version : "unknown");
}

/* A host that initialised libcurl before us may have the keylog file open:
 * no secret of our connections goes to it. Called for every new TLS context. */
static CURLcode no_keylog(CURL *curl, void *ssl_ctx, void *userdata)
{
	(void)curl;
	(void)userdata;
	SSL_CTX_set_keylog_callback(ssl_ctx, NULL);
	return CURLE_OK;
}

const char *twofa_http_user_agent(void)
{
	if (pthread_once(&global_once, global_init) != 0)
		return "twofa/" PACKAGE_VERSION;
	return user_agent;
}

/* The protocols to allow for url ("https", or "http,https" for plain http
 * where lib/url allows it), or NULL if the URL must not be used at all. */
static const char *allowed_protocols(const char *url)
{
	twofa_url u;

	if (twofa_url_check_twilio(url, TWOFA_URL_MAX, &u) != NULL)
		return NULL;
	return twofa_url_scheme_is(&u, "http") ? "http,https" : "https";
}

bool twofa_http_url_allowed(const char *url)
{
	return allowed_protocols(url) != NULL;
}

static size_t sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	body_sink *sink = userdata;
	size_t n = size * nmemb;

	if (n > TWOFA_HTTP_MAX_BODY - sink->len) {
		sink->too_large = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	memcpy(sink->buf + sink->len, data, n);
	sink->len += n;
	return n;
}

#define SET(opt, val)                                                \
	do {                                                         \
		if (curl_easy_setopt(h->curl, opt, val) != CURLE_OK) \
			goto setopt_failed;                          \
	} while (0)

twofa_status twofa_http_init(twofa_error *err)
{
	if (pthread_once(&global_once, global_init) != 0 || global_status != CURLE_OK)
		return twofa_fail(err, TWOFA_ESYS, "libcurl could not be initialised%s",
				  global_status == CURLE_SSL_ENGINE_INITFAILED
					  ? " (its TLS backend is not OpenSSL)"
					  : "");
	return TWOFA_OK;
}

twofa_status twofa_http_new(twofa_http **out, const twofa_http_options *opt, twofa_error *err)
{
	twofa_http *h;
	CURLSH *share = NULL;
	twofa_status st;

	*out = NULL;
	if (opt->timeout < 1 || opt->timeout > 120)
		return twofa_fail(err, TWOFA_EINVAL, "HTTP timeout %ld is outside 1..120 seconds",
				  opt->timeout);
	if ((st = twofa_http_init(err)) != TWOFA_OK)
		return st;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return twofa_fail(err, TWOFA_ENOMEM, "libcurl could not create a handle");
	}
	if ((h->headers = curl_slist_append(NULL, "Accept: application/json")) == NULL) {
		twofa_http_free(h);
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");
	}

	h->share = twofa_http_share_acquire(&share);
	if (share != NULL)
		SET(CURLOPT_SHARE, share);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM games inside sshd */
	SET(CURLOPT_VERBOSE, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_CTX_FUNCTION, no_keylog);
	if (opt->ca_file != NULL && opt->ca_file[0] != '\0')
		SET(CURLOPT_CAINFO, opt->ca_file);
	/* "" disables proxies outright, so http(s)_proxy/ALL_PROXY in a user's
	 * environment can neither redirect nor break authentication; and an
	 * empty NOPROXY means NO_PROXY cannot exempt a host from a configured one. */
	SET(CURLOPT_PROXY, opt->proxy != NULL ? opt->proxy : "");
	SET(CURLOPT_NOPROXY, "");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_CONNECTTIMEOUT, opt->timeout);
	SET(CURLOPT_TIMEOUT, opt->timeout);
	SET(CURLOPT_MAXFILESIZE, (long)TWOFA_HTTP_MAX_BODY);
	SET(CURLOPT_FORBID_REUSE, 0L);
	SET(CURLOPT_HTTPHEADER, h->headers);
	SET(CURLOPT_USERAGENT, user_agent);
	SET(CURLOPT_WRITEFUNCTION, sink_write);
	if (opt->username != NULL && opt->password != NULL) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, opt->username);
		SET(CURLOPT_PASSWORD, opt->password);
	}
	*out = h;
	return TWOFA_OK;

setopt_failed:
	twofa_http_free(h);
	return twofa_fail(err, TWOFA_ESYS, "libcurl refused an option (libcurl too old?)");
}

void twofa_http_free(twofa_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	twofa_http_share_release(h->share); /* after the cleanup: the handle no longer uses it */
	curl_slist_free_all(h->headers);
	free(h);
}

void twofa_http_response_clear(twofa_http_response *resp)
{
	twofa_free_wiped(resp->body, TWOFA_HTTP_MAX_BODY + 1);
	memset(resp, 0, sizeof(*resp));
}

long twofa_http_connections(const twofa_http *h)
{
	return h->connections;
}

/* errno values that say this machine, not the network or the server, failed:
 * descriptors, memory, local ports, local policy. A caller of a setuid
 * program can cause these (a low RLIMIT_NOFILE), so they are never an outage. */
static bool local_errno(long e)
{
	switch (e) {
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOBUFS:
	case EAGAIN:
	case EADDRNOTAVAIL:
	case EADDRINUSE:
	case EACCES:
	case EPERM:
	case EAFNOSUPPORT:
		return true;
	default:
		return false;
	}
}

/* errno values a connect() gets from the network or the server. */
static bool network_errno(long e)
{
	switch (e) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTUNREACH:
	case EHOSTDOWN:
	case ETIMEDOUT:
		return true;
	default:
		return false;
	}
}

/* Only what shows the network or the server unavailable is TIMEOUT, CONNECT
 * or TLS (an outage, where failmode decides); a body we cannot use is
 * TOO_LARGE or BAD_ANSWER; everything else (no memory or descriptors, an
 * unreadable CA file, an option libcurl refused) is LOCAL. When in doubt,
 * not an outage: that only ever keeps failmode=safe closed. os_errno is
 * libcurl's CURLINFO_OS_ERRNO, 0 when it has none. */
static twofa_http_failure classify(CURLcode rc, bool too_large, long os_errno)
{
	if (too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return TWOFA_HTTP_TOO_LARGE;
	if (rc == CURLE_OK)
		return TWOFA_HTTP_OK;
	if (local_errno(os_errno))
		return TWOFA_HTTP_LOCAL;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return TWOFA_HTTP_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		/* socket() failing (EMFILE) is reported as this too, with or
		 * without an errno: only a refusal or an unreachable host counts. */
		return network_errno(os_errno) ? TWOFA_HTTP_CONNECT : TWOFA_HTTP_LOCAL;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return TWOFA_HTTP_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:        /* the handshake with the server failed */
	case CURLE_PEER_FAILED_VERIFICATION: /* its certificate or name is not right */
		return TWOFA_HTTP_TLS;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
		return TWOFA_HTTP_BAD_ANSWER;
	default:
		/* CURLE_SSL_CACERT_BADFILE, _CERTPROBLEM, _CIPHER,
		 * CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT, CURLE_BAD_FUNCTION_ARGUMENT,
		 * CURLE_WRITE_ERROR, ... */
		return TWOFA_HTTP_LOCAL;
	}
}

/* One request: GET (form NULL), POST (form), or DELETE (del, form NULL). */
static twofa_status request(twofa_http *h, bool del, const char *url, const char *form, size_t form_len,
			    twofa_http_response *resp, twofa_error *err)
{
	const char *protocols = allowed_protocols(url);
	body_sink sink = {0};
	CURLcode rc;
	long connects = 0, os_errno = 0;

	memset(resp, 0, sizeof(*resp));
	if (protocols == NULL)
		return twofa_fail(err, TWOFA_EINVAL, "URL refused: %s", twofa_url_twilio_rule());
	sink.buf = calloc(1, TWOFA_HTTP_MAX_BODY + 1);
	if (sink.buf == NULL)
		return twofa_fail(err, TWOFA_ENOMEM, "out of memory");

#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the _STR forms; the bitmasks are deprecated */
	SET(CURLOPT_PROTOCOLS_STR, protocols);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
	SET(CURLOPT_PROTOCOLS, strcmp(protocols, "https") == 0 ? (long)CURLPROTO_HTTPS
							       : (long)(CURLPROTO_HTTPS | CURLPROTO_HTTP));
	SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_URL, url);
	SET(CURLOPT_WRITEDATA, &sink);
	if (form != NULL) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form_len);
		SET(CURLOPT_POSTFIELDS, form);
	} else {
		SET(CURLOPT_HTTPGET, 1L);
	}
	SET(CURLOPT_CUSTOMREQUEST, del && form == NULL ? "DELETE" : NULL);

	h->errbuf[0] = '\0';
	rc = curl_easy_perform(h->curl);
	/* Do not keep pointers to the caller's body or our stack frame. */
	(void)curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, NULL);
	(void)curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	(void)curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
		h->connections += connects;

	if (rc != CURLE_OK && curl_easy_getinfo(h->curl, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK)
		os_errno = 0;
	resp->failure = classify(rc, sink.too_large, os_errno);
	/* In a sandbox with no network every connection fails, for this
	 * machine's reasons: a local error, never an outage. */
	if (resp->failure == TWOFA_HTTP_CONNECT && !twofa_network_present())
		resp->failure = TWOFA_HTTP_LOCAL;
	if (resp->failure == TWOFA_HTTP_OK &&
	    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
		resp->failure = TWOFA_HTTP_LOCAL;
	if (resp->failure != TWOFA_HTTP_OK) {
		resp->status = 0;
		if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(resp->detail, sizeof(resp->detail), "response body larger than %d bytes",
				 TWOFA_HTTP_MAX_BODY);
		else if (os_errno != 0)
			snprintf(resp->detail, sizeof(resp->detail), "libcurl error %d: %.100s (%.30s)",
				 (int)rc, h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc),
				 strerror((int)os_errno));
		else
			snprintf(resp->detail, sizeof(resp->detail), "libcurl error %d: %.120s", (int)rc,
				 h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc));
		twofa_sanitize(resp->detail);
		twofa_free_wiped(sink.buf, TWOFA_HTTP_MAX_BODY + 1);
		return TWOFA_OK;
	}
	resp->body = sink.buf;
	resp->len = sink.len;
	return TWOFA_OK;

setopt_failed:
	twofa_free_wiped(sink.buf, TWOFA_HTTP_MAX_BODY + 1);
	return twofa_fail(err, TWOFA_ESYS, "libcurl refused a request option");
}

twofa_status twofa_http_request(twofa_http *h, const char *url, const char *form, size_t form_len,
				twofa_http_response *resp, twofa_error *err)
{
	return request(h, false, url, form, form_len, resp, err);
}

twofa_status twofa_http_delete(twofa_http *h, const char *url, twofa_http_response *resp, twofa_error *err)
{
	return request(h, true, url, NULL, 0, resp, err);
}
