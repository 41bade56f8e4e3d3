// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libmlock-preload.so - the LD_PRELOAD fallback of mlock(1) for kernels
 * without MCL_INHERIT.
 *
 * mlock(1) execs the command with this library in LD_PRELOAD and the
 * setting in MLOCK_INHERIT_PRELOAD, a comma-separated list:
 *
 *	once | recursive	(exactly one: the scope)
 *	onfault			lock on fault (MCL_ONFAULT)
 *	strict			lock failure in this process is fatal (exit 125);
 *				set by mlock(1) for the command itself and
 *				dropped before any descendant sees it
 *
 * The constructor calls mlockall(MCL_CURRENT | MCL_FUTURE [| MCL_ONFAULT]).
 * With "once" it then removes its own LD_PRELOAD entry and the setting from
 * the environment, so the command's descendants start unlocked, as with
 * MCL_INHERIT on a patched kernel.  With "recursive" both stay, so every
 * exec'd descendant loads the library again, and a pthread_atfork() child
 * handler re-locks children that fork without exec.
 *
 * A malformed setting is reported once on stderr and otherwise ignored: the
 * library never aborts the program it is loaded into.
 * Limits of this approach: Documentation/vm/mlock-command.md.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mlock-flags.h"

#define SETTING_MAX	64

struct setting {
	int recursive;
	int onfault;
	int strict;
};

static int relock_flags;

static int parse_setting(const char *val, struct setting *st)
{
	char buf[SETTING_MAX];
	char *tok, *save = NULL;
	int scopes = 0;

	memset(st, 0, sizeof(*st));
	if (strlen(val) >= sizeof(buf))
		return -1;
	strcpy(buf, val);

	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "once") == 0) {
			scopes++;
		} else if (strcmp(tok, "recursive") == 0) {
			st->recursive = 1;
			scopes++;
		} else if (strcmp(tok, "onfault") == 0) {
			st->onfault = 1;
		} else if (strcmp(tok, "strict") == 0) {
			st->strict = 1;
		} else {
			return -1;
		}
	}
	return scopes == 1 ? 0 : -1;
}

/* Is this LD_PRELOAD entry this library? */
static int is_self(const char *entry, size_t len, const char *self)
{
	static const char name[] = MLOCK_PRELOAD_NAME;
	size_t nlen = sizeof(name) - 1;

	if (self && strlen(self) == len && memcmp(entry, self, len) == 0)
		return 1;
	if (len < nlen || memcmp(entry + len - nlen, name, nlen) != 0)
		return 0;
	return len == nlen || entry[len - nlen - 1] == '/';
}

/*
 * Drop this library from LD_PRELOAD, keeping every other entry in order.
 * ld.so splits LD_PRELOAD on blanks and colons; the result uses colons.
 */
static void strip_preload(void)
{
	const char *old = getenv("LD_PRELOAD");
	const char *self = NULL, *p;
	Dl_info info;
	char *new, *q;

	if (!old)
		return;
	if (dladdr((void *)strip_preload, &info) && info.dli_fname)
		self = info.dli_fname;

	new = malloc(strlen(old) + 1);
	if (!new) {
		fputs("mlock-preload: out of memory; LD_PRELOAD left unchanged, "
		      "descendants may be locked too\n", stderr);
		return;
	}
	q = new;
	for (p = old; *p; ) {
		size_t len = strcspn(p, ": \t");

		if (len && !is_self(p, len, self)) {
			if (q != new)
				*q++ = ':';
			memcpy(q, p, len);
			q += len;
		}
		p += len;
		if (*p)
			p++;
	}
	*q = '\0';

	if (*new)
		setenv("LD_PRELOAD", new, 1);
	else
		unsetenv("LD_PRELOAD");
	free(new);
}

static const char *progname(void)
{
#if HAVE_DECL_PROGRAM_INVOCATION_SHORT_NAME
	if (program_invocation_short_name && *program_invocation_short_name)
		return program_invocation_short_name;
#endif
	return "the command";
}

static void fmt_limit(char *buf, size_t len, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, len, "unlimited");
	else
		snprintf(buf, len, "%llu KiB", (unsigned long long)v / 1024);
}

/* VmSize of this process in KiB, or -1 */
static long vmsize_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void report_lock_failure(int err, int strict)
{
	struct rlimit rl;
	char soft[32] = "?", hard[32] = "?", size[48] = "";
	long kb = vmsize_kb();

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		fmt_limit(soft, sizeof(soft), rl.rlim_cur);
		fmt_limit(hard, sizeof(hard), rl.rlim_max);
	}
	if (err == ENOMEM && kb >= 0)
		snprintf(size, sizeof(size), " (it maps %ld KiB)", kb);
	fprintf(stderr,
		"mlock: cannot lock the memory of %s (pid %d)%s: %s\n"
		"mlock: RLIMIT_MEMLOCK is %s (hard limit %s); raise it with "
		"'ulimit -l', systemd's LimitMEMLOCK=, or 'mlock --limit SIZE'%s\n",
		progname(), (int)getpid(), size, strerror(err), soft, hard,
		strict ? "" : "; running unlocked");
}

/*
 * Runs in the child of fork() in recursive mode.  Only async-signal-safe
 * calls here: the parent may have been multi-threaded.
 */
static void relock_child(void)
{
	static const char eperm[] = "mlock-preload: forked child runs unlocked: "
		"RLIMIT_MEMLOCK is 0 (raise it with 'ulimit -l')\n";
	static const char enomem[] = "mlock-preload: forked child runs unlocked: "
		"its memory exceeds RLIMIT_MEMLOCK (raise it with 'ulimit -l')\n";
	static const char other[] = "mlock-preload: forked child runs unlocked: "
		"mlockall failed\n";
	ssize_t r;

	if (mlockall(relock_flags) == 0)
		return;
	if (errno == EPERM)
		r = write(STDERR_FILENO, eperm, sizeof(eperm) - 1);
	else if (errno == ENOMEM)
		r = write(STDERR_FILENO, enomem, sizeof(enomem) - 1);
	else
		r = write(STDERR_FILENO, other, sizeof(other) - 1);
	(void)r;
}

__attribute__((constructor))
static void mlock_preload_init(void)
{
	const char *val = getenv(MLOCK_SETTING_ENV);
	struct setting st;
	int flags;

	if (!val)
		return;		/* preloaded without a setting: nothing to do */

	if (parse_setting(val, &st) < 0) {
		fprintf(stderr,
			"mlock-preload: ignoring malformed %s='%.*s': expected "
			"'once' or 'recursive', optionally with ',onfault' and "
			"',strict'; memory is not locked\n",
			MLOCK_SETTING_ENV, SETTING_MAX, val);
		return;
	}

	flags = MCL_CURRENT | MCL_FUTURE | (st.onfault ? MCL_ONFAULT : 0);

	if (!st.recursive) {
		strip_preload();
		unsetenv(MLOCK_SETTING_ENV);
	} else if (st.strict) {
		setenv(MLOCK_SETTING_ENV, st.onfault ? "recursive,onfault"
						     : "recursive", 1);
	}

	if (mlockall(flags) != 0) {
		int err = errno;

		report_lock_failure(err, st.strict);
		if (st.strict) {
			fflush(stderr);
			_exit(125);
		}
		return;
	}

	if (st.recursive) {
		relock_flags = flags;
		if (pthread_atfork(NULL, NULL, relock_child) != 0)
			fputs("mlock-preload: pthread_atfork failed; children "
			      "that fork without exec will run unlocked\n",
			      stderr);
	}
}
