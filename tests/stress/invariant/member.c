// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One process of a tree: runs its list of operations, predicts each one
 * with the model and checks the kernel against it after every step.
 * Violations and statistics go to the driver as single-line records on
 * an O_APPEND memfd that survives fork and exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inv.h"
#include "member.h"

#define KMAPPED		0x100
#define SCRIPT_MAX	(100 * 1024)

struct member me;

static struct vma snap[4096];
static int nsnap;
static struct kview kv;
static char why[1024];
static char curop[64];

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EPERM: return "EPERM";
	case EAGAIN: return "EAGAIN";
	case EEXIST: return "EEXIST";
	case EFAULT: return "EFAULT";
	default:
		snprintf(buf, sizeof(buf), "errno %d", e);
		return buf;
	}
}

static void put_record(const char *rec, size_t len)
{
	while (write(me.reportfd, rec, len) < 0 && errno == EINTR)
		;
}

static void write_stats(void)
{
	char rec[256];
	int len;

	len = snprintf(rec, sizeof(rec),
		       "S %s %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld\n",
		       me.path, me.steps, me.checks, me.forks, me.execs,
		       me.skips, me.unmerged, me.fork_inherit, me.exec_keep,
		       me.einval, me.enomem, me.eexist);
	put_record(rec, len);
	me.steps = me.checks = me.forks = me.execs = 0;
	me.skips = me.unmerged = 0;
	me.fork_inherit = me.exec_keep = 0;
	me.einval = me.enomem = me.eexist = 0;
}

/* Reap every child; a child killed by a signal is a violation. */
static void reap_children(void)
{
	int status;
	pid_t pid;

	for (;;) {
		pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (WIFSIGNALED(status)) {
			char rec[512];
			int len;

			len = snprintf(rec, sizeof(rec),
				       "F %s %d %ld CRASH child pid %d killed by signal %d (%s)\n",
				       me.path, (int)getpid(), me.step,
				       (int)pid, WTERMSIG(status),
				       strsignal(WTERMSIG(status)));
			put_record(rec, len);
		} else if (WEXITSTATUS(status) > 1) {
			char rec[512];
			int len;

			len = snprintf(rec, sizeof(rec),
				       "F %s %d %ld CRASH child pid %d exited %d\n",
				       me.path, (int)getpid(), me.step,
				       (int)pid, WEXITSTATUS(status));
			put_record(rec, len);
		}
	}
}

void member_finish(int status)
{
	reap_children();
	write_stats();
	_exit(status);
}

static void __attribute__((format(printf, 2, 3), noreturn))
violation(const char *code, const char *fmt, ...)
{
	char rec[2048], msg[1536];
	va_list ap;
	int len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = snprintf(rec, sizeof(rec), "F %s %d %ld %s op %s: %s\n",
		       me.path, (int)getpid(), me.step, code, curop, msg);
	if (len >= (int)sizeof(rec)) {
		len = sizeof(rec) - 1;
		rec[len - 1] = '\n';
	}
	put_record(rec, len);
	member_finish(1);
}

static int prot_bits(int p)
{
	return p == P_NONE ? PROT_NONE : p == P_READ ? PROT_READ :
		PROT_READ | PROT_WRITE;
}

static void page_desc(char *buf, size_t size, const struct page_model *p)
{
	if (!p->mapped) {
		snprintf(buf, size, "unmapped");
		return;
	}
	snprintf(buf, size, "kind=%d prot=%d locked=%d onfault=%d dontfork=%d wipe=%d",
		 p->kind, p->prot, p->locked, p->onfault, p->dontfork,
		 p->wipe);
}

static void kflags_desc(char *buf, size_t size, unsigned int f)
{
	if (!(f & KMAPPED)) {
		snprintf(buf, size, "unmapped");
		return;
	}
	snprintf(buf, size, "%c%c lo=%d lf=%d dc=%d wf=%d",
		 f & VF_R ? 'r' : '-', f & VF_W ? 'w' : '-', !!(f & VF_LO),
		 !!(f & VF_LF), !!(f & VF_DC), !!(f & VF_WF));
}

static void read_kernel(void)
{
	if (kview_read(&kv, why, sizeof(why)))
		violation("PROC", "%s", why);
}

static void check_present(unsigned long addr, unsigned long n,
			  const char *what)
{
	unsigned long bad = 0;
	int tries, r = 0;

	for (tries = 0; tries < 4; tries++) {
		r = pagemap_present(addr, n, &bad);
		if (r <= 0)
			break;
		usleep(2000);	/* page under migration: look again */
	}
	if (r < 0)
		violation("PROC", "cannot read /proc/self/pagemap: %s",
			  strerror(errno));
	if (r > 0)
		violation("RESIDENT",
			  "%s: page %#lx locked (not on-fault) but not present",
			  what, bad);
}

static void check_status_line(void)
{
	const struct model *m = &me.m;

	if (!m->feature) {
		if (kv.has_line)
			violation("STATUS",
				  "Mlockall: line present but the kernel rejected MCL_INHERIT");
		return;
	}
	if (!kv.has_line)
		violation("STATUS",
			  "no Mlockall: line in /proc/self/status on a kernel with MCL_INHERIT");
	if (kv.future != m->future || kv.onfault != m->onfault ||
	    kv.inherit != !!(m->state & ST_INHERIT) ||
	    kv.recursive != !!(m->state & ST_RECURSIVE) ||
	    kv.exec_keep != !!(m->state & ST_EXEC_KEEP))
		violation("STATUS",
			  "kernel future=%d onfault=%d inherit=%d recursive=%d exec_keep=%d, model future=%d onfault=%d inherit=%d recursive=%d exec_keep=%d",
			  kv.future, kv.onfault, kv.inherit, kv.recursive,
			  kv.exec_keep, m->future, m->onfault,
			  !!(m->state & ST_INHERIT),
			  !!(m->state & ST_RECURSIVE),
			  !!(m->state & ST_EXEC_KEEP));
}

static void check_slots(void)
{
	static unsigned int kf[MODEL_PAGES];
	char a[160], b[160];
	int s, i, v;

	for (s = 0; s < NSLOTS; s++) {
		unsigned long w0 = slot_addr(s);
		unsigned long w1 = w0 + WIN_PAGES * page_size;

		memset(kf, 0, sizeof(kf));
		for (v = 0; v < kv.nvma; v++) {
			const struct vma *x = &kv.vma[v];
			unsigned long p;

			if (x->end <= w0 || x->start >= w1)
				continue;
			for (p = x->start > w0 ? x->start : w0;
			     p < x->end && p < w1; p += page_size) {
				i = (p - w0) / page_size;
				if (i >= MODEL_PAGES)
					violation("SLOT",
						  "slot %d: kernel maps page %d, beyond anything the model mapped (%lx-%lx)",
						  s, i, x->start, x->end);
				kf[i] = x->flags | KMAPPED;
			}
		}
		for (i = 0; i < MODEL_PAGES; i++) {
			const struct page_model *p = &me.m.pg[s][i];
			unsigned int f = kf[i];
			bool ok;

			if (!p->mapped) {
				ok = !(f & KMAPPED);
			} else {
				ok = (f & KMAPPED) &&
					!!(f & VF_LO) == p->locked &&
					!!(f & VF_LF) ==
					(p->locked && p->onfault) &&
					!!(f & VF_DC) == p->dontfork &&
					!!(f & VF_WF) == p->wipe &&
					!!(f & VF_R) == (p->prot != P_NONE) &&
					!!(f & VF_W) == (p->prot == P_RW);
			}
			if (!ok) {
				page_desc(a, sizeof(a), p);
				kflags_desc(b, sizeof(b), f);
				violation("SLOT",
					  "slot %d page %d (%#lx): model %s; kernel %s",
					  s, i, w0 + i * page_size, a, b);
			}
		}
		/* PTE presence of locked pages the model knows populated */
		for (i = 0; i < MODEL_PAGES; i++) {
			const struct page_model *p = &me.m.pg[s][i];

			if (p->mapped && p->locked && p->claim) {
				snprintf(a, sizeof(a), "slot %d page %d", s, i);
				check_present(w0 + i * page_size, 1, a);
			}
		}
	}
}

static void check_global(enum global_expect g, bool onfault)
{
	int v;

	for (v = 0; v < kv.nvma; v++) {
		const struct vma *x = &kv.vma[v];

		if (x->flags & VF_SPECIAL)
			continue;
		if (g == G_NONE_LOCKED && (x->flags & (VF_LO | VF_LF)))
			violation("GLOBAL",
				  "VMA %lx-%lx is locked; the model says nothing is",
				  x->start, x->end);
		if (g != G_ALL_LOCKED)
			continue;
		if (!(x->flags & VF_LO) || !!(x->flags & VF_LF) != onfault)
			violation("GLOBAL",
				  "VMA %lx-%lx lo=%d lf=%d; the model says every VMA is locked%s",
				  x->start, x->end, !!(x->flags & VF_LO),
				  !!(x->flags & VF_LF),
				  onfault ? " on fault" : "");
		if (!onfault && (x->flags & VF_ANON) &&
		    (x->flags & (VF_R | VF_W))) {
			char what[96];

			snprintf(what, sizeof(what), "VMA %lx-%lx", x->start,
				 x->end);
			check_present(x->start,
				      (x->end - x->start) / page_size, what);
		}
	}
}

/* Every check that holds after any step. */
static void check_step(enum global_expect g, bool onfault)
{
	read_kernel();
	if (kv.vmlck_kb != (long)kv.lo_kb)
		violation("VMLCK",
			  "VmLck %ld kB != %lu kB in VMAs with 'lo' in smaps",
			  kv.vmlck_kb, kv.lo_kb);
	check_status_line();
	check_slots();
	check_global(g, onfault);
	me.checks++;
}

static void snapshot_vmas(void)
{
	read_kernel();
	nsnap = kv.nvma < 4096 ? kv.nvma : 4096;
	memcpy(snap, kv.vma, nsnap * sizeof(snap[0]));
}

/* The child against its parent's VMAs at fork (SEMANTICS.md 3). */
static void check_after_fork(bool inherit)
{
	int v, w, s, i;

	read_kernel();
	for (v = 0; v < kv.nvma; v++) {
		const struct vma *c = &kv.vma[v];
		const struct vma *p = NULL;
		unsigned int want;

		for (w = 0; w < nsnap; w++) {
			if (snap[w].start == c->start ||
			    snap[w].end == c->end) {
				p = &snap[w];
				break;
			}
		}
		if (!p)
			violation("FORK",
				  "child VMA %lx-%lx has no counterpart in the parent",
				  c->start, c->end);
		if (p->flags & VF_DC)
			violation("FORK",
				  "MADV_DONTFORK VMA %lx-%lx copied to the child",
				  p->start, p->end);
		want = inherit ? p->flags & (VF_LO | VF_LF) : 0;
		if ((c->flags & (VF_LO | VF_LF)) != want)
			violation("FORK",
				  "child VMA %lx-%lx lo=%d lf=%d, parent lo=%d lf=%d, inherit=%d",
				  c->start, c->end, !!(c->flags & VF_LO),
				  !!(c->flags & VF_LF), !!(p->flags & VF_LO),
				  !!(p->flags & VF_LF), inherit);
		if (inherit && (c->flags & VF_LO) && !(c->flags & VF_LF) &&
		    !(c->flags & VF_SPECIAL) && (c->flags & VF_ANON) &&
		    (c->flags & (VF_R | VF_W))) {
			char what[96];

			snprintf(what, sizeof(what),
				 "child VMA %lx-%lx right after fork",
				 c->start, c->end);
			check_present(c->start,
				      (c->end - c->start) / page_size, what);
		}
	}
	check_step(G_NONE, false);
	/* MADV_WIPEONFORK pages read as zero in the child */
	for (s = 0; s < NSLOTS; s++) {
		for (i = 0; i < MODEL_PAGES; i++) {
			const struct page_model *p = &me.m.pg[s][i];
			const unsigned char *q;
			long j;

			if (!p->mapped || !p->wipe || p->prot == P_NONE)
				continue;
			q = (const unsigned char *)(slot_addr(s) +
						    i * page_size);
			for (j = 0; j < page_size; j++)
				if (q[j])
					violation("WIPE",
						  "slot %d page %d: MADV_WIPEONFORK page not zero in the child (byte %ld = %#x)",
						  s, i, j, q[j]);
		}
	}
}

static int do_mmap(const struct op *op)
{
	unsigned long addr = slot_addr(op->a);
	int flags, fd = -1;
	void *r;

	flags = op->e & MF_FIXED ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	if (op->e & MF_LOCKED)
		flags |= MAP_LOCKED;
	if (op->e & MF_POPULATE)
		flags |= MAP_POPULATE;
	switch (op->c) {
	case K_ANON_PRIV:
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		break;
	case K_ANON_SHARED:
		flags |= MAP_SHARED | MAP_ANONYMOUS;
		break;
	case K_DROPPABLE:
		flags |= MAP_DROPPABLE | MAP_ANONYMOUS;
		break;
	default:
		fd = memfd_create("mlock-invariant", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, MODEL_PAGES * page_size))
			violation("ENV", "memfd_create/ftruncate: %s",
				  strerror(errno));
		flags |= op->c == K_MEMFD_SHARED ? MAP_SHARED : MAP_PRIVATE;
		break;
	}
	r = mmap((void *)addr, op->b * page_size, prot_bits(op->d), flags,
		 fd, 0);
	if (fd >= 0)
		close(fd);
	if (r == MAP_FAILED)
		return errno;
	if ((unsigned long)r != addr)
		violation("MMAP", "mapped at %p instead of %#lx", r, addr);
	return 0;
}

static int do_mlock(const struct op *op)
{
	unsigned long addr = slot_addr(op->a) + op->b * page_size;
	size_t len = op->c * page_size;
	long r = 0;

	switch (op->d) {
	case L_MLOCK:
		r = mlock((void *)addr, len);
		break;
	case L_MLOCK2_ONFAULT:
		r = syscall(SYS_mlock2, addr, len, MLOCK_ONFAULT);
		break;
	case L_MUNLOCK:
		r = munlock((void *)addr, len);
		break;
	case L_MLOCK2_BAD:
		r = syscall(SYS_mlock2, addr, len, (unsigned int)op->e);
		break;
	case L_MLOCK2_ZERO:
		r = syscall(SYS_mlock2, addr, len, 0);
		break;
	}
	return r ? errno : 0;
}

static int do_mremap(const struct op *op, int oldpages)
{
	unsigned long addr = slot_addr(op->a), want = addr;
	int mode = op->c;
	void *r;

	if (mode == 2 && op->d == op->a)
		mode = 1;
	if (mode == 2) {
		want = slot_addr(op->d);
		r = mremap((void *)addr, oldpages * page_size,
			   op->b * page_size, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)want);
	} else {
		r = mremap((void *)addr, oldpages * page_size,
			   op->b * page_size, mode ? MREMAP_MAYMOVE : 0);
	}
	if (r == MAP_FAILED)
		return errno;
	if ((unsigned long)r != want)
		violation("MREMAP", "moved to %p instead of %#lx", r, want);
	return 0;
}

static int do_madvise(const struct op *op)
{
	static const int adv[A_NR] = {
		MADV_DONTFORK, MADV_DOFORK, MADV_WIPEONFORK, MADV_KEEPONFORK,
		MADV_DONTNEED, MADV_DONTNEED_LOCKED,
	};

	return madvise((void *)(slot_addr(op->a) + op->b * page_size),
		       op->c * page_size, adv[op->d]) ? errno : 0;
}

static void do_touch(const struct op *op)
{
	int i;

	for (i = op->b; i < op->b + op->c; i++) {
		const struct page_model *p = &me.m.pg[op->a][i];
		volatile unsigned char *q;

		if (!p->mapped || p->prot == P_NONE)
			continue;
		q = (volatile unsigned char *)(slot_addr(op->a) +
					       i * page_size);
		if (p->prot == P_RW)
			q[page_size / 2] = 0x5a;
		else
			(void)q[page_size / 2];
	}
}

/* Does [0, npages) of slot s span more than one VMA? */
static bool slot_split(int s, int npages)
{
	unsigned long w0 = slot_addr(s);
	unsigned long w1 = w0 + npages * page_size;
	int v, n = 0;

	read_kernel();
	for (v = 0; v < kv.nvma; v++)
		if (kv.vma[v].start < w1 && kv.vma[v].end > w0)
			n++;
	return n > 1;
}

static void __attribute__((noreturn)) do_exec(void)
{
	static char script[SCRIPT_MAX], ctx[512], scr_env[SCRIPT_MAX + 32];
	static char *envp[4096];
	char *argv[] = { "mlock-invariant", "--member", NULL };
	extern char **environ;
	int n = 0, i;

	if (script_format(me.script, me.pc + 1, script, sizeof(script)) < 0)
		violation("ENV", "remaining script longer than %d bytes",
			  SCRIPT_MAX);
	model_exec(&me.m);
	me.exec_keep += me.m.future;
	snprintf(ctx, sizeof(ctx),
		 "MLOCK_INV_CTX=%ld:%" PRIx64 ":%s:%ld:%d:%d:%d:%d:%u:%d:%d",
		 me.seq, me.seed, me.path, me.step, me.reportfd,
		 me.m.feature, me.m.future, me.m.onfault, me.m.state,
		 me.verbose, me.m.droppable);
	snprintf(scr_env, sizeof(scr_env), "MLOCK_INV_SCRIPT=%s", script);
	for (i = 0; environ[i] && n < 4000; i++) {
		if (!strncmp(environ[i], "MLOCK_INV_", 10))
			continue;
		envp[n++] = environ[i];
	}
	envp[n++] = ctx;
	envp[n++] = scr_env;
	envp[n] = NULL;
	me.execs++;
	write_stats();
	execve("/proc/self/exe", argv, envp);
	violation("EXEC", "execve(/proc/self/exe): %s", strerror(errno));
}

static void run_fork(const struct op *op, int forkno)
{
	bool inherit = me.m.feature && (me.m.state & ST_INHERIT);
	pid_t pid;
	size_t len;

	snapshot_vmas();
	pid = fork();
	if (pid < 0)
		violation("ENV", "fork: %s", strerror(errno));
	if (pid > 0) {
		me.forks++;
		me.fork_inherit += inherit;
		return;
	}
	/* child */
	len = strlen(me.path);
	snprintf(me.path + len, sizeof(me.path) - len, ".%d", forkno);
	me.step = 0;
	me.steps = me.checks = me.forks = me.execs = 0;
	me.skips = me.unmerged = 0;
	me.fork_inherit = me.exec_keep = 0;
	me.einval = me.enomem = me.eexist = 0;
	me.script = op->child;
	me.pc = -1;	/* member_run() starts at pc + 1 */
	model_fork_child(&me.m);
	snprintf(curop, sizeof(curop), "(fork child)");
	check_after_fork(inherit);
}

void member_run(void)
{
	struct prediction pr;
	struct model before;
	int forkno = 0, err, oldpages = 0;

	for (me.pc++; me.pc < me.script->n; me.pc++) {
		const struct op *op = &me.script->ops[me.pc];

		if (op->off)
			continue;
		me.step++;
		me.steps++;
		op_format(op, curop, sizeof(curop));
		if (me.verbose)
			fprintf(stderr, "[%ld %s %ld] %s\n", me.seq, me.path,
				me.step, curop);
		if (op->type == 'F') {
			const struct script *parent = me.script;
			int pc = me.pc;

			run_fork(op, forkno++);
			if (me.script != parent) {	/* in the child */
				member_run();
				member_finish(0);
			}
			me.pc = pc;
			continue;
		}
		if (op->type == 'E')
			do_exec();
		if (op->type == 'X')
			member_finish(0);
		before = me.m;
		if (op->type == 'r')
			model_slot_simple(&me.m, op->a, &oldpages);
		model_predict(&me.m, op, &pr);
		if (pr.skip) {
			me.skips++;
			continue;
		}
		switch (op->type) {
		case 'M':
			err = mlockall(op->a) ? errno : 0;
			break;
		case 'U':
			err = munlockall() ? errno : 0;
			break;
		case 'm':
			err = do_mmap(op);
			break;
		case 'u':
			err = munmap((void *)(slot_addr(op->a) +
					      op->b * page_size),
				     op->c * page_size) ? errno : 0;
			break;
		case 'l':
			err = do_mlock(op);
			break;
		case 'p':
			err = mprotect((void *)(slot_addr(op->a) +
						op->b * page_size),
				       op->c * page_size,
				       prot_bits(op->d)) ? errno : 0;
			break;
		case 'r':
			err = do_mremap(op, oldpages);
			break;
		case 'a':
			err = do_madvise(op);
			break;
		case 't':
			do_touch(op);
			err = 0;
			break;
		default:
			err = 0;
			break;
		}
		if (err != pr.err && op->type == 'r' && pr.mremap_merge &&
		    err == EFAULT &&
		    slot_split(op->a, op->c == 2 && op->b < oldpages ?
			       op->b : oldpages)) {
			/*
			 * VMA merging is not part of the spec: the slot looked
			 * uniform but the kernel kept two VMAs.  Undo the
			 * prediction; with MREMAP_FIXED the shrink happened.
			 */
			int i;

			me.m = before;
			if (op->c == 2 && op->d != op->a)
				for (i = op->b; i < oldpages; i++)
					memset(&me.m.pg[op->a][i], 0,
					       sizeof(me.m.pg[0][0]));
			me.unmerged++;
			check_step(G_NONE, false);
			continue;
		}
		if (err != pr.err)
			violation("ERRNO", "expected %s, kernel returned %s",
				  errname(pr.err), errname(err));
		me.einval += err == EINVAL;
		me.enomem += err == ENOMEM;
		me.eexist += err == EEXIST;
		check_step(pr.global, pr.global_onfault);
	}
}

/* Entry after exec of self: restore context, check, continue. */
void member_after_exec(void)
{
	const char *ctx = getenv("MLOCK_INV_CTX");
	const char *text = getenv("MLOCK_INV_SCRIPT");
	const char *err = NULL;
	int feature, future, onfault, verbose, droppable;
	unsigned int state;
	uint64_t seed;

	if (!ctx || !text ||
	    sscanf(ctx, "%ld:%" SCNx64 ":%127[^:]:%ld:%d:%d:%d:%d:%u:%d:%d",
		   &me.seq, &seed, me.path, &me.step, &me.reportfd, &feature,
		   &future, &onfault, &state, &verbose, &droppable) != 11) {
		fprintf(stderr,
			"mlock-invariant: --member is internal: it needs MLOCK_INV_CTX and MLOCK_INV_SCRIPT from a tree process\n");
		exit(2);
	}
	me.seed = seed;
	me.verbose = verbose;
	model_init(&me.m, feature, droppable);
	me.m.future = future;
	me.m.onfault = onfault;
	me.m.state = state;
	me.script = script_parse(text, &err);
	if (!me.script)
		violation("ENV", "cannot parse the script carried across exec: %s",
			  err);
	me.pc = -1;
	snprintf(curop, sizeof(curop), "(after exec)");
	check_step(me.m.future ? G_ALL_LOCKED : G_NONE_LOCKED, me.m.onfault);
	member_run();
	member_finish(0);
}
