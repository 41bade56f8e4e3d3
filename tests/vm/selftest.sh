#!/bin/bash
# Self-test of the guest harness: proves that run-guest.sh reports a
# panicking, crashing, hung or complaining guest as a failure (with the
# console log), never as a pass, and that a clean command's status comes
# back, and that a guest with fewer CPUs than asked for fails.  Boots the
# given kernel seven times (about 15-25 s each under TCG).
#
# usage: tests/vm/selftest.sh [--kernel BZIMAGE] [6.12|6.1]
#   default kernel: the vanilla build of the version (built if missing)
set -uo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
kernel= ver=6.12
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || { echo "selftest: --kernel wants a bzImage" >&2; exit 2; }; kernel=$2; shift ;;
	6.12|6.1) ver=$1 ;;
	-h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "selftest: unknown argument '$1' (usage: selftest.sh [--kernel BZIMAGE] [6.12|6.1])" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$kernel" ]; then
	kernel=$("$here/build-kernel.sh" "$ver" --vanilla | tail -n 1) || exit 1
fi

T0=$(date +%s)
top=$cache/results/selftest-$(date -u +%Y%m%dT%H%M%S)-$$
n=0 fails=0
echo "TAP version 13"
echo "1..7"
# check NAME WANT-STATUS CONSOLE-REGEX RUN-GUEST-ARGS...
check() {
	local name=$1 want=$2 re=$3 rc out
	shift 3
	n=$((n + 1))
	out=$("$here/run-guest.sh" --kernel "$kernel" --results "$top/$n" "$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "not ok $n $name # run-guest.sh exit status $rc, expected $want"
		echo "$out" | tail -n 30 | sed 's/^/# /'
		fails=$((fails + 1))
	elif [ -n "$re" ] && ! grep -qE "$re" <<<"$out"; then
		echo "not ok $n $name # status $rc as expected, but the report lacks /$re/"
		echo "$out" | tail -n 30 | sed 's/^/# /'
		fails=$((fails + 1))
	else
		echo "ok $n $name (status $rc, $(cat "$top/$n/elapsed" 2>/dev/null)s)"
	fi
}
check "a clean command's exit status comes back" 7 'guest-selftest-marker' \
	--timeout 120 -- bash -c 'echo guest-selftest-marker; exit 7'
check "a kernel crash (sysrq c) is a failure showing the console" 122 'Kernel panic|sysrq: Trigger a crash' \
	--timeout 120 -- bash -c 'echo c > /proc/sysrq-trigger; sleep 30; exit 0'
check "a panic at boot is a failure showing the console" 122 'Kernel panic' \
	--timeout 120 --append rdinit=/nonexistent -- true
check "a hung guest is a timeout failure" 124 'timed out' \
	--timeout 40 -- sleep 600
check "a WARNING in the kernel log fails a command that exits 0" 121 'WARNING: harness selftest' \
	--timeout 120 -- bash -c 'echo "<4>WARNING: harness selftest fake warning" > /dev/kmsg; exit 0'
check "a guest that resets without reporting a status is a failure" 122 'did not report a status' \
	--timeout 120 -- bash -c 'sync; echo b > /proc/sysrq-trigger; sleep 30'
check "a guest with fewer CPUs than --smp is a failure" 123 'brought up 1 CPU' \
	--timeout 120 --smp 2 --append maxcpus=1 -- true
echo "# harness selftest: $((n - fails))/$n ok in $(( $(date +%s) - T0 ))s (results $top)"
[ "$fails" = 0 ]
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
