#!/usr/bin/env bats
# Harness smoke test: proves the suite runs inside the guest booted by
# tests/vm/run-suites.sh, on the kernel that was asked for.

setup() {
	grep -qw 'mlock_results=[^ ]*' /proc/cmdline ||
		skip "not inside the tests/vm guest (no mlock_results= on /proc/cmdline)"
}

@test "guest runs the requested kernel version" {
	[ -n "${MLOCK_GUEST_KVER:-}" ] ||
		skip "MLOCK_GUEST_KVER not set (run through tests/vm/run-suites.sh)"
	run uname -r
	[ "$status" -eq 0 ]
	case $output in
	"$MLOCK_GUEST_KVER".*) ;;
	*) echo "guest kernel is '$output', expected $MLOCK_GUEST_KVER.*"; false ;;
	esac
}

@test "/proc/self/status is readable and has VmLck" {
	run grep -E '^VmLck:[[:space:]]+[0-9]+ kB$' /proc/self/status
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "root filesystem is the host's, read-only; /tmp is writable tmpfs" {
	run touch /usr/.mlock-inherit-ro-probe
	[ "$status" -ne 0 ]
	[ "$(stat -f -c %T /tmp)" = tmpfs ]
	echo ok > "$BATS_TEST_TMPDIR/probe"
	[ "$(cat "$BATS_TEST_TMPDIR/probe")" = ok ]
}
