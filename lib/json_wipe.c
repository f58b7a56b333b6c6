/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "twofa_build.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "json_wipe.h"

/* Plain malloc blocks, wiped to their usable size: lib/ frees what
 * json_dumps returns with free(), which must stay right. */
static void wiping_free(void *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

void twofa_json_wipe_install(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}
