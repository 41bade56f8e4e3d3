// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mlock - run a command with its memory locked, and its descendants' too
 *
 *	mlock [options] [--] command [args...]
 *	mlock --pid PID
 *	mlock --probe
 *
 * On a kernel with the mlock-inherit series, mlock calls
 * mlockall(MCL_FUTURE | MCL_INHERIT [| MCL_RECURSIVE] [| MCL_ONFAULT]) and
 * execs the command; the kernel locks it (and, with -r, every descendant).
 * Elsewhere it execs the command with libmlock-preload.so in LD_PRELOAD.
 * The behaviour is specified in SEMANTICS.md section 8 and described in
 * man/mlock.1 and Documentation/vm/mlock-command.md.
 */
#include "config.h"

#include <ctype.h>
#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_SYS_XATTR_H
# include <sys/xattr.h>
#endif

#include "mlock-flags.h"
#include "mlock-procstat.h"

#ifndef PKGLIBDIR
# define PKGLIBDIR "/usr/local/lib/mlock-inherit"
#endif

/* coreutils exit statuses for prefix commands */
enum {
	EXIT_CANCELED = 125,		/* mlock itself failed */
	EXIT_CANNOT_INVOKE = 126,	/* command found but not executable */
	EXIT_ENOENT = 127,		/* command not found */
};

/* what lock_kernel() decided */
enum lock_result {
	LOCK_KERNEL,		/* the kernel flags are in effect */
	LOCK_FALLBACK,		/* use the LD_PRELOAD fallback */
	LOCK_NONE,		/* run the command unlocked (--best-effort) */
};

/* probe results */
enum {
	PROBE_SUPPORTED = 0,
	PROBE_MISSING = 1,
};

enum mode {
	MODE_AUTO,
	MODE_KERNEL,
	MODE_PRELOAD,
};

enum target_kind {
	TARGET_OK,		/* dynamically linked, ordinary exec */
	TARGET_UNKNOWN,		/* not found or not inspectable: let exec decide */
	TARGET_STATIC,		/* no PT_INTERP: ld.so never runs */
	TARGET_SECURE,		/* setuid/setgid/file caps: ld.so ignores LD_PRELOAD */
};

/* options seen on the command line, for the exclusion rules */
enum {
	SEEN_RECURSIVE = 1 << 0,
	SEEN_ONFAULT = 1 << 1,
	SEEN_LIMIT = 1 << 2,
	SEEN_MODE = 1 << 3,
	SEEN_BEST_EFFORT = 1 << 4,
	SEEN_QUIET = 1 << 5,
	SEEN_PID = 1 << 6,
	SEEN_OUTPUT = 1 << 7,
	SEEN_PROBE = 1 << 8,
	SEEN_TREE = 1 << 9,
};

static const struct {
	unsigned int bit;
	const char *name;
} seen_names[] = {
	{ SEEN_RECURSIVE, "--recursive" },
	{ SEEN_ONFAULT, "--on-fault" },
	{ SEEN_LIMIT, "--limit" },
	{ SEEN_MODE, "--mode" },
	{ SEEN_BEST_EFFORT, "--best-effort" },
	{ SEEN_QUIET, "--quiet" },
	{ SEEN_PID, "--pid" },
	{ SEEN_OUTPUT, "--output" },
	{ SEEN_PROBE, "--probe" },
	{ SEEN_TREE, "--tree" },
};

struct mlock_ctl {
	unsigned int seen;		/* SEEN_* */
	enum mode mode;
	unsigned int recursive:1,
		     onfault:1,
		     best_effort:1,
		     quiet:1,
		     verbose:1,
		     raw:1,
		     probe:1,
		     have_limit:1;
	rlim_t limit;
	pid_t pid;
};

/*
 * Raw system calls: sanitizer runtimes intercept mlockall() and turn it
 * into a no-op that returns 0 (they map terabytes of shadow memory), which
 * would hide the kernel's answer to MCL_INHERIT.
 */
static int sys_mlockall(int flags)
{
	return (int)syscall(SYS_mlockall, flags);
}

static int sys_munlockall(void)
{
	return (int)syscall(SYS_munlockall);
}

static const char fallback_limits[] =
	"it cannot lock static binaries, setuid/setgid/file-capability "
	"programs, programs that clear their environment, or children made "
	"by raw clone()";

static void __attribute__((__noreturn__)) usage(void)
{
	FILE *out = stdout;

	fputs("Usage:\n"
	      " mlock [options] [--] <command> [<argument>...]\n"
	      " mlock -p <pid> [--output=raw]\n"
	      " mlock --probe\n", out);
	fputs("\nRun a command with its memory locked (mlockall) and, with -r, the\n"
	      "memory of all its descendants.\n", out);
	fputs("\nOptions:\n"
	      " -r, --recursive       lock every descendant too (MCL_RECURSIVE)\n"
	      " -f, --on-fault        lock pages as they are faulted in (MCL_ONFAULT)\n"
	      " -l, --limit <size>    set RLIMIT_MEMLOCK first: bytes with an optional\n"
	      "                         K, M, G or T suffix (1024-based), or 'unlimited'\n"
	      " -m, --mode <mode>     auto (default), kernel or preload\n"
	      "     --best-effort     warn and run the command unlocked when locking\n"
	      "                         is impossible (default: fail with 125)\n"
	      " -q, --quiet           do not announce the LD_PRELOAD fallback\n"
	      " -p, --pid <pid>       show the lock state of a running process\n"
	      " -o, --output <fmt>    --pid output: human (default) or raw (key=value)\n"
	      "     --probe           exit 0 if the kernel accepts MCL_INHERIT, 1 if not\n"
	      " -v, --verbose         say what is being done\n"
	      " -h, --help            display this help\n"
	      " -V, --version         display version\n", out);
	fputs("\nEnvironment:\n"
	      " MLOCK_PRELOAD         path of the fallback library (default:\n"
	      "                         " PKGLIBDIR "/" MLOCK_PRELOAD_NAME ")\n", out);
	fputs("\nExit status:\n"
	      "  125  if mlock itself fails\n"
	      "  126  if the command is found but cannot be invoked\n"
	      "  127  if the command cannot be found\n"
	      "  -    the exit status of the command otherwise\n"
	      "  --probe: 0 if the kernel accepts MCL_INHERIT, 1 if it does not\n",
	      out);
	fputs("\nFor more details see mlock(1).\n", out);
	exit(EXIT_SUCCESS);
}

static void __attribute__((__noreturn__)) errtryhelp(void)
{
	fprintf(stderr, "Try 'mlock --help' for more information.\n");
	exit(EXIT_CANCELED);
}

/* Report a write error on stdout (mlock --help >/dev/full) as a failure. */
static void close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		if (errno != EPIPE)
			warn("write error");
		_exit(EXIT_CANCELED);
	}
}

static void fmt_size(char *buf, size_t len, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else if (v % 1024 == 0)
		snprintf(buf, len, "%llu KiB", (unsigned long long)v / 1024);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)v);
}

/*
 * "unlimited", or a decimal byte count with an optional K, M, G or T
 * suffix (powers of 1024, either case, optionally followed by "iB").
 */
static int parse_size(const char *s, rlim_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (strcmp(s, "unlimited") == 0 || strcmp(s, "infinity") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end) {
		end++;
		if (strcmp(end, "iB") == 0)
			end += 2;
		if (*end)
			return -1;
	}
	if (shift && v > (ULLONG_MAX >> shift))
		return -1;
	v <<= shift;
	if ((rlim_t)v != v || (rlim_t)v == RLIM_INFINITY)
		return -1;
	*out = v;
	return 0;
}

static void set_limit(const struct mlock_ctl *ctl)
{
	struct rlimit rl;
	char want[32], hard[32];

	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0)
		err(EXIT_CANCELED, "cannot read RLIMIT_MEMLOCK");
	fmt_size(want, sizeof(want), ctl->limit);
	fmt_size(hard, sizeof(hard), rl.rlim_max);

	if (rl.rlim_max == RLIM_INFINITY || ctl->limit <= rl.rlim_max)
		rl.rlim_cur = ctl->limit;
	else
		rl.rlim_cur = rl.rlim_max = ctl->limit;

	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0) {
		if (errno == EPERM)
			errx(EXIT_CANCELED,
			     "cannot set RLIMIT_MEMLOCK to %s: it is above the "
			     "hard limit (%s), and raising a hard limit needs "
			     "CAP_SYS_RESOURCE; raise the hard limit where the "
			     "session starts ('ulimit -Hl' as root, LimitMEMLOCK= "
			     "in a systemd unit, 'memlock' in "
			     "/etc/security/limits.conf) or ask for at most %s",
			     want, hard, hard);
		err(EXIT_CANCELED, "cannot set RLIMIT_MEMLOCK to %s", want);
	}
	if (ctl->verbose)
		warnx("RLIMIT_MEMLOCK set to %s (hard limit %s)", want,
		      rl.rlim_max == RLIM_INFINITY ? "unlimited" :
		      (fmt_size(hard, sizeof(hard), rl.rlim_max), hard));
}

/* mlockall() failed with EPERM or ENOMEM: explain, then fail or go on. */
static void lock_failed(const struct mlock_ctl *ctl, int e)
{
	struct rlimit rl;
	char soft[32] = "?", hard[32] = "?";

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		fmt_size(soft, sizeof(soft), rl.rlim_cur);
		fmt_size(hard, sizeof(hard), rl.rlim_max);
	}
	warnx("cannot lock memory: %s: RLIMIT_MEMLOCK is %s (hard limit %s) "
	      "and the process lacks CAP_IPC_LOCK; raise the limit with "
	      "'ulimit -l', systemd's LimitMEMLOCK= or 'mlock --limit SIZE'",
	      strerror(e), soft, hard);
	if (!ctl->best_effort)
		exit(EXIT_CANCELED);
	warnx("running the command unlocked (--best-effort)");
}

/* Find the file execvp() would run, or return NULL. */
static char *find_command(const char *name, char *buf, size_t len)
{
	const char *path, *p;
	struct stat st;

	if (strchr(name, '/')) {
		if ((size_t)snprintf(buf, len, "%s", name) >= len)
			return NULL;
		return buf;
	}
	path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path; ; ) {
		size_t dlen = strcspn(p, ":");

		if (dlen == 0) {
			if ((size_t)snprintf(buf, len, "%s", name) >= len)
				return NULL;
		} else if ((size_t)snprintf(buf, len, "%.*s/%s", (int)dlen, p,
					    name) >= len) {
			goto next;
		}
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return buf;
next:
		p += dlen;
		if (!*p)
			break;
		p++;
	}
	return NULL;
}

/* Will exec of this file be a secure exec (AT_SECURE)? */
static int is_secure_exec(const char *path, const struct stat *st)
{
	struct statvfs vfs;

	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))
		return 0;
	if ((st->st_mode & S_ISUID) && st->st_uid != geteuid())
		return 1;
	if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
	    st->st_gid != getegid())
		return 1;
#ifdef HAVE_SYS_XATTR_H
	/* file capabilities make the exec secure unless we are root */
	if (getuid() != 0 &&
	    getxattr(path, "security.capability", NULL, 0) >= 0)
		return 1;
#endif
	return 0;
}

static int elf_has_interp(int fd, const unsigned char *hdr, size_t n)
{
	unsigned long long phoff;
	unsigned int phnum, phentsize, i;
	int is64 = hdr[EI_CLASS] == ELFCLASS64;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (hdr[EI_DATA] != ELFDATA2LSB)
		return -1;
#else
	if (hdr[EI_DATA] != ELFDATA2MSB)
		return -1;
#endif
	if (is64 && n >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			return -1;
	} else if (hdr[EI_CLASS] == ELFCLASS32 && n >= sizeof(Elf32_Ehdr)) {
		Elf32_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			return -1;
	} else {
		return -1;
	}
	if (phnum > 4096)
		return -1;

	for (i = 0; i < phnum; i++) {
		unsigned char ph[sizeof(Elf64_Phdr)];
		size_t want = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
		unsigned int type;

		if (pread(fd, ph, want, (off_t)(phoff + (unsigned long long)i *
						 phentsize)) != (ssize_t)want)
			return -1;
		if (is64) {
			Elf64_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type;
		} else {
			Elf32_Phdr p;

			memcpy(&p, ph, sizeof(p));
			type = p.p_type;
		}
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

/*
 * What will the fallback be able to do with this file?  Follows "#!"
 * interpreters a few levels deep, as the kernel does.
 */
static enum target_kind inspect_target(const char *path, char *what,
				       size_t wlen, int depth)
{
	unsigned char hdr[256];
	struct stat st;
	ssize_t n;
	int fd, r;

	if (depth > 4)
		return TARGET_UNKNOWN;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return TARGET_UNKNOWN;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return TARGET_UNKNOWN;
	}
	n = pread(fd, hdr, sizeof(hdr) - 1, 0);
	if (n < 4) {
		close(fd);
		return TARGET_UNKNOWN;
	}

	if (hdr[0] == '#' && hdr[1] == '!') {
		char interp[PATH_MAX];
		char *s = (char *)hdr + 2, *e;

		close(fd);
		hdr[n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, " \t\n");
		if (e == s || (size_t)(e - s) >= sizeof(interp))
			return TARGET_UNKNOWN;
		memcpy(interp, s, e - s);
		interp[e - s] = '\0';
		return inspect_target(interp, what, wlen, depth + 1);
	}

	if (memcmp(hdr, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return TARGET_UNKNOWN;
	}
	snprintf(what, wlen, "%s", path);
	if (is_secure_exec(path, &st)) {
		close(fd);
		return TARGET_SECURE;
	}
	r = elf_has_interp(fd, hdr, n);
	close(fd);
	if (r == 0)
		return TARGET_STATIC;
	return r > 0 ? TARGET_OK : TARGET_UNKNOWN;
}

/* Put the library in front of LD_PRELOAD and the setting in the env. */
static void setup_preload(const struct mlock_ctl *ctl, const char *cmd)
{
	const char *lib = getenv("MLOCK_PRELOAD");
	const char *old = getenv("LD_PRELOAD");
	char libpath[PATH_MAX], target[PATH_MAX], what[PATH_MAX] = "";
	char setting[128], startstr[32] = "";
	unsigned long long start;
	char *preload;

	if (!lib || !*lib)
		lib = PKGLIBDIR "/" MLOCK_PRELOAD_NAME;
	if (!realpath(lib, libpath))
		err(EXIT_CANCELED, "fallback library %s", lib);
	if (access(libpath, R_OK) != 0)
		err(EXIT_CANCELED, "fallback library %s", libpath);
	if (strpbrk(libpath, ": \t\n"))
		errx(EXIT_CANCELED, "fallback library path '%s' contains a colon "
		     "or blank, which LD_PRELOAD cannot carry; install it "
		     "elsewhere or set MLOCK_PRELOAD", libpath);

	/*
	 * Check the permission to lock now (EPERM: RLIMIT_MEMLOCK is 0 and
	 * no CAP_IPC_LOCK), so that the common failure is reported here.
	 * MCL_FUTURE alone locks nothing; munlockall() undoes it.
	 */
	if (sys_mlockall(MCL_FUTURE) != 0) {
		lock_failed(ctl, errno);
		return;		/* --best-effort: run unlocked */
	}
	sys_munlockall();

	if (find_command(cmd, target, sizeof(target))) {
		switch (inspect_target(target, what, sizeof(what), 0)) {
		case TARGET_STATIC:
			warnx("%s is statically linked: the LD_PRELOAD fallback "
			      "cannot lock it; run it on a kernel with "
			      "MCL_INHERIT (the mlock-inherit series)%s", what,
			      ctl->best_effort ? "" :
			      ", or use --best-effort to run it unlocked");
			goto refuse;
		case TARGET_SECURE:
			warnx("%s is setuid, setgid or has file capabilities: "
			      "the dynamic loader ignores LD_PRELOAD for it, so "
			      "the fallback cannot lock it (on a kernel with "
			      "MCL_INHERIT it is not locked either: privilege "
			      "boundary)%s", what, ctl->best_effort ? "" :
			      "; use --best-effort to run it unlocked");
			goto refuse;
		case TARGET_OK:
		case TARGET_UNKNOWN:
			break;
		}
	}

	/*
	 * The setting names this process, which becomes the command: the
	 * PID survives exec, and so does the start time, which tells it
	 * from a later process with the same PID.  The library locks (and
	 * is strict) only in the named process in once mode, and is strict
	 * only there in recursive mode (SEMANTICS section 8).
	 */
	if (self_starttime(&start) == 0)
		snprintf(startstr, sizeof(startstr), ",start=%llu", start);
	snprintf(setting, sizeof(setting), "%s%s%s,pid=%d%s",
		 ctl->recursive ? "recursive" : "once",
		 ctl->onfault ? ",onfault" : "",
		 ctl->best_effort ? "" : ",strict",
		 (int)getpid(), startstr);

	if (old && *old) {
		size_t len = strlen(libpath) + strlen(old) + 2;

		preload = malloc(len);
		if (!preload)
			err(EXIT_CANCELED, "cannot set LD_PRELOAD");
		snprintf(preload, len, "%s:%s", libpath, old);
	} else {
		preload = strdup(libpath);
		if (!preload)
			err(EXIT_CANCELED, "cannot set LD_PRELOAD");
	}
	if (setenv("LD_PRELOAD", preload, 1) != 0 ||
	    setenv(MLOCK_SETTING_ENV, setting, 1) != 0)
		err(EXIT_CANCELED, "cannot set the environment");
	if (ctl->verbose)
		warnx("fallback: LD_PRELOAD=%s %s=%s", preload,
		      MLOCK_SETTING_ENV, setting);
	free(preload);
	return;

refuse:
	if (!ctl->best_effort)
		exit(EXIT_CANCELED);
	warnx("running %s unlocked (--best-effort)", what);
}

static int kernel_flags(const struct mlock_ctl *ctl)
{
	return MCL_FUTURE | MCL_INHERIT |
	       (ctl->recursive ? MCL_RECURSIVE : 0) |
	       (ctl->onfault ? MCL_ONFAULT : 0);
}

static enum lock_result lock_kernel(const struct mlock_ctl *ctl)
{
	if (ctl->mode == MODE_PRELOAD)
		return LOCK_FALLBACK;
	if (sys_mlockall(kernel_flags(ctl)) == 0) {
		if (ctl->verbose)
			warnx("kernel mode: mlockall(MCL_FUTURE|MCL_INHERIT%s%s)",
			      ctl->recursive ? "|MCL_RECURSIVE" : "",
			      ctl->onfault ? "|MCL_ONFAULT" : "");
		return LOCK_KERNEL;
	}
	if (errno != EINVAL) {
		lock_failed(ctl, errno);
		return LOCK_NONE;
	}
	if (ctl->mode == MODE_KERNEL) {
		warnx("kernel lacks MCL_INHERIT (needs the mlock-inherit patch "
		      "series): mlockall(MCL_FUTURE|MCL_INHERIT) failed with "
		      "EINVAL; use --mode=auto or --mode=preload for the "
		      "LD_PRELOAD fallback%s",
		      ctl->best_effort ? "" : ", or --best-effort to run unlocked");
		if (!ctl->best_effort)
			exit(EXIT_CANCELED);
		warnx("running the command unlocked (--best-effort)");
		return LOCK_NONE;
	}
	if (!ctl->quiet)
		warnx("kernel lacks MCL_INHERIT; using the LD_PRELOAD fallback: "
		      "%s (-q silences this notice)", fallback_limits);
	return LOCK_FALLBACK;
}

static int probe(const struct mlock_ctl *ctl)
{
	int r = sys_mlockall(MCL_FUTURE | MCL_INHERIT);
	int e = errno;

	if (r == 0)
		sys_munlockall();
	/* EPERM/ENOMEM come after flag validation: the flags are known */
	if (r == 0 || e != EINVAL) {
		if (!ctl->quiet)
			printf("kernel accepts MCL_INHERIT\n");
		return PROBE_SUPPORTED;
	}
	if (!ctl->quiet)
		printf("kernel lacks MCL_INHERIT (needs the mlock-inherit patch series)\n");
	return PROBE_MISSING;
}

/* --pid */

static char *read_proc(pid_t pid, const char *file, size_t *len)
{
	char path[64], *buf = NULL;
	size_t size = 0, n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 1 >= size) {
			char *nb;

			size = size ? size * 2 : 4096;
			nb = realloc(buf, size);
			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, size - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* value of "Key:" in a status buffer, whitespace-trimmed, or NULL */
static char *status_field(char *status, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	char *line = status;

	while (line && *line) {
		char *eol = strchr(line, '\n');
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);

		if (llen > klen && strncmp(line, key, klen) == 0 &&
		    line[klen] == ':') {
			char *v = line + klen + 1;
			size_t vlen;

			while (*v == ' ' || *v == '\t')
				v++;
			vlen = llen - (v - line);
			if (vlen >= len)
				vlen = len - 1;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return out;
		}
		line = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static const char *const mlockall_keys[] = {
	"future", "onfault", "inherit", "recursive", "exec_keep",
};

static int show_pid(const struct mlock_ctl *ctl)
{
	char *status, *env, *maps;
	char name[256] = "?", vmlck[64] = "", mla[256], setting[128];
	int have_mla, mapped = 0, env_known, has_setting = 0;
	size_t envlen = 0, i;

	status = read_proc(ctl->pid, "status", NULL);
	if (!status) {
		if (errno == ENOENT)
			errx(EXIT_CANCELED, "no process with PID %d", (int)ctl->pid);
		err(EXIT_CANCELED, "cannot read /proc/%d/status", (int)ctl->pid);
	}
	status_field(status, "Name", name, sizeof(name));
	if (!status_field(status, "VmLck", vmlck, sizeof(vmlck)))
		snprintf(vmlck, sizeof(vmlck), "none");	/* kernel thread, zombie */
	have_mla = status_field(status, "Mlockall", mla, sizeof(mla)) != NULL;
	free(status);

	maps = read_proc(ctl->pid, "maps", NULL);
	if (!maps)
		mapped = -1;	/* another user's process */
	if (maps) {
		mapped = strstr(maps, "/" MLOCK_PRELOAD_NAME "\n") != NULL;
		free(maps);
	}

	setting[0] = '\0';
	env = read_proc(ctl->pid, "environ", &envlen);
	env_known = env != NULL;
	if (env) {
		static const char key[] = MLOCK_SETTING_ENV "=";
		char *p;

		for (p = env; p < env + envlen; p += strlen(p) + 1) {
			if (strncmp(p, key, sizeof(key) - 1) == 0) {
				snprintf(setting, sizeof(setting), "%s",
					 p + sizeof(key) - 1);
				has_setting = 1;
			}
		}
		free(env);
	}

	if (ctl->raw) {
		unsigned long kb = 0;

		sscanf(vmlck, "%lu", &kb);
		printf("pid=%d\ncomm=%s\nvmlck_kb=%lu\n", (int)ctl->pid, name, kb);
		printf("kernel_mlockall=%s\n", have_mla ? "yes" : "no");
		if (have_mla) {
			for (i = 0; i < sizeof(mlockall_keys) / sizeof(*mlockall_keys); i++) {
				char pat[32], *p;
				int v = 0;

				snprintf(pat, sizeof(pat), "%s=", mlockall_keys[i]);
				p = strstr(mla, pat);
				if (p && (p == mla || p[-1] == ' ' || p[-1] == '\t'))
					v = atoi(p + strlen(pat));
				printf("%s=%d\n", mlockall_keys[i], v);
			}
		}
		if (mapped < 0)
			printf("preload_mapped=unknown\n");
		else
			printf("preload_mapped=%d\n", mapped);
		printf("preload_setting=%s\n", env_known ?
		       (has_setting ? setting : "none") : "unknown");
		return EXIT_SUCCESS;
	}

	printf("pid %d (%s)\n", (int)ctl->pid, name);
	printf("  VmLck:    %s\n", vmlck);
	if (have_mla)
		printf("  Mlockall: %s\n", mla);
	else
		printf("  Mlockall: (no such line: kernel lacks MCL_INHERIT, "
		       "i.e. the mlock-inherit series)\n");
	printf("  fallback: library %s; setting at exec: %s\n",
	       mapped < 0 ? "unknown (maps not readable)" :
	       mapped ? "mapped" : "not mapped",
	       !env_known ? "unknown (environ not readable)" :
	       has_setting ? setting : "none");
	return EXIT_SUCCESS;
}

static const char *seen_name(unsigned int bit)
{
	size_t i;

	for (i = 0; i < sizeof(seen_names) / sizeof(*seen_names); i++)
		if (seen_names[i].bit == bit)
			return seen_names[i].name;
	return "?";
}

/*
 * Options that make no sense together, in the manner of util-linux's
 * err_exclusive_options(): "mutually exclusive arguments: A B", why,
 * and exit 125.  The first rule that matches is reported.
 */
static void check_exclusive(const struct mlock_ctl *ctl)
{
	static const struct {
		unsigned int with;	/* this option ... */
		unsigned int refused;	/* ... refuses each of these */
		const char *why;
	} rules[] = {
		{ SEEN_PID, SEEN_PROBE, NULL },
		{ SEEN_PID, SEEN_RECURSIVE | SEEN_ONFAULT | SEEN_LIMIT |
			    SEEN_MODE | SEEN_BEST_EFFORT | SEEN_QUIET,
		  "--pid only reports on running processes; the other option "
		  "applies to a command run by mlock" },
		{ SEEN_PROBE, SEEN_RECURSIVE | SEEN_ONFAULT | SEEN_LIMIT |
			      SEEN_MODE | SEEN_BEST_EFFORT | SEEN_OUTPUT |
			      SEEN_TREE,
		  "--probe only asks the kernel whether it accepts "
		  "MCL_INHERIT" },
	};
	static const struct {
		unsigned int opt, needs;
	} requires[] = {
		{ SEEN_OUTPUT, SEEN_PID },
		{ SEEN_TREE, SEEN_PID },
	};
	size_t i;
	unsigned int b;

	for (i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		if (!(ctl->seen & rules[i].with))
			continue;
		for (b = 1; b <= SEEN_TREE; b <<= 1) {
			if (!(ctl->seen & rules[i].refused & b))
				continue;
			if (rules[i].why)
				warnx("mutually exclusive arguments: %s %s (%s)",
				      seen_name(b), seen_name(rules[i].with),
				      rules[i].why);
			else
				warnx("mutually exclusive arguments: %s %s",
				      seen_name(rules[i].with), seen_name(b));
			errtryhelp();
		}
	}
	for (i = 0; i < sizeof(requires) / sizeof(*requires); i++) {
		if ((ctl->seen & requires[i].opt) &&
		    !(ctl->seen & requires[i].needs)) {
			warnx("%s is only meaningful with %s",
			      seen_name(requires[i].opt),
			      seen_name(requires[i].needs));
			errtryhelp();
		}
	}
}

int main(int argc, char **argv)
{
	enum {
		OPT_BEST_EFFORT = CHAR_MAX + 1,
		OPT_PROBE,
	};
	static const struct option longopts[] = {
		{ "recursive",	 no_argument,	    NULL, 'r' },
		{ "on-fault",	 no_argument,	    NULL, 'f' },
		{ "limit",	 required_argument, NULL, 'l' },
		{ "mode",	 required_argument, NULL, 'm' },
		{ "best-effort", no_argument,	    NULL, OPT_BEST_EFFORT },
		{ "quiet",	 no_argument,	    NULL, 'q' },
		{ "pid",	 required_argument, NULL, 'p' },
		{ "output",	 required_argument, NULL, 'o' },
		{ "probe",	 no_argument,	    NULL, OPT_PROBE },
		{ "verbose",	 no_argument,	    NULL, 'v' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct mlock_ctl ctl = { .mode = MODE_AUTO, .pid = 0 };
	enum lock_result how;
	int c;

	atexit(close_stdout);

	while ((c = getopt_long(argc, argv, "+rfl:m:qp:o:vhV", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			ctl.seen |= SEEN_RECURSIVE;
			ctl.recursive = 1;
			break;
		case 'f':
			ctl.seen |= SEEN_ONFAULT;
			ctl.onfault = 1;
			break;
		case 'l':
			ctl.seen |= SEEN_LIMIT;
			if (parse_size(optarg, &ctl.limit) < 0)
				errx(EXIT_CANCELED, "invalid --limit value '%s': "
				     "expected a byte count with an optional K, M, "
				     "G or T suffix (e.g. 64M), or 'unlimited'",
				     optarg);
			ctl.have_limit = 1;
			break;
		case 'm':
			ctl.seen |= SEEN_MODE;
			if (strcmp(optarg, "auto") == 0)
				ctl.mode = MODE_AUTO;
			else if (strcmp(optarg, "kernel") == 0)
				ctl.mode = MODE_KERNEL;
			else if (strcmp(optarg, "preload") == 0)
				ctl.mode = MODE_PRELOAD;
			else
				errx(EXIT_CANCELED, "invalid --mode '%s': expected "
				     "auto, kernel or preload", optarg);
			break;
		case OPT_BEST_EFFORT:
			ctl.seen |= SEEN_BEST_EFFORT;
			ctl.best_effort = 1;
			break;
		case 'q':
			ctl.seen |= SEEN_QUIET;
			ctl.quiet = 1;
			break;
		case 'p': {
			char *end;
			long v;

			ctl.seen |= SEEN_PID;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > INT_MAX)
				errx(EXIT_CANCELED, "invalid PID '%s': expected a "
				     "positive process ID", optarg);
			ctl.pid = (pid_t)v;
			break;
		}
		case 'o':
			ctl.seen |= SEEN_OUTPUT;
			if (strcmp(optarg, "raw") == 0)
				ctl.raw = 1;
			else if (strcmp(optarg, "human") == 0)
				ctl.raw = 0;
			else
				errx(EXIT_CANCELED, "invalid --output '%s': "
				     "expected human or raw", optarg);
			break;
		case OPT_PROBE:
			ctl.seen |= SEEN_PROBE;
			ctl.probe = 1;
			break;
		case 'v':
			ctl.verbose = 1;
			break;
		case 'h':
			usage();
		case 'V':
			printf("mlock from %s\n", PACKAGE_STRING);
			return EXIT_SUCCESS;
		default:
			errtryhelp();
		}
	}
	argc -= optind;
	argv += optind;

	check_exclusive(&ctl);
	if (ctl.probe || ctl.pid) {
		if (argc > 0) {
			warnx("no command is run with %s", ctl.probe ? "--probe"
								      : "--pid");
			errtryhelp();
		}
		return ctl.probe ? probe(&ctl) : show_pid(&ctl);
	}
	if (argc == 0) {
		warnx("no command given");
		errtryhelp();
	}

	if (ctl.have_limit)
		set_limit(&ctl);

	how = lock_kernel(&ctl);
	if (how == LOCK_FALLBACK)
		setup_preload(&ctl, argv[0]);

	fflush(stdout);
	if (ferror(stderr))
		exit(EXIT_CANCELED);
	execvp(argv[0], argv);
	c = errno;
	warnx("cannot run '%s': %s%s", argv[0], strerror(c),
	      c == ENOENT ? " (command not found)" : "");
	_exit(c == ENOENT ? EXIT_ENOENT : EXIT_CANNOT_INVOKE);
}
