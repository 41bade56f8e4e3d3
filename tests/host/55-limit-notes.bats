#!/usr/bin/env bats
# RLIMIT_MEMLOCK as users meet it: --limit for a CAP_IPC_LOCK process that
# cannot raise the hard limit, a bare --limit number (bytes, not KiB), and
# the note before exec on what counts against a finite limit.

bats_require_minimum_version 1.5.0
load test_helper

# root with CAP_IPC_LOCK but without CAP_SYS_RESOURCE, hard limit 8 MiB
# (dropped from the bounding set: root gets the rest back at exec)
as_root_without_sys_resource() {
	bash -c 'ulimit -l 8192 && ulimit -Hl 8192 &&
		 exec setpriv --bounding-set=-sys_resource "$@"' bash "$@"
}

skip_unless_root_without_sys_resource_works() {
	skip_unless_root
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	local caps
	caps=$(as_root_without_sys_resource sh -c 'grep ^CapEff: /proc/self/status') ||
		skip "cannot drop CAP_SYS_RESOURCE here"
	caps=$(( 16#${caps##*[[:space:]]} ))
	(( (caps >> 14) & 1 )) || skip "root lacks CAP_IPC_LOCK here"
	(( !((caps >> 24) & 1) )) || skip "CAP_SYS_RESOURCE could not be dropped"
}

@test "--limit above the hard limit with CAP_IPC_LOCK but no CAP_SYS_RESOURCE: a note, not a failure" {
	skip_unless_root_without_sys_resource_works
	run -0 --separate-stderr as_root_without_sys_resource "$MLOCK" -l 1G sh -c 'ulimit -l; ulimit -Hl'
	assert_equal "${lines[0]}" 8192	# the soft limit went as far as it could
	assert_equal "${lines[1]}" 8192
	[[ $stderr == *"note: RLIMIT_MEMLOCK stays at its hard limit 8192 KiB, not 1048576 KiB"* ]] ||
		fail "stderr: $stderr"
	[[ $stderr == *"does not apply to the command, which has CAP_IPC_LOCK"* ]] || fail "stderr: $stderr"
	# the command is locked all the same
	run -0 as_root_without_sys_resource "$MLOCK" -q -l unlimited "$PROBE" vmlck
	assert_locked vmlck_kb
	# -q: no note
	run -0 --separate-stderr as_root_without_sys_resource "$MLOCK" -q -l 1G true
	assert_equal "$stderr" ""
}

@test "--limit above the hard limit without CAP_IPC_LOCK still fails with 125" {
	skip_unless_nobody_works
	run -125 as_nobody "$MLOCK" -q -l 1G true
	assert_output --partial "cannot set RLIMIT_MEMLOCK to 1048576 KiB"
}

@test "a bare --limit number below 1 MiB warns that the unit is bytes" {
	run -0 --separate-stderr "$MLOCK" -q -l 65536 true
	[[ $stderr == *"--limit 65536 means 65536 bytes"*"'ulimit -l' and limits.conf count KiB; write 65536K"* ]] ||
		fail "stderr: $stderr"
	for ok in 64K 64KiB 1M 1048576 0 unlimited; do
		run -0 --separate-stderr "$MLOCK" -q -l "$ok" true
		assert_equal "$stderr" ""
	done
}

@test "before exec under a finite limit without CAP_IPC_LOCK: a note on what counts and how to raise it" {
	skip_unless_nobody_works
	# --best-effort: the lock itself may not fit (sanitizer pass)
	run --separate-stderr as_nobody "$MLOCK" --best-effort --mode preload true
	[[ $stderr == *"note: RLIMIT_MEMLOCK is 8192 KiB and the command will lack CAP_IPC_LOCK"* ]] ||
		[[ $stderr == *"note: RLIMIT_MEMLOCK is "*" KiB and the command will lack CAP_IPC_LOCK"* ]] ||
		fail "stderr: $stderr"
	for word in "shared libraries" "per thread stack ('ulimit -s')" MALLOC_ARENA_MAX \
		    "pthread_create() fail" "whatever --best-effort says" "'ulimit -l'" \
		    LimitMEMLOCK= "mlock --limit SIZE" AmbientCapabilities=CAP_IPC_LOCK; do
		[[ $stderr == *"$word"* ]] || fail "no '$word' in: $stderr"
	done
	run --separate-stderr as_nobody "$MLOCK" -q --best-effort --mode preload true
	[[ $stderr != *"note: RLIMIT_MEMLOCK"* ]] || fail "-q: $stderr"
}

@test "no limit note with CAP_IPC_LOCK, nor with a limit of 0 (the lock failure explains it)" {
	skip_unless_root
	run -0 --separate-stderr "$MLOCK" --mode preload true
	assert_equal "$stderr" ""
	skip_unless_nobody_works
	run --separate-stderr as_nobody bash -c 'ulimit -l 0; exec "$0" --best-effort --mode preload true' "$MLOCK"
	[[ $stderr != *"note: RLIMIT_MEMLOCK"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"RLIMIT_MEMLOCK is 0 KiB"* ]] || fail "stderr: $stderr"
}
