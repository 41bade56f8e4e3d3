// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mlock-invariant driver: generates one script per sequence from the seed,
 * runs it as a process tree, collects violations and statistics, checks
 * /proc/meminfo Mlocked and Unevictable against the baseline, and on a
 * violation shrinks the script (delta debugging) to a minimal reproducer.
 *
 * Usage: see usage() or tests/stress/README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inv.h"
#include "member.h"

enum meminfo_mode { MI_STRICT, MI_WARN, MI_OFF };

static struct {
	uint64_t seed;
	long nseq;		/* 0: until the time budget ends */
	long only_seq;		/* -1: all */
	double seconds;		/* 0: no budget */
	int maxops, maxprocs;
	int expect;		/* -1 auto, 0 no feature, 1 feature */
	enum meminfo_mode meminfo;
	int verbose;
	bool minimize;
	const char *script;
	int tree_timeout;
} opt = {
	.only_seq = -1, .maxops = 40, .maxprocs = 8, .expect = -1,
	.meminfo = MI_STRICT, .minimize = true, .tree_timeout = 120,
};

struct result {
	bool failed;
	char code[32];
	char line[2048];
	long steps, checks, forks, execs, skips, unmerged, procs;
	long fork_inherit, exec_keep, einval, enomem, eexist;
	long meminfo_warn;
};

static bool feature, droppable;
static long base_mlocked, base_unevictable;
static volatile sig_atomic_t alarmed;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mlock-invariant [options]\n"
		"  -s, --seed N          master seed (default: from the clock, printed)\n"
		"  -n, --sequences N     number of process trees (default 50; 0 = until -t)\n"
		"  -t, --time SECONDS    stop starting trees after this long\n"
		"      --sequence N      run only sequence N of the seed\n"
		"      --script TEXT     run this script (a printed reproducer)\n"
		"  -o, --ops N           operations per root list (default 40)\n"
		"  -p, --procs N         processes per tree (default 8)\n"
		"      --feature=auto|yes|no  model with or without MCL_INHERIT;\n"
		"                        yes/no fail if the kernel disagrees (default auto)\n"
		"      --meminfo=strict|warn|off  Mlocked/Unevictable baseline check\n"
		"                        (warn on a shared host, strict in the guest)\n"
		"      --no-minimize     do not shrink a failing script\n"
		"  -v, --verbose         print every step\n");
}

static int parse_long(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "sequences", required_argument, NULL, 'n' },
		{ "time", required_argument, NULL, 't' },
		{ "ops", required_argument, NULL, 'o' },
		{ "procs", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "sequence", required_argument, NULL, 'S' },
		{ "script", required_argument, NULL, 'x' },
		{ "feature", required_argument, NULL, 'f' },
		{ "meminfo", required_argument, NULL, 'm' },
		{ "no-minimize", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool seeded = false;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "s:n:t:o:p:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			opt.seed = strtoull(optarg, NULL, 0);
			if (errno)
				goto bad;
			seeded = true;
			break;
		case 'n':
			if (parse_long(optarg, &opt.nseq) || opt.nseq < 0)
				goto bad;
			break;
		case 't':
			if (parse_long(optarg, &v) || v < 0)
				goto bad;
			opt.seconds = v;
			break;
		case 'o':
			if (parse_long(optarg, &v) || v < 2 || v > 1000)
				goto bad;
			opt.maxops = v;
			break;
		case 'p':
			if (parse_long(optarg, &v) || v < 1 || v > 1000)
				goto bad;
			opt.maxprocs = v;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'S':
			if (parse_long(optarg, &opt.only_seq) || opt.only_seq < 0)
				goto bad;
			break;
		case 'x':
			opt.script = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "auto"))
				opt.expect = -1;
			else if (!strcmp(optarg, "yes"))
				opt.expect = 1;
			else if (!strcmp(optarg, "no"))
				opt.expect = 0;
			else
				goto bad;
			break;
		case 'm':
			if (!strcmp(optarg, "strict"))
				opt.meminfo = MI_STRICT;
			else if (!strcmp(optarg, "warn"))
				opt.meminfo = MI_WARN;
			else if (!strcmp(optarg, "off"))
				opt.meminfo = MI_OFF;
			else
				goto bad;
			break;
		case 'N':
			opt.minimize = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mlock-invariant: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		exit(2);
	}
	if (!seeded)
		opt.seed = (uint64_t)time(NULL) * 2654435761ULL ^
			(uint64_t)getpid();
	if (!opt.nseq && !opt.seconds && opt.only_seq < 0 && !opt.script) {
		if (opt.nseq == 0 && !opt.seconds)
			opt.nseq = 50;
	}
	return;
bad:
	fprintf(stderr, "mlock-invariant: bad value '%s' for an option\n",
		optarg);
	usage(stderr);
	exit(2);
}

/* Probe as userspace does (SEMANTICS.md 1), in a throwaway child. */
static bool probe_feature(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("mlock-invariant: fork");
		exit(2);
	}
	if (!pid)
		_exit(mlockall(MCL_FUTURE | MCL_INHERIT) ? (errno == EINVAL ?
							     10 : 11) : 0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		fprintf(stderr, "mlock-invariant: probe child died\n");
		exit(2);
	}
	if (WEXITSTATUS(status) == 11) {
		fprintf(stderr,
			"mlock-invariant: mlockall(MCL_FUTURE|MCL_INHERIT) failed with neither success nor EINVAL\n");
		exit(2);
	}
	return WEXITSTATUS(status) == 0;
}

static bool can_lock_freely(void)
{
	struct rlimit rl;
	char buf[4096];
	unsigned long long eff = 0;
	FILE *f;

	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur == RLIM_INFINITY)
		return true;
	f = fopen("/proc/self/status", "r");
	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 14);	/* CAP_IPC_LOCK */
}

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static void stat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			(void)0;	/* not root: counters settle anyway */
		close(fd);
	}
}

/* Wait until Mlocked and Unevictable are back to the baseline. */
static bool meminfo_settled(long *ml, long *ue)
{
	/* on a shared host other processes move the counters: look briefly */
	double end = now() + (opt.meminfo == MI_STRICT ? 5.0 : 0.3);

	do {
		stat_refresh();
		if (meminfo_read(ml, ue)) {
			fprintf(stderr, "mlock-invariant: cannot read /proc/meminfo\n");
			exit(2);
		}
		if (*ml == base_mlocked && *ue == base_unevictable)
			return true;
		usleep(20000);
	} while (now() < end);
	return false;
}

static void parse_records(int fd, struct result *res)
{
	static char buf[1 << 20];
	char *line, *nl;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (line[0] == 'S') {
			long st = 0, ch = 0, fo = 0, ex = 0, sk = 0, um = 0;
			long fi = 0, ek = 0, e1 = 0, e2 = 0, e3 = 0;

			if (sscanf(line, "S %*s %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld",
				   &st, &ch, &fo, &ex, &sk, &um, &fi, &ek, &e1,
				   &e2, &e3) == 11) {
				res->fork_inherit += fi;
				res->exec_keep += ek;
				res->einval += e1;
				res->enomem += e2;
				res->eexist += e3;
				res->steps += st;
				res->checks += ch;
				res->forks += fo;
				res->execs += ex;
				res->skips += sk;
				res->unmerged += um;
			}
		} else if (line[0] == 'F' && !res->failed) {
			char path[128];
			int pid;
			long step;

			res->failed = true;
			snprintf(res->line, sizeof(res->line), "%.2000s", line);
			if (sscanf(line, "F %127s %d %ld %31s", path, &pid,
				   &step, res->code) != 4)
				snprintf(res->code, sizeof(res->code), "?");
		}
	}
}

static void run_tree(struct script *s, long seq, uint64_t sseed,
		     struct result *res)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int fd, status;
	pid_t root, pid;
	long ml, ue;

	memset(res, 0, sizeof(*res));
	fd = memfd_create("mlock-invariant-report", 0);
	if (fd < 0 || fcntl(fd, F_SETFL, O_APPEND)) {
		perror("mlock-invariant: report memfd");
		exit(2);
	}
	fflush(NULL);
	root = fork();
	if (root < 0) {
		perror("mlock-invariant: fork");
		exit(2);
	}
	if (!root) {
		setpgid(0, 0);
		memset(&me, 0, sizeof(me));
		model_init(&me.m, feature, droppable);
		me.script = s;
		me.pc = -1;
		me.reportfd = fd;
		me.seq = seq;
		me.seed = sseed;
		me.verbose = opt.verbose;
		snprintf(me.path, sizeof(me.path), "0");
		member_run();
		member_finish(0);
	}
	setpgid(root, root);
	sigaction(SIGALRM, &sa, NULL);
	alarmed = 0;
	alarm(opt.tree_timeout);
	for (;;) {
		pid = wait(&status);
		if (pid < 0 && errno == EINTR && alarmed) {
			char rec[256];
			int len;

			len = snprintf(rec, sizeof(rec),
				       "F - 0 0 TIMEOUT tree still running after %d s: killed\n",
				       opt.tree_timeout);
			if (write(fd, rec, len) < 0)
				perror("mlock-invariant: report");
			kill(-root, SIGKILL);
			alarmed = 0;
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		if (WIFSIGNALED(status) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) > 1)) {
			char rec[256];
			int len;

			len = snprintf(rec, sizeof(rec),
				       "F - %d 0 CRASH tree process ended with %s %d\n",
				       (int)pid,
				       WIFSIGNALED(status) ? "signal" : "status",
				       WIFSIGNALED(status) ? WTERMSIG(status) :
				       WEXITSTATUS(status));
			if (write(fd, rec, len) < 0)
				perror("mlock-invariant: report");
		}
	}
	alarm(0);
	parse_records(fd, res);
	close(fd);
	res->procs = 1 + res->forks;
	if (opt.meminfo == MI_OFF || meminfo_settled(&ml, &ue))
		return;
	if (opt.meminfo == MI_WARN) {
		fprintf(stderr,
			"mlock-invariant: warning: sequence %ld: Mlocked %ld kB (baseline %ld), Unevictable %ld kB (baseline %ld); other processes share this host\n",
			seq, ml, base_mlocked, ue, base_unevictable);
		res->meminfo_warn++;
		base_mlocked = ml;
		base_unevictable = ue;
		return;
	}
	if (!res->failed) {
		res->failed = true;
		snprintf(res->code, sizeof(res->code), "MEMINFO");
		snprintf(res->line, sizeof(res->line),
			 "F - 0 0 MEMINFO after the tree: Mlocked %ld kB (baseline %ld), Unevictable %ld kB (baseline %ld)",
			 ml, base_mlocked, ue, base_unevictable);
	}
	base_mlocked = ml;
	base_unevictable = ue;
}

static bool fails_same(struct script *s, long seq, uint64_t sseed,
		       const char *code)
{
	struct result r;

	run_tree(s, seq, sseed, &r);
	return r.failed && !strcmp(r.code, code);
}

/* Delta debugging over all operations of the tree (ddmin). */
static void minimize(struct script *s, long seq, uint64_t sseed,
		     const char *code, int *runs)
{
	struct op **all;
	int n = script_flatten(s, &all), *act, nact = 0, gran = 2, i, j;
	double end = now() + 120.0;

	act = calloc(n ? n : 1, sizeof(*act));
	if (!act) {
		perror("mlock-invariant: calloc");
		exit(2);
	}
	for (i = 0; i < n; i++)
		if (!all[i]->off)
			act[nact++] = i;
	*runs = 0;
	while (nact >= 2 && *runs < 400 && now() < end) {
		int chunk = (nact + gran - 1) / gran;
		bool reduced = false;

		for (i = 0; i < nact && !reduced; i += chunk) {
			int hi = i + chunk < nact ? i + chunk : nact;

			for (j = i; j < hi; j++)
				all[act[j]]->off = true;
			(*runs)++;
			if (fails_same(s, seq, sseed, code)) {
				memmove(&act[i], &act[hi],
					(nact - hi) * sizeof(*act));
				nact -= hi - i;
				gran = gran > 2 ? gran - 1 : 2;
				reduced = true;
			} else {
				for (j = i; j < hi; j++)
					all[act[j]]->off = false;
			}
		}
		if (!reduced) {
			if (gran >= nact)
				break;
			gran = gran * 2 < nact ? gran * 2 : nact;
		}
	}
	free(act);
	free(all);
}

/* Replace a fork by its child's list, when the failure survives that. */
static bool hoist(struct script *root, struct script *list, long seq,
		  uint64_t sseed, const char *code, int *runs)
{
	int i;

	for (i = 0; i < list->n && *runs < 400; i++) {
		struct op *op = &list->ops[i], *old = list->ops, *nops;
		struct script *c = op->child;
		int n = list->n, m;

		if (op->off || op->type != 'F')
			continue;
		m = n - 1 + c->n;
		nops = calloc(m ? m : 1, sizeof(*nops));
		if (!nops) {
			perror("mlock-invariant: calloc");
			exit(2);
		}
		memcpy(nops, old, i * sizeof(*nops));
		memcpy(nops + i, c->ops, c->n * sizeof(*nops));
		memcpy(nops + i + c->n, old + i + 1,
		       (n - i - 1) * sizeof(*nops));
		list->ops = nops;
		list->n = list->cap = m;
		(*runs)++;
		if (fails_same(root, seq, sseed, code)) {
			free(old);
			free(c->ops);
			free(c);
			return true;
		}
		list->ops = old;
		list->n = list->cap = n;
		free(nops);
		if (hoist(root, c, seq, sseed, code, runs))
			return true;
	}
	return false;
}

static int count_on(const struct script *s)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++) {
		if (s->ops[i].off)
			continue;
		n++;
		if (s->ops[i].child)
			n += count_on(s->ops[i].child);
	}
	return n;
}

static void report_failure(struct script *s, long seq, uint64_t sseed,
			   const struct result *res)
{
	static char text[1 << 20];
	struct result again;
	int runs = 0, total = script_count(s);

	printf("mlock-invariant: VIOLATION in sequence %ld (seed %#" PRIx64
	       ", sequence seed %#" PRIx64 ", feature=%s)\n",
	       seq, opt.seed, sseed, feature ? "yes" : "no");
	printf("  record: %s\n", res->line);
	printf("  (record: F <process path> <pid> <step> <check> op <operation>: <detail>)\n");
	if (script_format(s, 0, text, sizeof(text)) >= 0)
		printf("  full script (%d operations): %s\n", total, text);
	if (opt.script)
		printf("  reproduce: mlock-invariant --feature=%s --script '%s'\n",
		       feature ? "yes" : "no", opt.script);
	else
		printf("  reproduce: mlock-invariant --feature=%s --seed %#" PRIx64
		       " --sequence %ld -o %d -p %d\n",
		       feature ? "yes" : "no", opt.seed, seq, opt.maxops,
		       opt.maxprocs);
	fflush(stdout);
	if (!opt.minimize)
		return;
	for (;;) {
		int r = 0;

		minimize(s, seq, sseed, res->code, &r);
		runs += r;
		if (runs >= 400 || !hoist(s, s, seq, sseed, res->code, &runs))
			break;
	}
	run_tree(s, seq, sseed, &again);
	if (script_format(s, 0, text, sizeof(text)) < 0)
		return;
	printf("  minimal step log (%d of %d operations, %d replays): %s\n",
	       count_on(s), total, runs, text);
	if (again.failed)
		printf("  minimal record: %s\n", again.line);
	printf("  replay minimal: mlock-invariant --feature=%s --meminfo=%s --script '%s'\n",
	       feature ? "yes" : "no",
	       opt.meminfo == MI_STRICT ? "strict" :
	       opt.meminfo == MI_WARN ? "warn" : "off", text);
}

int main(int argc, char **argv)
{
	long seq, nseq = 0, steps = 0, procs = 0, checks = 0, execs = 0;
	long skips = 0, unmerged = 0, warns = 0;
	long fork_inherit = 0, exec_keep = 0, einval = 0, enomem = 0;
	long eexist = 0;
	double t0 = now();
	struct result res;
	bool line;

	page_size = sysconf(_SC_PAGESIZE);
	if (argc == 2 && !strcmp(argv[1], "--member"))
		member_after_exec();
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);

	feature = probe_feature();
	{
		void *p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			       MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);

		droppable = p != MAP_FAILED;
		if (droppable)
			munmap(p, page_size);
	}
	{
		struct kview kv;
		char why[256];

		if (kview_read(&kv, why, sizeof(why))) {
			fprintf(stderr, "mlock-invariant: %s\n", why);
			return 2;
		}
		line = kv.has_line;
	}
	printf("mlock-invariant: kernel %s MCL_INHERIT (probe), Mlockall: status line %s, MAP_DROPPABLE %s\n",
	       feature ? "has" : "lacks", line ? "present" : "absent",
	       droppable ? "supported" : "unsupported");
	if (opt.expect == 1 && !feature) {
		printf("mlock-invariant: FAIL: --feature=yes but mlockall(MCL_FUTURE|MCL_INHERIT) returned EINVAL: boot the patched kernel\n");
		return 1;
	}
	if (opt.expect == 0 && feature) {
		printf("mlock-invariant: FAIL: --feature=no but the kernel accepts MCL_INHERIT\n");
		return 1;
	}
	if (line != feature) {
		printf("mlock-invariant: FAIL: probe says %s MCL_INHERIT but the Mlockall: line is %s\n",
		       feature ? "has" : "lacks", line ? "present" : "absent");
		return 1;
	}
	if (!can_lock_freely()) {
		printf("mlock-invariant: SKIP: needs CAP_IPC_LOCK or 'ulimit -l unlimited' (the model does not predict RLIMIT_MEMLOCK failures)\n");
		return 77;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("mlock-invariant: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	stat_refresh();
	if (meminfo_read(&base_mlocked, &base_unevictable)) {
		fprintf(stderr, "mlock-invariant: cannot read /proc/meminfo\n");
		return 2;
	}
	printf("mlock-invariant: seed %#" PRIx64 ", feature=%s, meminfo=%s, baseline Mlocked %ld kB Unevictable %ld kB\n",
	       opt.seed, feature ? "yes" : "no",
	       opt.meminfo == MI_STRICT ? "strict" :
	       opt.meminfo == MI_WARN ? "warn" : "off",
	       base_mlocked, base_unevictable);

	for (seq = opt.only_seq >= 0 ? opt.only_seq : 0;; seq++) {
		uint64_t sseed = seq_seed(opt.seed, seq);
		struct script *s;

		if (opt.script) {
			const char *err;

			if (nseq)
				break;
			s = script_parse(opt.script, &err);
			if (!s) {
				fprintf(stderr,
					"mlock-invariant: --script: %s (use a script printed by a failing run)\n",
					err);
				return 2;
			}
		} else {
			if (opt.only_seq >= 0 && nseq)
				break;
			if (opt.nseq && nseq >= opt.nseq)
				break;
			if (opt.seconds && now() - t0 >= opt.seconds)
				break;
			s = script_generate(sseed, opt.maxops, opt.maxprocs);
		}
		run_tree(s, seq, sseed, &res);
		nseq++;
		steps += res.steps;
		procs += res.procs;
		checks += res.checks;
		execs += res.execs;
		skips += res.skips;
		unmerged += res.unmerged;
		warns += res.meminfo_warn;
		fork_inherit += res.fork_inherit;
		exec_keep += res.exec_keep;
		einval += res.einval;
		enomem += res.enomem;
		eexist += res.eexist;
		if (res.failed) {
			report_failure(s, seq, sseed, &res);
			printf("mlock-invariant: FAIL: sequences=%ld steps=%ld processes=%ld violations=1\n",
			       nseq, steps, procs);
			return 1;
		}
		script_free(s);
	}
	printf("mlock-invariant: PASS seed=%#" PRIx64 " feature=%s sequences=%ld steps=%ld processes=%ld execs=%ld checks=%ld inheriting_forks=%ld lock_keeping_execs=%ld predicted_errors=EINVAL:%ld,ENOMEM:%ld,EEXIST:%ld skipped_ops=%ld mremap_unmerged=%ld meminfo_warnings=%ld violations=0 elapsed=%.1fs\n",
	       opt.seed, feature ? "yes" : "no", nseq, steps, procs, execs,
	       checks, fork_inherit, exec_keep, einval, enomem, eexist, skips,
	       unmerged, warns, now() - t0);
	return 0;
}
