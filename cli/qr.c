/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The QR code of an authenticator app's otpauth:// URI, drawn with
 * libqrencode in the process itself (never a child process: the URI holds
 * the secret, and would be in its argv). Unicode half blocks, two rows of
 * modules a line, drawn for a terminal of light text on a dark background
 * (a block is a light module, as qrencode -t UTF8 draws); or, for terminals
 * that are not UTF-8, "##" for a dark module and "  " for a light one, one
 * row a line. Both with the quiet zone of 4 light modules the standard asks
 * for. The drawing is built in one buffer, written once with write(2) and
 * wiped, as are libqrencode's modules. */
#include "twofa_build.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qrencode.h>
#include <sodium.h>

#include "cli.h"
#include "util.h"

#define QR_QUIET 4 /* modules of quiet zone on every side */

static const char block_full[] = "\xe2\x96\x88";  /* U+2588: both light */
static const char block_upper[] = "\xe2\x96\x80"; /* U+2580: the upper light */
static const char block_lower[] = "\xe2\x96\x84"; /* U+2584: the lower light */

bool cli_qr_utf8_terminal(void)
{
	const char *codeset, *now = setlocale(LC_CTYPE, NULL);
	char saved[64];
	bool utf8;

	/* Ask the environment's locale without keeping it: the CLI's own stays. */
	if (now == NULL || !twofa_strlcpy(saved, now, sizeof(saved)) || setlocale(LC_CTYPE, "") == NULL)
		return false;
	codeset = nl_langinfo(CODESET);
	utf8 = codeset != NULL && (strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0);
	(void)setlocale(LC_CTYPE, saved);
	return utf8;
}

/* Module (x, y) of the code with its quiet zone around it: dark? */
static bool dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return (qr->data[(size_t)y * (size_t)qr->width + (size_t)x] & 1) != 0;
}

static void put(char *buf, size_t *len, const char *s, size_t n)
{
	memcpy(buf + *len, s, n);
	*len += n;
}

int cli_qr_draw(const char *text, bool ascii)
{
	QRcode *qr;
	size_t side, size, len = 0;
	char *buf;
	bool ok;

	if (text == NULL || text[0] == '\0')
		return cli_fail(1, "no URI to draw as a QR code");
	errno = 0;
	qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return cli_fail(1, "cannot draw the QR code: %s", errno != 0 ? strerror(errno) : "too long");
	side = (size_t)qr->width + 2 * QR_QUIET;
	/* ASCII: 2 bytes a module and a newline a row; UTF-8: 3 bytes a module
	 * and a newline for every two rows. */
	size = ascii ? side * (2 * side + 1) : ((side + 1) / 2) * (3 * side + 1);
	buf = malloc(size);
	if (buf == NULL) {
		sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
		QRcode_free(qr);
		return cli_fail(1, "out of memory");
	}
	for (size_t y = 0; y < side; y += ascii ? 1 : 2) {
		for (size_t x = 0; x < side; x++) {
			if (ascii) {
				put(buf, &len, dark(qr, (int)x, (int)y) ? "##" : "  ", 2);
				continue;
			}
			bool up = !dark(qr, (int)x, (int)y);
			bool low = y + 1 < side && !dark(qr, (int)x, (int)y + 1);
			if (up && low)
				put(buf, &len, block_full, 3);
			else if (up)
				put(buf, &len, block_upper, 3);
			else if (low)
				put(buf, &len, block_lower, 3);
			else
				put(buf, &len, "   ", 1);
		}
		put(buf, &len, "\n", 1);
	}
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	ok = cli_write_once(buf, len);
	sodium_memzero(buf, size);
	free(buf);
	if (!ok)
		return cli_fail(1, "cannot write the QR code: %s", strerror(errno));
	return 0;
}
