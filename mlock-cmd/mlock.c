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
#include <dirent.h>
#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
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

/* --pid --tree results */
enum {
	TREE_ALL_LOCKED = 0,
	TREE_NOT_LOCKED = 1,
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
		     have_limit:1,
		     tree:1;
	rlim_t limit;
	pid_t *pids;			/* --pid */
	size_t npids, pids_size;
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
	      " mlock -p <pid>... [--tree] [--output=raw]\n"
	      " mlock --probe\n", out);
	fputs("\nRun a command with its memory locked (mlockall) and, with -r, the\n"
	      "memory of all its descendants.\n", out);
	fputs("\nOptions:\n"
	      " -r, --recursive       lock every descendant too (MCL_RECURSIVE)\n"
	      " -f, --on-fault        lock pages as they are faulted in (MCL_ONFAULT)\n"
	      " -l, --limit <size>    set RLIMIT_MEMLOCK first: bytes with an optional\n"
	      "                         K, M, G or T suffix (1024-based), or 'unlimited'\n"
	      "                         (bytes, unlike 'ulimit -l', which counts KiB)\n"
	      " -m, --mode <mode>     auto (default), kernel or preload\n"
	      "     --best-effort     warn and run the command unlocked when locking\n"
	      "                         is impossible at start (default: fail with\n"
	      "                         125); later mmap/malloc/pthread_create over\n"
	      "                         the limit fail all the same\n"
	      " -q, --quiet           do not announce the LD_PRELOAD fallback, nor\n"
	      "                         print the RLIMIT_MEMLOCK notes\n"
	      " -p, --pid <pid>...    show the lock state of running processes and a\n"
	      "                         verdict for each: locked, partial, unlocked or\n"
	      "                         unknown; repeat -p or give \"1 2\" or 1,2 (pidof)\n"
	      "     --tree            with --pid: each process and all its descendants,\n"
	      "                         then a summary line\n"
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
	      "  --probe: 0 if the kernel accepts MCL_INHERIT, 1 if it does not\n"
	      "  --pid: 0 if every process was read, 125 if one was not;\n"
	      "         with --tree: 0 if all are locked, 1 if any is not\n",
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

static char *read_proc(pid_t pid, const char *file, size_t *len);
static char *status_field(char *status, const char *key, char *out, size_t len);

#define CAP_IPC_LOCK_BIT 14

/* Is capability bit set in the "Cap...:" hex mask of our status? */
static int self_cap(char *status, const char *key, unsigned int bit)
{
	char v[32];

	if (!status_field(status, key, v, sizeof(v)))
		return 0;
	return (strtoull(v, NULL, 16) >> bit) & 1;
}

/*
 * Will the command have CAP_IPC_LOCK, which lets it lock without regard
 * to RLIMIT_MEMLOCK?  An exec keeps an effective capability only as an
 * ambient one, or for root (which gets its bounding set back).
 */
static int ipc_lock_after_exec(void)
{
	char *status = read_proc(getpid(), "status", NULL);
	int r = 0;

	if (!status)
		return 0;
	if (self_cap(status, "CapEff", CAP_IPC_LOCK_BIT) &&
	    (self_cap(status, "CapAmb", CAP_IPC_LOCK_BIT) ||
	     (geteuid() == 0 && self_cap(status, "CapBnd", CAP_IPC_LOCK_BIT))))
		r = 1;
	free(status);
	return r;
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
		if (errno == EPERM && ipc_lock_after_exec()) {
			/*
			 * The limit does not bind a CAP_IPC_LOCK process:
			 * go as far as the hard limit (for descendants that
			 * drop the capability) and say so.
			 */
			if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
				rl.rlim_cur = rl.rlim_max;
				setrlimit(RLIMIT_MEMLOCK, &rl);
			}
			if (!ctl->quiet)
				warnx("note: RLIMIT_MEMLOCK stays at its hard limit "
				      "%s, not %s (raising a hard limit needs "
				      "CAP_SYS_RESOURCE); the limit does not apply "
				      "to the command, which has CAP_IPC_LOCK, only "
				      "to descendants that drop it", hard, want);
			return;
		}
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

/*
 * Target checks outside setup_preload(): the fallback library must be
 * there, match the target's ELF class and machine, and the target must not
 * be built with a sanitizer runtime.
 */
struct elf_id {
	unsigned char class;		/* ELFCLASS32/64 */
	unsigned int machine;		/* EM_* */
};

static int elf_identify(int fd, struct elf_id *id, unsigned char *hdr,
			size_t *n)
{
	ssize_t r = pread(fd, hdr, 64, 0);
	uint16_t m;

	if (r < 20 || memcmp(hdr, ELFMAG, SELFMAG) != 0)
		return -1;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (hdr[EI_DATA] != ELFDATA2LSB)
		return -1;
#else
	if (hdr[EI_DATA] != ELFDATA2MSB)
		return -1;
#endif
	memcpy(&m, hdr + 18, sizeof(m));	/* e_machine, same offset in both */
	id->class = hdr[EI_CLASS];
	id->machine = m;
	*n = (size_t)r;
	return 0;
}

static const char *elf_name(const struct elf_id *id, char *buf, size_t len)
{
	const char *m;

	switch (id->machine) {
	case EM_386:
		m = "i386";
		break;
	case EM_X86_64:
		m = id->class == ELFCLASS32 ? "x32" : "x86-64";
		break;
	case EM_ARM:
		m = "arm";
		break;
	case EM_AARCH64:
		m = "aarch64";
		break;
	default:
		m = NULL;
	}
	if (m)
		snprintf(buf, len, "%d-bit %s", id->class == ELFCLASS32 ? 32 : 64, m);
	else
		snprintf(buf, len, "%d-bit machine %u",
			 id->class == ELFCLASS32 ? 32 : 64, id->machine);
	return buf;
}

/* Section headers, 32 or 64 bit, as 64-bit values. */
struct shdr {
	uint32_t type, link;
	uint64_t offset, size;
};

static int read_shdr(int fd, const unsigned char *hdr, unsigned int i,
		     struct shdr *sh)
{
	if (hdr[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		Elf64_Shdr s;

		memcpy(&eh, hdr, sizeof(eh));
		if (eh.e_shentsize < sizeof(s) || pread(fd, &s, sizeof(s),
		    (off_t)(eh.e_shoff + (uint64_t)i * eh.e_shentsize)) != sizeof(s))
			return -1;
		sh->type = s.sh_type;
		sh->link = s.sh_link;
		sh->offset = s.sh_offset;
		sh->size = s.sh_size;
	} else {
		Elf32_Ehdr eh;
		Elf32_Shdr s;

		memcpy(&eh, hdr, sizeof(eh));
		if (eh.e_shentsize < sizeof(s) || pread(fd, &s, sizeof(s),
		    (off_t)(eh.e_shoff + (uint64_t)i * eh.e_shentsize)) != sizeof(s))
			return -1;
		sh->type = s.sh_type;
		sh->link = s.sh_link;
		sh->offset = s.sh_offset;
		sh->size = s.sh_size;
	}
	return 0;
}

static unsigned int elf_shnum(const unsigned char *hdr)
{
	if (hdr[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		return eh.e_shoff ? eh.e_shnum : 0;
	} else {
		Elf32_Ehdr eh;

		memcpy(&eh, hdr, sizeof(eh));
		return eh.e_shoff ? eh.e_shnum : 0;
	}
}

/*
 * Is the program built with a sanitizer runtime?  Looks for the runtime
 * among the DT_NEEDED names and for its init symbol (__asan_init, defined
 * by clang's static runtime, referenced by gcc's instrumented code) in the
 * dynamic string table.  Writes what it found to what; 1 yes, 0 no or
 * cannot tell.
 */
static int elf_sanitizer(int fd, const unsigned char *hdr, char *what,
			 size_t wlen)
{
	static const struct {
		const char *needed, *init, *name;
	} rt[] = {
		{ "libasan.so", "__asan_init", "AddressSanitizer" },
		{ "libclang_rt.asan", "__asan_init", "AddressSanitizer" },
		{ "libhwasan.so", "__hwasan_init", "HWAddressSanitizer" },
		{ "libtsan.so", "__tsan_init", "ThreadSanitizer" },
		{ "libclang_rt.tsan", "__tsan_init", "ThreadSanitizer" },
		{ NULL, "__msan_init", "MemorySanitizer" },
	};
	unsigned int i, shnum = elf_shnum(hdr);
	struct shdr sh, str;
	char *strtab = NULL;
	int found = 0;
	size_t k;

	if (shnum == 0 || shnum > 65535)
		return 0;
	for (i = 0; i < shnum && !found; i++) {
		if (read_shdr(fd, hdr, i, &sh) != 0)
			return 0;
		if (sh.type != SHT_DYNAMIC || sh.size > (1 << 20) ||
		    read_shdr(fd, hdr, sh.link, &str) != 0 ||
		    str.size == 0 || str.size > (64 << 20))
			continue;
		strtab = malloc(str.size + 1);
		if (!strtab)
			return 0;
		if (pread(fd, strtab, str.size, (off_t)str.offset) !=
		    (ssize_t)str.size) {
			free(strtab);
			return 0;
		}
		strtab[str.size] = '\0';

		/* DT_NEEDED names */
		{
			size_t esz = hdr[EI_CLASS] == ELFCLASS64 ?
				     sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
			uint64_t off;

			for (off = 0; off + esz <= sh.size && !found; off += esz) {
				uint64_t tag, val;

				if (esz == sizeof(Elf64_Dyn)) {
					Elf64_Dyn d;

					if (pread(fd, &d, sizeof(d), (off_t)(sh.offset + off)) != sizeof(d))
						break;
					tag = (uint64_t)d.d_tag;
					val = d.d_un.d_val;
				} else {
					Elf32_Dyn d;

					if (pread(fd, &d, sizeof(d), (off_t)(sh.offset + off)) != sizeof(d))
						break;
					tag = (uint64_t)(uint32_t)d.d_tag;
					val = d.d_un.d_val;
				}
				if (tag == DT_NULL)
					break;
				if (tag != DT_NEEDED || val >= str.size)
					continue;
				for (k = 0; k < sizeof(rt) / sizeof(*rt); k++) {
					if (rt[k].needed &&
					    strncmp(strtab + val, rt[k].needed,
						    strlen(rt[k].needed)) == 0) {
						snprintf(what, wlen, "%s, %s",
							 rt[k].name, strtab + val);
						found = 1;
						break;
					}
				}
			}
		}
		/* an init symbol among the dynamic symbol names */
		for (k = 0; k < sizeof(rt) / sizeof(*rt) && !found; k++) {
			size_t l = strlen(rt[k].init);
			const char *p = strtab;

			while (p < strtab + str.size) {
				if (strncmp(p, rt[k].init, l) == 0 &&
				    (p[l] == '\0' || p[l] == '_')) {
					snprintf(what, wlen, "%s, runtime linked "
						 "into the program", rt[k].name);
					found = 1;
					break;
				}
				p += strlen(p) + 1;
			}
		}
		free(strtab);
		strtab = NULL;
	}
	return found;
}

/* Follow "#!" like the kernel (4 levels) to the ELF file that runs. */
static int open_final_elf(const char *path, char *final, size_t flen,
			  int depth)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (depth > 4)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
		char interp[PATH_MAX], *s = buf + 2, *e;

		close(fd);
		buf[n] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, " \t\n");
		if (e == s || (size_t)(e - s) >= sizeof(interp))
			return -1;
		memcpy(interp, s, e - s);
		interp[e - s] = '\0';
		return open_final_elf(interp, final, flen, depth + 1);
	}
	snprintf(final, flen, "%s", path);
	return fd;
}

static const char *fallback_library(void)
{
	const char *lib = getenv("MLOCK_PRELOAD");

	return lib && *lib ? lib : PKGLIBDIR "/" MLOCK_PRELOAD_NAME;
}

/*
 * The fallback library is missing: say where it comes from.  (The
 * library's path is resolved again, and used, by setup_preload().)
 */
static void check_library(void)
{
	const char *lib = fallback_library();

	if (access(lib, R_OK) == 0)
		return;
	err(EXIT_CANCELED, "fallback library %s (%s; the LD_PRELOAD fallback "
	    "needs it: 'make install' puts it in " PKGLIBDIR ", and in a "
	    "build tree MLOCK_PRELOAD=\"$(scripts/preload-path.sh)\" points "
	    "mlock at it)", lib, getenv("MLOCK_PRELOAD") &&
	    *getenv("MLOCK_PRELOAD") ? "set by MLOCK_PRELOAD" :
	    "the installed path");
}

/*
 * Refuse what the fallback cannot lock before setup_preload(): a program
 * of another ELF class or machine than the library (the loader ignores
 * the library there and the program runs unlocked), and sanitizer builds
 * (the runtime must be loaded first, intercepts mlockall() and maps
 * terabytes of shadow memory).  In kernel mode, a sanitizer build is
 * refused unless -f, since locking its shadow memory at once would try
 * to populate it.  Returns 1 to run the command unlocked (--best-effort).
 */
static int check_target(const struct mlock_ctl *ctl, enum lock_result how,
			const char *cmd)
{
	char target[PATH_MAX], final[PATH_MAX], san[128], a[64], b[64];
	unsigned char hdr[64], lhdr[64];
	struct elf_id tid, lid;
	size_t n, ln;
	int fd, lfd, r;

	if (!find_command(cmd, target, sizeof(target)))
		return 0;
	fd = open_final_elf(target, final, sizeof(final), 0);
	if (fd < 0)
		return 0;
	if (elf_identify(fd, &tid, hdr, &n) != 0 ||
	    elf_has_interp(fd, hdr, n) != 1) {
		close(fd);
		return 0;	/* static or not ELF: setup_preload() decides */
	}
	if (how == LOCK_FALLBACK) {
		lfd = open(fallback_library(), O_RDONLY | O_CLOEXEC);
		if (lfd >= 0) {
			r = elf_identify(lfd, &lid, lhdr, &ln);
			close(lfd);
			if (r == 0 && (lid.class != tid.class ||
				       lid.machine != tid.machine)) {
				close(fd);
				warnx("%s is a %s program and the fallback "
				      "library %s is %s: the loader would "
				      "ignore the library and run the program "
				      "unlocked; run it on a kernel with "
				      "MCL_INHERIT, or point MLOCK_PRELOAD at a "
				      "%s build of the library%s", final,
				      elf_name(&tid, a, sizeof(a)),
				      fallback_library(),
				      elf_name(&lid, b, sizeof(b)), a,
				      ctl->best_effort ? "" :
				      "; --best-effort runs it unlocked");
				goto refuse;
			}
		}
	}
	r = elf_sanitizer(fd, hdr, san, sizeof(san));
	close(fd);
	if (!r || (how == LOCK_KERNEL && ctl->onfault))
		return 0;
	if (how == LOCK_FALLBACK)
		warnx("%s is built with a sanitizer (%s): the fallback cannot "
		      "lock it (the runtime must come first, ahead of the "
		      "fallback's LD_PRELOAD entry, and makes mlockall() a "
		      "no-op); on a kernel with MCL_INHERIT use '--mode kernel "
		      "-f' (on fault: the runtime's terabytes of shadow memory "
		      "must not be populated)%s", final, san,
		      ctl->best_effort ? "" : ", or --best-effort to run it "
		      "unlocked");
	else
		warnx("%s is built with a sanitizer (%s): locking it at once "
		      "would populate the runtime's terabytes of shadow "
		      "memory; use -f (lock on fault)%s", final, san,
		      ctl->best_effort ? "" : ", or --best-effort to run it "
		      "unlocked");
refuse:
	if (!ctl->best_effort)
		exit(EXIT_CANCELED);
	warnx("running %s unlocked (--best-effort)", final);
	return 1;
}

/* Put the library in front of LD_PRELOAD and the setting in the env. */
static void setup_preload(const struct mlock_ctl *ctl, const char *cmd)
{
	const char *lib = fallback_library();
	const char *old = getenv("LD_PRELOAD");
	char libpath[PATH_MAX], target[PATH_MAX], what[PATH_MAX] = "";
	char setting[128], startstr[32] = "";
	unsigned long long start;
	char *preload;

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

#define NR_MLOCKALL_KEYS (sizeof(mlockall_keys) / sizeof(*mlockall_keys))

enum verdict {
	VERDICT_LOCKED,		/* all lockable memory locked, and new memory will be */
	VERDICT_PARTIAL,	/* some locked, or locked now but not new memory */
	VERDICT_UNLOCKED,	/* nothing locked */
	VERDICT_UNKNOWN,	/* cannot tell (no memory, unreadable) */
};

static const char *const verdict_names[] = {
	[VERDICT_LOCKED] = "locked",
	[VERDICT_PARTIAL] = "partial",
	[VERDICT_UNLOCKED] = "unlocked",
	[VERDICT_UNKNOWN] = "unknown",
};

/* What /proc says about one process. */
struct proc_info {
	pid_t pid, ppid;
	char name[256];
	char vmlck[64];			/* VmLck as shown, "none" without an mm */
	int have_vm;			/* VmLck/VmSize lines present */
	unsigned long vmlck_kb, vmsize_kb;
	int have_mla;			/* kernel Mlockall: line present */
	char mla[256];
	int mla_val[NR_MLOCKALL_KEYS];	/* future, onfault, inherit, ... */
	int mapped;			/* fallback library mapped: 0, 1, -1 unknown */
	int env_known, has_setting;
	char setting[128];
	int smaps_known;		/* the counts below are valid */
	unsigned long lockable_kb, locked_kb;
	unsigned int nr_lockable, nr_locked;
	char unlocked_map[96];		/* first lockable mapping not locked */
	enum verdict verdict;
	char reason[512];
};

/* the value of key in an Mlockall: line ("future=1 onfault=0 ..."), or 0 */
static int mla_value(const char *mla, const char *key)
{
	size_t klen = strlen(key);
	const char *p = mla;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == mla || p[-1] == ' ' || p[-1] == '\t') && p[klen] == '=')
			return atoi(p + klen + 1);
		p += klen;
	}
	return 0;
}

/*
 * Could mlockall() lock this mapping?  The kernel skips VM_IO, VM_PFNMAP,
 * VM_DONTEXPAND, VM_MIXEDMAP, hugetlb, VM_DROPPABLE and the gate area
 * (mlock_fixup()); smaps shows them as io, pf, de, mm, ht, dp, [vsyscall].
 */
static int smaps_lockable(const char *flags, const char *name)
{
	static const char *const skip[] = { "io", "pf", "de", "mm", "ht", "dp" };
	size_t i;

	if (strcmp(name, "[vsyscall]") == 0)
		return 0;
	for (i = 0; i < sizeof(skip) / sizeof(*skip); i++) {
		const char *p = flags;

		while ((p = strstr(p, skip[i])) != NULL) {
			if ((p == flags || p[-1] == ' ') &&
			    (p[2] == ' ' || p[2] == '\0' || p[2] == '\n'))
				return 0;
			p += 2;
		}
	}
	return 1;
}

static int smaps_has_flag(const char *flags, const char *flag)
{
	const char *p = flags;

	while ((p = strstr(p, flag)) != NULL) {
		if ((p == flags || p[-1] == ' ') &&
		    (p[2] == ' ' || p[2] == '\0' || p[2] == '\n'))
			return 1;
		p += 2;
	}
	return 0;
}

/* Count lockable and locked mappings from /proc/PID/smaps text. */
static void parse_smaps(struct proc_info *pi, char *smaps)
{
	unsigned long long start = 0, end = 0;
	char name[96] = "";
	char *line = smaps;

	while (line && *line) {
		char *eol = strchr(line, '\n');
		char *sp = strchr(line, ' ');

		if (eol)
			*eol = '\0';
		if (sp && sp > line && sp[-1] != ':') {
			/* "start-end perms offset dev inode [path]" */
			int off = 0;

			if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start,
				   &end, &off) >= 2 && off > 0) {
				const char *path = line + off;

				while (*path == ' ')
					path++;
				if (*path)
					snprintf(name, sizeof(name), "%s", path);
				else
					snprintf(name, sizeof(name), "%llx-%llx",
						 start, end);
			} else {
				start = end = 0;
			}
		} else if (strncmp(line, "VmFlags:", 8) == 0 && end > start) {
			unsigned long kb = (unsigned long)((end - start) / 1024);

			if (smaps_lockable(line + 8, name)) {
				pi->nr_lockable++;
				pi->lockable_kb += kb;
				if (smaps_has_flag(line + 8, "lo")) {
					pi->nr_locked++;
					pi->locked_kb += kb;
				} else if (!pi->unlocked_map[0]) {
					snprintf(pi->unlocked_map,
						 sizeof(pi->unlocked_map), "%s",
						 name);
				}
			}
			start = end = 0;
		}
		line = eol ? eol + 1 : NULL;
	}
}

/* ppid from /proc/PID/stat ("pid (comm) S ppid ..."; comm may hold ")") */
static pid_t stat_ppid(pid_t pid)
{
	char *stat = read_proc(pid, "stat", NULL);
	char *p;
	int ppid = 0;

	if (!stat)
		return -1;
	p = strrchr(stat, ')');
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	free(stat);
	return (pid_t)ppid;
}

/* Read what /proc shows of pid; -1 with errno when there is no such process. */
static int gather_proc(pid_t pid, struct proc_info *pi)
{
	char *status, *env, *maps, num[64];
	size_t envlen = 0, i;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	snprintf(pi->name, sizeof(pi->name), "?");
	status = read_proc(pid, "status", NULL);
	if (!status)
		return -1;
	status_field(status, "Name", pi->name, sizeof(pi->name));
	if (status_field(status, "VmLck", pi->vmlck, sizeof(pi->vmlck))) {
		pi->have_vm = 1;
		sscanf(pi->vmlck, "%lu", &pi->vmlck_kb);
		if (status_field(status, "VmSize", num, sizeof(num)))
			sscanf(num, "%lu", &pi->vmsize_kb);
	} else {
		snprintf(pi->vmlck, sizeof(pi->vmlck), "none");	/* kernel thread, zombie */
	}
	if (status_field(status, "PPid", num, sizeof(num)))
		pi->ppid = (pid_t)atoi(num);
	pi->have_mla = status_field(status, "Mlockall", pi->mla,
				    sizeof(pi->mla)) != NULL;
	if (pi->have_mla)
		for (i = 0; i < NR_MLOCKALL_KEYS; i++)
			pi->mla_val[i] = mla_value(pi->mla, mlockall_keys[i]);
	free(status);

	maps = read_proc(pid, "smaps", NULL);
	if (!maps) {
		pi->mapped = -1;	/* another user's process */
	} else {
		pi->mapped = strstr(maps, "/" MLOCK_PRELOAD_NAME "\n") != NULL;
		pi->smaps_known = 1;
		parse_smaps(pi, maps);
		free(maps);
	}

	env = read_proc(pid, "environ", &envlen);
	pi->env_known = env != NULL;
	if (env) {
		static const char key[] = MLOCK_SETTING_ENV "=";
		char *p;

		for (p = env; p < env + envlen; p += strlen(p) + 1) {
			if (strncmp(p, key, sizeof(key) - 1) == 0) {
				snprintf(pi->setting, sizeof(pi->setting), "%s",
					 p + sizeof(key) - 1);
				pi->has_setting = 1;
			}
		}
		free(env);
	}
	return 0;
}

/*
 * The verdict from what gather_proc() read; no /proc access here.
 *
 * Current memory: smaps says which lockable mappings are locked (lo);
 * without smaps (another user's process) only VmLck == 0 is conclusive.
 * New memory: in kernel mode the Mlockall: line's future bit; in
 * fallback mode MCL_FUTURE is invisible, and the library being mapped
 * proves nothing (a once-mode command's forked children map it unlocked),
 * so the current state decides.
 */
static void judge(struct proc_info *pi)
{
	enum { NONE, SOME, ALL, UNREADABLE } now;
	char maps[256] = "", fb[192] = "";
	int future = pi->have_mla && pi->mla_val[0];
	size_t n;

	if (!pi->have_vm) {
		pi->verdict = VERDICT_UNKNOWN;
		snprintf(pi->reason, sizeof(pi->reason),
			 "no memory: kernel thread or zombie");
		return;
	}
	if (pi->smaps_known) {
		if (pi->nr_locked == 0)
			now = NONE;
		else if (pi->nr_locked == pi->nr_lockable)
			now = ALL;
		else
			now = SOME;
		if (now == ALL)
			snprintf(maps, sizeof(maps),
				 "all %u lockable mappings locked (%lu kB)",
				 pi->nr_lockable, pi->locked_kb);
		else if (now == SOME)
			snprintf(maps, sizeof(maps),
				 "%u of %u lockable mappings locked (%lu of "
				 "%lu kB), first not locked: %s", pi->nr_locked,
				 pi->nr_lockable, pi->locked_kb,
				 pi->lockable_kb, pi->unlocked_map);
		else
			snprintf(maps, sizeof(maps),
				 "none of %u mappings locked (VmLck %lu kB)",
				 pi->nr_lockable, pi->vmlck_kb);
	} else {
		now = pi->vmlck_kb == 0 ? NONE : UNREADABLE;
		snprintf(maps, sizeof(maps), "VmLck %lu of VmSize %lu kB%s",
			 pi->vmlck_kb, pi->vmsize_kb, now == NONE ? "" :
			 ", mappings not readable (another user's process?)");
	}

	if (pi->have_mla) {
		const char *what = "mlockall";

		if (pi->mla_val[2] && pi->mla_val[3])
			what = "mlockall, inherited by all descendants";
		else if (pi->mla_val[2])
			what = "mlockall, inherited by the next generation";
		if (future)
			snprintf(fb, sizeof(fb), "kernel: %s, MCL_FUTURE%s",
				 what, pi->mla_val[1] ? "|MCL_ONFAULT" : "");
		else
			snprintf(fb, sizeof(fb),
				 "kernel: no MCL_FUTURE, new memory is not locked");
	} else if (pi->mapped > 0) {
		snprintf(fb, sizeof(fb),
			 "fallback library mapped, setting at exec %s",
			 !pi->env_known ? "unknown" :
			 pi->has_setting ? pi->setting : "none");
	} else if (pi->mapped == 0) {
		snprintf(fb, sizeof(fb), "no fallback library");
	} else {
		snprintf(fb, sizeof(fb), "fallback library unknown");
	}

	switch (now) {
	case ALL:
		pi->verdict = !pi->have_mla || future ? VERDICT_LOCKED :
							 VERDICT_PARTIAL;
		break;
	case SOME:
		pi->verdict = VERDICT_PARTIAL;
		break;
	case NONE:
		pi->verdict = future ? VERDICT_PARTIAL : VERDICT_UNLOCKED;
		break;
	case UNREADABLE:
		pi->verdict = pi->have_mla && !future ? VERDICT_PARTIAL :
							 VERDICT_UNKNOWN;
		break;
	}
	n = (size_t)snprintf(pi->reason, sizeof(pi->reason), "%s; %s", maps, fb);
	if (n < sizeof(pi->reason) && now == NONE && pi->mapped > 0 &&
	    !pi->have_mla)
		snprintf(pi->reason + n, sizeof(pi->reason) - n,
			 ": forked by a once-mode command, lock failed, or "
			 "munlockall()");
	else if (n < sizeof(pi->reason) && now == ALL && pi->mapped == 0 &&
		 !pi->have_mla)
		snprintf(pi->reason + n, sizeof(pi->reason) - n,
			 ": locked by the program itself");
}

static void print_raw(const struct proc_info *pi)
{
	size_t i;

	printf("pid=%d\nppid=%d\ncomm=%s\nvmlck_kb=%lu\n", (int)pi->pid,
	       (int)pi->ppid, pi->name, pi->vmlck_kb);
	printf("kernel_mlockall=%s\n", pi->have_mla ? "yes" : "no");
	if (pi->have_mla)
		for (i = 0; i < NR_MLOCKALL_KEYS; i++)
			printf("%s=%d\n", mlockall_keys[i], pi->mla_val[i]);
	if (pi->mapped < 0)
		printf("preload_mapped=unknown\n");
	else
		printf("preload_mapped=%d\n", pi->mapped);
	printf("preload_setting=%s\n", pi->env_known ?
	       (pi->has_setting ? pi->setting : "none") : "unknown");
	if (pi->smaps_known)
		printf("lockable_kb=%lu\nlocked_kb=%lu\n", pi->lockable_kb,
		       pi->locked_kb);
	else
		printf("lockable_kb=unknown\nlocked_kb=unknown\n");
	printf("verdict=%s\nverdict_reason=%s\n", verdict_names[pi->verdict],
	       pi->reason);
}

static void print_human(const struct proc_info *pi)
{
	printf("pid %d (%s)\n", (int)pi->pid, pi->name);
	printf("  VmLck:    %s\n", pi->vmlck);
	if (pi->have_mla)
		printf("  Mlockall: %s\n", pi->mla);
	else
		printf("  Mlockall: (no such line: kernel lacks MCL_INHERIT, "
		       "i.e. the mlock-inherit series)\n");
	printf("  fallback: library %s; setting at exec: %s\n",
	       pi->mapped < 0 ? "unknown (maps not readable)" :
	       pi->mapped ? "mapped" : "not mapped",
	       !pi->env_known ? "unknown (environ not readable)" :
	       pi->has_setting ? pi->setting : "none");
	printf("  verdict:  %s (%s)\n", verdict_names[pi->verdict], pi->reason);
}

/* --tree: every process with its parent, from one scan of /proc */
struct proc_link {
	pid_t pid, ppid;
	unsigned int shown:1;
};

struct tree_ctx {
	const struct mlock_ctl *ctl;
	struct proc_link *procs;
	size_t nprocs;
	unsigned int nr_locked, nr_not;
	char *why;			/* "pid comm verdict, ..." */
	size_t whylen, whysize;
	unsigned int nr_why;
};

static int cmp_link(const void *a, const void *b)
{
	const struct proc_link *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void scan_procs(struct tree_ctx *t)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t size = 0;

	if (!d)
		err(EXIT_CANCELED, "cannot read /proc");
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		pid_t ppid;

		if (*end || v <= 0 || v > INT_MAX)
			continue;
		ppid = stat_ppid((pid_t)v);
		if (ppid < 0)
			continue;	/* gone */
		if (t->nprocs == size) {
			struct proc_link *n;

			size = size ? size * 2 : 256;
			n = realloc(t->procs, size * sizeof(*n));
			if (!n)
				err(EXIT_CANCELED, "cannot list processes");
			t->procs = n;
		}
		t->procs[t->nprocs].pid = (pid_t)v;
		t->procs[t->nprocs].ppid = ppid;
		t->procs[t->nprocs].shown = 0;
		t->nprocs++;
	}
	closedir(d);
	if (t->nprocs)
		qsort(t->procs, t->nprocs, sizeof(*t->procs), cmp_link);
}

static void add_why(struct tree_ctx *t, const struct proc_info *pi)
{
	char item[320];
	int n;

	if (++t->nr_why > 20)
		return;		/* the count says how many in all */
	n = snprintf(item, sizeof(item), "%s%d %s %s", t->whylen ? ", " : "",
		     (int)pi->pid, pi->name, verdict_names[pi->verdict]);
	if (n < 0)
		return;
	if (t->whylen + (size_t)n + 1 > t->whysize) {
		size_t size = (t->whysize + n + 1) * 2;
		char *w = realloc(t->why, size);

		if (!w)
			return;
		t->why = w;
		t->whysize = size;
	}
	memcpy(t->why + t->whylen, item, (size_t)n + 1);
	t->whylen += (size_t)n;
}

static void show_tree_node(struct tree_ctx *t, size_t idx, unsigned int depth)
{
	struct proc_info pi;
	size_t i;

	t->procs[idx].shown = 1;
	if (gather_proc(t->procs[idx].pid, &pi) == 0) {
		judge(&pi);
		if (t->ctl->raw) {
			print_raw(&pi);
			printf("depth=%u\n\n", depth);
		} else {
			printf("%*s%d %s: %s, VmLck %s (%s)\n", (int)(2 * depth),
			       "", (int)pi.pid, pi.name,
			       verdict_names[pi.verdict], pi.vmlck, pi.reason);
		}
		if (pi.verdict == VERDICT_LOCKED) {
			t->nr_locked++;
		} else {
			t->nr_not++;
			add_why(t, &pi);
		}
	}
	if (depth >= 4096)
		return;
	for (i = 0; i < t->nprocs; i++)
		if (t->procs[i].ppid == t->procs[idx].pid && !t->procs[i].shown)
			show_tree_node(t, i, depth + 1);
}

static int show_tree(const struct mlock_ctl *ctl)
{
	struct tree_ctx t = { .ctl = ctl };
	int missing = 0;
	size_t i, j;

	scan_procs(&t);
	for (i = 0; i < ctl->npids; i++) {
		for (j = 0; j < t.nprocs; j++)
			if (t.procs[j].pid == ctl->pids[i])
				break;
		if (j == t.nprocs) {
			warnx("no process with PID %d", (int)ctl->pids[i]);
			missing = 1;
			continue;
		}
		if (!t.procs[j].shown)
			show_tree_node(&t, j, 0);
	}
	if (t.nr_locked + t.nr_not) {
		if (ctl->raw)
			printf("locked_count=%u\nnot_locked_count=%u\n",
			       t.nr_locked, t.nr_not);
		else if (t.nr_not)
			printf("%u locked, %u not locked: %s%s\n", t.nr_locked,
			       t.nr_not, t.why ? t.why : "",
			       t.nr_why > 20 ? ", ..." : "");
		else
			printf("%u locked, 0 not locked\n", t.nr_locked);
	}
	free(t.why);
	free(t.procs);
	if (missing)
		return EXIT_CANCELED;
	return t.nr_not ? TREE_NOT_LOCKED : TREE_ALL_LOCKED;
}

static int show_pids(const struct mlock_ctl *ctl)
{
	struct proc_info pi;
	int ret = EXIT_SUCCESS;
	size_t i;

	if (ctl->tree)
		return show_tree(ctl);
	for (i = 0; i < ctl->npids; i++) {
		if (gather_proc(ctl->pids[i], &pi) != 0) {
			if (errno == ENOENT || errno == ESRCH)
				warnx("no process with PID %d", (int)ctl->pids[i]);
			else
				warn("cannot read /proc/%d/status",
				     (int)ctl->pids[i]);
			ret = EXIT_CANCELED;
			continue;
		}
		judge(&pi);
		if (i)
			putchar('\n');
		if (ctl->raw)
			print_raw(&pi);
		else
			print_human(&pi);
	}
	return ret;
}

/* Add the PIDs of one -p argument: "1", "1 2" or "1,2" (pidof output). */
static void add_pids(struct mlock_ctl *ctl, const char *arg)
{
	const char *p = arg;
	int any = 0;

	for (;;) {
		char tok[32], *end;
		size_t len;
		long v;

		p += strspn(p, " \t\n,");
		if (!*p)
			break;
		len = strcspn(p, " \t\n,");
		snprintf(tok, sizeof(tok), "%.*s", (int)(len < 31 ? len : 31), p);
		errno = 0;
		v = strtol(tok, &end, 10);
		if (len >= sizeof(tok) || errno || end == tok || *end || v <= 0 ||
		    v > INT_MAX)
			errx(EXIT_CANCELED, "invalid PID '%.*s': expected a "
			     "positive process ID", (int)len, p);
		if (ctl->npids == ctl->pids_size) {
			size_t size = ctl->pids_size ? ctl->pids_size * 2 : 8;
			pid_t *n = realloc(ctl->pids, size * sizeof(*n));

			if (!n)
				err(EXIT_CANCELED, "cannot store PIDs");
			ctl->pids = n;
			ctl->pids_size = size;
		}
		ctl->pids[ctl->npids++] = (pid_t)v;
		any = 1;
		p += len;
	}
	if (!any)
		errx(EXIT_CANCELED, "invalid PID '%s': expected a positive "
		     "process ID", arg);
}

/*
 * Before exec: the command will lock under a finite RLIMIT_MEMLOCK.  Say
 * what counts against it, since the failures come later and elsewhere
 * (mmap, malloc, pthread_create), and how to raise it.
 */
static void note_limit(const struct mlock_ctl *ctl)
{
	struct rlimit rl, st;
	char soft[32], stack[32];

	if (ctl->quiet || getrlimit(RLIMIT_MEMLOCK, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur == 0 ||
	    ipc_lock_after_exec())
		return;
	fmt_size(soft, sizeof(soft), rl.rlim_cur);
	if (getrlimit(RLIMIT_STACK, &st) != 0)
		st.rlim_cur = RLIM_INFINITY;
	fmt_size(stack, sizeof(stack), st.rlim_cur);
	warnx("note: RLIMIT_MEMLOCK is %s and the command will lack "
	      "CAP_IPC_LOCK: all the memory it maps counts against the limit, "
	      "shared libraries included, %s per thread stack ('ulimit -s'), "
	      "and 64 MiB per extra malloc arena (MALLOC_ARENA_MAX bounds "
	      "them); over it, mmap(), malloc() and pthread_create() fail, "
	      "whatever --best-effort says; raise it with 'ulimit -l', "
	      "systemd's LimitMEMLOCK=, 'mlock --limit SIZE', or give "
	      "CAP_IPC_LOCK (AmbientCapabilities=CAP_IPC_LOCK) "
	      "(-q silences this note)", soft,
	      st.rlim_cur == RLIM_INFINITY ? "8 MiB or more" : stack);
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
		OPT_TREE,
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
		{ "tree",	 no_argument,	    NULL, OPT_TREE },
		{ "verbose",	 no_argument,	    NULL, 'v' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct mlock_ctl ctl = { .mode = MODE_AUTO };
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
			/* a bare number: maybe meant as KiB, like ulimit -l */
			if (optarg[strspn(optarg, "0123456789")] == '\0' &&
			    ctl.limit > 0 && ctl.limit < 1024 * 1024)
				warnx("warning: --limit %s means %s bytes: mlock "
				      "counts bytes, while 'ulimit -l' and "
				      "limits.conf count KiB; write %sK for "
				      "%s KiB (a K, M or G suffix silences "
				      "this)", optarg, optarg, optarg, optarg);
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
		case 'p':
			ctl.seen |= SEEN_PID;
			add_pids(&ctl, optarg);
			break;
		case OPT_TREE:
			ctl.seen |= SEEN_TREE;
			ctl.tree = 1;
			break;
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
	if (ctl.probe || ctl.npids) {
		if (argc > 0) {
			warnx("no command is run with %s", ctl.probe ? "--probe"
								      : "--pid");
			errtryhelp();
		}
		if (ctl.probe)
			return probe(&ctl);
		c = show_pids(&ctl);
		free(ctl.pids);
		return c;
	}
	if (argc == 0) {
		warnx("no command given");
		errtryhelp();
	}

	if (ctl.have_limit)
		set_limit(&ctl);

	how = lock_kernel(&ctl);
	if (how == LOCK_FALLBACK)
		check_library();
	if (how != LOCK_NONE && check_target(&ctl, how, argv[0])) {
		if (how == LOCK_KERNEL)
			sys_munlockall();	/* ends the inheritance state */
		how = LOCK_NONE;
	}
	if (how != LOCK_NONE)
		note_limit(&ctl);
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
