/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A small libcurl wrapper with the only settings twofa ever wants: TLS
 * verification always on, bounded time and size, no redirects, no proxy
 * from the environment, only the URLs lib/url allows (https; plain http to
 * the loopback only in test builds). One handle keeps its connection, so a send and a check share one
 * TLS session; in twofad every handle joins lib/http_share's pool, so logins share them too. Nothing
 * here prints. */
#ifndef TWOFA_HTTP_H
#define TWOFA_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Responses larger than this abort the transfer. */
#define TWOFA_HTTP_MAX_BODY (64 * 1024)

typedef struct twofa_http twofa_http;

typedef struct twofa_http_options {
	const char *username; /* HTTP Basic user (copied by libcurl) */
	const char *password; /* HTTP Basic password (copied by libcurl) */
	const char *ca_file;  /* NULL: the system CA bundle */
	const char *proxy;    /* NULL or "": no proxy, whatever the environment says */
	long timeout;         /* seconds for a whole request, connect included: 1..120 */
} twofa_http_options;

/* Why a request produced no HTTP response. TIMEOUT, CONNECT and TLS show the
 * network or the server unavailable; the others never do. */
typedef enum twofa_http_failure {
	TWOFA_HTTP_OK = 0, /* a response arrived (any status) */
	TWOFA_HTTP_TIMEOUT,
	TWOFA_HTTP_CONNECT,    /* DNS, refused or unreachable, reset, proxy */
	TWOFA_HTTP_TLS,        /* handshake with the server, its certificate or name */
	TWOFA_HTTP_TOO_LARGE,  /* body over TWOFA_HTTP_MAX_BODY */
	TWOFA_HTTP_BAD_ANSWER, /* not HTTP we can read (garbled reply, bad encoding) */
	TWOFA_HTTP_LOCAL,      /* this machine failed: descriptors, memory, CA file, options */
} twofa_http_failure;

typedef struct twofa_http_response {
	long status; /* HTTP status, 0 when failure != OK */
	twofa_http_failure failure;
	char *body; /* NUL-terminated, len bytes; owned, see _response_clear */
	size_t len;
	char detail[160]; /* sanitised libcurl error text when failure != OK */
} twofa_http_response;

/* True if twofa_http_request would take url: lib/url's rule for Twilio's
 * URLs (twofa_url_check_twilio; twofa_url_twilio_rule says it in words). */
bool twofa_http_url_allowed(const char *url);

/* libcurl's global init, once per process (twofa_http_new calls it). */
twofa_status twofa_http_init(twofa_error *err);

/* A handle made while lib/http_share has a share current joins it: its
 * connection outlives it, for the next handle. */
twofa_status twofa_http_new(twofa_http **out, const twofa_http_options *opt, twofa_error *err);
void twofa_http_free(twofa_http *h);

/* GET (form == NULL) or POST of an application/x-www-form-urlencoded body.
 * The caller owns form and wipes it. Returns TWOFA_OK when resp holds an
 * HTTP response or a transport failure (resp->failure says which);
 * TWOFA_EINVAL for a URL that is not allowed; TWOFA_ENOMEM. */
twofa_status twofa_http_request(twofa_http *h, const char *url, const char *form, size_t form_len,
				twofa_http_response *resp, twofa_error *err);

/* DELETE url (no body), otherwise as twofa_http_request. */
twofa_status twofa_http_delete(twofa_http *h, const char *url, twofa_http_response *resp, twofa_error *err);

/* Wipes and frees the body. Safe on a zeroed response. */
void twofa_http_response_clear(twofa_http_response *resp);

/* New connections this handle opened so far (libcurl's count). */
long twofa_http_connections(const twofa_http *h);

/* "twofa/0.1.0 (libcurl/7.88.1)" */
const char *twofa_http_user_agent(void);

#endif
