// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the environment parsing of the fallback library
 * (mlock-cmd/mlock-preload.c): parse_setting() on MLOCK_INHERIT_PRELOAD
 * and strip_preload() on LD_PRELOAD.  Input: the setting, a NUL byte, the
 * LD_PRELOAD value.  The constructor is not called here (it would
 * mlockall() the fuzzer); hostile.c runs it for real in /bin/true.
 *
 * Properties: parse_setting accepts exactly one scope, a pid= only in
 * 1..INT_MAX and a start= only with a pid=; an accepted setting printed
 * by format_setting parses back to the same; after strip_preload no
 * LD_PRELOAD entry names the library and the other entries keep their
 * order.  stat_starttime (mlock-procstat.h) also reads the setting as if
 * it were a /proc/PID/stat line, for its robustness alone.
 */
#include "../../../mlock-cmd/mlock-preload.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void next_entry(const char **p, const char **e, size_t *len)
{
	for (;;) {
		*len = strcspn(*p, ": \t");
		*e = *p;
		*p += *len;
		if (**p)
			(*p)++;
		if (*len || !**e)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	const char *p, *q, *e, *f, *res;
	char *setting, *preload;
	size_t slen, plen, a, b;
	struct setting st;
	Dl_info info;
	const char *self = NULL;

	if (!nul || size > 65536)
		return 0;
	slen = nul - (const char *)data;
	setting = strndup((const char *)data, slen);
	plen = size - slen - 1;
	preload = malloc(plen + 1);
	if (!setting || !preload || memchr(nul + 1, '\0', plen)) {
		free(setting);
		free(preload);
		return 0;
	}
	memcpy(preload, nul + 1, plen);
	preload[plen] = '\0';

	if (parse_setting(setting, &st) == 0) {
		struct setting back;
		char buf[SETTING_MAX];

		if (!strstr(setting, "once") && !st.recursive) {
			fprintf(stderr, "accepted '%s' without a scope\n", setting);
			abort();
		}
		if ((st.has_pid && st.pid <= 0) || (st.has_start && !st.has_pid)) {
			fprintf(stderr, "accepted '%s': pid %d, start without pid\n",
				setting, (int)st.pid);
			abort();
		}
		if (st.has_pid &&
		    (format_setting(buf, sizeof(buf), &st, 1) < 0 ||
		     parse_setting(buf, &back) < 0 ||
		     memcmp(&st, &back, sizeof(st)) != 0)) {
			fprintf(stderr, "'%s' does not parse back from '%s'\n",
				setting, buf);
			abort();
		}
	}
	{
		unsigned long long start;

		(void)stat_starttime(setting, &start);
	}

	if (dladdr((void *)strip_preload, &info) && info.dli_fname)
		self = info.dli_fname;
	if (setenv("LD_PRELOAD", preload, 1)) {
		free(setting);
		free(preload);
		return 0;
	}
	strip_preload();
	res = getenv("LD_PRELOAD");
	/* walk both lists: result == original minus the library's entries */
	p = preload;
	q = res ? res : "";
	for (;;) {
		next_entry(&p, &e, &a);
		while (a && is_self(e, a, self))
			next_entry(&p, &e, &a);
		next_entry(&q, &f, &b);
		if (!a && !b)
			break;
		if (a != b || memcmp(e, f, a)) {
			fprintf(stderr, "strip_preload('%s') gave '%s'\n", preload,
				res ? res : "(unset)");
			abort();
		}
	}
	unsetenv("LD_PRELOAD");
	free(setting);
	free(preload);
	return 0;
}
