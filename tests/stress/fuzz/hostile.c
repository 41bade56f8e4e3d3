// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hostile: seeded hostile-input runner for the real binaries.
 *
 *   hostile env  -L LIBMLOCK_PRELOAD.so [-s SEED] [-n N] [-t SECONDS]
 *	runs /bin/true and a forking /bin/sh with the fallback library in
 *	LD_PRELOAD and hostile MLOCK_INHERIT_PRELOAD / LD_PRELOAD values
 *	(huge, malformed, non-UTF-8, empty, repeated, duplicated entries):
 *	the library's constructor must never crash the program.
 *   hostile argv -M MLOCK [-s SEED] [-n N] [-t SECONDS]
 *	runs mlock with hostile options and option values before
 *	"-- /bin/true", PATH pointing at an empty directory: mlock must end
 *	with a status of its own (0, 1 or 125), never a signal.
 *
 * Every run is a fork + exec with a 20 s timeout.  A failure prints the
 * seed, the iteration and the exact argv/environment (escaped), and the
 * exit status is 1.  The same seed always produces the same inputs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXARGS		24
#define HUGE_LEN	(120 * 1024)	/* below MAX_ARG_STRLEN */

static uint64_t rs;
static char pool[MAXARGS + 8][HUGE_LEN + 64];
static int npool;

static uint64_t rnd64(void)
{
	uint64_t z;

	rs += 0x9e3779b97f4a7c15ULL;
	z = rs;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int rnd(int n)
{
	return (int)(rnd64() % (uint64_t)n);
}

static char *slot(void)
{
	if (npool == (int)(sizeof(pool) / sizeof(pool[0]))) {
		fprintf(stderr, "hostile: internal: string pool exhausted\n");
		exit(2);
	}
	pool[npool][0] = '\0';
	return pool[npool++];
}

static void append(char *s, const char *t)
{
	size_t a = strlen(s), b = strlen(t);

	if (a + b < HUGE_LEN) {
		memcpy(s + a, t, b + 1);
	}
}

/* A hostile string; words are the tokens the parser knows. */
static char *hostile(const char *const *words, int nwords)
{
	static const char *const seps[] = {
		",", ",,", " ", ":", "\t", "\n", "=", ", ", "",
	};
	char *s = slot();
	int i, n;

	switch (rnd(8)) {
	case 0:	/* empty */
		break;
	case 1:	/* random bytes, including non-UTF-8; never NUL */
		n = 1 + rnd(80);
		for (i = 0; i < n; i++)
			s[i] = (char)(1 + rnd(255));
		s[n] = '\0';
		break;
	case 2:	/* huge */
		n = HUGE_LEN - rnd(4096);
		memset(s, rnd(2) ? 'A' : ',', n);
		s[n] = '\0';
		if (rnd(2))
			memcpy(s, words[rnd(nwords)], strlen(words[0]) < 8 ?
			       strlen(words[0]) : 8);
		break;
	case 3:	/* a word repeated many times */
		n = 1 + rnd(2000);
		for (i = 0; i < n; i++) {
			append(s, words[rnd(nwords)]);
			append(s, seps[rnd(2)]);
		}
		break;
	case 4:	/* format directives and escapes */
		append(s, rnd(2) ? "%s%s%n%x%p" : "\\x00\\\\\"'$(true)`true`");
		append(s, words[rnd(nwords)]);
		break;
	default:	/* a few known words with odd separators */
		n = 1 + rnd(5);
		for (i = 0; i < n; i++) {
			if (i)
				append(s, seps[rnd(sizeof(seps) / sizeof(seps[0]))]);
			append(s, words[rnd(nwords)]);
		}
		if (rnd(4) == 0)
			s[rnd((int)strlen(s) + 1)] = (char)(0x80 + rnd(128));
		break;
	}
	return s;
}

static void escape_print(const char *label, const char *s)
{
	size_t n = strlen(s), i;

	fprintf(stderr, "  %s (%zu bytes): '", label, n);
	for (i = 0; i < n && i < 300; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "'%s\n", n > 300 ? "..." : "");
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

#define RUN_HUNG (-2)

/*
 * Returns the wait status, -1 when exec was impossible (E2BIG), or RUN_HUNG
 * when the program had to be killed.  RUN_HUNG is not a valid wait status,
 * so a program exiting with 127 (0x7f00) is not mistaken for a hang.
 */
static int run(char *const argv[], char *const envp[])
{
	int status, fd;
	pid_t pid, r;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("hostile: fork");
		exit(2);
	}
	if (!pid) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execve(argv[0], argv, envp);
		_exit(errno == E2BIG ? 99 : 98);
	}
	timed_out = 0;
	alarm(20);
	do {
		r = waitpid(pid, &status, 0);
		if (r < 0 && errno == EINTR && timed_out) {
			kill(pid, SIGKILL);
			timed_out = 2;
		}
	} while (r < 0 && errno == EINTR);
	alarm(0);
	if (timed_out == 2)
		return RUN_HUNG;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 99)
		return -1;
	return status;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hostile env -L LIBMLOCK_PRELOAD.so [-s SEED] [-n N] [-t SECONDS]\n"
		"       hostile argv -M MLOCK [-s SEED] [-n N] [-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const char *const setw[] = {
		"once", "recursive", "onfault", "strict", "ONCE", "once ",
		"re", "recursive\n", "", "on", "once,recursive",
		"pid=1", "pid=", "pid=0", "start=1", "pid=2147483648",
		"start=18446744073709551616",
	};
	static const char *const optw[] = {
		"-r", "-f", "-l", "--limit", "-m", "--mode", "-q", "-p", "--pid",
		"-o", "--output", "--probe", "-v", "--best-effort", "-V",
		"-x", "--bogus", "--limit=", "-l64M", "--mode=", "-rf",
		"--on-fault", "--recursive", "--quiet", "--verbose",
	};
	static const char *const valw[] = {
		"64M", "unlimited", "0", "1K", "18446744073709551615", "16E",
		"-1", "kernel", "preload", "auto", "raw", "human", "1",
		"2147483648", "99999999999999999999", "0x10", "1KiB",
	};
	const char *mode, *lib = NULL, *mlock = NULL;
	long n = 1000, done = 0, skipped = 0, i;
	uint64_t seed = 1;
	double tmax = 0, t0;
	struct timespec ts;
	int hist[256] = { 0 };
	char emptydir[] = "/tmp/hostile-path-XXXXXX";
	struct sigaction sa = { .sa_handler = on_alarm };
	int c;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "s:n:t:L:M:")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			n = strtol(optarg, NULL, 0);
			break;
		case 't':
			tmax = strtod(optarg, NULL);
			break;
		case 'L':
			lib = optarg;
			break;
		case 'M':
			mlock = optarg;
			break;
		default:
			usage();
		}
	}
	if (strcmp(mode, "env") && strcmp(mode, "argv"))
		usage();
	if (!strcmp(mode, "env") && (!lib || access(lib, R_OK))) {
		fprintf(stderr, "hostile: env mode needs -L LIB, a readable libmlock-preload.so (build it: scripts/build.sh)\n");
		return 2;
	}
	if (!strcmp(mode, "argv") && (!mlock || access(mlock, X_OK))) {
		fprintf(stderr, "hostile: argv mode needs -M MLOCK, the mlock binary (build it: scripts/build.sh)\n");
		return 2;
	}
	if (!mkdtemp(emptydir)) {
		perror("hostile: mkdtemp");
		return 2;
	}
	sigaction(SIGALRM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	rs = seed;
	for (i = 0; n <= 0 || i < n; i++) {
		char *av[MAXARGS + 8], *ev[16];
		char *e1, *e2, *e3;
		int na = 0, ne = 0, status, k;
		bool bad;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (tmax > 0 && ts.tv_sec + ts.tv_nsec / 1e9 - t0 > tmax)
			break;
		npool = 0;
		if (!strcmp(mode, "env")) {
			char *pre = slot();

			e1 = slot();
			snprintf(e1, HUGE_LEN, "MLOCK_INHERIT_PRELOAD=%s",
				 hostile(setw, sizeof(setw) / sizeof(setw[0])));
			strcpy(pre, "LD_PRELOAD=");
			k = 1 + rnd(4);
			while (k--) {
				switch (rnd(4)) {
				case 0:
					append(pre, "libmlock-preload.so");
					break;
				case 1:
					append(pre, "/nonexistent/lib.so");
					break;
				default:
					append(pre, lib);
					break;
				}
				append(pre, rnd(2) ? ":" : rnd(2) ? " " : "\t");
			}
			if (rnd(3) == 0) {
				av[na++] = "/bin/sh";
				av[na++] = "-c";
				av[na++] = "/bin/true; /bin/true & wait; (:)";
			} else {
				av[na++] = "/bin/true";
			}
			ev[ne++] = "PATH=/usr/bin:/bin";
			ev[ne++] = pre;
			ev[ne++] = e1;
			if (rnd(3) == 0) {	/* the same variable twice */
				e2 = slot();
				snprintf(e2, HUGE_LEN, "MLOCK_INHERIT_PRELOAD=%s",
					 hostile(setw, sizeof(setw) / sizeof(setw[0])));
				ev[ne++] = e2;
			}
			if (rnd(4) == 0)
				ev[ne++] = "MLOCK_INHERIT_PRELOAD";	/* no '=' */
		} else {
			av[na++] = (char *)mlock;
			k = rnd(6);
			while (k-- && na < MAXARGS) {
				const char *o = optw[rnd(sizeof(optw) / sizeof(optw[0]))];

				if (rnd(5) == 0) {
					av[na++] = hostile(optw, sizeof(optw) / sizeof(optw[0]));
					if (av[na - 1][0] != '-')
						av[na - 1][0] = '-';
					continue;
				}
				av[na++] = (char *)o;
				if (!strcmp(o, "-l") || !strcmp(o, "--limit") ||
				    !strcmp(o, "-m") || !strcmp(o, "--mode") ||
				    !strcmp(o, "-p") || !strcmp(o, "--pid") ||
				    !strcmp(o, "-o") || !strcmp(o, "--output"))
					av[na++] = rnd(2) ? (char *)valw[rnd(sizeof(valw) / sizeof(valw[0]))] :
						hostile(valw, sizeof(valw) / sizeof(valw[0]));
			}
			av[na++] = "--";
			av[na++] = "/bin/true";
			e3 = slot();
			snprintf(e3, HUGE_LEN, "PATH=%s", emptydir);
			ev[ne++] = e3;
			if (getenv("MLOCK_PRELOAD")) {
				char *e4 = slot();

				snprintf(e4, HUGE_LEN, "MLOCK_PRELOAD=%s",
					 getenv("MLOCK_PRELOAD"));
				ev[ne++] = e4;
			}
		}
		av[na] = NULL;
		ev[ne] = NULL;
		status = run(av, ev);
		if (status == -1) {
			skipped++;
			continue;
		}
		done++;
		if (status != RUN_HUNG && WIFEXITED(status))
			hist[WEXITSTATUS(status)]++;
		if (status == RUN_HUNG)
			bad = 1;
		else if (!strcmp(mode, "env"))
			bad = !WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
						     WEXITSTATUS(status) != 125);
		else
			/*
			 * A random word may become the command: 126 and 127
			 * (cannot run / not found) are then the right answer.
			 */
			bad = !WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
						     WEXITSTATUS(status) != 1 &&
						     WEXITSTATUS(status) != 125 &&
						     WEXITSTATUS(status) != 126 &&
						     WEXITSTATUS(status) != 127);
		if (bad) {
			fprintf(stderr, "hostile: FAIL %s seed %#" PRIx64 " iteration %ld: %s %d\n",
				mode, seed, i,
				status == RUN_HUNG ? "hung (killed after 20 s), status" :
				WIFSIGNALED(status) ? "killed by signal" : "exit status",
				status == RUN_HUNG ? -1 :
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			for (k = 0; k < na; k++) {
				char l[16];

				snprintf(l, sizeof(l), "argv[%d]", k);
				escape_print(l, av[k]);
			}
			for (k = 0; k < ne; k++)
				escape_print("env", ev[k]);
			rmdir(emptydir);
			return 1;
		}
	}
	rmdir(emptydir);
	printf("hostile %s: PASS seed=%#" PRIx64 " executions=%ld skipped_e2big=%ld exit0=%d exit1=%d exit125=%d exit126=%d exit127=%d\n",
	       mode, seed, done, skipped, hist[0], hist[1], hist[125],
	       hist[126], hist[127]);
	return 0;
}
