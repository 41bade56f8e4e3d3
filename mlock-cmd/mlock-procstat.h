/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The start time of this process: field 22 of /proc/self/stat, in clock
 * ticks since boot.  It survives execve(2), like the PID, and tells the
 * process from a later one that reuses its PID.  mlock(1) names itself
 * with both in the fallback setting (pid=...,start=...); the fallback
 * library compares them with its own to know whether it runs in the
 * process the setting belongs to.
 */
#ifndef MLOCK_PROCSTAT_H
#define MLOCK_PROCSTAT_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STARTTIME_FIELD	22

/*
 * The start time in the text of a stat file, or -1.  Field 2 (comm) is in
 * parentheses and may itself hold blanks and ')': the fields after it
 * start after the last ')'.
 */
static inline int stat_starttime(const char *buf, unsigned long long *start)
{
	const char *p = strrchr(buf, ')');
	unsigned long long v;
	char *end;
	int field;

	if (!p)
		return -1;
	p++;
	for (field = 3; field < STARTTIME_FIELD; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		p += strcspn(p, " ");
	}
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\n'))
		return -1;
	*start = v;
	return 0;
}

/* The start time of this process, or -1 (no /proc, another pid namespace) */
static inline int self_starttime(unsigned long long *start)
{
	char buf[1024];
	size_t n = 0;
	ssize_t r;
	int fd, saved = errno, ret;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errno = saved;
		return -1;
	}
	while (n < sizeof(buf) - 1) {
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	ret = stat_starttime(buf, start);
	errno = saved;
	return ret;
}

#endif /* MLOCK_PROCSTAT_H */
