/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configure results the fuzz harnesses need to compile the mlock-cmd sources
 * without running configure (Debian 12 / glibc values).  If the sources
 * start using another HAVE_* macro, the harness build fails with an
 * undefined-macro error under -Wundef: add it here.
 */
#ifndef FUZZ_CONFIG_H
#define FUZZ_CONFIG_H
#define _GNU_SOURCE 1
#define HAVE_DECL_MCL_ONFAULT 1
#define HAVE_DECL_MCL_INHERIT 0
#define HAVE_DECL_MCL_RECURSIVE 0
#define HAVE_DECL_PROGRAM_INVOCATION_SHORT_NAME 1
#define HAVE_SYS_XATTR_H 1
#define PACKAGE_STRING "mlock-inherit fuzz"
#endif
