#!/usr/bin/env bats
# mlock -r: every descendant is locked, by any chain of fork and exec.

bats_require_minimum_version 1.5.0
load test_helper

@test "-r: the command is locked" {
	run -0 "$MLOCK" -q -r "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "-r: a child made by fork + exec is locked" {
	run -0 "$MLOCK" -q -r "$PROBE" fork-exec "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "--recursive: a child made by fork without exec is locked" {
	run -0 "$MLOCK" -q --recursive "$PROBE" fork
	assert_locked child_vmlck_kb
	assert_locked parent_vmlck_kb
}

@test "-r: a subshell (fork without exec) is locked" {
	# The subshell reads its own status with builtins only: no exec.
	run -0 "$MLOCK" -q -r bash -c '
		( while read -r key val _; do
			[[ $key == VmLck: ]] && echo "subshell_vmlck_kb=$val"
		  done </proc/self/status ); true'
	assert_locked subshell_vmlck_kb
}

@test "-r: grandchildren are locked" {
	run -0 "$MLOCK" -q -r sh -c 'sh -c "\"\$0\" vmlck; true" "$0"; true' "$PROBE"
	assert_locked vmlck_kb
}

@test "-r: a grandchild by fork without exec, under an exec'd child, is locked" {
	run -0 "$MLOCK" -q -r "$PROBE" fork-exec "$PROBE" fork
	assert_locked child_vmlck_kb
}

@test "-r: a child made by posix_spawn is locked" {
	run -0 "$MLOCK" -q -r "$PROBE" spawn "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "-r: a child made by vfork + exec is locked" {
	run -0 "$MLOCK" -q -r "$PROBE" vfork-exec "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "-r: children get the setting without 'strict' and keep LD_PRELOAD" {
	skip_if_kernel_mode
	run -0 "$MLOCK" -q -r sh -c 'echo "pid=$$"; sh -c "echo setting=\$MLOCK_INHERIT_PRELOAD; echo preload=\$LD_PRELOAD"'
	pid=$(field pid)
	# still naming the command: only there would "strict" apply
	assert_line --regexp "^setting=recursive,pid=$pid(,start=[0-9]+)?\$"
	assert_line "preload=$(realpath "$MLOCK_PRELOAD")"
}

@test "-r -f: descendants lock on fault" {
	run -0 "$MLOCK" -q -r -f sh -c '"$0" map 32; true' "$PROBE"
	assert_line "resident_before=0"
	assert_line --regexp '^vmflags=.* lf( |$)'
}

@test "-r: a descendant that clears its environment is not locked (fallback limit)" {
	skip_if_kernel_mode
	run -0 "$MLOCK" -q -r env -i "$PROBE" vmlck
	assert_unlocked vmlck_kb
}
