// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sechelp: helper of tests/stress/security.bats and oom.sh.
 *
 *   sechelp report LABEL
 *	one line: LABEL pid= comm= at_secure= vmlck_kb= future= inherit=
 *	recursive= exec_keep= (the last four -1 without a Mlockall: line)
 *   sechelp tree LABEL
 *	report, then a fork child reports and execs "report LABEL-exec"
 *   sechelp lockexec FLAGS PROG [ARGS...]
 *	mlockall(FLAGS) then execv(PROG); FLAGS: comma list of CURRENT,
 *	FUTURE, ONFAULT, INHERIT, RECURSIVE (exit 3 if mlockall fails)
 *   sechelp alloc MIB
 *	report, mmap MIB anonymous and touch it, report again; exit 1 if
 *	VmLck ever exceeds RLIMIT_MEMLOCK without CAP_IPC_LOCK
 *   sechelp hog MIB
 *	mmap and touch MIB, then sleep until killed
 *   sechelp churn N
 *	N short-lived children, 8 at a time, that munlockall(), re-lock with
 *	MCL_INHERIT|MCL_RECURSIVE, map and touch 1 MiB, or fork and exit
 *   sechelp uffd MIB
 *	in a locked inheriting process: register MIB with userfaultfd
 *	(EVENT_FORK), drop its pages (MADV_DONTNEED_LOCKED), serve faults
 *	from a thread, fork; exit 0 when the child has run and exited; the
 *	caller's timeout detects a hang
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../mlock-cmd/mlock-flags.h"

static char statusbuf[65536];

static void read_status(void)
{
	ssize_t n = 0, r;
	int fd = open("/proc/self/status", O_RDONLY);

	statusbuf[0] = '\0';
	if (fd < 0)
		return;
	while ((r = read(fd, statusbuf + n, sizeof(statusbuf) - 1 - n)) > 0)
		n += r;
	statusbuf[n] = '\0';
	close(fd);
}

static long vmlck_kb(void)
{
	char *p;

	read_status();
	p = strstr(statusbuf, "\nVmLck:");
	return p ? strtol(p + 7, NULL, 10) : -1;
}

static void report(const char *label)
{
	int f = -1, o = -1, i = -1, r = -1, e = -1;
	char comm[64] = "?";
	long lck = vmlck_kb();
	char *p;

	p = strstr(statusbuf, "\nMlockall:");
	if (p)
		sscanf(p + 10, " future=%d onfault=%d inherit=%d recursive=%d exec_keep=%d",
		       &f, &o, &i, &r, &e);
	p = strstr(statusbuf, "Name:");
	if (p)
		sscanf(p + 5, " %63s", comm);
	printf("%s pid=%d comm=%s at_secure=%lu vmlck_kb=%ld future=%d onfault=%d inherit=%d recursive=%d exec_keep=%d\n",
	       label, (int)getpid(), comm, getauxval(AT_SECURE), lck, f, o, i,
	       r, e);
	fflush(stdout);
}

static int parse_flags(const char *s)
{
	char buf[256], *tok, *save = NULL;
	int f = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",|", &save); tok;
	     tok = strtok_r(NULL, ",|", &save)) {
		if (!strcmp(tok, "CURRENT"))
			f |= MCL_CURRENT;
		else if (!strcmp(tok, "FUTURE"))
			f |= MCL_FUTURE;
		else if (!strcmp(tok, "ONFAULT"))
			f |= MCL_ONFAULT;
		else if (!strcmp(tok, "INHERIT"))
			f |= MCL_INHERIT;
		else if (!strcmp(tok, "RECURSIVE"))
			f |= MCL_RECURSIVE;
		else {
			fprintf(stderr, "sechelp: unknown flag '%s' (CURRENT, FUTURE, ONFAULT, INHERIT, RECURSIVE)\n",
				tok);
			exit(2);
		}
	}
	return f;
}

static int has_ipc_lock(void)
{
	unsigned long long eff = 0;
	char *p;

	read_status();
	p = strstr(statusbuf, "\nCapEff:");
	if (p)
		eff = strtoull(p + 8, NULL, 16);
	return !!(eff & (1ULL << 14));
}

static void *map_touch(size_t len)
{
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (m == MAP_FAILED)
		return NULL;
	for (i = 0; i < len; i += 4096)
		m[i] = 1;
	return m;
}

static int cmd_alloc(long mib)
{
	struct rlimit rl;
	long lck;
	void *m;
	int err;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	report("alloc-start");
	m = map_touch((size_t)mib << 20);
	err = errno;
	lck = vmlck_kb();
	printf("alloc %ld MiB: %s, vmlck_kb=%ld, rlimit_memlock_kb=%ld, cap_ipc_lock=%d\n",
	       mib, m ? "mapped" : strerror(err), lck,
	       rl.rlim_cur == RLIM_INFINITY ? -1L : (long)(rl.rlim_cur >> 10),
	       has_ipc_lock());
	fflush(stdout);
	if (!has_ipc_lock() && rl.rlim_cur != RLIM_INFINITY &&
	    (unsigned long)lck > rl.rlim_cur >> 10) {
		printf("VIOLATION: VmLck %ld kB above RLIMIT_MEMLOCK %lu kB\n",
		       lck, (unsigned long)(rl.rlim_cur >> 10));
		return 1;
	}
	return 0;
}

static int uffd_fd;
static char *uffd_area;
static size_t uffd_len;

static void *uffd_server(void *arg)
{
	struct uffd_msg msg;
	struct pollfd pfd = { .fd = uffd_fd, .events = POLLIN };
	static char page[4096];

	(void)arg;
	for (;;) {
		if (poll(&pfd, 1, -1) < 0)
			continue;
		if (read(uffd_fd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event == UFFD_EVENT_FORK) {
			printf("uffd: fork event, child uffd %u\n",
			       msg.arg.fork.ufd);
			fflush(stdout);
		} else if (msg.event == UFFD_EVENT_PAGEFAULT) {
			struct uffdio_copy c = {
				.dst = msg.arg.pagefault.address & ~4095ULL,
				.src = (unsigned long)page,
				.len = 4096,
			};
			ioctl(uffd_fd, UFFDIO_COPY, &c);
		}
	}
	return NULL;
}

static int cmd_uffd(long mib)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_EVENT_FORK,
	};
	struct uffdio_register reg;
	pthread_t th;
	int status;
	pid_t pid;

	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_INHERIT)) {
		printf("mlockall(CURRENT|FUTURE|INHERIT): %s\n", strerror(errno));
		return 3;
	}
	uffd_fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd_fd < 0 || ioctl(uffd_fd, UFFDIO_API, &api)) {
		printf("userfaultfd with UFFD_FEATURE_EVENT_FORK: %s\n",
		       strerror(errno));
		return 4;
	}
	uffd_len = (size_t)mib << 20;
	/* locked (MCL_FUTURE) but never touched: empty for the child */
	uffd_area = mmap(NULL, uffd_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (uffd_area == MAP_FAILED)
		return 5;
	reg.range.start = (unsigned long)uffd_area;
	reg.range.len = uffd_len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd_fd, UFFDIO_REGISTER, &reg)) {
		printf("UFFDIO_REGISTER: %s\n", strerror(errno));
		return 6;
	}
	/* holes in a locked, registered range: the child's populate meets them */
	if (madvise(uffd_area, uffd_len, 24 /* MADV_DONTNEED_LOCKED */)) {
		printf("MADV_DONTNEED_LOCKED: %s\n", strerror(errno));
		return 10;
	}
	if (pthread_create(&th, NULL, uffd_server, NULL))
		return 7;
	report("uffd-parent");
	pid = fork();
	if (pid < 0)
		return 8;
	if (!pid) {
		report("uffd-child");
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		printf("uffd: child did not exit cleanly (status %#x)\n", status);
		return 9;
	}
	printf("uffd: child exited\n");
	return 0;
}

static int cmd_churn(long n)
{
	long i, live = 0, bad = 0;
	int status;
	pid_t pid;

	for (i = 0; i < n; i++) {
		if (live == 8) {
			if (wait(&status) > 0 && (!WIFEXITED(status) ||
						  WEXITSTATUS(status)))
				bad++;
			live--;
		}
		pid = fork();
		if (pid < 0) {
			perror("sechelp: fork");
			return 1;
		}
		if (!pid) {
			switch (i % 4) {
			case 0:
				munlockall();
				break;
			case 1:
				if (mlockall(MCL_CURRENT | MCL_FUTURE |
					     MCL_INHERIT | MCL_RECURSIVE))
					mlockall(MCL_CURRENT | MCL_FUTURE);
				break;
			case 2:
				if (!map_touch(1 << 20))
					_exit(1);
				if (i % 8 == 2)
					munlockall();
				break;
			default:
				if (fork() == 0)
					_exit(0);
				wait(NULL);
				break;
			}
			_exit(0);
		}
		live++;
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	printf("churn: %ld children, %ld failed\n", n, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "report")) {
		report(argv[2]);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "tree")) {
		char label[128];
		int status;
		pid_t pid;

		report(argv[2]);
		pid = fork();
		if (pid < 0)
			return 2;
		if (!pid) {
			snprintf(label, sizeof(label), "%s-fork", argv[2]);
			report(label);
			char self[4096];
			ssize_t n = readlink("/proc/self/exe", self,
					     sizeof(self) - 1);

			if (n <= 0)
				_exit(126);
			self[n] = '\0';
			snprintf(label, sizeof(label), "%s-fork-exec", argv[2]);
			execl(self, "sechelp", "report", label, (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if (argc >= 4 && !strcmp(argv[1], "lockexec")) {
		if (mlockall(parse_flags(argv[2]))) {
			printf("mlockall(%s): %s\n", argv[2], strerror(errno));
			return 3;
		}
		execv(argv[3], argv + 3);
		printf("exec %s: %s\n", argv[3], strerror(errno));
		return 127;
	}
	if (argc >= 3 && !strcmp(argv[1], "alloc"))
		return cmd_alloc(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "hog")) {
		if (!map_touch((size_t)atol(argv[2]) << 20))
			return 1;
		for (;;)
			pause();
	}
	if (argc >= 3 && !strcmp(argv[1], "churn"))
		return cmd_churn(atol(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "uffd"))
		return cmd_uffd(atol(argv[2]));
	fprintf(stderr, "usage: sechelp report|tree LABEL | lockexec FLAGS PROG [ARGS] | alloc MIB | hog MIB | churn N | uffd MIB\n");
	return 2;
}
