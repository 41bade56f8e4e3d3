// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the --limit SIZE parser of mlock(1), parse_size() in
 * mlock-cmd/mlock.c.  The file is included so that its static functions
 * are reachable; its main() is renamed.
 *
 * Properties checked besides ASan/UBSan: a value that parses prints back
 * (fmt_size) without overflow, and its plain decimal form parses to the
 * same value.
 */
#define main mlock_cmd_main
#include "../../../mlock-cmd/mlock.c"
#undef main

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[512], out[64], dec[32];
	rlim_t v, w;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (parse_size(in, &v) < 0)
		return 0;
	fmt_size(out, sizeof(out), v);
	if (v == RLIM_INFINITY)
		return 0;
	snprintf(dec, sizeof(dec), "%llu", (unsigned long long)v);
	if (parse_size(dec, &w) < 0 || w != v) {
		fprintf(stderr, "parse_size('%s') = %s, but '%s' does not parse back\n",
			in, out, dec);
		abort();
	}
	return 0;
}
