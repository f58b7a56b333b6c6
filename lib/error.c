/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "error.h"

void twofa_error_set(twofa_error *err, twofa_status status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->status = status;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void twofa_error_clear(twofa_error *err)
{
	if (err == NULL)
		return;
	err->status = TWOFA_OK;
	err->msg[0] = '\0';
}

const char *twofa_status_name(twofa_status status)
{
	switch (status) {
	case TWOFA_OK:
		return "ok";
	case TWOFA_EINVAL:
		return "invalid";
	case TWOFA_ENOTFOUND:
		return "not-found";
	case TWOFA_EEXIST:
		return "exists";
	case TWOFA_ECONFIG:
		return "config";
	case TWOFA_EPERM:
		return "permission";
	case TWOFA_ESTORE:
		return "store";
	case TWOFA_EBUSY:
		return "busy";
	case TWOFA_ENOMEM:
		return "no-memory";
	case TWOFA_ESYS:
		return "system";
	case TWOFA_EUNAVAIL:
		return "unavailable";
	case TWOFA_ECONFLICT:
		return "conflict";
	}
	return "unknown";
}

int twofa_status_exit_code(twofa_status status)
{
	switch (status) {
	case TWOFA_OK:
		return EX_OK;
	case TWOFA_EINVAL:
	case TWOFA_ENOTFOUND:
	case TWOFA_EEXIST:
		return EX_DATAERR;
	case TWOFA_ECONFIG:
		return EX_CONFIG;
	case TWOFA_EPERM:
		return EX_NOPERM;
	case TWOFA_ESTORE:
	case TWOFA_EBUSY:
		return EX_CANTCREAT;
	case TWOFA_EUNAVAIL:
		return EX_UNAVAILABLE;
	case TWOFA_ECONFLICT:
		return EX_TEMPFAIL;
	case TWOFA_ENOMEM:
	case TWOFA_ESYS:
		return 1;
	}
	return 1;
}
