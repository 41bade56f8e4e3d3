// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * spawnbench - time fork + exec + wait of commands
 * (issue 5, measurements 3, 4 and 5).
 *
 * spawnbench loop [tags] [-n N] [-w W] -- CMD [ARG...]
 *	W untimed, then N timed fork+execvp+waitpid of CMD, one after the
 *	other; prints one sample: the median time of the N.  Run it under
 *	"mlock -r" and every fork and exec it makes is locked.
 *
 * spawnbench alt [tags] -l L1,L2,... [-n N] [-w W] -- CMD1... ::: CMD2...
 *	Interleaves the commands: iteration i runs CMD1, CMD2, ... once each
 *	(the starting command rotates), and prints one sample per command
 *	and iteration, so that samples with the same REP form a pair.
 *
 * tags: -t MEAS -p PARAM -i REP (default: spawn 0 0) name the samples;
 *	 with loop, -l LABEL names the variant (default "plain").
 *
 * The commands' stdout goes to our stderr: stdout carries only samples.
 * A command that fails (exit status other than 0, signal, not found) is
 * an error: exit status 1 with the command named.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

const char *bench_name = "spawnbench";

#define MAX_CMDS	8

struct cmd {
	const char *label;
	char **argv;
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: spawnbench loop [-t MEAS] [-p PARAM] [-i REP] [-l LABEL] [-n N] [-w W] -- CMD [ARG...]\n"
		"       spawnbench alt  [-t MEAS] [-p PARAM] -l L1,L2,... [-n N] [-w W] -- CMD1... ::: CMD2...\n");
	exit(status);
}

static int64_t run_once(const struct cmd *c)
{
	int64_t t0, t1;
	int status;
	pid_t pid;

	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(c->argv[0], c->argv);
		fprintf(stderr, "spawnbench: cannot execute %s: %s\n",
			c->argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	t1 = now_ns();
	if (WIFSIGNALED(status))
		die("'%s' (%s) was killed by signal %d", c->argv[0], c->label,
		    WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("'%s' (%s) exited with status %d", c->argv[0], c->label,
		    WEXITSTATUS(status));
	return t1 - t0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Split "a b ::: c d" into commands; the separators become NULLs. */
static int split_cmds(char **args, int nargs, struct cmd *cmds)
{
	int i, n = 0;

	cmds[n++].argv = args;
	for (i = 0; i < nargs; i++) {
		if (strcmp(args[i], ":::"))
			continue;
		args[i] = NULL;
		if (n == MAX_CMDS)
			die("at most %d commands", MAX_CMDS);
		cmds[n++].argv = &args[i + 1];
	}
	for (i = 0; i < n; i++)
		if (!cmds[i].argv[0])
			die("empty command (check the ':::' separators)");
	return n;
}

static int split_labels(char *arg, struct cmd *cmds, int ncmds)
{
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == ncmds)
			die("-l names more variants than there are commands (%d)",
			    ncmds);
		cmds[n++].label = tok;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *meas = "spawn", *mode;
	char *labels = NULL;
	struct cmd cmds[MAX_CMDS];
	long param = 0, rep = 0;
	int n = 10, warm = 2, ncmds, i, k, c, alt;
	int64_t *t;

	if (argc < 2)
		usage(2);
	mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help"))
		usage(0);
	if (strcmp(mode, "loop") && strcmp(mode, "alt")) {
		fprintf(stderr, "spawnbench: unknown mode '%s' (expected loop or alt)\n",
			mode);
		usage(2);
	}
	alt = !strcmp(mode, "alt");
	optind = 2;
	while ((c = getopt(argc, argv, "+t:p:i:l:n:w:h")) != -1) {
		switch (c) {
		case 't':
			meas = optarg;
			break;
		case 'p':
			param = parse_count("-p", optarg);
			break;
		case 'i':
			rep = atol(optarg);
			break;
		case 'l':
			labels = optarg;
			break;
		case 'n':
			n = (int)parse_count("-n", optarg);
			break;
		case 'w':
			warm = atoi(optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind >= argc)
		usage(2);

	memset(cmds, 0, sizeof(cmds));
	ncmds = split_cmds(&argv[optind], argc - optind, cmds);
	if (!alt && ncmds != 1)
		die("loop runs one command; use alt for several");
	if (labels) {
		if (split_labels(labels, cmds, ncmds) != ncmds)
			die("-l names fewer variants than there are commands (%d)",
			    ncmds);
	} else if (alt) {
		die("alt needs -l with one label per command");
	} else {
		cmds[0].label = "plain";
	}

	t = calloc((size_t)n * ncmds, sizeof(*t));
	if (!t)
		die("out of memory");
	for (i = 0; i < warm; i++)
		for (k = 0; k < ncmds; k++)
			run_once(&cmds[k]);
	for (i = 0; i < n; i++)
		for (k = 0; k < ncmds; k++) {
			int v = (k + i) % ncmds;

			t[v * n + i] = run_once(&cmds[v]);
		}

	if (alt) {
		for (i = 0; i < n; i++)
			for (k = 0; k < ncmds; k++)
				emit(meas, param, cmds[k].label, i, t[k * n + i],
				     "ns");
	} else {
		emit(meas, param, cmds[0].label, (int)rep, median(t, n), "ns");
	}
	free(t);
	return 0;
}
