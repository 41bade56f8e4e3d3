// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's view of the calling process: /proc/self/status (VmLck and
 * the Mlockall: line), /proc/self/smaps (VMAs, sizes, VmFlags) and
 * /proc/self/pagemap (PTE presence).  No malloc here: the checker runs
 * between operations and must not change its own address space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inv.h"

#define MAX_VMAS	4096

long page_size;

static char filebuf[4 << 20];
static struct vma vmas[MAX_VMAS];

unsigned long slot_addr(int s)
{
	return SLOT_BASE + (unsigned long)s * WIN_PAGES * page_size;
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		r = read(fd, buf + len, size - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (!r)
			break;
		len += r;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

static bool special_name(const char *name)
{
	static const char *const names[] = {
		"[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static void parse_vmflags(const char *p, unsigned int *flags)
{
	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		if (p[0] && p[1]) {
			if (!strncmp(p, "lo", 2))
				*flags |= VF_LO;
			else if (!strncmp(p, "lf", 2))
				*flags |= VF_LF;
			else if (!strncmp(p, "dc", 2))
				*flags |= VF_DC;
			else if (!strncmp(p, "wf", 2))
				*flags |= VF_WF;
			else if (!strncmp(p, "io", 2) || !strncmp(p, "pf", 2) ||
				 !strncmp(p, "mm", 2) || !strncmp(p, "ht", 2) ||
				 !strncmp(p, "dp", 2))
				*flags |= VF_SPECIAL;
		}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
}

static int parse_smaps(struct kview *kv, char *why, size_t whylen)
{
	char *line = filebuf, *nl;
	struct vma *cur = NULL;
	unsigned long size_kb = 0;

	if (read_file("/proc/self/smaps", filebuf, sizeof(filebuf)) < 0) {
		snprintf(why, whylen, "cannot read /proc/self/smaps: %s",
			 strerror(errno));
		return -1;
	}
	kv->nvma = 0;
	kv->lo_kb = 0;
	kv->vma = vmas;
	for (; *line; line = nl + 1) {
		unsigned long a, b;
		char perms[8], name[256];
		int pos = 0;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if ((line[0] >= '0' && line[0] <= '9') ||
		    (line[0] >= 'a' && line[0] <= 'f')) {
			if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &a, &b,
				   perms, &pos) < 3) {
				snprintf(why, whylen, "bad smaps line: %s",
					 line);
				return -1;
			}
			if (kv->nvma == MAX_VMAS) {
				snprintf(why, whylen, "more than %d VMAs",
					 MAX_VMAS);
				return -1;
			}
			cur = &vmas[kv->nvma++];
			cur->start = a;
			cur->end = b;
			cur->flags = 0;
			if (perms[0] == 'r')
				cur->flags |= VF_R;
			if (perms[1] == 'w')
				cur->flags |= VF_W;
			name[0] = '\0';
			if (pos)
				sscanf(line + pos, " %255s", name);
			if (special_name(name))
				cur->flags |= VF_SPECIAL;
			if (!name[0] || !strcmp(name, "[heap]") ||
			    !strcmp(name, "[stack]"))
				cur->flags |= VF_ANON;
			size_kb = 0;
			continue;
		}
		if (!cur)
			continue;
		if (!strncmp(line, "Size:", 5))
			size_kb = strtoul(line + 5, NULL, 10);
		else if (!strncmp(line, "VmFlags:", 8)) {
			parse_vmflags(line + 8, &cur->flags);
			if (size_kb * 1024 != cur->end - cur->start) {
				snprintf(why, whylen,
					 "smaps Size %lu kB != VMA %lx-%lx",
					 size_kb, cur->start, cur->end);
				return -1;
			}
			if (cur->flags & VF_LO)
				kv->lo_kb += size_kb;
		}
	}
	return 0;
}

static int parse_status(struct kview *kv, char *why, size_t whylen)
{
	char *p;

	if (read_file("/proc/self/status", filebuf, sizeof(filebuf)) < 0) {
		snprintf(why, whylen, "cannot read /proc/self/status: %s",
			 strerror(errno));
		return -1;
	}
	p = strstr(filebuf, "\nVmLck:");
	if (!p) {
		snprintf(why, whylen, "no VmLck line in /proc/self/status");
		return -1;
	}
	kv->vmlck_kb = strtol(p + 7, NULL, 10);
	p = strstr(filebuf, "\nMlockall:");
	kv->has_line = p != NULL;
	if (!p)
		return 0;
	if (sscanf(p + 10,
		   " future=%d onfault=%d inherit=%d recursive=%d exec_keep=%d",
		   &kv->future, &kv->onfault, &kv->inherit, &kv->recursive,
		   &kv->exec_keep) != 5 ||
	    (unsigned int)(kv->future | kv->onfault | kv->inherit |
			   kv->recursive | kv->exec_keep) > 1) {
		char *e = strchr(p + 1, '\n');

		if (e)
			*e = '\0';
		snprintf(why, whylen,
			 "Mlockall: line does not follow HACKING.md: '%.120s'",
			 p + 1);
		return -1;
	}
	return 0;
}

int kview_read(struct kview *kv, char *why, size_t whylen)
{
	if (parse_status(kv, why, whylen))
		return -1;
	return parse_smaps(kv, why, whylen);
}

/*
 * 0 if every page of [addr, addr + npages) has a present PTE; 1 and the
 * first bad address otherwise; -1 on error.  A page under migration is
 * briefly not present: callers retry.
 */
int pagemap_present(unsigned long addr, unsigned long npages,
		    unsigned long *bad)
{
	static uint64_t ent[512];
	unsigned long done = 0, i, n;
	ssize_t r;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (done < npages) {
		n = npages - done;
		if (n > 512)
			n = 512;
		r = pread(fd, ent, n * 8,
			  (off_t)((addr / page_size + done) * 8));
		if (r != (ssize_t)(n * 8)) {
			close(fd);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (!(ent[i] >> 63)) {
				*bad = addr + (done + i) * page_size;
				close(fd);
				return 1;
			}
		}
		done += n;
	}
	close(fd);
	return 0;
}

int meminfo_read(long *mlocked_kb, long *unevictable_kb)
{
	char *p;

	if (read_file("/proc/meminfo", filebuf, sizeof(filebuf)) < 0)
		return -1;
	p = strstr(filebuf, "\nMlocked:");
	if (!p)
		return -1;
	*mlocked_kb = strtol(p + 9, NULL, 10);
	p = strstr(filebuf, "\nUnevictable:");
	if (!p)
		return -1;
	*unevictable_kb = strtol(p + 13, NULL, 10);
	return 0;
}
