#!/usr/bin/env bats
# Fallback blind spots found before exec: a program of another ELF class
# than the library (32-bit on a 64-bit library), sanitizer builds (ASan),
# and a missing library.

bats_require_minimum_version 1.5.0
load test_helper

# a tiny program that prints its own VmLck line
vmlck_src() {
	cat >"$BATS_TEST_TMPDIR/vmlck.c" <<'SRC'
#include <stdio.h>
#include <string.h>
int main(void)
{
	char l[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(l, sizeof(l), f))
		if (strncmp(l, "VmLck:", 6) == 0)
			printf("vmlck_kb=%ld\n", strtol(l + 6, NULL, 10));
	return 0;
}
SRC
	sed -i '1i #include <stdlib.h>' "$BATS_TEST_TMPDIR/vmlck.c"
}

# build OUT CC FLAGS...: print the program's path, or (status 1) why it
# cannot be built here; use as t=$(build ...) || skip "$t"
build() {
	local out=$1 cc=$2
	shift 2
	command -v "$cc" >/dev/null || { echo "$cc not installed"; return 1; }
	vmlck_src
	"$cc" "$@" -o "$BATS_TEST_TMPDIR/$out" "$BATS_TEST_TMPDIR/vmlck.c" 2>"$BATS_TEST_TMPDIR/cc.err" ||
		{ echo "'$cc $*' cannot build here (for -m32: gcc-multilib): $(grep -m1 -i error "$BATS_TEST_TMPDIR/cc.err")"; return 1; }
	"$BATS_TEST_TMPDIR/$out" >/dev/null 2>&1 ||
		{ echo "'$cc $*' builds but the program does not run here"; return 1; }
	echo "$BATS_TEST_TMPDIR/$out"
}

@test "an ASan program (gcc, libasan in DT_NEEDED) is refused with 125 and a remedy" {
	skip_if_kernel_mode
	t=$(build asan gcc -fsanitize=address) || skip "$t"
	run -125 --separate-stderr "$MLOCK" -q "$t"
	assert_output ""
	[[ $stderr == *"$t is built with a sanitizer (AddressSanitizer, libasan.so"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"the runtime must come first"*"LD_PRELOAD"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"--mode kernel -f"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"--best-effort"* ]] || fail "stderr: $stderr"
	[[ $stderr != *"does not come first in initial library list"* ]] || fail "ASan's own error: $stderr"
}

@test "an ASan program with --best-effort runs unlocked with a warning" {
	skip_if_kernel_mode
	t=$(build asan gcc -fsanitize=address) || skip "$t"
	run -0 --separate-stderr "$MLOCK" -q --best-effort "$t"
	assert_unlocked vmlck_kb
	[[ $stderr == *"running $t unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
}

@test "an ASan program with the runtime linked in (clang) is refused too" {
	skip_if_kernel_mode
	t=$(build casan clang -fsanitize=address) || skip "$t"
	run -125 "$MLOCK" -q "$t"
	assert_output --partial "is built with a sanitizer (AddressSanitizer, runtime linked into the program)"
}

@test "an ASan program behind a #! script is found through the interpreter" {
	skip_if_kernel_mode
	t=$(build asan gcc -fsanitize=address) || skip "$t"
	printf '#!%s\n' "$t" >"$BATS_TEST_TMPDIR/script"
	chmod +x "$BATS_TEST_TMPDIR/script"
	run -125 "$MLOCK" -q "$BATS_TEST_TMPDIR/script"
	assert_output --partial "$t is built with a sanitizer"
}

@test "a 32-bit program on the 64-bit library is refused with 125, naming both" {
	skip_if_kernel_mode
	[[ $(od -An -tx1 -j4 -N1 "$MLOCK_PRELOAD") == " 02" ]] || skip "the library is not 64-bit"
	t=$(build m32 gcc -m32) || skip "$t"
	run -125 --separate-stderr "$MLOCK" -q "$t"
	assert_output ""
	[[ $stderr == *"$t is a 32-bit i386 program and the fallback library $MLOCK_PRELOAD is 64-bit x86-64"* ]] ||
		[[ $stderr == *"$t is a 32-bit "*" program and the fallback library "*" is 64-bit "* ]] ||
		fail "stderr: $stderr"
	[[ $stderr == *"run the program unlocked"*"MCL_INHERIT"*"MLOCK_PRELOAD"* ]] || fail "stderr: $stderr"
}

@test "a 32-bit program with --best-effort runs unlocked, without the loader's complaint" {
	skip_if_kernel_mode
	t=$(build m32 gcc -m32) || skip "$t"
	run -0 --separate-stderr "$MLOCK" -q --best-effort "$t"
	assert_unlocked vmlck_kb
	[[ $stderr == *"running $t unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
	[[ $stderr != *"wrong ELF class"* ]] || fail "the library was preloaded: $stderr"
}

@test "a 64-bit program is still locked (no false refusal)" {
	skip_if_kernel_mode
	t=$(build plain gcc) || skip "$t"
	run -0 "$MLOCK" -q "$t"
	assert_locked vmlck_kb
}

@test "a missing fallback library: the message points to MLOCK_PRELOAD and scripts/preload-path.sh" {
	skip_if_kernel_mode
	MLOCK_PRELOAD=$BATS_TEST_TMPDIR/nope.so run -125 "$MLOCK" -q true
	assert_output --partial "fallback library $BATS_TEST_TMPDIR/nope.so (set by MLOCK_PRELOAD"
	assert_output --partial 'MLOCK_PRELOAD="$(scripts/preload-path.sh)"'
	assert_output --partial "make install"
	assert_output --partial "No such file or directory"
}
