// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mlock-testprobe - small probes for the host test suite.
 *
 *	vmlck			print "vmlck_kb=N" and "vmsize_kb=N" for this process
 *	fork			fork without exec; parent and child each print
 *				"parent_vmlck_kb=N" / "child_vmlck_kb=N"
 *	fork-exec CMD...	fork, exec CMD in the child, wait
 *	vfork-exec CMD...	vfork, exec CMD in the child, wait
 *	spawn CMD...		posix_spawnp CMD, wait
 *				(these three then print "spawner_vmlck_kb=N",
 *				the VmLck of the probe itself)
 *	map PAGES		mmap PAGES anonymous pages after start-up and
 *				print residency before/after touching them and
 *				the VmFlags of the mapping (lk, lf)
 *	lock-some SECONDS	mlock() 4 pages of a new 8-page mapping, print
 *				"ready", then sleep (a partly locked process)
 *
 * The exit status is the child's for the exec-ing probes, 0 otherwise,
 * and 2 on any failure of the probe itself.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;

	if (!f)
		err(2, "/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		errx(2, "no %s line in /proc/self/status", key);
	return kb;
}

static long vmlck_kb(void)
{
	return status_kb("VmLck");
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		err(2, "waitpid");
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* wait for the exec'd child, then report the probe's own VmLck */
static int wait_spawned(pid_t pid)
{
	int ret = wait_child(pid);

	printf("spawner_vmlck_kb=%ld\n", vmlck_kb());
	return ret;
}

static size_t resident(unsigned char *p, size_t pages, size_t psz)
{
	unsigned char *vec = malloc(pages);
	size_t i, n = 0;

	if (!vec || mincore(p, pages * psz, vec) != 0)
		err(2, "mincore");
	for (i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

/* print the VmFlags of the smaps entry that starts at addr */
static void vmflags(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512], start[32];
	int found = 0;

	if (!f)
		err(2, "/proc/self/smaps");
	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, start, strlen(start)) == 0)
			found = 1;
		else if (found && strncmp(line, "VmFlags:", 8) == 0) {
			printf("vmflags=%s", line + 9);
			break;
		}
	}
	fclose(f);
	if (!found)
		errx(2, "mapping %p not in /proc/self/smaps", addr);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	pid_t pid;

	if (strcmp(cmd, "vmlck") == 0) {
		printf("vmlck_kb=%ld\n", vmlck_kb());
		printf("vmsize_kb=%ld\n", status_kb("VmSize"));
		return 0;
	}
	if (strcmp(cmd, "fork") == 0) {
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			err(2, "fork");
		if (pid == 0) {
			printf("child_vmlck_kb=%ld\n", vmlck_kb());
			return 0;
		}
		if (wait_child(pid) != 0)
			return 2;
		printf("parent_vmlck_kb=%ld\n", vmlck_kb());
		return 0;
	}
	if (strcmp(cmd, "fork-exec") == 0 && argc > 2) {
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			err(2, "fork");
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			err(127, "%s", argv[2]);
		}
		return wait_spawned(pid);
	}
	if (strcmp(cmd, "vfork-exec") == 0 && argc > 2) {
		fflush(stdout);
		pid = vfork();
		if (pid < 0)
			err(2, "vfork");
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		return wait_spawned(pid);
	}
	if (strcmp(cmd, "spawn") == 0 && argc > 2) {
		int e;

		fflush(stdout);
		e = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
		if (e) {
			errno = e;
			err(2, "posix_spawnp %s", argv[2]);
		}
		return wait_spawned(pid);
	}
	if (strcmp(cmd, "map") == 0 && argc == 3) {
		size_t pages = strtoul(argv[2], NULL, 10);
		size_t psz = (size_t)sysconf(_SC_PAGESIZE), i;
		unsigned char *p;

		if (pages == 0)
			errx(2, "map: PAGES must be a positive number");
		p = mmap(NULL, pages * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			err(2, "mmap");
		printf("resident_before=%zu\n", resident(p, pages, psz));
		vmflags(p);
		for (i = 0; i < pages; i++)
			p[i * psz] = 1;
		printf("resident_after=%zu\n", resident(p, pages, psz));
		printf("pages=%zu\n", pages);
		return 0;
	}
	if (strcmp(cmd, "lock-some") == 0 && argc == 3) {
		size_t psz = (size_t)sysconf(_SC_PAGESIZE);
		unsigned char *p;

		p = mmap(NULL, 8 * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			err(2, "mmap");
		if (mlock(p, 4 * psz) != 0)
			err(2, "mlock");
		printf("ready\n");
		fflush(stdout);
		sleep((unsigned int)strtoul(argv[2], NULL, 10));
		return 0;
	}
	fprintf(stderr, "usage: mlock-testprobe vmlck|fork|map PAGES|"
		"fork-exec CMD...|vfork-exec CMD...|spawn CMD...|"
		"lock-some SECONDS\n");
	return 2;
}
