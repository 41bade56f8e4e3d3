#!/usr/bin/env bats
# Prefix commands compose (SEMANTICS v2, sections 4 and 5): the process
# that mlock starts stays locked through every program it execs itself
# (env, nice, chrt, taskset, sh -c 'exec ...', bash -c 'cmd', wrapper
# scripts ending in exec, and chains of them), while its children (fork,
# vfork, posix_spawn) are locked only with -r.  Run in fallback mode
# (--mode=preload), where the setting names the process it belongs to.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	ML=("$MLOCK" -q --mode=preload)
	wrapper=$BATS_TEST_TMPDIR/wrapper
	printf '%s\n' '#!/bin/sh' '# a wrapper script: set things up, then' \
		'export WRAPPED=1' 'exec "$@"' >"$wrapper"
	chmod 755 "$wrapper"
}

# "grep VmLck /proc/self/status" as the target: its output line
assert_grep_locked() {
	assert_output --regexp $'(^|\n)VmLck:[[:space:]]+[1-9][0-9]* kB($|\n)'
}

assert_grep_unlocked() {
	assert_output --regexp $'(^|\n)VmLck:[[:space:]]+0 kB($|\n)'
}

# --- the command's own execs stay locked --------------------------------

@test "compose: mlock env prog locks prog" {
	run -0 "${ML[@]}" env "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: mlock env VAR=1 prog locks prog (grep as the target)" {
	run -0 "${ML[@]}" env VAR=1 grep VmLck /proc/self/status
	assert_grep_locked
}

@test "compose: mlock nice -n 1 prog locks prog" {
	run -0 "${ML[@]}" nice -n 1 "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: mlock chrt --other 0 prog locks prog" {
	command -v chrt >/dev/null || skip "chrt (util-linux) not installed"
	run -0 "${ML[@]}" chrt --other 0 "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: mlock taskset -c 0 prog locks prog" {
	command -v taskset >/dev/null || skip "taskset (util-linux) not installed"
	run -0 "${ML[@]}" taskset -c 0 "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: mlock sh -c 'exec prog' locks prog" {
	run -0 "${ML[@]}" sh -c 'exec "$0" vmlck' "$PROBE"
	assert_locked vmlck_kb
}

@test "compose: mlock bash -c 'prog' (bash execs its one command) locks prog" {
	run -0 "${ML[@]}" bash -c 'grep VmLck /proc/self/status'
	assert_grep_locked
}

@test "compose: mlock bash -c 'nice prog' locks prog through both execs" {
	run -0 "${ML[@]}" bash -c 'nice -n 1 "$0" vmlck' "$PROBE"
	assert_locked vmlck_kb
}

@test "compose: mlock wrapper-script (#!/bin/sh ending in exec) locks prog" {
	run -0 "${ML[@]}" "$wrapper" "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: a chain of three, env -> nice -> wrapper, locks prog" {
	run -0 "${ML[@]}" env VAR=1 nice -n 1 "$wrapper" sh -c \
		'echo "var=$VAR wrapped=$WRAPPED"; exec "$0" vmlck' "$PROBE"
	assert_line "var=1 wrapped=1"
	assert_locked vmlck_kb
}

@test "compose: -r, env -> wrapper: prog and its children are locked" {
	run -0 "${ML[@]}" -r env "$wrapper" "$PROBE" spawn "$PROBE" vmlck
	assert_locked spawner_vmlck_kb
	assert_locked vmlck_kb
}

# --- its children are not locked without -r --------------------------------

@test "compose: a child of sh (grep after ';') is not locked" {
	run -0 "${ML[@]}" sh -c 'grep VmLck /proc/self/status; true'
	assert_grep_unlocked
}

@test "compose: a child of bash (grep after ';') is not locked" {
	run -0 "${ML[@]}" bash -c 'grep VmLck /proc/self/status; true'
	assert_grep_unlocked
}

@test "compose: -r: a child of sh is locked" {
	run -0 "${ML[@]}" -r sh -c 'grep VmLck /proc/self/status; true'
	assert_grep_locked
}

@test "compose: -r: a child of bash is locked" {
	run -0 "${ML[@]}" -r bash -c 'grep VmLck /proc/self/status; true'
	assert_grep_locked
}

@test "compose: after env, a posix_spawn child is not locked, the spawner is" {
	run -0 "${ML[@]}" env "$PROBE" spawn "$PROBE" vmlck
	assert_unlocked vmlck_kb
	assert_locked spawner_vmlck_kb
}

@test "compose: after nice, a vfork + exec child is not locked, the parent is" {
	run -0 "${ML[@]}" nice -n 1 "$PROBE" vfork-exec "$PROBE" vmlck
	assert_unlocked vmlck_kb
	assert_locked spawner_vmlck_kb
}

@test "compose: after a wrapper, a fork child is not locked, the parent is" {
	run -0 "${ML[@]}" "$wrapper" "$PROBE" fork
	assert_unlocked child_vmlck_kb
	assert_locked parent_vmlck_kb
}

@test "compose: a child's own execs are not locked either (env under a child)" {
	run -0 "${ML[@]}" "$PROBE" fork-exec env "$PROBE" vmlck
	assert_unlocked vmlck_kb
	assert_locked spawner_vmlck_kb
}

@test "compose: -r: posix_spawn and vfork children after env are locked" {
	run -0 "${ML[@]}" -r env "$PROBE" spawn "$PROBE" vmlck
	assert_locked vmlck_kb
	run -0 "${ML[@]}" -r env "$PROBE" vfork-exec "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "compose: the setting locks only the process it names (PID and start time)" {
	# the right PID and start time: the named process
	run -0 env LD_PRELOAD="$MLOCK_PRELOAD" sh -c \
		'MLOCK_INHERIT_PRELOAD="once,strict,pid=$$,start=$(cut -d" " -f22 /proc/$$/stat)" exec "$0" vmlck' "$PROBE"
	assert_locked vmlck_kb
	# another process's PID (here: the test's shell): a child's setting
	run -0 --separate-stderr env LD_PRELOAD="$MLOCK_PRELOAD" \
		MLOCK_INHERIT_PRELOAD="once,strict,pid=$$" "$PROBE" vmlck
	assert_unlocked vmlck_kb
	assert_equal "$stderr" ""
	# the right PID with another start time: PID reuse, not the process
	run -0 --separate-stderr env LD_PRELOAD="$MLOCK_PRELOAD" sh -c \
		'MLOCK_INHERIT_PRELOAD="once,strict,pid=$$,start=1" exec "$0" vmlck' "$PROBE"
	assert_unlocked vmlck_kb
	assert_equal "$stderr" ""
}

# --- strict stays in the named process ------------------------------------

# bash as the named process must fit in nobody's RLIMIT_MEMLOCK (not in the
# sanitizer pass: the UBSan runtime adds about 9 MiB to every process)
skip_unless_nobody_can_lock_bash() {
	skip_unless_nobody_works
	as_nobody "${ML[@]}" bash -c 'exit 0' 2>/dev/null ||
		skip "bash with $MLOCK_PRELOAD does not fit in nobody's RLIMIT_MEMLOCK ($(as_nobody sh -c 'ulimit -l') KiB)"
}

@test "compose: as nobody, a bash child that cannot lock is not killed by strict" {
	skip_unless_nobody_can_lock_bash
	# the limit is 0 for the child: 'strict' reaching it would mean 125
	run -0 --separate-stderr as_nobody "${ML[@]}" bash -c \
		'ulimit -l 0; grep VmLck /proc/self/status; echo "child_status=$?"'
	assert_grep_unlocked
	assert_line "child_status=0"
}

@test "compose: as nobody -r, a descendant that cannot lock warns and runs" {
	skip_unless_nobody_can_lock_bash
	run -0 --separate-stderr as_nobody "${ML[@]}" -r bash -c \
		'ulimit -l 64; grep VmLck /proc/self/status; echo "child_status=$?"'
	assert_grep_unlocked
	assert_line "child_status=0"
	[[ $stderr == *"RLIMIT_MEMLOCK is 64 KiB"*"running unlocked"* ]] || fail "stderr: $stderr"
}

@test "compose: as nobody, strict still applies to the command after its execs" {
	skip_unless_nobody_can_lock
	# env and sh fit; the probe they exec runs with a limit it exceeds
	run -125 --separate-stderr as_nobody "${ML[@]}" env sh -c \
		'ulimit -l 64; exec "$0" vmlck' "$PROBE"
	[[ $stderr == *"cannot lock the memory of mlock-testprobe"* ]] || fail "stderr: $stderr"
}
