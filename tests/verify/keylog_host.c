/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test only, never installed: an LD_PRELOAD library standing for a host
 * program that initialised libcurl itself before loading pam_twofa, with
 * SSLKEYLOGFILE set: libcurl then has the keylog file open, and only the
 * module's own guard (lib/http.c, CURLOPT_SSL_CTX_FUNCTION) keeps the
 * secrets of the module's connections out of it. */
#include <curl/curl.h>

__attribute__((constructor)) static void host_initialises_libcurl(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}
