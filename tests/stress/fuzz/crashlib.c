// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A deliberately broken stand-in for the fallback library: its constructor
 * crashes on a long MLOCK_INHERIT_PRELOAD value.  run.sh's self-test
 * expects `hostile env -L crashlib.so` to catch and report it.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

__attribute__((constructor))
static void crashlib_init(void)
{
	const char *v = getenv("MLOCK_INHERIT_PRELOAD");

	if (v && strlen(v) > 1000)
		raise(SIGSEGV);
}
