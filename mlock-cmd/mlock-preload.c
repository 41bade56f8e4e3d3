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
 *	strict			a lock failure is fatal (exit 125) in the
 *				named process, and only there
 *	pid=PID			the process the setting belongs to: mlock(1)
 *				itself, hence the command, since exec keeps
 *				the PID
 *	start=TICKS		its start time (field 22 of /proc/PID/stat),
 *				against PID reuse; optional
 *
 * The constructor first decides whether it runs in the named process: the
 * PID is its own and, when both are known, so is the start time.  A
 * setting without pid= belongs to the first process that loads the
 * library with it, which records its own PID (and start time) there.
 *
 * The named process is locked, mlockall(MCL_CURRENT | MCL_FUTURE
 * [| MCL_ONFAULT]), and keeps LD_PRELOAD and the setting: every program it
 * execs itself (env, nice, chrt, sh -c 'exec ...', a wrapper script) is
 * the named process again and is locked again (SEMANTICS sections 4, 5).
 * In any other process (a child by fork, vfork or posix_spawn that exec'd):
 *
 *	once		nothing is locked, and this library's LD_PRELOAD entry
 *			and the setting are removed from the environment, so
 *			that the child's own children do not even load it;
 *	recursive	the process is locked, but a failure only warns;
 *			"strict" is removed from the setting it passes on.
 *
 * In recursive mode a pthread_atfork() child handler re-locks children
 * that fork without exec.  The environment is edited in environ[] itself,
 * not with setenv(3): a program may define its own setenv (bash does, for
 * its shell variables), and those do nothing before its main().
 *
 * A malformed setting is reported once on stderr and otherwise ignored: the
 * library never aborts the program it is loaded into.
 * Limits of this approach: Documentation/vm/mlock-command.md.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mlock-flags.h"
#include "mlock-procstat.h"

#define SETTING_MAX	128

extern char **environ;

struct setting {
	int recursive;
	int onfault;
	int strict;
	int has_pid;
	int has_start;
	pid_t pid;
	unsigned long long start;
};

static int relock_flags;

/* A decimal number of 1 to 20 digits, no sign, no blank, at most max */
static int parse_num(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	unsigned long long v = 0;
	const char *p;

	if (!*s || strlen(s) > 20)
		return -1;
	for (p = s; *p; p++) {
		unsigned int d;

		if (*p < '0' || *p > '9')
			return -1;
		d = *p - '0';
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_setting(const char *val, struct setting *st)
{
	char buf[SETTING_MAX];
	char *tok, *save = NULL;
	unsigned long long v;
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
		} else if (strncmp(tok, "pid=", 4) == 0) {
			if (st->has_pid || parse_num(tok + 4, INT_MAX, &v) < 0 ||
			    v == 0)
				return -1;
			st->pid = (pid_t)v;
			st->has_pid = 1;
		} else if (strncmp(tok, "start=", 6) == 0) {
			if (st->has_start ||
			    parse_num(tok + 6, ULLONG_MAX, &st->start) < 0)
				return -1;
			st->has_start = 1;
		} else {
			return -1;
		}
	}
	if (st->has_start && !st->has_pid)
		return -1;
	return scopes == 1 ? 0 : -1;
}

/*
 * The setting as text, without "strict" when keep_strict is 0, with the
 * pid and start time given.  Returns the length, or -1 if it does not fit.
 */
static int format_setting(char *buf, size_t len, const struct setting *st,
			  int keep_strict)
{
	char start[32] = "";
	int n;

	if (st->has_start)
		snprintf(start, sizeof(start), ",start=%llu", st->start);
	n = snprintf(buf, len, "%s%s%s,pid=%d%s",
		     st->recursive ? "recursive" : "once",
		     st->onfault ? ",onfault" : "",
		     keep_strict && st->strict ? ",strict" : "",
		     (int)st->pid, start);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/*
 * Is this the process the setting names?  A setting without a PID names
 * this process.  A start time is compared only when both are known.
 */
static int is_named_process(const struct setting *st)
{
	unsigned long long start;

	if (!st->has_pid)
		return 1;
	if (st->pid != getpid())
		return 0;
	if (st->has_start && self_starttime(&start) == 0)
		return start == st->start;
	return 1;
}

/*
 * The environment, edited in environ[] itself: setenv(3) and unsetenv(3)
 * may be the program's own (bash exports them, and before its main() they
 * change nothing).  Before main(), environ is the array main() receives.
 */

/* environ[] index of NAME=..., or -1 */
static int env_index(const char *name)
{
	size_t len = strlen(name);
	int i;

	if (!environ)
		return -1;
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], name, len) == 0 &&
		    environ[i][len] == '=')
			return i;
	return -1;
}

static const char *env_get(const char *name)
{
	int i = env_index(name);

	return i < 0 ? NULL : environ[i] + strlen(name) + 1;
}

/* remove every NAME=... entry, keeping the others in order */
static void env_unset(const char *name)
{
	size_t len = strlen(name);
	char **from, **to;

	if (!environ)
		return;
	for (from = to = environ; *from; from++)
		if (strncmp(*from, name, len) != 0 || (*from)[len] != '=')
			*to++ = *from;
	*to = NULL;
}

/*
 * Replace the value of the existing entry NAME.  *owned is the string this
 * library gave that entry last time: it is freed once no longer in environ
 * (only the fuzzer calls this twice in one process).  Returns 0 or -1.
 */
static int env_replace(const char *name, const char *value, char **owned)
{
	int i = env_index(name), j;
	size_t len = strlen(name) + strlen(value) + 2;
	char *entry, *prev = *owned;

	if (i < 0)
		return -1;
	entry = malloc(len);
	if (!entry)
		return -1;
	snprintf(entry, len, "%s=%s", name, value);
	environ[i] = entry;
	*owned = entry;
	if (prev) {
		for (j = 0; environ[j]; j++)
			if (environ[j] == prev)
				return 0;
		free(prev);
	}
	return 0;
}

static char *owned_preload, *owned_setting;

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
	const char *old = env_get("LD_PRELOAD");
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

	if (!*new)
		env_unset("LD_PRELOAD");
	else if (strcmp(new, old) != 0 &&
		 env_replace("LD_PRELOAD", new, &owned_preload) < 0)
		fputs("mlock-preload: out of memory; LD_PRELOAD left unchanged, "
		      "descendants may load the library too\n", stderr);
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

/*
 * A setting without pid= becomes this process's: record the PID (and the
 * start time), so that its own execs find it again and its children know
 * it is not theirs.
 */
static void claim_setting(struct setting *st)
{
	char buf[SETTING_MAX];

	st->pid = getpid();
	st->has_pid = 1;
	st->has_start = self_starttime(&st->start) == 0;
	if (format_setting(buf, sizeof(buf), st, 1) < 0 ||
	    env_replace(MLOCK_SETTING_ENV, buf, &owned_setting) < 0)
		fputs("mlock-preload: cannot record this process in "
		      MLOCK_SETTING_ENV "; its children may be locked too\n",
		      stderr);
}

/* the setting a recursive descendant passes on: without "strict" */
static void drop_strict(const struct setting *st)
{
	char buf[SETTING_MAX];

	if (format_setting(buf, sizeof(buf), st, 0) < 0 ||
	    env_replace(MLOCK_SETTING_ENV, buf, &owned_setting) < 0)
		fputs("mlock-preload: cannot remove 'strict' from "
		      MLOCK_SETTING_ENV " (it applies to the named process "
		      "only anyway)\n", stderr);
}

__attribute__((constructor))
static void mlock_preload_init(void)
{
	const char *val = env_get(MLOCK_SETTING_ENV);
	struct setting st;
	int flags, named, strict;

	if (!val)
		return;		/* preloaded without a setting: nothing to do */

	if (parse_setting(val, &st) < 0) {
		fprintf(stderr,
			"mlock-preload: ignoring malformed %s='%.*s': expected "
			"'once' or 'recursive', optionally with ',onfault', "
			"',strict', ',pid=PID' and ',start=TICKS'; memory is "
			"not locked\n",
			MLOCK_SETTING_ENV, SETTING_MAX, val);
		return;
	}

	named = is_named_process(&st);
	if (named && !st.has_pid)
		claim_setting(&st);

	if (!named && !st.recursive) {
		/* a child of the named process: once means not locked */
		strip_preload();
		env_unset(MLOCK_SETTING_ENV);
		return;
	}
	if (!named && st.strict)
		drop_strict(&st);
	strict = named && st.strict;

	flags = MCL_CURRENT | MCL_FUTURE | (st.onfault ? MCL_ONFAULT : 0);
	if (mlockall(flags) != 0) {
		int err = errno;

		report_lock_failure(err, strict);
		if (strict) {
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
