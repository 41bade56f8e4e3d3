#!/usr/bin/env bats
# --on-fault (MCL_ONFAULT) and --limit (RLIMIT_MEMLOCK), including the
# limit failures an unprivileged user meets.

bats_require_minimum_version 1.5.0
load test_helper

# "Max locked memory" soft and hard values of the command, in bytes.
limits_of_command() {
	run -0 "$MLOCK" -q "$@" awk '/^Max locked memory/ { print "soft=" $4; print "hard=" $5 }' /proc/self/limits
}

@test "without --on-fault, new memory is locked and populated at once" {
	run -0 "$MLOCK" -q "$PROBE" map 64
	assert_line "resident_before=64"
	assert_line --regexp '^vmflags=.* lo( |$)'
	refute_line --regexp '^vmflags=.* lf( |$)'
}

@test "--on-fault: memory is locked (lf in smaps) but not populated until touched" {
	run -0 "$MLOCK" -q --on-fault "$PROBE" map 64
	assert_line "resident_before=0"
	assert_line "resident_after=64"
	assert_line --regexp '^vmflags=.* lo( |$)'
	assert_line --regexp '^vmflags=.* lf( |$)'
}

@test "-f: the command's existing mappings are lock-on-fault too" {
	run -0 "$MLOCK" -q -f grep -c ' lf' /proc/self/smaps
	(( output > 0 )) || fail "no lf mapping: $output"
}

@test "--limit below the hard limit sets the soft limit, visible in /proc/self/limits" {
	hard=$(ulimit -Hl)
	if [[ $hard == unlimited ]]; then want_kb=4096; else want_kb=$(( hard / 2 )); fi
	limits_of_command --limit "${want_kb}K"
	assert_line "soft=$(( want_kb * 1024 ))"
	if [[ $hard == unlimited ]]; then
		assert_line "hard=unlimited"
	else
		assert_line "hard=$(( hard * 1024 ))"
	fi
}

@test "--limit accepts bytes and K/M suffixes in either case, with optional iB" {
	hard=$(ulimit -Hl)
	[[ $hard == unlimited ]] || (( hard >= 1024 )) || skip "hard RLIMIT_MEMLOCK below 1 MiB"
	limits_of_command -l 65536
	assert_line "soft=65536"
	limits_of_command -l 8k
	assert_line "soft=8192"
	limits_of_command -l 8KiB
	assert_line "soft=8192"
	limits_of_command -l 1M
	assert_line "soft=1048576"
	limits_of_command -l 1m
	assert_line "soft=1048576"
}

@test "--limit parses G and T (above this host's hard limit: clear failure)" {
	skip_unless_nobody_works
	[[ $(as_nobody sh -c 'ulimit -Hl') != unlimited ]] || skip "hard RLIMIT_MEMLOCK is unlimited here"
	# as nobody: without CAP_IPC_LOCK the limit matters (55-limit-notes)
	run -125 as_nobody "$MLOCK" -q -l 2G true
	assert_output --partial "cannot set RLIMIT_MEMLOCK to 2097152 KiB"
	run -125 as_nobody "$MLOCK" -q -l 1T true
	assert_output --partial "cannot set RLIMIT_MEMLOCK to 1073741824 KiB"
}

@test "--limit above the hard limit fails with 125, naming the hard limit and the fix" {
	skip_unless_nobody_works
	run -125 as_nobody "$MLOCK" -q --limit unlimited true
	hard=$(as_nobody sh -c 'ulimit -Hl')
	[[ $hard != unlimited ]] || skip "hard RLIMIT_MEMLOCK is unlimited here"
	assert_output --partial "cannot set RLIMIT_MEMLOCK to unlimited"
	assert_output --partial "above the hard limit ($hard KiB)"
	assert_output --partial "CAP_SYS_RESOURCE"
	assert_output --partial "LimitMEMLOCK="
	assert_output --partial "ulimit -Hl"
}

@test "an unusable --limit value fails with 125 and says what is expected" {
	for bad in "" abc -1 10X 1KB 1.5M " 1M" 99999999999999T 18446744073709551615; do
		run -125 "$MLOCK" -q --limit "$bad" true
		assert_output --partial "invalid --limit value '$bad'"
		assert_output --partial "K, M, G or T suffix"
	done
}

@test "unprivileged: locking within RLIMIT_MEMLOCK works" {
	skip_unless_nobody_can_lock
	run -0 as_nobody "$MLOCK" -q "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "unprivileged: a command larger than RLIMIT_MEMLOCK fails with 125 naming the limit" {
	skip_unless_nobody_works
	run -125 as_nobody "$MLOCK" -q --limit 64K "$PROBE" vmlck
	assert_output --partial "RLIMIT_MEMLOCK is 64 KiB"
	assert_output --partial "ulimit -l"
	assert_output --partial "LimitMEMLOCK="
	assert_output --partial "mlock --limit"
	refute_output --partial "vmlck_kb="
}

@test "unprivileged: RLIMIT_MEMLOCK of 0 fails with 125 before exec" {
	skip_unless_nobody_works
	run -125 as_nobody "$MLOCK" -q --limit 0 "$PROBE" vmlck
	assert_output --partial "cannot lock memory: Operation not permitted: RLIMIT_MEMLOCK is 0 KiB"
	refute_output --partial "vmlck_kb="
}

@test "unprivileged --best-effort: over the limit, warn and run unlocked" {
	skip_unless_nobody_works
	run -0 --separate-stderr as_nobody "$MLOCK" -q --best-effort --limit 64K "$PROBE" vmlck
	assert_unlocked vmlck_kb
	[[ $stderr == *"RLIMIT_MEMLOCK is 64 KiB"*"running unlocked"* ]] || fail "stderr: $stderr"
}

@test "unprivileged --best-effort: limit 0, warn and run unlocked" {
	skip_unless_nobody_works
	run -0 --separate-stderr as_nobody "$MLOCK" -q --best-effort -l 0 "$PROBE" vmlck
	assert_unlocked vmlck_kb
	[[ $stderr == *"running the command unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
}

@test "unprivileged -r: children by fork and by exec are locked within the limit" {
	skip_unless_nobody_can_lock
	run -0 as_nobody "$MLOCK" -q -r "$PROBE" fork
	assert_locked child_vmlck_kb
	run -0 as_nobody "$MLOCK" -q -r "$PROBE" spawn "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "unprivileged -r: a descendant over the limit runs unlocked with a warning" {
	skip_unless_nobody_can_lock
	soft=$(as_nobody sh -c 'ulimit -l')
	[[ $soft == unlimited ]] || (( soft >= 4096 )) || skip "RLIMIT_MEMLOCK of nobody below 4 MiB: sh itself does not fit"
	# the command (sh) fits; it lowers the limit for its child, whose
	# lock then fails: not fatal below the first generation
	run -0 --separate-stderr as_nobody "$MLOCK" -q -r sh -c 'ulimit -l 64; "$0" vmlck; true' "$PROBE"
	assert_unlocked vmlck_kb
	[[ $stderr == *"RLIMIT_MEMLOCK is 64 KiB"*"running unlocked"* ]] || fail "stderr: $stderr"
}
