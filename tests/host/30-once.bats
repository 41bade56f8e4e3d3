#!/usr/bin/env bats
# mlock without -r: the command is locked, its descendants are not
# (SEMANTICS section 5: "mlock cmd locks cmd alone").

bats_require_minimum_version 1.5.0
load test_helper

@test "the command runs with locked memory (VmLck > 0)" {
	run -0 "$MLOCK" -q "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "without mlock the same probe shows no locked memory" {
	# guards the tests below against a probe that always reports > 0
	run -0 "$PROBE" vmlck
	assert_unlocked vmlck_kb
}

@test "--mode preload locks the command" {
	run -0 "$MLOCK" --mode=preload "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "VmLck covers the whole command (mlockall(MCL_CURRENT)), not a part" {
	run -0 "$MLOCK" -q "$PROBE" vmlck
	locked=$(field vmlck_kb)
	size=$(field vmsize_kb)
	# everything but the special mappings (vvar, vdso: a few pages)
	(( size - locked < 256 )) || fail "only $locked of $size kB locked"
}

@test "a child made by fork + exec is not locked" {
	run -0 "$MLOCK" -q "$PROBE" fork-exec "$PROBE" vmlck
	assert_unlocked vmlck_kb
}

@test "a child made by fork alone is not locked, the parent is" {
	run -0 "$MLOCK" -q "$PROBE" fork
	assert_unlocked child_vmlck_kb
	assert_locked parent_vmlck_kb
}

@test "a child made by posix_spawn is not locked" {
	run -0 "$MLOCK" -q "$PROBE" spawn "$PROBE" vmlck
	assert_unlocked vmlck_kb
}

@test "a shell's children are not locked" {
	run -0 "$MLOCK" -q sh -c '"$0" vmlck; true' "$PROBE"
	assert_unlocked vmlck_kb
}

@test "the command keeps the setting, naming its own PID; its children see no trace" {
	skip_if_kernel_mode
	# the command keeps both, so that the programs it execs stay locked
	# (SEMANTICS section 5); a child removes them in its constructor
	run -0 "$MLOCK" -q sh -c 'echo "pid=$$"; echo "preload=${LD_PRELOAD-unset}"; echo "setting=${MLOCK_INHERIT_PRELOAD-unset}"
		sh -c '\''echo "child_preload=${LD_PRELOAD-unset}"; echo "child_setting=${MLOCK_INHERIT_PRELOAD-unset}"'\'
	pid=$(field pid)
	assert_line "preload=$(realpath "$MLOCK_PRELOAD")"
	assert_line --regexp "^setting=once,strict,pid=$pid(,start=[0-9]+)?\$"
	assert_line "child_preload=unset"
	assert_line "child_setting=unset"
}
