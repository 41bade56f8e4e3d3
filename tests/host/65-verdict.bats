#!/usr/bin/env bats
# mlock --pid as users meet it: several PIDs (pidof output), a one-word
# verdict per process with its reason, and --tree over the descendants.
# On this host (stock kernel) the fallback paths are tested; the kernel
# paths of the verdict (the Mlockall: line) run in tests/kernel/.

bats_require_minimum_version 1.5.0
load test_helper

bg_pids=()

teardown() {
	local p
	for p in "${bg_pids[@]}"; do
		pkill -P "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# start_bg CMD...: run CMD in the background, wait until it has exec'd
# its final image (not mlock) and, when locked, its constructor is done.
start_bg() {
	"$@" 3>&- &
	bg_pid=$!
	bg_pids+=("$bg_pid")
	local i exe
	for (( i = 0; i < 100; i++ )); do
		exe=$(readlink "/proc/$bg_pid/exe" 2>/dev/null) || true
		if [[ -n $exe && $exe != "$MLOCK" && $exe != */mlock ]] &&
		   grep -q '^VmLck:' "/proc/$bg_pid/status"; then
			sleep 0.2	# constructor and first forks done
			return 0
		fi
		sleep 0.05
	done
	fail "background process $bg_pid did not start"
}

verdict_of() {	# verdict_of PID: the raw verdict of one process
	"$MLOCK" -p "$1" -o raw | sed -n 's/^verdict=//p'
}

@test "-p A -p B shows both processes, in order" {
	start_bg "$MLOCK" -q sleep 60; a=$bg_pid
	start_bg sleep 60; b=$bg_pid
	run -0 "$MLOCK" -p "$a" -p "$b"
	assert_line --index 0 "pid $a (sleep)"
	assert_line "pid $b (sleep)"
	run -0 "$MLOCK" -p "$a" -p "$b" -o raw
	assert_line "pid=$a"
	assert_line "pid=$b"
	assert_equal "$(grep -c '^verdict=' <<<"$output")" 2
}

@test "-p takes pidof output: blank- or comma-separated PIDs in one argument" {
	start_bg "$MLOCK" -q sleep 60; a=$bg_pid
	start_bg sleep 60; b=$bg_pid
	for arg in "$a $b" "$a,$b" " $a  $b " "$a, $b"; do
		run -0 "$MLOCK" -p "$arg" -o raw
		assert_line "pid=$a"
		assert_line "pid=$b"
	done
	run -125 "$MLOCK" -p "$a,x"
	assert_output --partial "invalid PID 'x'"
	run -125 "$MLOCK" -p " , "
	assert_output --partial "invalid PID ' , '"
}

@test "a missing PID among several: the others are shown, the status is 125" {
	pid=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	[[ ! -e /proc/$pid ]] || skip "PID $pid in use"
	run -125 --separate-stderr "$MLOCK" -p "$$ $pid"
	assert_line --index 0 --regexp "^pid $$ \("
	[[ $stderr == *"no process with PID $pid"* ]] || fail "stderr: $stderr"
}

@test "verdict: a command started by mlock is locked, with the reason" {
	skip_if_kernel_mode
	start_bg "$MLOCK" -q sleep 60
	run -0 "$MLOCK" -p "$bg_pid"
	assert_line --regexp '^  verdict:  locked \(all [0-9]+ lockable mappings locked \([0-9]+ kB\); fallback library mapped, setting at exec once,strict,pid='"$bg_pid"',start=[0-9]+\)$'
	run -0 "$MLOCK" -p "$bg_pid" -o raw
	assert_line "verdict=locked"
	assert_line --regexp '^verdict_reason=all [0-9]+ lockable mappings locked'
	assert_equal "$(field lockable_kb)" "$(field locked_kb)"
}

@test "verdict: a process never locked is unlocked" {
	start_bg sleep 60
	run -0 "$MLOCK" -p "$bg_pid"
	assert_line --regexp '^  verdict:  unlocked \(none of [0-9]+ mappings locked \(VmLck 0 kB\); no fallback library\)$'
	assert_equal "$(verdict_of "$bg_pid")" unlocked
}

@test "verdict: a daemon forked by a once-mode command maps the library but is unlocked" {
	skip_if_kernel_mode
	# sh forks a subshell (no exec): it maps the library and its
	# /proc/PID/environ still carries the setting, but it is not locked
	start_bg "$MLOCK" -q sh -c '(while :; do sleep 1; done) & wait'
	child=$(pgrep -P "$bg_pid" -x sh | head -n 1)
	[[ -n $child ]] || fail "no forked child of $bg_pid"
	run -0 "$MLOCK" -p "$child" -o raw
	assert_line "preload_mapped=1"
	# the setting names the command, not this child
	assert_line --regexp "^preload_setting=once,strict,pid=$bg_pid,start=[0-9]+\$"
	assert_line "vmlck_kb=0"
	assert_line "verdict=unlocked"
	assert_line --partial "forked by a once-mode command"
}

@test "verdict: a process that locked part of its memory is partial" {
	coproc PROBE_CO { exec "$PROBE" lock-some 60; }
	bg_pids+=("$PROBE_CO_PID")
	read -r -u "${PROBE_CO[0]}" line
	assert_equal "$line" ready
	run -0 "$MLOCK" -p "$PROBE_CO_PID" -o raw
	assert_line "verdict=partial"
	assert_line "locked_kb=$(( 4 * $(getconf PAGESIZE) / 1024 ))"
	assert_line --regexp '^verdict_reason=1 of [0-9]+ lockable mappings locked .*first not locked: '
}

@test "verdict: a kernel thread has no memory to lock: unknown" {
	[[ $(cat /proc/2/comm 2>/dev/null) == kthreadd ]] || skip "PID 2 is not kthreadd here"
	run -0 "$MLOCK" -p 2 -o raw
	assert_line "verdict=unknown"
	assert_line "verdict_reason=no memory: kernel thread or zombie"
}

@test "verdict: another user's process is judged from VmLck alone" {
	skip_unless_nobody_works
	start_bg "$MLOCK" -q sleep 60; locked=$bg_pid
	start_bg sleep 60; unlocked=$bg_pid
	run -0 as_nobody "$MLOCK" -p "$locked" -o raw
	assert_line "lockable_kb=unknown"
	assert_line "verdict=unknown"
	assert_line --partial "mappings not readable"
	run -0 as_nobody "$MLOCK" -p "$unlocked" -o raw
	assert_line "verdict=unlocked"
}

@test "--tree: a non-recursive command is locked, its children are not; exit 1" {
	skip_if_kernel_mode
	start_bg "$MLOCK" -q sh -c 'sleep 60 & (sleep 61; :) & wait'
	run -1 "$MLOCK" -p "$bg_pid" --tree
	assert_line --index 0 --regexp "^$bg_pid sh: locked, VmLck [1-9][0-9]* kB \("
	assert_line --regexp '^  [0-9]+ sleep: unlocked, VmLck 0 kB \('
	assert_line --regexp '^  [0-9]+ sh: unlocked, VmLck 0 kB \(.*forked by a once-mode command'
	assert_line --regexp '^    [0-9]+ sleep: unlocked, VmLck 0 kB \('
	# the summary is the last line: counts, then each process not locked
	last=${lines[${#lines[@]} - 1]}
	[[ $last =~ ^1\ locked,\ 3\ not\ locked:\ [0-9]+\ sleep\ unlocked,\ [0-9]+\ (sh|sleep)\ unlocked, ]] ||
		fail "summary: $last"
}

@test "--tree: everything under mlock -r is locked; exit 0" {
	skip_if_kernel_mode
	start_bg "$MLOCK" -q -r sh -c 'sleep 60 & (sleep 61; :) & wait'
	run -0 "$MLOCK" --pid "$bg_pid" --tree
	refute_line --partial "unlocked"
	assert_equal "${lines[${#lines[@]} - 1]}" "4 locked, 0 not locked"
	run -0 "$MLOCK" --pid "$bg_pid" --tree -o raw
	assert_equal "$(grep -c '^verdict=locked$' <<<"$output")" 4
	assert_line "locked_count=4"
	assert_line "not_locked_count=0"
	assert_line "depth=2"
}

@test "--tree with several roots counts each process once" {
	skip_if_kernel_mode
	start_bg "$MLOCK" -q -r sh -c 'sleep 60 & wait'
	child=$(pgrep -P "$bg_pid" | head -n 1)
	run -0 "$MLOCK" -p "$bg_pid,$child" --tree
	assert_equal "${lines[${#lines[@]} - 1]}" "2 locked, 0 not locked"
}

@test "--tree needs --pid, and --probe refuses it" {
	run -125 "$MLOCK" --tree true
	assert_output --partial "--tree is only meaningful with --pid"
	run -125 "$MLOCK" --tree
	assert_output --partial "--tree is only meaningful with --pid"
	run -125 "$MLOCK" --probe --tree
	assert_output --partial "mutually exclusive arguments: --tree --probe"
}

@test "--tree on a missing PID fails with 125" {
	pid=$(( $(cat /proc/sys/kernel/pid_max) - 1 ))
	[[ ! -e /proc/$pid ]] || skip "PID $pid in use"
	run -125 "$MLOCK" -p "$pid" --tree
	assert_output "mlock: no process with PID $pid"
}
