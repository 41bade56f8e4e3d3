#!/usr/bin/env bats
# The privilege boundary (SEMANTICS section 4): an unprivileged user's
# recursive mlock tree exec'ing a setuid-root (or setgid) program. Nothing
# is inherited across the secure exec: the program is not locked, its
# status line is clear, AT_SECURE is 1, and its descendants inherit nothing.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
	# copies of the helper nobody can run: plain, setuid root, setgid root
	SUID_DIR=$(public_tmpdir)
	export SUID_DIR
	cp "$KT" "$SUID_DIR/kt"
	cp "$KT" "$SUID_DIR/kt-suid"
	cp "$KT" "$SUID_DIR/kt-sgid"
	if [[ $(id -u) == 0 ]]; then
		chown root:root "$SUID_DIR"/kt*
		chmod 755 "$SUID_DIR/kt"
		chmod 4755 "$SUID_DIR/kt-suid"
		chmod 2755 "$SUID_DIR/kt-sgid"
	fi
}

teardown_file() {
	[[ -n ${SUID_DIR:-} ]] && rm -rf "$SUID_DIR"
}

# the memlock limit for nobody (the kernel's default, 8 MiB): ample for the
# helper (about 3 MiB locked), so that only the privilege boundary can
# explain an unlocked program; the control test proves it
NOBODY_LIMIT_KB=8192

setup() {
	[[ $BATS_TEST_DESCRIPTION == Mlocked* ]] && return 0
	require_inherit
	require_root
	require_mlock
	run as_nobody "$NOBODY_LIMIT_KB" test -x "$MLOCK"
	((status == 0)) || fail "user nobody cannot run $MLOCK (directory permissions?): $output"
}

# The setuid bit must really be honoured where the copies live.
assert_setid_works() {
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$SUID_DIR/kt-suid" report S
	assert_kt S uid 65534
	[[ $(kt_get S euid) == 0 ]] ||
		fail "setuid bit not honoured in $SUID_DIR (nosuid mount?): $(kt_line S)"
	assert_kt S secure 1
}

@test "control: nobody's mlock -r tree of a plain program is locked under the test's memlock limit" {
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$MLOCK" --mode kernel -r "$SUID_DIR/kt" \
		report U fork report UF exec "$SUID_DIR/kt" report UFE
	local l
	for l in U UF UFE; do
		assert_kt "$l" uid 65534
		assert_kt "$l" secure 0
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
}

@test "a setuid-root program exec'd from nobody's mlock -r tree is not locked and inherits nothing" {
	assert_setid_works
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$MLOCK" --mode kernel -r "$SUID_DIR/kt" \
		report U fork report UF exec "$SUID_DIR/kt-suid" report S \
		fork report SF exec "$SUID_DIR/kt" report SFE
	assert_kt_locked U
	assert_kt_locked UF
	assert_kt_state UF "$STATE_RECURSIVE"

	assert_kt S uid 65534
	assert_kt S euid 0
	assert_kt S secure 1
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
	# its descendants, by fork and by exec, inherit nothing either
	assert_kt_unlocked SF
	assert_kt_state SF "$STATE_NONE"
	assert_kt_unlocked SFE
	assert_kt_state SFE "$STATE_NONE"
}

@test "mlock -r exec'ing a setuid-root program directly: not locked, state clear" {
	assert_setid_works
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$MLOCK" --mode kernel -r "$SUID_DIR/kt-suid" \
		report S fork report SF
	assert_kt S euid 0
	assert_kt S secure 1
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
	assert_kt_unlocked SF
	assert_kt_state SF "$STATE_NONE"

	# non-recursive mlock: same boundary
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$MLOCK" --mode kernel "$SUID_DIR/kt-suid" report S
	assert_kt S secure 1
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
}

@test "a setgid program exec'd from nobody's mlock -r tree is not locked and inherits nothing" {
	run -0 as_nobody "$NOBODY_LIMIT_KB" "$MLOCK" --mode kernel -r "$SUID_DIR/kt" \
		fork exec "$SUID_DIR/kt-sgid" report G fork report GF
	assert_kt G secure 1
	assert_kt_unlocked G
	assert_kt_state G "$STATE_NONE"
	assert_kt_unlocked GF
	assert_kt_state GF "$STATE_NONE"
}

@test "root exec'ing its own setuid-root file is not a secure exec: still locked (the boundary is privilege, not the bit)" {
	run -0 "$MLOCK" --mode kernel -r "$SUID_DIR/kt" fork exec "$SUID_DIR/kt-suid" report R
	assert_kt R secure 0
	assert_kt_locked R
	assert_kt_state R "$STATE_RECURSIVE"
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
