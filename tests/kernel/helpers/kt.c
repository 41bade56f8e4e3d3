// SPDX-License-Identifier: GPL-2.0
/*
 * kt: a tiny interpreter of process chains for the kernel-mode bats suite.
 *
 * Its arguments are a list of steps run left to right by the same process:
 *
 *   probe                  exit 0 if mlockall() accepts MCL_INHERIT, 1 on
 *                          EINVAL (kernel without the series), 2 otherwise
 *   report LABEL           print one line describing this process (below)
 *   map NAME KB [ADVICE]   map an anonymous region of KB KiB between two
 *                          PROT_NONE guard pages (so it never merges with a
 *                          neighbour); ADVICE: dontfork, wipeonfork, none
 *   fill NAME              write 0xa5 over the whole region
 *   region NAME LABEL      print one line describing the region (below)
 *   rss NAME LABEL         the same without reading the content (so no page
 *                          is faulted in), content=unread
 *   madvise NAME ADVICE    madvise() the region and print "LABEL madvise=
 *                          ADVICE result=0|EINVAL|..." with LABEL=NAME;
 *                          ADVICE: dontneed, dontneed_locked
 *   unmap NAME             munmap() the region
 *   mlockall FLAGS         mlockall(FLAGS) or exit 3; FLAGS is a comma list
 *                          of current,future,onfault,inherit,recursive or a
 *                          number
 *   try-mlockall FLAGS     print "mlockall FLAGS = 0" or "= EINVAL"...
 *   munlockall             munlockall() or exit 3
 *   mlock-region NAME      mlock() the region (never touches the state)
 *   munlock-region NAME    munlock() the region (never touches the state)
 *   fork                   the child runs the remaining steps; the parent
 *                          waits for it and exits with its status
 *   exec PATH [ARGS...]    execv(PATH, {PATH, ARGS...}): the rest of the
 *                          command line belongs to the new program
 *   spawn PATH [ARGS...] ; posix_spawn() (vfork + exec: the child shares
 *                          this mm until it execs) PATH with ARGS up to the
 *                          matching lone ";" (nested spawns carry theirs),
 *                          wait for it, fail if it failed, else continue
 *                          after the ";"
 *   vfork PATH [ARGS...] ; vfork() + execv() of PATH, like spawn
 *   clone-vm PATH [ARGS...] ;
 *                          clone(CLONE_VM) without CLONE_VFORK or
 *                          CLONE_THREAD: the child shares this mm, on its
 *                          own stack, until it execs PATH; like spawn
 *   clone-vfork            clone(CLONE_VFORK) WITHOUT CLONE_VM: the child
 *                          has its own mm (an ordinary fork child) and runs
 *                          the remaining steps; the parent resumes when the
 *                          child execs or exits, waits for it and exits with
 *                          its status
 *   thread-exec PATH [ARGS...]
 *                          a second thread execv()s PATH (the process's own
 *                          exec): the rest belongs to the new program
 *   pageout NAME           MADV_PAGEOUT the region (retried until every page
 *                          is a swap entry, at most 20 times) and print
 *                          "NAME pageout=done|incomplete pages= swapped="
 *   pagemap NAME LABEL     print "LABEL region=NAME pages= present= swapped=
 *                          none=" from /proc/self/pagemap (no page touched)
 *   fork-in-populate NAME LABEL
 *                          fork while another thread's
 *                          mlockall(MCL_CURRENT|MCL_FUTURE|MCL_INHERIT) has
 *                          set VM_LOCKED everywhere but not yet populated
 *                          the region: a userfaultfd-registered page below
 *                          the region holds that thread's populate until the
 *                          child has exited (see do_fork_in_populate())
 *   rlimit-memlock KB      set RLIMIT_MEMLOCK (soft and hard) to KB KiB
 *   pause FILE             create FILE, then sleep until killed
 *   exit N                 exit with status N
 *
 * A report line is "LABEL key=value ..." with: pid ppid uid euid secure
 * (getauxval(AT_SECURE)), vmlck (VmLck, kB), lo_kb (sum of the sizes of the
 * VMAs flagged lo in smaps), lo_vmas, lf_vmas, vmas, unlocked_vmas,
 * special_lo and then the fields of
 * the "Mlockall:" status line as printed by the kernel, or mlockall=absent.
 * The last field, unlocked=, lists the unlocked VMAs (diagnostics only).
 *
 * unlocked_vmas counts VMAs not flagged lo (the kernel's special mappings
 * [vdso], [vvar], [vsyscall] excluded), special_lo the special mappings that
 * are flagged lo (SEMANTICS section 7: must stay 0).
 *
 * A region line is "LABEL region=NAME present=0|1 exact=0|1 size_kb rss_kb
 * shared_kb private_kb (smaps Shared_* and Private_* sums) lo lf
 * content=zero|pattern|mixed|absent|unread". rss_kb is read before the
 * content, so reading never faults pages in before they are counted.
 *
 * Nothing here allocates after startup: /proc files are read with read(2)
 * into static buffers, output goes through write(2), so a report does not
 * change the numbers it reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef MCL_INHERIT
#define MCL_INHERIT (MCL_ONFAULT << 1)
#endif
#ifndef MCL_RECURSIVE
#define MCL_RECURSIVE (MCL_ONFAULT << 2)
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)

#define MAX_REGIONS 8
#define PROC_BUF (512 * 1024)

struct region {
	char name[32];
	unsigned char *addr;
	size_t len;
};

static struct region regions[MAX_REGIONS];
static int nr_regions;
static char procbuf[PROC_BUF];
static char outbuf[8192];
static long page_size;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kt[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(3);
}

static void out(const char *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t n = write(STDOUT_FILENO, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(3);
		s += n;
		len -= n;
	}
}

/* Read a whole /proc file into procbuf; returns its length. */
static size_t read_proc(const char *path)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, procbuf + len, sizeof(procbuf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		len += n;
		if (len == sizeof(procbuf) - 1)
			die("%s larger than %zu bytes", path, sizeof(procbuf));
	}
	close(fd);
	procbuf[len] = '\0';
	return len;
}

static int has_flag(const char *vmflags, const char *flag)
{
	const char *p = vmflags;
	size_t len = strlen(flag);

	while ((p = strstr(p, flag))) {
		if ((p == vmflags || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return 1;
		p += len;
	}
	return 0;
}

static int is_special(const char *name)
{
	return !strcmp(name, "[vdso]") || !strcmp(name, "[vvar]") ||
	       !strcmp(name, "[vvar_vclock]") || !strcmp(name, "[vsyscall]");
}

struct vma {
	unsigned long start, end;
	char name[128];
	unsigned long size_kb, rss_kb, shared_kb, private_kb;
	int lo, lf;
};

/*
 * Walk procbuf (smaps) one VMA at a time. *pos is the cursor; returns 0 at
 * the end.
 */
static int next_vma(char **pos, struct vma *v)
{
	char *line = *pos;

	memset(v, 0, sizeof(*v));
	if (!*line)
		return 0;
	/* header: start-end perms offset dev inode [name] */
	{
		char *eol = strchr(line, '\n');
		char *name;
		int field = 0;

		if (!eol)
			die("smaps: truncated header");
		*eol = '\0';
		if (sscanf(line, "%lx-%lx", &v->start, &v->end) != 2)
			die("smaps: bad header '%s'", line);
		name = line;
		while (field < 5 && (name = strchr(name, ' '))) {
			while (*name == ' ')
				name++;
			field++;
		}
		snprintf(v->name, sizeof(v->name), "%s",
			 name && *name ? name : "[anon]");
		line = eol + 1;
	}
	while (*line) {
		char *eol = strchr(line, '\n');
		unsigned long val;

		if (eol)
			*eol = '\0';
		if (sscanf(line, "Size: %lu kB", &val) == 1)
			v->size_kb = val;
		else if (sscanf(line, "Rss: %lu kB", &val) == 1)
			v->rss_kb = val;
		else if (sscanf(line, "Shared_Clean: %lu kB", &val) == 1 ||
			 sscanf(line, "Shared_Dirty: %lu kB", &val) == 1)
			v->shared_kb += val;
		else if (sscanf(line, "Private_Clean: %lu kB", &val) == 1 ||
			 sscanf(line, "Private_Dirty: %lu kB", &val) == 1)
			v->private_kb += val;
		if (!strncmp(line, "VmFlags:", 8)) {
			v->lo = has_flag(line + 8, "lo");
			v->lf = has_flag(line + 8, "lf");
			line = eol ? eol + 1 : line + strlen(line);
			break;
		}
		line = eol ? eol + 1 : line + strlen(line);
	}
	*pos = line;
	return 1;
}

static struct region *find_region(const char *name)
{
	int i;

	for (i = 0; i < nr_regions; i++)
		if (!strcmp(regions[i].name, name))
			return &regions[i];
	die("no region named '%s' (map it first)", name);
	return NULL;
}

static unsigned long parse_ulong(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end)
		die("bad %s '%s': want a number", what, s);
	return v;
}

static int parse_mcl(const char *s)
{
	char copy[128], *tok, *save = NULL;
	int flags = 0;

	if (s[0] >= '0' && s[0] <= '9')
		return (int)parse_ulong(s, "mlockall flags");
	snprintf(copy, sizeof(copy), "%s", s);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "current"))
			flags |= MCL_CURRENT;
		else if (!strcmp(tok, "future"))
			flags |= MCL_FUTURE;
		else if (!strcmp(tok, "onfault"))
			flags |= MCL_ONFAULT;
		else if (!strcmp(tok, "inherit"))
			flags |= MCL_INHERIT;
		else if (!strcmp(tok, "recursive"))
			flags |= MCL_RECURSIVE;
		else if (!strcmp(tok, "none"))
			;
		else
			die("unknown mlockall flag '%s'", tok);
	}
	return flags;
}

static void do_report(const char *label)
{
	char status_vmlck[32] = "?", mlockall[160] = "mlockall=absent";
	char unlocked[2048] = "";
	unsigned long lo_kb = 0;
	unsigned int vmas = 0, lo_vmas = 0, lf_vmas = 0, unlocked_vmas = 0;
	unsigned int special_lo = 0;
	struct vma v;
	char *p;

	read_proc("/proc/self/status");
	p = strstr(procbuf, "\nVmLck:");
	if (p)
		sscanf(p + 7, " %31[0-9]", status_vmlck);
	p = strstr(procbuf, "\nMlockall:");
	if (p) {
		char *eol;

		p += 10;
		while (*p == ' ' || *p == '\t')
			p++;
		eol = strchr(p, '\n');
		if (eol)
			*eol = '\0';
		snprintf(mlockall, sizeof(mlockall), "%s", p);
	}

	read_proc("/proc/self/smaps");
	p = procbuf;
	while (next_vma(&p, &v)) {
		vmas++;
		if (v.lo) {
			lo_vmas++;
			lo_kb += v.size_kb;
		}
		if (v.lf)
			lf_vmas++;
		if (v.lo && is_special(v.name))
			special_lo++;
		if (!v.lo && !is_special(v.name)) {
			size_t used = strlen(unlocked);

			unlocked_vmas++;
			snprintf(unlocked + used, sizeof(unlocked) - used,
				 "%s%s", used ? "," : "", v.name);
		}
	}

	snprintf(outbuf, sizeof(outbuf),
		 "%s pid=%d ppid=%d uid=%d euid=%d secure=%lu vmlck=%s lo_kb=%lu lo_vmas=%u lf_vmas=%u vmas=%u unlocked_vmas=%u special_lo=%u %s unlocked=%s\n",
		 label, (int)getpid(), (int)getppid(), (int)getuid(),
		 (int)geteuid(), getauxval(AT_SECURE), status_vmlck, lo_kb,
		 lo_vmas, lf_vmas, vmas, unlocked_vmas, special_lo, mlockall,
		 *unlocked ? unlocked : "-");
	out(outbuf);
}

/* A region without guard pages, of a kind the kernel may not support. */
static void do_map_special(const char *name, size_t len, int flags)
{
	struct region *r;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       flags | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		if (errno != EINVAL && errno != ENOMEM && errno != EOPNOTSUPP)
			die("mmap %s: %s", name, strerror(errno));
		snprintf(outbuf, sizeof(outbuf), "%s map=unsupported errno=%s\n",
			 name, strerror(errno));
		out(outbuf);
		return;
	}
	r = &regions[nr_regions++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->addr = p;
	r->len = len;
}

static void do_map(const char *name, const char *kb, const char *advice)
{
	struct region *r;
	unsigned char *base;
	size_t len = parse_ulong(kb, "size") * 1024;

	if (nr_regions == MAX_REGIONS)
		die("too many regions");
	if (!len || len % page_size)
		die("region size %s KiB is not a positive multiple of the page size",
		    kb);
	if (advice && !strcmp(advice, "droppable")) {
		do_map_special(name, len, MAP_DROPPABLE);
		return;
	}
	if (advice && !strcmp(advice, "hugetlb")) {
		do_map_special(name, len, MAP_PRIVATE | MAP_HUGETLB);
		return;
	}
	base = mmap(NULL, len + 2 * page_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	if (mprotect(base + page_size, len, PROT_READ | PROT_WRITE))
		die("mprotect: %s", strerror(errno));
	r = &regions[nr_regions++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->addr = base + page_size;
	r->len = len;
	if (!advice || !strcmp(advice, "none"))
		return;
	if (!strcmp(advice, "dontfork")) {
		if (madvise(r->addr, len, MADV_DONTFORK))
			die("madvise(MADV_DONTFORK): %s", strerror(errno));
	} else if (!strcmp(advice, "wipeonfork")) {
		if (madvise(r->addr, len, MADV_WIPEONFORK))
			die("madvise(MADV_WIPEONFORK): %s", strerror(errno));
	} else {
		die("unknown advice '%s' (dontfork, wipeonfork, none)", advice);
	}
}

static void do_region(const char *name, const char *label, int read_content)
{
	struct region *r = find_region(name);
	unsigned long start = (unsigned long)r->addr;
	unsigned long end = start + r->len;
	struct vma v, found;
	const char *content = "absent";
	int present = 0;
	char *p;

	memset(&found, 0, sizeof(found));
	read_proc("/proc/self/smaps");
	p = procbuf;
	while (next_vma(&p, &v)) {
		if (v.start <= start && start < v.end) {
			found = v;
			present = 1;
		}
	}
	if (present && !read_content) {
		content = "unread";
	} else if (present) {
		size_t i, zero = 0, pat = 0;

		for (i = 0; i < r->len; i++) {
			if (r->addr[i] == 0)
				zero++;
			else if (r->addr[i] == 0xa5)
				pat++;
		}
		content = zero == r->len ? "zero" :
			  pat == r->len ? "pattern" : "mixed";
	}
	snprintf(outbuf, sizeof(outbuf),
		 "%s region=%s present=%d exact=%d size_kb=%lu rss_kb=%lu shared_kb=%lu private_kb=%lu lo=%d lf=%d content=%s\n",
		 label, name, present,
		 present && found.start == start && found.end == end,
		 found.size_kb, found.rss_kb, found.shared_kb, found.private_kb,
		 found.lo, found.lf, content);
	out(outbuf);
}

static const char *errname(int err)
{
	switch (err) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case ENOMEM: return "ENOMEM";
	case EAGAIN: return "EAGAIN";
	default: return strerror(err);
	}
}

/* Wait for the child that runs the remaining steps; exit with its status. */
static __attribute__((noreturn)) void exit_with_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "kt[%d]: child %d killed by signal %d\n",
			(int)getpid(), (int)pid, WTERMSIG(status));
		exit(128 + WTERMSIG(status));
	}
	exit(WEXITSTATUS(status));
}

static int do_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0)
		return 0;
	exit_with_child(pid);
}

/*
 * clone(CLONE_VFORK) without CLONE_VM: the child gets its own copy of the mm
 * (and of this stack), so it can return here and run the remaining steps;
 * this thread sleeps until the child execs or exits.
 */
static void do_clone_vfork(void)
{
	long pid = syscall(SYS_clone, CLONE_VFORK | SIGCHLD, 0L, NULL, NULL,
			   0L);

	if (pid < 0)
		die("clone(CLONE_VFORK): %s", strerror(errno));
	if (pid == 0)
		return;
	exit_with_child((pid_t)pid);
}

/* A child that ran a command for spawn, vfork or clone-vm must succeed. */
static void wait_ok(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s failed (status 0x%x)", what, status);
}

static int opens_command(const char *step)
{
	return !strcmp(step, "spawn") || !strcmp(step, "vfork") ||
	       !strcmp(step, "clone-vm");
}

/* The matching ";" of a child command: nested child commands carry theirs. */
static int end_of_command(int argc, char **argv, int i)
{
	int j, depth = 1;

	for (j = i + 1; j < argc; j++) {
		if (opens_command(argv[j]))
			depth++;
		else if (!strcmp(argv[j], ";") && !--depth)
			return j;
	}
	die("%s: no ';' ends the child's command", argv[i]);
	return -1;
}

/* The child shares this mm and runs on this stack until it execs. */
static void do_vfork(char **cmd)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execv(cmd[0], cmd);
		_exit(127);
	}
	if (pid < 0)
		die("vfork: %s", strerror(errno));
	wait_ok(pid, cmd[0]);
}

static char clone_stack[256 * 1024] __attribute__((aligned(64)));

static int clone_vm_child(void *arg)
{
	char **cmd = arg;

	execv(cmd[0], cmd);
	_exit(127);
}

/* clone(CLONE_VM) without CLONE_VFORK or CLONE_THREAD: shares this mm. */
static void do_clone_vm(char **cmd)
{
	pid_t pid = clone(clone_vm_child, clone_stack + sizeof(clone_stack),
			  CLONE_VM | SIGCHLD, cmd);

	if (pid < 0)
		die("clone(CLONE_VM): %s", strerror(errno));
	wait_ok(pid, cmd[0]);
}

static void *exec_thread(void *arg)
{
	char **cmd = arg;

	execv(cmd[0], cmd);
	die("execv %s from a second thread: %s", cmd[0], strerror(errno));
	return NULL;
}

/* A second thread execs: the whole process becomes the new program. */
static void do_thread_exec(char **cmd)
{
	pthread_t t;
	int err = pthread_create(&t, NULL, exec_thread, cmd);

	if (err)
		die("pthread_create: %s", strerror(err));
	pthread_join(t, NULL);
	die("thread-exec: the exec'ing thread returned");
}

struct pm_count {
	unsigned long pages, present, swapped, none;
};

/* Count the region's pages by their /proc/self/pagemap entry. */
static void pagemap_count(const struct region *r, struct pm_count *c)
{
	static uint64_t ent[1024];
	unsigned long first = (unsigned long)r->addr / page_size;
	unsigned long n = r->len / page_size, done = 0, k;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/self/pagemap: %s", strerror(errno));
	memset(c, 0, sizeof(*c));
	while (done < n) {
		unsigned long chunk = n - done < 1024 ? n - done : 1024;
		ssize_t got = pread(fd, ent, chunk * 8, (first + done) * 8);

		if (got != (ssize_t)(chunk * 8))
			die("read /proc/self/pagemap: %s",
			    got < 0 ? strerror(errno) : "short read");
		for (k = 0; k < chunk; k++) {
			if (ent[k] & PM_PRESENT)
				c->present++;
			else if (ent[k] & PM_SWAP)
				c->swapped++;
			else
				c->none++;
		}
		done += chunk;
	}
	close(fd);
	c->pages = n;
}

static void print_pagemap(const struct region *r, const char *label)
{
	struct pm_count c;

	pagemap_count(r, &c);
	snprintf(outbuf, sizeof(outbuf),
		 "%s region=%s pages=%lu present=%lu swapped=%lu none=%lu\n",
		 label, r->name, c.pages, c.present, c.swapped, c.none);
	out(outbuf);
}

/* Push the region out to swap; needs a swap device (MADV_PAGEOUT skips
 * anonymous memory without one). */
static void do_pageout(struct region *r)
{
	struct pm_count c;
	int tries;

	for (tries = 0; tries < 20; tries++) {
		if (madvise(r->addr, r->len, MADV_PAGEOUT))
			die("madvise(MADV_PAGEOUT): %s", strerror(errno));
		pagemap_count(r, &c);
		if (c.swapped == c.pages)
			break;
		usleep(50000);
	}
	snprintf(outbuf, sizeof(outbuf),
		 "%s pageout=%s pages=%lu swapped=%lu present=%lu\n", r->name,
		 c.swapped == c.pages ? "done" : "incomplete", c.pages,
		 c.swapped, c.present);
	out(outbuf);
}

static void *mlockall_thread(void *arg)
{
	(void)arg;
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_INHERIT))
		return (void *)(long)errno;
	return NULL;
}

/*
 * The window of SEMANTICS section 3 where an INHERIT parent forks with a
 * locked VMA that still holds swap entries: mlockall(MCL_CURRENT) sets
 * VM_LOCKED and the state under the mmap write lock, then populates the
 * VMAs one by one, in address order, without it. A page below the region,
 * registered with userfaultfd (missing mode), stops that populate before
 * it reaches the region; while the fault waits (the mmap lock released),
 * this thread forks. The child first reads its own pagemap for the region
 * (every page must be present: a swap entry is a hole for the child's
 * residency walk), then its content, then reports itself. Afterwards the
 * fault is resolved and the mlockall() returns.
 *
 * Prints LABEL-P (the parent's pagemap when it forks), LABEL-PR (its smaps
 * view of the region), LABEL (the child's pagemap, read first), LABEL-CR
 * (the child's region line), LABEL-C (the child's report) and
 * "LABEL-T mlockall=0" (the thread's result).
 */
static void do_fork_in_populate(const char *name, const char *label)
{
	struct region *r = find_region(name);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_zeropage zp;
	struct uffd_msg msg;
	struct pollfd pfd;
	pthread_attr_t attr;
	unsigned long blocker = 0, a;
	char lbl[64];
	pthread_t t;
	void *ret;
	pid_t pid;
	int uffd, err;

	/* the highest free page below the region's leading guard page */
	for (a = (unsigned long)r->addr - 2 * page_size;
	     a > (unsigned long)r->addr - 4096 * page_size; a -= page_size) {
		void *p = mmap((void *)a, page_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_FIXED_NOREPLACE, -1, 0);

		if (p == (void *)a) {
			blocker = a;
			break;
		}
		if (p != MAP_FAILED)
			munmap(p, page_size);
	}
	if (!blocker)
		die("fork-in-populate: no free page below region %s", name);

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		die("userfaultfd: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API: %s", strerror(errno));
	memset(&reg, 0, sizeof(reg));
	reg.range.start = blocker;
	reg.range.len = page_size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER: %s", strerror(errno));

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	err = pthread_create(&t, &attr, mlockall_thread, NULL);
	if (err)
		die("pthread_create: %s", strerror(err));

	pfd.fd = uffd;
	pfd.events = POLLIN;
	err = poll(&pfd, 1, 20000);
	if (err != 1)
		die("fork-in-populate: the mlockall() thread never faulted on the userfaultfd page (%s)",
		    err < 0 ? strerror(errno) : "timeout");
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		die("read userfaultfd: %s", strerror(errno));
	if (msg.event != UFFD_EVENT_PAGEFAULT ||
	    (msg.arg.pagefault.address & ~(page_size - 1)) != blocker)
		die("fork-in-populate: unexpected userfaultfd event %u at %#llx",
		    msg.event, (unsigned long long)msg.arg.pagefault.address);

	/* the window: VM_LOCKED and INHERIT set, the region not populated */
	snprintf(lbl, sizeof(lbl), "%s-P", label);
	print_pagemap(r, lbl);
	snprintf(lbl, sizeof(lbl), "%s-PR", label);
	do_region(name, lbl, 0);

	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		print_pagemap(r, label);
		snprintf(lbl, sizeof(lbl), "%s-CR", label);
		do_region(name, lbl, 1);
		snprintf(lbl, sizeof(lbl), "%s-C", label);
		do_report(lbl);
		_exit(0);
	}
	wait_ok(pid, "fork-in-populate child");

	memset(&zp, 0, sizeof(zp));
	zp.range.start = blocker;
	zp.range.len = page_size;
	if (ioctl(uffd, UFFDIO_ZEROPAGE, &zp))
		die("UFFDIO_ZEROPAGE: %s", strerror(errno));
	pthread_join(t, &ret);
	snprintf(outbuf, sizeof(outbuf), "%s-T mlockall=%s\n", label,
		 errname((int)(long)ret));
	out(outbuf);
	close(uffd);
}

static void need(int argc, int i, int n, const char *step)
{
	if (i + n >= argc)
		die("step '%s' needs %d argument%s", step, n, n == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
	int i;

	page_size = sysconf(_SC_PAGESIZE);
	for (i = 1; i < argc; i++) {
		const char *step = argv[i];

		if (!strcmp(step, "probe")) {
			if (mlockall(MCL_FUTURE | MCL_INHERIT) == 0) {
				munlockall();
				return 0;
			}
			if (errno == EINVAL)
				return 1;
			fprintf(stderr, "kt: probe: mlockall: %s\n",
				strerror(errno));
			return 2;
		} else if (!strcmp(step, "report")) {
			need(argc, i, 1, step);
			do_report(argv[++i]);
		} else if (!strcmp(step, "map")) {
			need(argc, i, 2, step);
			if (i + 3 < argc && (!strcmp(argv[i + 3], "dontfork") ||
					     !strcmp(argv[i + 3], "wipeonfork") ||
					     !strcmp(argv[i + 3], "droppable") ||
					     !strcmp(argv[i + 3], "hugetlb") ||
					     !strcmp(argv[i + 3], "none"))) {
				do_map(argv[i + 1], argv[i + 2], argv[i + 3]);
				i += 3;
			} else {
				do_map(argv[i + 1], argv[i + 2], NULL);
				i += 2;
			}
		} else if (!strcmp(step, "fill")) {
			struct region *r;

			need(argc, i, 1, step);
			r = find_region(argv[++i]);
			memset(r->addr, 0xa5, r->len);
		} else if (!strcmp(step, "region") || !strcmp(step, "rss")) {
			need(argc, i, 2, step);
			do_region(argv[i + 1], argv[i + 2], step[0] == 'r' &&
				  step[1] == 'e');
			i += 2;
		} else if (!strcmp(step, "madvise")) {
			struct region *r;
			int advice = 0, ret;

			need(argc, i, 2, step);
			r = find_region(argv[i + 1]);
			if (!strcmp(argv[i + 2], "dontneed"))
				advice = MADV_DONTNEED;
			else if (!strcmp(argv[i + 2], "dontneed_locked"))
				advice = MADV_DONTNEED_LOCKED;
			else
				die("unknown advice '%s' (dontneed, dontneed_locked)",
				    argv[i + 2]);
			ret = madvise(r->addr, r->len, advice);
			snprintf(outbuf, sizeof(outbuf), "%s madvise=%s result=%s\n",
				 r->name, argv[i + 2], errname(ret ? errno : 0));
			out(outbuf);
			i += 2;
		} else if (!strcmp(step, "unmap")) {
			struct region *r;

			need(argc, i, 1, step);
			r = find_region(argv[++i]);
			if (munmap(r->addr, r->len))
				die("munmap: %s", strerror(errno));
		} else if (!strcmp(step, "munlock-region")) {
			struct region *r;

			need(argc, i, 1, step);
			r = find_region(argv[++i]);
			if (munlock(r->addr, r->len))
				die("munlock: %s", strerror(errno));
		} else if (!strcmp(step, "mlock-region")) {
			struct region *r;

			need(argc, i, 1, step);
			r = find_region(argv[++i]);
			if (mlock(r->addr, r->len))
				die("mlock: %s", strerror(errno));
		} else if (!strcmp(step, "mlockall")) {
			need(argc, i, 1, step);
			if (mlockall(parse_mcl(argv[++i])))
				die("mlockall(%s): %s", argv[i], strerror(errno));
		} else if (!strcmp(step, "try-mlockall")) {
			int ret;

			need(argc, i, 1, step);
			ret = mlockall(parse_mcl(argv[++i]));
			snprintf(outbuf, sizeof(outbuf), "mlockall %s = %s\n",
				 argv[i], errname(ret ? errno : 0));
			out(outbuf);
		} else if (!strcmp(step, "munlockall")) {
			if (munlockall())
				die("munlockall: %s", strerror(errno));
		} else if (!strcmp(step, "fork")) {
			do_fork();
		} else if (!strcmp(step, "exec")) {
			need(argc, i, 1, step);
			execv(argv[i + 1], &argv[i + 1]);
			die("execv %s: %s", argv[i + 1], strerror(errno));
		} else if (!strcmp(step, "rlimit-memlock")) {
			struct rlimit rl;

			need(argc, i, 1, step);
			rl.rlim_cur = parse_ulong(argv[++i], "limit") * 1024;
			rl.rlim_max = rl.rlim_cur;
			if (setrlimit(RLIMIT_MEMLOCK, &rl))
				die("setrlimit(RLIMIT_MEMLOCK, %s KiB): %s", argv[i],
				    strerror(errno));
		} else if (!strcmp(step, "spawn")) {
			int j, err;
			pid_t pid;

			need(argc, i, 1, step);
			j = end_of_command(argc, argv, i);
			argv[j] = NULL;
			err = posix_spawn(&pid, argv[i + 1], NULL, NULL,
					  &argv[i + 1], environ);
			if (err)
				die("posix_spawn %s: %s", argv[i + 1], strerror(err));
			wait_ok(pid, argv[i + 1]);
			i = j;
		} else if (!strcmp(step, "vfork") || !strcmp(step, "clone-vm")) {
			int j;

			need(argc, i, 1, step);
			j = end_of_command(argc, argv, i);
			argv[j] = NULL;
			if (step[0] == 'v')
				do_vfork(&argv[i + 1]);
			else
				do_clone_vm(&argv[i + 1]);
			i = j;
		} else if (!strcmp(step, "clone-vfork")) {
			do_clone_vfork();
		} else if (!strcmp(step, "thread-exec")) {
			need(argc, i, 1, step);
			do_thread_exec(&argv[i + 1]);
		} else if (!strcmp(step, "pageout")) {
			need(argc, i, 1, step);
			do_pageout(find_region(argv[++i]));
		} else if (!strcmp(step, "pagemap")) {
			need(argc, i, 2, step);
			print_pagemap(find_region(argv[i + 1]), argv[i + 2]);
			i += 2;
		} else if (!strcmp(step, "fork-in-populate")) {
			need(argc, i, 2, step);
			do_fork_in_populate(argv[i + 1], argv[i + 2]);
			i += 2;
		} else if (!strcmp(step, "pause")) {
			int fd;

			need(argc, i, 1, step);
			fd = open(argv[++i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			if (fd < 0)
				die("create %s: %s", argv[i], strerror(errno));
			close(fd);
			for (;;)
				pause();
		} else if (!strcmp(step, "exit")) {
			need(argc, i, 1, step);
			return (int)parse_ulong(argv[++i], "exit status");
		} else {
			die("unknown step '%s' (see the comment at the top of kt.c)",
			    step);
		}
	}
	return 0;
}
