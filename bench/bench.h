/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the benchmark programs in bench/.
 *
 * Every program writes its samples to stdout as tab-separated lines
 * (see bench/README.md, "Raw data format"):
 *
 *	MEAS  PARAM  VARIANT  REP  VALUE  UNIT
 *	na    MEAS   PARAM    VARIANT  REASON
 *
 * and its progress and errors to stderr.
 */
#ifndef MLOCK_BENCH_H
#define MLOCK_BENCH_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/*
 * The C library may predate the new flags; their value is MCL_ONFAULT
 * shifted on every architecture (shared/design/SEMANTICS.md, section 1).
 */
#include "../mlock-cmd/mlock-flags.h"

#define NSEC_PER_SEC	1000000000LL

extern const char *bench_name;

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline void __attribute__((__noreturn__, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline void __attribute__((format(printf, 1, 2)))
note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Parse a positive decimal number; die naming the option otherwise. */
static inline long parse_count(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		die("%s wants a positive number, got '%s'", opt, s);
	return v;
}

static inline void emit(const char *meas, long param, const char *variant,
			int rep, int64_t value, const char *unit)
{
	printf("%s\t%ld\t%s\t%d\t%lld\t%s\n", meas, param, variant, rep,
	       (long long)value, unit);
	fflush(stdout);
}

static inline void emit_na(const char *meas, long param, const char *variant,
			   const char *reason)
{
	printf("na\t%s\t%ld\t%s\t%s\n", meas, param, variant, reason);
	fflush(stdout);
}

#endif /* MLOCK_BENCH_H */
