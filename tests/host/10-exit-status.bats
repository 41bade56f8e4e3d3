#!/usr/bin/env bats
# Exit statuses (SEMANTICS section 8, coreutils convention).

bats_require_minimum_version 1.5.0
load test_helper

@test "the command's exit status is passed through" {
	run -0 "$MLOCK" -q true
	run -1 "$MLOCK" -q false
	run -3 "$MLOCK" -q sh -c 'exit 3'
	run -124 "$MLOCK" -q -r sh -c 'exit 124'
	run -125 "$MLOCK" -q sh -c 'exit 125'
}

@test "a signal that kills the command is seen by the caller" {
	run -143 "$MLOCK" -q sh -c 'kill -TERM $$'
}

@test "the command is exec'd: it keeps mlock's PID" {
	run -0 bash -c 'echo "outer=$$"; exec "$MLOCK" -q sh -c "echo inner=\$\$"'
	assert_equal "$(field inner)" "$(field outer)"
}

@test "127 when the command is not found" {
	run -127 "$MLOCK" -q no-such-command-mlock-test
	assert_output --partial "cannot run 'no-such-command-mlock-test'"
	assert_output --partial "command not found"
	run -127 "$MLOCK" -q "$BATS_TEST_TMPDIR/missing"
}

@test "126 when the command is a directory" {
	run -126 "$MLOCK" -q "$BATS_TEST_TMPDIR"
	assert_output --partial "Permission denied"
}

@test "126 when the command is not executable" {
	printf 'echo hi\n' >"$BATS_TEST_TMPDIR/noexec"
	chmod 644 "$BATS_TEST_TMPDIR/noexec"
	run -126 "$MLOCK" -q "$BATS_TEST_TMPDIR/noexec"
}

@test "125 when the fallback library is missing, naming it and MLOCK_PRELOAD" {
	MLOCK_PRELOAD=$BATS_TEST_TMPDIR/nope.so run -125 "$MLOCK" -m preload true
	assert_output --partial "fallback library $BATS_TEST_TMPDIR/nope.so"
	assert_output --partial "No such file or directory"
}

@test "125 for --mode kernel on a kernel without MCL_INHERIT, naming the feature" {
	if kernel_has_inherit; then
		skip "kernel accepts MCL_INHERIT: --mode kernel succeeds here"
	fi
	run -125 "$MLOCK" --mode=kernel true
	assert_output --partial "kernel lacks MCL_INHERIT (needs the mlock-inherit patch series)"
	assert_output --partial "--mode=preload"
}

@test "--mode kernel --best-effort runs the command unlocked on such a kernel" {
	if kernel_has_inherit; then
		skip "kernel accepts MCL_INHERIT: nothing to fall back from"
	fi
	run -0 --separate-stderr "$MLOCK" --mode=kernel --best-effort "$PROBE" vmlck
	assert_unlocked vmlck_kb
	[[ $stderr == *"running the command unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
}
