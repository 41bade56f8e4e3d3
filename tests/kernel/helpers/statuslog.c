// SPDX-License-Identifier: GPL-2.0
/*
 * libktstatuslog.so: an LD_PRELOAD library for the kernel-mode suite. Its
 * constructor runs in every dynamically linked process of a tree (make, sh,
 * gcc, cc1, as, collect2, ld...) right after exec, before main(), and appends
 * one line about that process to the file named by $KT_STATUSLOG:
 *
 *   comm=cc1 pid=123 ppid=120 vmlck=45678 future=1 onfault=0 inherit=1 ...
 *
 * (the fields after vmlck are the kernel's "Mlockall:" status line, or
 * mlockall=absent). One write(2) per line on an O_APPEND file, so parallel
 * processes never interleave. It never fails its host program.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[16384];

static void copy_field(const char *status, const char *key, char *out,
		       size_t len)
{
	const char *p = strstr(status, key);
	size_t n = 0;

	if (!p) {
		out[0] = '\0';
		return;
	}
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	while (p[n] && p[n] != '\n' && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

__attribute__((constructor)) static void kt_statuslog(void)
{
	const char *log = getenv("KT_STATUSLOG");
	char comm[64], vmlck[64], mla[256], line[512];
	ssize_t n;
	int fd;

	if (!log || !*log)
		return;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf + 1, sizeof(buf) - 2);
	close(fd);
	if (n <= 0)
		return;
	buf[0] = '\n';
	buf[n + 1] = '\0';
	copy_field(buf, "\nName:", comm, sizeof(comm));
	copy_field(buf, "\nVmLck:", vmlck, sizeof(vmlck));
	copy_field(buf, "\nMlockall:", mla, sizeof(mla));
	vmlck[strspn(vmlck, "0123456789")] = '\0';
	n = snprintf(line, sizeof(line), "comm=%s pid=%d ppid=%d vmlck=%s %s\n",
		     comm, (int)getpid(), (int)getppid(),
		     *vmlck ? vmlck : "?", *mla ? mla : "mlockall=absent");
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, line, n) != n) {
		/* nothing to do: the test notices a missing line */
	}
	close(fd);
}
