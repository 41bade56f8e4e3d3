#!/usr/bin/env bats
# An exec whose inherited lock would exceed RLIMIT_MEMLOCK (SEMANTICS
# section 4): the exec succeeds and the program runs, unlocked, with its
# state cleared; the kernel logs one rate-limited line naming the pid, the
# command and the limit. Never a kill, never a failed exec.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
	# a copy with a recognisable comm, runnable by nobody
	LIMIT_DIR=$(public_tmpdir)
	export LIMIT_DIR
	cp "$KT" "$LIMIT_DIR/kt"
	cp "$KT" "$LIMIT_DIR/kt-overlimit"
	chmod 755 "$LIMIT_DIR"/kt*
}

teardown_file() {
	[[ -n ${LIMIT_DIR:-} ]] && rm -rf "$LIMIT_DIR"
}

setup() {
	[[ $BATS_TEST_DESCRIPTION == Mlocked* ]] && return 0
	require_inherit
	require_root
	require_mlock
	DMESG_MARK=$(dmesg | wc -l)
}

# new_kernel_lines PATTERN: kernel log lines since setup() matching PATTERN
new_kernel_lines() {
	dmesg | tail -n +"$((DMESG_MARK + 1))" | grep -E -- "$1" || true
}

# assert_one_limit_line PID LIMIT_KB: exactly one new kernel line names PID,
# and it names the command (kt-overlimit) and the limit.
assert_one_limit_line() {
	local pid=$1 kb=$2 lines n
	lines=$(new_kernel_lines "kt-overlimit")
	n=$(grep -c -w -- "$pid" <<<"$lines" || true)
	[[ $n == 1 ]] ||
		fail "$(printf 'expected one kernel line naming pid %s and kt-overlimit, got %s:\n%s\n(all new kernel lines:\n%s)' \
			"$pid" "$n" "$lines" "$(new_kernel_lines .)")"
	local line
	line=$(grep -w -- "$pid" <<<"$lines")
	[[ $line =~ (^|[^0-9])($((kb * 1024))|$kb[[:space:]]?[kK]|$((kb / 4))[[:space:]]pages) ]] ||
		fail "the kernel line does not name the limit ($kb KiB): $line"
}

@test "mlock -r of a program over nobody's RLIMIT_MEMLOCK: runs, exits 0, unlocked, state cleared, one kernel line" {
	run -0 as_nobody 64 "$MLOCK" --mode kernel -r "$LIMIT_DIR/kt-overlimit" \
		report O fork report OF exec "$LIMIT_DIR/kt" report OFE
	assert_kt O uid 65534
	assert_kt_unlocked O
	assert_kt_state O "$STATE_NONE"
	# nothing left to inherit: the state was cleared, not kept
	assert_kt_unlocked OF
	assert_kt_state OF "$STATE_NONE"
	assert_kt_unlocked OFE
	assert_kt_state OFE "$STATE_NONE"
	assert_one_limit_line "$(kt_get O pid)" 64
}

@test "an exec over a limit lowered inside a locked tree: the exec'd program runs unlocked, the rest of the tree stays locked" {
	run -0 as_nobody 8192 "$MLOCK" --mode kernel -r "$LIMIT_DIR/kt" report A \
		fork rlimit-memlock 128 exec "$LIMIT_DIR/kt-overlimit" report O fork report OF
	assert_kt_locked A
	assert_kt_state A "$STATE_RECURSIVE"
	assert_kt_unlocked O
	assert_kt_state O "$STATE_NONE"
	assert_kt_unlocked OF
	assert_kt_state OF "$STATE_NONE"
	assert_one_limit_line "$(kt_get O pid)" 128
}

@test "non-recursive mlock over the limit: the command runs unlocked and exits with its own status" {
	run -7 as_nobody 64 "$MLOCK" --mode kernel "$LIMIT_DIR/kt-overlimit" report O exit 7
	assert_kt_unlocked O
	assert_kt_state O "$STATE_NONE"
	assert_one_limit_line "$(kt_get O pid)" 64
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
