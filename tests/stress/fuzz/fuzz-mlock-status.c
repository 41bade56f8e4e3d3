// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: status_field() of mlock --pid (mlock-cmd/mlock.c),
 * which parses /proc/PID/status text, including the Mlockall: line of
 * HACKING.md.  Hostile text stands for a future or foreign kernel.
 *
 * Properties: the value is NUL-terminated inside the output buffer for
 * every output size, and never contains a newline.
 */
#define main mlock_cmd_main
#include "../../../mlock-cmd/mlock.c"
#undef main

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "Name", "VmLck", "Mlockall" };
	static const size_t lens[] = { 1, 2, 64, 256 };
	char *text, *out;
	size_t k, l;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			out = malloc(lens[l]);
			if (!out)
				break;
			if (status_field(text, keys[k], out, lens[l]) &&
			    (strlen(out) >= lens[l] || strchr(out, '\n'))) {
				fprintf(stderr, "status_field(%s, %zu) returned a bad value\n",
					keys[k], lens[l]);
				abort();
			}
			free(out);
		}
	}
	free(text);
	return 0;
}
