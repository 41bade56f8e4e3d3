#!/usr/bin/env bats
# mlock --pid (lock state of a running process) and mlock --probe.

bats_require_minimum_version 1.5.0
load test_helper

teardown() {
	if [[ -n ${bg_pid-} ]]; then
		kill "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
}

# Start "mlock ARGS sleep 60" in the background; wait until its exec and
# constructor are done (VmLck > 0, or the sleep image with -b for unlocked).
start_bg() {
	"$@" sleep 60 3>&- &
	bg_pid=$!
	local i
	for (( i = 0; i < 100; i++ )); do
		if [[ $(readlink "/proc/$bg_pid/exe") == */sleep ]] &&
		   grep -q '^VmLck:' "/proc/$bg_pid/status"; then
			sleep 0.1	# constructor finished
			return 0
		fi
		sleep 0.05
	done
	fail "background process $bg_pid did not start"
}

@test "--probe agrees with /proc: exit 1 and a message when the kernel lacks MCL_INHERIT" {
	if grep -q '^Mlockall:' /proc/self/status; then
		run -0 "$MLOCK" --probe
		assert_output "kernel accepts MCL_INHERIT"
	else
		run -1 "$MLOCK" --probe
		assert_output "kernel lacks MCL_INHERIT (needs the mlock-inherit patch series)"
	fi
}

@test "--probe -q prints nothing" {
	run "$MLOCK" --probe -q
	assert_output ""
	(( status == 0 || status == 1 )) || fail "status $status"
}

@test "--probe with a command fails with 125" {
	run -125 "$MLOCK" --probe true
	assert_output --partial "no command is run with --probe"
}

@test "--pid on a process started by mlock shows VmLck and the fallback" {
	start_bg "$MLOCK" -q
	run -0 "$MLOCK" --pid "$bg_pid"
	assert_line --index 0 "pid $bg_pid (sleep)"
	assert_line --regexp '^  VmLck: +[1-9][0-9]* kB$'
	if grep -q '^Mlockall:' "/proc/$bg_pid/status"; then
		assert_line --regexp '^  Mlockall: future=1 '
	else
		assert_line --partial "Mlockall: (no such line: kernel lacks MCL_INHERIT"
		assert_line --regexp "^  fallback: library mapped; setting at exec: once,strict,pid=$bg_pid(,start=[0-9]+)?\$"
	fi
}

@test "--pid --output=raw prints key=value lines" {
	start_bg "$MLOCK" -q -r
	run -0 "$MLOCK" --pid "$bg_pid" --output=raw
	assert_line "pid=$bg_pid"
	assert_line "comm=sleep"
	assert_locked vmlck_kb
	# VmLck as the kernel reports it
	want=$(awk '/^VmLck:/ { print $2 }' "/proc/$bg_pid/status")
	assert_equal "$(field vmlck_kb)" "$want"
	if grep -q '^Mlockall:' "/proc/$bg_pid/status"; then
		assert_line "kernel_mlockall=yes"
		assert_line "future=1"
		assert_line "inherit=1"
		assert_line "recursive=1"
	else
		assert_line "kernel_mlockall=no"
		refute_line --regexp '^future='
		assert_line "preload_mapped=1"
		assert_line --regexp "^preload_setting=recursive,strict,pid=$bg_pid(,start=[0-9]+)?\$"
	fi
}

@test "--pid on an unlocked process" {
	start_bg
	run -0 "$MLOCK" -p "$bg_pid" -o raw
	assert_line "vmlck_kb=0"
	assert_line "preload_mapped=0"
	assert_line "preload_setting=none"
	run -0 "$MLOCK" -p "$bg_pid"
	assert_line "  VmLck:    0 kB"
	assert_line "  fallback: library not mapped; setting at exec: none"
}

@test "--pid on a process that does not exist fails with 125" {
	# find a free PID above the current maximum in use
	pid=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	[[ ! -e /proc/$pid ]] || skip "PID $pid in use"
	run -125 "$MLOCK" --pid "$pid"
	assert_output "mlock: no process with PID $pid"
}

@test "--pid on another user's process says what it cannot read" {
	skip_unless_nobody_works
	start_bg "$MLOCK" -q
	run -0 as_nobody "$MLOCK" --pid "$bg_pid" -o raw
	assert_line "preload_mapped=unknown"
	assert_line "preload_setting=unknown"
	assert_locked vmlck_kb
}
