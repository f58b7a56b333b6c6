/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Warm connections for a long-lived process (twofad): one libcurl share
 * (connections, DNS answers, TLS sessions) that every twofa_http handle made
 * while it is current joins, so a login reuses the connection to Twilio the
 * last login left open. A process that never starts one (twofa-server, the
 * CLI) keeps one connection per handle, as before. */
#ifndef TWOFA_HTTP_SHARE_H
#define TWOFA_HTTP_SHARE_H

#include <curl/curl.h>

#include "error.h"

/* Makes a new share current; handles made from now on join it. The share it
 * replaces (if any) is freed when its last handle is (twofad renews it when
 * its config changes, so a changed CA file or proxy is not bypassed by a
 * connection made under the old one). Initialises libcurl: call it before
 * threads start. */
twofa_status twofa_http_share_renew(twofa_error *err);

/* No share is current any more: handles made from now on keep their own
 * connections. The last share goes when its last handle does. */
void twofa_http_share_stop(void);

/* For lib/http.c: the current share with a reference taken (NULL when there
 * is none), and the release of that reference after curl_easy_cleanup. */
struct twofa_http_share;
struct twofa_http_share *twofa_http_share_acquire(CURLSH **share);
void twofa_http_share_release(struct twofa_http_share *s);

#endif
