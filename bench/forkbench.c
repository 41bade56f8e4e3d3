// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * forkbench - what fork() costs a process with locked memory
 * (issue 5, measurements 1 and 2).
 *
 * forkbench fork [options]
 *	Parent fork() latency with SIZE MiB of resident anonymous memory in
 *	three states, interleaved within each repetition:
 *	  none      no locks
 *	  locked    mlockall(MCL_CURRENT | MCL_FUTURE)
 *	  inherit   the same plus MCL_INHERIT
 *	Only the fork() call is timed, in the parent; the child _exit()s at
 *	once and is reaped outside the timed window.  The parent runs
 *	SCHED_FIFO and its children SCHED_OTHER, so that no child runs
 *	before fork() has returned; each sample records whether one did.
 *
 * forkbench probe
 *	Exit status 0 if the kernel accepts MCL_INHERIT, 1 if it answers EINVAL.
 *
 * forkbench tsc-khz
 *	Print the rate of this CPU's time-stamp counter in kHz, measured
 *	against CLOCK_MONOTONIC_RAW over 200 ms (x86 only).  bench/run.sh
 *	hands it to the TCG guest (tsc_early_khz=), whose TSC runs at the
 *	host's rate but cannot be calibrated without HPET or PM timer: the
 *	guest would otherwise time everything in 4 ms jiffies.
 *
 * forkbench resident [options]
 *	Time from just before fork() in a locked parent until the child is
 *	fully resident and locked:
 *	  kernel    parent state MCL_INHERIT; the clock stops at the child's
 *	            first instruction after fork() (residency is complete by
 *	            then by design; checked afterwards)
 *	  fallback  parent without MCL_INHERIT; the child calls
 *	            mlockall(MCL_CURRENT) and the clock stops when it returns
 *	  populate  reference: mmap(MAP_POPULATE) of SIZE fresh anonymous
 *	            memory in a child (the mmap call only)
 *	Every child checks /proc/self/smaps outside the timed window: the
 *	region must be resident (Rss) and, except for populate, locked
 *	(VmFlags "lo").  A child that is not is an error, not a timing.
 *	The child's Private_Dirty is reported as "resident-copied": the
 *	memory it copied instead of sharing it copy-on-write with the parent.
 *
 * Options:
 *	-s SIZES   MiB, comma separated (default 16,64,256,1024)
 *	-H         fork only: back the region with transparent huge pages
 *	           (aligned to 2 MiB, MADV_HUGEPAGE) instead of 4 KiB pages;
 *	           the samples are "fork-thp" and the share of the region
 *	           that really is huge is reported on stderr
 *	-r REPS    repetitions per size (default 10)
 *	-m MIN     minimum repetitions per size when -b cuts a size short
 *	           (default 3)
 *	-b SECONDS per-size time budget: after MIN repetitions, stop once this
 *	           much time went by (default: none)
 *
 * Without -H, transparent huge pages are disabled for the process
 * (PR_SET_THP_DISABLE) so that every variant works on 4 KiB pages: the
 * worst case for the per-page work of an inheriting fork.  Samples go to
 * stdout in the format of bench.h; a kernel without MCL_INHERIT gives "na"
 * lines for the inherit/kernel variants.  Exit status: 0, or 1 on a real
 * error (a failed system call, a child that is not resident or not locked).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

const char *bench_name = "forkbench";

#define MAX_SIZES	16
#define NA_INHERIT	"kernel lacks MCL_INHERIT"

struct region {
	char *base;		/* PROT_NONE guard page, then the region */
	char *addr;
	size_t len;
	size_t page;
	size_t total;		/* the whole reservation, from base */
};

#define HUGE_SIZE	(2UL << 20)

struct smaps_entry {
	int found;
	int locked;		/* VmFlags has "lo" */
	long rss_kb;
	long private_dirty_kb;
	long anon_huge_kb;
};

/* Written by the children, read by the parent: one shared page. */
struct child_report {
	int64_t elapsed_ns;
	int64_t child_start_ns;	/* the fork child's first instruction */
	int err;
	struct smaps_entry sm;
};

static struct child_report *report;
static int have_inherit;
static int use_thp;		/* -H */

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: forkbench fork|resident [-s MIB[,MIB...]] [-r REPS] "
		"[-m MIN] [-b SECONDS] [-H]\n"
		"       forkbench probe\n"
		"       forkbench tsc-khz\n");
	exit(status);
}

static void lock_fail(const char *what)
{
	int err = errno;

	if (err == EPERM || err == ENOMEM)
		die("%s: %s: run as root (CAP_IPC_LOCK) or raise the memory "
		    "lock limit ('ulimit -l unlimited')", what, strerror(err));
	die("%s: %s", what, strerror(err));
}

static void lock_current(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		lock_fail("mlockall(MCL_CURRENT | MCL_FUTURE)");
}

/*
 * Switch the inheritance state without touching the VMAs: without
 * MCL_CURRENT, mlockall() only replaces the MCL_FUTURE default and (on a
 * patched kernel) the inheritance state, so the already locked region
 * stays locked and is not walked again.
 */
static void set_inherit(int on)
{
	int flags = MCL_FUTURE | (on ? MCL_INHERIT : 0);

	if (mlockall(flags))
		lock_fail(on ? "mlockall(MCL_FUTURE | MCL_INHERIT)" :
			  "mlockall(MCL_FUTURE)");
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a" (lo), "=d" (hi));
	return ((uint64_t)hi << 32) | lo;
}

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The TSC rate in kHz: the best of three 200 ms windows. */
static int tsc_khz(void)
{
	const struct timespec win = { 0, 200000000 };
	int64_t t0, t1, best = 0;
	uint64_t c0, c1;
	long khz = 0;
	int i;

	for (i = 0; i < 3; i++) {
		t0 = raw_ns();
		c0 = rdtsc();
		nanosleep(&win, NULL);
		c1 = rdtsc();
		t1 = raw_ns();
		if (t1 <= t0 || c1 <= c0)
			continue;
		/* khz = cycles / ms; the shorter window (less noise) wins */
		if (!best || t1 - t0 < best) {
			best = t1 - t0;
			khz = (long)((double)(c1 - c0) * 1e6 / (double)best);
		}
	}
	if (!best || khz <= 0)
		die("tsc-khz: the time-stamp counter does not advance");
	printf("%ld\n", khz);
	return 0;
}
#else
static int tsc_khz(void)
{
	die("tsc-khz: only on x86 (no time-stamp counter on this architecture)");
}
#endif

static int probe_inherit(void)
{
	if (mlockall(MCL_FUTURE | MCL_INHERIT) == 0) {
		munlockall();
		return 1;
	}
	if (errno == EINVAL)
		return 0;
	lock_fail("mlockall(MCL_FUTURE | MCL_INHERIT) probe");
	return 0;
}

/*
 * The region sits between two PROT_NONE guard pages so that its VMA never
 * merges with a neighbour and its smaps entry describes it alone.  With -H
 * it starts on a huge page boundary.
 */
static void region_reserve(struct region *r, size_t len)
{
	size_t align = use_thp ? HUGE_SIZE : 0;

	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->len = len;
	r->total = len + 2 * r->page + align;
	r->base = mmap(NULL, r->total, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->base == MAP_FAILED)
		die("mmap %zu MiB reservation: %s", len >> 20, strerror(errno));
	r->addr = r->base + r->page;
	if (align)
		r->addr = (char *)(((uintptr_t)r->addr + align - 1) &
				   ~(uintptr_t)(align - 1));
}

static void region_create(struct region *r, size_t len)
{
	size_t off;

	region_reserve(r, len);
	if (mprotect(r->addr, len, PROT_READ | PROT_WRITE))
		die("mprotect %zu MiB: %s", len >> 20, strerror(errno));
	if (use_thp && madvise(r->addr, len, MADV_HUGEPAGE))
		die("madvise(MADV_HUGEPAGE) %zu MiB: %s (a kernel without "
		    "CONFIG_TRANSPARENT_HUGEPAGE cannot run -H)", len >> 20,
		    strerror(errno));
	/* Real pages, not the shared zero page: write each one. */
	for (off = 0; off < len; off += r->page)
		r->addr[off] = (char)(off / r->page) | 1;
}

static void region_destroy(struct region *r)
{
	munmap(r->base, r->total);
}

/* Find the smaps entry that starts at @addr and read what we check. */
static void smaps_read(const void *addr, size_t len, struct smaps_entry *e)
{
	unsigned long start, end, want = (unsigned long)addr;
	char line[512], perms[8];
	int in = 0;
	FILE *f;
	long v;

	memset(e, 0, sizeof(*e));
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			if (in)
				break;
			in = start == want && end == want + len;
			e->found = in;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "Rss: %ld kB", &v) == 1)
			e->rss_kb = v;
		else if (sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
			e->private_dirty_kb = v;
		else if (sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			e->anon_huge_kb = v;
		else if (strncmp(line, "VmFlags:", 8) == 0)
			e->locked = strstr(line, " lo") != NULL;
	}
	fclose(f);
}

static void reap(pid_t pid, const char *what)
{
	int status;

	if (pid < 0)
		die("fork (%s): %s", what, strerror(errno));
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid (%s): %s", what, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s child failed (wait status 0x%x)", what, status);
}

/* fork() latency in the parent; the child leaves at once. */
/*
 * Whether the last timed_fork()'s child ran before fork() returned in the
 * parent (then the parent's window also holds the child's start-up, e.g.
 * the residency work of an inheriting child, on the same CPU).
 */
static int child_first;

static int64_t timed_fork(void)
{
	int64_t t0, t1;
	pid_t pid;

	report->child_start_ns = INT64_MAX;
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		report->child_start_ns = now_ns();
		_exit(0);
	}
	t1 = now_ns();
	reap(pid, "fork");
	child_first = report->child_start_ns < t1;
	return t1 - t0;
}

/* Check once per size that an inheriting child really is locked. */
static void check_inherited(const struct region *r)
{
	pid_t pid;

	memset(report, 0, sizeof(*report));
	pid = fork();
	if (pid == 0) {
		smaps_read(r->addr, r->len, &report->sm);
		_exit(0);
	}
	reap(pid, "inherit check");
	if (!report->sm.found || !report->sm.locked ||
	    report->sm.rss_kb < (long)(r->len >> 10))
		die("child of an MCL_INHERIT parent: region %s, %s, Rss %ld of "
		    "%zu kB: the kernel does not implement SEMANTICS.md section 3",
		    report->sm.found ? "found" : "missing in smaps",
		    report->sm.locked ? "locked" : "NOT locked",
		    report->sm.rss_kb, r->len >> 10);
}

/*
 * Keep the fork child from running before fork() has returned in the
 * parent: on one CPU a child that preempts the parent puts its start-up
 * and exit (e.g. an inheriting child's residency work, or the teardown
 * of its copy of the region) into the parent's timed window.  A
 * SCHED_FIFO parent is never preempted by its SCHED_OTHER child, and
 * SCHED_RESET_ON_FORK makes every child SCHED_OTHER.
 */
static void isolate_parent(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
		note("SCHED_FIFO: %s: fork children may run before fork() returns "
		     "(counted in fork-childfirst)", strerror(errno));
		return;
	}
	note("parent runs SCHED_FIFO, children SCHED_OTHER");
}

static void bench_fork(const long *sizes, int nsizes, int reps, int minreps,
		       double budget)
{
	const char *meas = use_thp ? "fork-thp" : "fork";
	const char *meas_first = use_thp ? "fork-thp-childfirst" :
				 "fork-childfirst";
	struct smaps_entry sm;
	struct region r;
	int i, rep;

	isolate_parent();

	for (i = 0; i < nsizes; i++) {
		long mib = sizes[i];
		int64_t t_start;

		region_create(&r, (size_t)mib << 20);
		if (use_thp) {
			smaps_read(r.addr, r.len, &sm);
			note("fork-thp %ld MiB: %ld of %zu kB in huge pages",
			     mib, sm.anon_huge_kb, r.len >> 10);
			if (!sm.anon_huge_kb)
				die("-H: no transparent huge page in the region "
				    "(is /sys/kernel/mm/transparent_hugepage/"
				    "enabled 'never'?)");
		}
		if (!have_inherit)
			emit_na(meas, mib, "inherit", NA_INHERIT);
		timed_fork();	/* warm-up */
		if (have_inherit) {
			lock_current();
			set_inherit(1);
			check_inherited(&r);
			munlockall();
		}
		t_start = now_ns();
		for (rep = 0; rep < reps; rep++) {
			int64_t none, locked, inh = -1;
			int first[3] = { 0, 0, 0 };

			none = timed_fork();
			first[0] = child_first;
			lock_current();
			/*
			 * mlockall(MCL_CURRENT) write-faulted the region back to
			 * writable PTEs; one untimed fork write-protects them
			 * again, so that every timed fork starts from the same
			 * page table state (read-only, as after any fork).
			 */
			timed_fork();
			/* alternate the order of the pair that is compared */
			if (have_inherit && rep % 2) {
				set_inherit(1);
				inh = timed_fork();
				first[2] = child_first;
				set_inherit(0);
				locked = timed_fork();
				first[1] = child_first;
			} else {
				locked = timed_fork();
				first[1] = child_first;
				if (have_inherit) {
					set_inherit(1);
					inh = timed_fork();
					first[2] = child_first;
				}
			}
			munlockall();

			emit(meas, mib, "none", rep, none, "ns");
			emit(meas, mib, "locked", rep, locked, "ns");
			if (inh >= 0)
				emit(meas, mib, "inherit", rep, inh, "ns");
			/* 1 when the child ran before fork() returned */
			emit(meas_first, mib, "none", rep, first[0], "bool");
			emit(meas_first, mib, "locked", rep, first[1], "bool");
			if (inh >= 0)
				emit(meas_first, mib, "inherit", rep,
				     first[2], "bool");
			note("%s %4ld MiB rep %d: none %.3f ms%s, locked %.3f ms%s, inherit %s%.3f ms%s",
			     meas, mib, rep, none / 1e6,
			     first[0] ? " (child first)" : "",
			     locked / 1e6, first[1] ? " (child first)" : "",
			     inh < 0 ? "n/a " : "", inh < 0 ? 0 : inh / 1e6,
			     first[2] ? " (child first)" : "");
			if (budget > 0 && rep + 1 >= minreps &&
			    now_ns() - t_start > budget * NSEC_PER_SEC)
				break;
		}
		region_destroy(&r);
	}
}

/* kernel: the child's first instruction ends the clock. */
static void resident_kernel(const struct region *r)
{
	int64_t t0;
	pid_t pid;

	memset(report, 0, sizeof(*report));
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		report->elapsed_ns = now_ns() - t0;
		smaps_read(r->addr, r->len, &report->sm);
		_exit(0);
	}
	reap(pid, "resident kernel");
}

/* fallback: the child locks itself, as the LD_PRELOAD library does. */
static void resident_fallback(const struct region *r)
{
	int64_t t0;
	pid_t pid;

	memset(report, 0, sizeof(*report));
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		if (mlockall(MCL_CURRENT))
			report->err = errno;
		report->elapsed_ns = now_ns() - t0;
		smaps_read(r->addr, r->len, &report->sm);
		_exit(0);
	}
	reap(pid, "resident fallback");
}

/* populate: the physical reference, fresh memory made resident. */
static void resident_populate(size_t len)
{
	struct region fresh;
	int64_t t0;
	pid_t pid;
	void *p;

	memset(report, 0, sizeof(*report));
	pid = fork();
	if (pid == 0) {
		region_reserve(&fresh, len);
		t0 = now_ns();
		p = mmap(fresh.addr, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
			 -1, 0);
		report->elapsed_ns = now_ns() - t0;
		if (p == MAP_FAILED)
			report->err = errno;
		else
			smaps_read(p, len, &report->sm);
		_exit(0);
	}
	reap(pid, "resident populate");
}

/* Was the child's region resident (and locked if @locked)? */
static void check_report(const char *variant, long mib, int locked)
{
	const struct smaps_entry *sm = &report->sm;

	if (report->err)
		die("resident %s %ld MiB: the child's call failed: %s", variant,
		    mib, strerror(report->err));
	if (!sm->found)
		die("resident %s %ld MiB: the child's region is missing from "
		    "/proc/self/smaps", variant, mib);
	if (sm->rss_kb < mib << 10 || (locked && !sm->locked))
		die("resident %s %ld MiB: the child is not fully resident and "
		    "locked (Rss %ld of %ld kB, %s)", variant, mib, sm->rss_kb,
		    mib << 10, sm->locked ? "locked" : "not locked");
}

static void bench_resident(const long *sizes, int nsizes, int reps,
			   int minreps, double budget)
{
	static const char *const order[] = { "kernel", "fallback", "populate" };
	struct region r;
	int i, rep, k;

	for (i = 0; i < nsizes; i++) {
		long mib = sizes[i];
		int64_t t_start;

		region_create(&r, (size_t)mib << 20);
		lock_current();
		if (!have_inherit)
			emit_na("resident", mib, "kernel", NA_INHERIT);
		t_start = now_ns();
		for (rep = 0; rep < reps; rep++) {
			int64_t t[3] = { -1, -1, -1 };

			/* rotate the order of the variants from rep to rep */
			for (k = 0; k < 3; k++) {
				int v = (k + rep) % 3;

				if (v == 0 && !have_inherit)
					continue;
				if (v == 0) {
					set_inherit(1);
					resident_kernel(&r);
					check_report("kernel", mib, 1);
				} else if (v == 1) {
					set_inherit(0);
					resident_fallback(&r);
					check_report("fallback", mib, 1);
				} else {
					set_inherit(0);
					resident_populate((size_t)mib << 20);
					check_report("populate", mib, 0);
				}
				t[v] = report->elapsed_ns;
				emit("resident", mib, order[v], rep, t[v], "ns");
				if (v < 2)
					emit("resident-copied", mib, order[v], rep,
					     report->sm.private_dirty_kb, "KiB");
			}
			note("resident %4ld MiB rep %d: kernel %s%.3f ms, fallback %.3f ms, populate %.3f ms",
			     mib, rep, t[0] < 0 ? "n/a " : "",
			     t[0] < 0 ? 0 : t[0] / 1e6, t[1] / 1e6, t[2] / 1e6);
			if (budget > 0 && rep + 1 >= minreps &&
			    now_ns() - t_start > budget * NSEC_PER_SEC)
				break;
		}
		munlockall();
		region_destroy(&r);
	}
}

static int parse_sizes(const char *arg, long *sizes)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int n = 0;

	if (!copy)
		die("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_SIZES)
			die("-s: at most %d sizes", MAX_SIZES);
		sizes[n] = parse_count("-s", tok);
		if (sizes[n] > 1L << 20)
			die("-s: %ld MiB is more than 1 TiB; sizes are in MiB",
			    sizes[n]);
		n++;
	}
	free(copy);
	if (!n)
		die("-s wants sizes in MiB, e.g. -s 16,64,256,1024");
	return n;
}

int main(int argc, char **argv)
{
	long sizes[MAX_SIZES] = { 16, 64, 256, 1024 };
	int nsizes = 4, reps = 10, minreps = 3, c;
	double budget = 0;
	const char *mode;

	if (argc < 2)
		usage(2);
	mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help"))
		usage(0);
	if (!strcmp(mode, "probe"))
		return probe_inherit() ? 0 : 1;
	if (!strcmp(mode, "tsc-khz"))
		return tsc_khz();
	if (strcmp(mode, "fork") && strcmp(mode, "resident")) {
		fprintf(stderr, "forkbench: unknown mode '%s' (expected fork, resident, probe or tsc-khz)\n",
			mode);
		usage(2);
	}
	optind = 2;
	while ((c = getopt(argc, argv, "s:r:m:b:Hh")) != -1) {
		switch (c) {
		case 'H':
			use_thp = 1;
			break;
		case 's':
			nsizes = parse_sizes(optarg, sizes);
			break;
		case 'r':
			reps = (int)parse_count("-r", optarg);
			break;
		case 'm':
			minreps = (int)parse_count("-m", optarg);
			break;
		case 'b':
			budget = (double)parse_count("-b", optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (use_thp && strcmp(mode, "fork"))
		die("-H only applies to 'forkbench fork'");

	if (!use_thp && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
		note("PR_SET_THP_DISABLE: %s (huge pages may be used)",
		     strerror(errno));
	report = mmap(NULL, sizeof(*report), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (report == MAP_FAILED)
		die("mmap shared report page: %s", strerror(errno));
	have_inherit = probe_inherit();
	note("kernel %s MCL_INHERIT", have_inherit ? "supports" : "lacks");

	if (!strcmp(mode, "fork"))
		bench_fork(sizes, nsizes, reps, minreps, budget);
	else
		bench_resident(sizes, nsizes, reps, minreps, budget);
	return 0;
}
