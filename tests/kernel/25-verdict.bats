#!/usr/bin/env bats
# mlock --pid verdicts in kernel mode (the Mlockall: line's future bit and
# the inheritance in the reason) and --tree over kernel-locked trees.  The
# fallback side of the same code is tested on the host (65-verdict.bats).

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

setup() {
	BG_PIDS=()
}

teardown() {
	kill_bg "${BG_PIDS[@]}"
}

@test "verdict: mlock -r's command is locked, the kernel line in the reason" {
	require_inherit
	require_mlock
	start_paused --mode kernel -r "$KT"
	run -0 "$MLOCK" --pid "$PAUSED_PID" -o raw
	assert_line "kernel_mlockall=yes"
	assert_line "verdict=locked"
	assert_line --regexp '^verdict_reason=all [0-9]+ lockable mappings locked .*; kernel: mlockall, inherited by all descendants, MCL_FUTURE$'
	assert_equal "$(sed -n 's/^lockable_kb=//p' <<<"$output")" "$(sed -n 's/^locked_kb=//p' <<<"$output")"
}

@test "verdict: -f shows MCL_ONFAULT and is still locked" {
	require_inherit
	require_mlock
	start_paused --mode kernel -r -f "$KT"
	run -0 "$MLOCK" --pid "$PAUSED_PID" -o raw
	assert_line "verdict=locked"
	assert_line --regexp '^verdict_reason=.*MCL_FUTURE\|MCL_ONFAULT$'
}

@test "--tree: without -r the forked child is unlocked (future=0); exit 1" {
	require_inherit
	require_mlock
	start_paused --mode kernel "$KT" fork
	local child
	child=$(pgrep -P "$PAUSED_PID" | head -n 1)
	[[ -n $child ]] || fail "no child of $PAUSED_PID"
	BG_PIDS+=("$child")
	run -0 "$MLOCK" --pid "$child" -o raw
	assert_line "future=0"
	assert_line "verdict=unlocked"
	assert_line --partial "kernel: no MCL_FUTURE, new memory is not locked"
	run -1 "$MLOCK" --pid "$PAUSED_PID" --tree
	assert_line --index 0 --regexp "^$PAUSED_PID [^ ]+: locked, "
	assert_line --regexp "^  $child [^ ]+: unlocked, VmLck 0 kB"
	assert_equal "${lines[${#lines[@]} - 1]}" "1 locked, 1 not locked: $child $(cat "/proc/$child/comm") unlocked"
}

@test "--tree: with -r the forked child is locked too; exit 0" {
	require_inherit
	require_mlock
	start_paused --mode kernel -r "$KT" fork
	local child
	child=$(pgrep -P "$PAUSED_PID" | head -n 1)
	[[ -n $child ]] || fail "no child of $PAUSED_PID"
	# the parent waits for the paused child: kill both in teardown
	BG_PIDS+=("$child")
	run -0 "$MLOCK" --pid "$PAUSED_PID" --tree
	assert_equal "${lines[${#lines[@]} - 1]}" "2 locked, 0 not locked"
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
