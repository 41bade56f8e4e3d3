#!/usr/bin/env bats
# The fallback library's handling of the environment: other LD_PRELOAD
# entries are kept, malformed settings never break the host program.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	[[ -e $MLOCK_TESTMARK ]] || fail "test library $MLOCK_TESTMARK not built"
}

# report the command's LD_PRELOAD and which libraries it has mapped
show_env='echo "preload=${LD_PRELOAD-unset}"
grep -q libmlock-testmark /proc/$$/maps && echo mark-mapped
grep -q libmlock-preload /proc/$$/maps && echo lib-mapped
true'

@test "a pre-existing LD_PRELOAD entry is kept and loaded (once mode)" {
	skip_if_kernel_mode
	# the command keeps the library first; its child keeps the rest
	LD_PRELOAD=$MLOCK_TESTMARK run -0 "$MLOCK" -q sh -c "$show_env"
	assert_line "preload=$(realpath "$MLOCK_PRELOAD"):$MLOCK_TESTMARK"
	assert_line "mark-mapped"
	assert_line "lib-mapped"
	LD_PRELOAD=$MLOCK_TESTMARK run -0 "$MLOCK" -q sh -c 'sh -c "$0"' "$show_env"
	assert_line "preload=$MLOCK_TESTMARK"
	assert_line "mark-mapped"
	assert_line "lib-mapped"
}

@test "a pre-existing LD_PRELOAD entry is kept behind the library (-r)" {
	skip_if_kernel_mode
	LD_PRELOAD=$MLOCK_TESTMARK run -0 "$MLOCK" -q -r sh -c "$show_env"
	assert_line "preload=$(realpath "$MLOCK_PRELOAD"):$MLOCK_TESTMARK"
	assert_line "mark-mapped"
	assert_line "lib-mapped"
}

@test "blank-separated LD_PRELOAD entries survive, in order" {
	skip_if_kernel_mode
	libc=$(ldd /bin/sh | awk '/libc.so/ { print $3 }')
	[[ -e $libc ]] || skip "cannot find libc of /bin/sh"
	# seen by a child of the command, which removes the library's entry
	LD_PRELOAD="$MLOCK_TESTMARK $libc" run -0 "$MLOCK" -q sh -c 'sh -c "$0"' "$show_env"
	assert_line "preload=$MLOCK_TESTMARK:$libc"
	assert_line "mark-mapped"
}

@test "the command is locked with a pre-existing LD_PRELOAD" {
	LD_PRELOAD=$MLOCK_TESTMARK run -0 "$MLOCK" -q "$PROBE" vmlck
	assert_locked vmlck_kb
}

@test "the library with a well-formed setting locks, without mlock" {
	LD_PRELOAD=$MLOCK_PRELOAD MLOCK_INHERIT_PRELOAD=once run -0 "$PROBE" vmlck
	assert_locked vmlck_kb
	LD_PRELOAD=$MLOCK_PRELOAD MLOCK_INHERIT_PRELOAD=recursive,onfault run -0 "$PROBE" map 8
	assert_line "resident_before=0"
}

@test "the library without a setting does nothing and says nothing" {
	LD_PRELOAD=$MLOCK_PRELOAD run -0 --separate-stderr env -u MLOCK_INHERIT_PRELOAD "$PROBE" vmlck
	assert_unlocked vmlck_kb
	assert_equal "$stderr" ""
}

@test "a malformed setting is reported once on stderr and ignored" {
	long=$(printf 'x%.0s' {1..300})
	for bad in "" bogus "once,recursive" "onfault" "once,,bogus" "ONCE" "$long" \
		    $'once\n' "strict"; do
		LD_PRELOAD=$MLOCK_PRELOAD MLOCK_INHERIT_PRELOAD=$bad \
			run -0 --separate-stderr "$PROBE" vmlck
		assert_unlocked vmlck_kb
		assert_equal "$(grep -c 'ignoring malformed MLOCK_INHERIT_PRELOAD' <<<"$stderr")" 1
	done
}

@test "a malformed setting does not stop the host program or its children" {
	LD_PRELOAD=$MLOCK_PRELOAD MLOCK_INHERIT_PRELOAD=garbage \
		run -3 --separate-stderr sh -c 'echo out; sh -c "exit 3"'
	assert_output "out"
}

@test "mlock's own LD_PRELOAD entry is not duplicated by nesting" {
	skip_if_kernel_mode
	# the inner mlock is a target of the outer one's fallback
	if [[ -n ${MLOCK_SAN-} && $MLOCK == "$MLOCK_SAN" ]]; then
		skip "sanitizer pass: \$MLOCK is an ASan build, which the fallback refuses as a target"
	fi
	run -0 "$MLOCK" -q -r "$MLOCK" -q -r sh -c 'echo "preload=$LD_PRELOAD"'
	lib=$(realpath "$MLOCK_PRELOAD")
	assert_line --regexp "^preload=$lib(:$lib)?\$"
}
