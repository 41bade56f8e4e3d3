#!/usr/bin/env bats
# Targets the LD_PRELOAD fallback cannot lock: static binaries and
# secure-exec programs (setuid, setgid, file capabilities).  mlock detects
# them before exec and refuses with 125, or warns and runs them unlocked
# under --best-effort.

bats_require_minimum_version 1.5.0
load test_helper

setup() {
	skip_if_kernel_mode
}

static_binary() {
	local b
	for b in /bin/busybox /usr/bin/busybox; do
		if [[ -x $b ]] && ! "$MLOCK" -q -m preload "$b" true 2>/dev/null; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

need_static() {
	STATIC=$(static_binary) || skip "no statically linked busybox (apt-get install busybox-static)"
	# double-check with the ELF program headers, independently of mlock
	if command -v readelf >/dev/null; then
		! readelf -l "$STATIC" | grep -q 'Requesting program interpreter' ||
			fail "$STATIC has PT_INTERP but mlock called it static"
	fi
}

@test "a static target is refused with 125, naming the cause and the way out" {
	need_static
	run -125 "$MLOCK" -q "$STATIC" true
	assert_output --partial "$STATIC is statically linked"
	assert_output --partial "kernel with MCL_INHERIT"
	assert_output --partial "--best-effort"
}

@test "a static target found through PATH is refused too" {
	need_static
	PATH=$(dirname "$STATIC") run -125 "$MLOCK" -q "$(basename "$STATIC")" true
	assert_output --partial "is statically linked"
}

@test "--best-effort runs a static target unlocked with a warning" {
	need_static
	run -0 --separate-stderr "$MLOCK" -q --best-effort "$STATIC" sh -c 'echo ran; grep VmLck /proc/self/status'
	assert_line "ran"
	[[ $stderr == *"statically linked"*"running $STATIC unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
}

@test "a script whose interpreter is static is refused" {
	need_static
	printf '#!%s sh\necho should-not-run\n' "$STATIC" >"$BATS_TEST_TMPDIR/s.sh"
	chmod +x "$BATS_TEST_TMPDIR/s.sh"
	run -125 "$MLOCK" -q "$BATS_TEST_TMPDIR/s.sh"
	refute_output --partial "should-not-run"
	assert_output --partial "$STATIC is statically linked"
}

@test "a script with a dynamic interpreter is locked" {
	printf '#!/bin/sh\nwhile read -r k v _; do [ "$k" = VmLck: ] && echo "vmlck_kb=$v"; done </proc/$$/status\nexit 0\n' \
		>"$BATS_TEST_TMPDIR/d.sh"
	chmod +x "$BATS_TEST_TMPDIR/d.sh"
	run -0 "$MLOCK" -q "$BATS_TEST_TMPDIR/d.sh"
	assert_locked vmlck_kb
}

@test "a setuid target (another owner) is refused with 125" {
	skip_unless_root
	cp "$PROBE" "$BATS_TEST_TMPDIR/suid"
	chown nobody "$BATS_TEST_TMPDIR/suid"
	chmod 4755 "$BATS_TEST_TMPDIR/suid"
	run -125 "$MLOCK" -q "$BATS_TEST_TMPDIR/suid" vmlck
	assert_output --partial "$BATS_TEST_TMPDIR/suid is setuid, setgid or has file capabilities"
	assert_output --partial "--best-effort"
	refute_output --partial "vmlck_kb="
}

@test "--best-effort runs a setuid target unlocked" {
	skip_unless_root
	cp "$PROBE" "$BATS_TEST_TMPDIR/suid"
	chown nobody "$BATS_TEST_TMPDIR/suid"
	chmod 4755 "$BATS_TEST_TMPDIR/suid"
	run -0 --separate-stderr "$MLOCK" -q --best-effort "$BATS_TEST_TMPDIR/suid" vmlck
	assert_unlocked vmlck_kb
	[[ $stderr == *"running $BATS_TEST_TMPDIR/suid unlocked (--best-effort)"* ]] || fail "stderr: $stderr"
}

@test "a setgid target (another group) is refused with 125" {
	skip_unless_root
	cp "$PROBE" "$BATS_TEST_TMPDIR/sgid"
	chgrp nogroup "$BATS_TEST_TMPDIR/sgid"
	chmod 2755 "$BATS_TEST_TMPDIR/sgid"
	run -125 "$MLOCK" -q "$BATS_TEST_TMPDIR/sgid" vmlck
	assert_output --partial "is setuid, setgid or has file capabilities"
}

@test "a setuid target owned by the caller is no secure exec: it is locked" {
	cp "$PROBE" "$BATS_TEST_TMPDIR/suid-self"
	chmod 4755 "$BATS_TEST_TMPDIR/suid-self"
	run -0 "$MLOCK" -q "$BATS_TEST_TMPDIR/suid-self" vmlck
	assert_locked vmlck_kb
}

@test "a target with file capabilities is refused for an unprivileged user" {
	skip_unless_nobody_works
	command -v setcap >/dev/null || skip "setcap not installed (libcap2-bin)"
	d=$(public_tmpdir)
	cp "$PROBE" "$d/fcaps"
	chmod 755 "$d/fcaps"
	setcap cap_net_raw+ep "$d/fcaps" || { rm -rf "$d"; skip "setcap failed on $d"; }
	run -125 as_nobody "$MLOCK" -q "$d/fcaps" vmlck
	rm -rf "$d"
	assert_output --partial "is setuid, setgid or has file capabilities"
}

@test "-r: a setuid descendant is not locked (the loader ignores the library)" {
	skip_unless_root
	cp "$PROBE" "$BATS_TEST_TMPDIR/suid"
	chown nobody "$BATS_TEST_TMPDIR/suid"
	chmod 4755 "$BATS_TEST_TMPDIR/suid"
	run -0 "$MLOCK" -q -r sh -c '"$0" vmlck; true' "$BATS_TEST_TMPDIR/suid"
	assert_unlocked vmlck_kb
}
