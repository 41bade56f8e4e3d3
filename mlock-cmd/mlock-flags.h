/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mlockall(2) flag values for C libraries whose headers predate them.
 *
 * MCL_ONFAULT appeared in Linux 4.4.  MCL_INHERIT and MCL_RECURSIVE come
 * from the mlock-inherit patch series; on every architecture they are
 * MCL_ONFAULT << 1 and MCL_ONFAULT << 2 (see SEMANTICS.md section 1):
 *
 *	asm-generic, mips, parisc, xtensa	8	16
 *	alpha					65536	131072
 *	powerpc, sparc				0x10000	0x20000
 *
 * configure defines HAVE_DECL_MCL_* to 0 or 1.  Programs built without
 * configure (bench/, tests/stress/) include this header too: for them the
 * C library's <sys/mman.h> alone decides.
 */
#ifndef MLOCK_FLAGS_H
#define MLOCK_FLAGS_H

#include <sys/mman.h>

#ifndef HAVE_DECL_MCL_ONFAULT
# ifdef MCL_ONFAULT
#  define HAVE_DECL_MCL_ONFAULT		1
# else
#  define HAVE_DECL_MCL_ONFAULT		0
# endif
#endif
#ifndef HAVE_DECL_MCL_INHERIT
# ifdef MCL_INHERIT
#  define HAVE_DECL_MCL_INHERIT		1
# else
#  define HAVE_DECL_MCL_INHERIT		0
# endif
#endif
#ifndef HAVE_DECL_MCL_RECURSIVE
# ifdef MCL_RECURSIVE
#  define HAVE_DECL_MCL_RECURSIVE	1
# else
#  define HAVE_DECL_MCL_RECURSIVE	0
# endif
#endif

#if !HAVE_DECL_MCL_ONFAULT
# if defined(__alpha__)
#  define MCL_ONFAULT	32768
# elif defined(__powerpc__) || defined(__sparc__)
#  define MCL_ONFAULT	0x8000
# else
#  define MCL_ONFAULT	4
# endif
#endif

#if !HAVE_DECL_MCL_INHERIT
# define MCL_INHERIT	(MCL_ONFAULT << 1)
#endif

#if !HAVE_DECL_MCL_RECURSIVE
# define MCL_RECURSIVE	(MCL_ONFAULT << 2)
#endif

/* The environment variable that carries the fallback's setting. */
#define MLOCK_SETTING_ENV	"MLOCK_INHERIT_PRELOAD"
/* File name of the fallback library, as installed in $(pkglibdir). */
#define MLOCK_PRELOAD_NAME	"libmlock-preload.so"

#endif /* MLOCK_FLAGS_H */
