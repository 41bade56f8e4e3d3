#!/bin/bash
# Runs INSIDE the guest (started by tests/vm/run-suites.sh through
# run-guest.sh), as root.  Writes one TAP file per suite into the results dir
# plus <suite>.status (the suite's exit status):
#   kernel.tap                   bats --tap tests/kernel/
#   kselftest-mlock-inherit.tap  the series' kselftest (if built)
#   kselftest-mlock2-tests.tap, kselftest-mlock-random-test.tap,
#   kselftest-on-fault-limit.tap the kernel's own mlock selftests (regression;
#                                on-fault-limit runs as nobody)
#   post-checks.tap              dmesg clean, Mlocked/Unevictable back to the
#                                baseline taken before the suites
# Environment (set by run-suites.sh): MLOCK_GUEST_RESULTS, MLOCK_GUEST_BUILD
# (build dir holding kselftest/), MLOCK_GUEST_KSELFTEST_INHERIT (optional
# path of the mlock-inherit binary), MLOCK_GUEST_KVER.
set -u
# (the body is a function so that editing this file while it runs is safe)
main() {

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
res=${MLOCK_GUEST_RESULTS:?MLOCK_GUEST_RESULTS not set: run this through tests/vm/run-suites.sh}
build=${MLOCK_GUEST_BUILD:?MLOCK_GUEST_BUILD not set: run this through tests/vm/run-suites.sh}
kst=$build/kselftest
suite_timeout=${MLOCK_GUEST_SUITE_TIMEOUT:-1500}
overall=0

log() { echo "guest-suites: $*"; }

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
	# compaction drains every CPU's LRU/mlock folio batches
	echo 1 > /proc/sys/vm/compact_memory 2>/dev/null
	# fold the per-CPU vmstat deltas into the global counters
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
}

# A wrapper TAP for programs whose output is not TAP (e.g. 6.1's
# mlock2-tests): one test point from the exit status, output as comments.
wrap_tap() { # name status outputfile
	echo "TAP version 13"
	echo "1..1"
	sed 's/^/# /' "$3"
	case $2 in
	0) echo "ok 1 $1" ;;
	4) echo "ok 1 $1 # SKIP (exit status 4 = KSFT_SKIP)" ;;
	124) echo "not ok 1 $1 # timed out after ${suite_timeout}s" ;;
	*) echo "not ok 1 $1 # exit status $2" ;;
	esac
}

skip_tap() { # file reason
	printf 'TAP version 13\n1..0 # SKIP %s\n' "$2" > "$1"
}

# run_suite NAME CMD... : raw TAP kept if the program speaks TAP, else wrapped.
run_suite() {
	local name=$1; shift
	local out=$res/$name.out tap=$res/$name.tap st
	log "running $name: $*"
	local t0=$(date +%s)
	timeout -k 10 "$suite_timeout" "$@" > "$out" 2>&1 < /dev/null
	st=$?
	echo "$st" > "$res/$name.status"
	echo "$(( $(date +%s) - t0 ))" > "$res/$name.seconds"
	if grep -qE '^(TAP version|1\.\.[0-9]+)' "$out"; then
		cp "$out" "$tap"
		[ "$st" = 124 ] && echo "not ok 999 $name # timed out after ${suite_timeout}s" >> "$tap"
	else
		wrap_tap "$name" "$st" "$out" > "$tap"
	fi
	log "$name: exit status $st, $(cat "$res/$name.seconds")s"
	case $st in 0|4) ;; *) overall=1 ;; esac
}

{
	echo "kernel: $(uname -a)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "cpus: $(nproc)"
	echo "build: $build"
	grep -E '^(VmLck|Mlockall)' /proc/self/status
} > "$res/guest-info"

# (a) baseline
settle; sleep 1
base_mlocked=$(meminfo Mlocked)
base_unevict=$(meminfo Unevictable)
echo "Mlocked $base_mlocked kB, Unevictable $base_unevict kB" > "$res/meminfo-baseline"
log "baseline Mlocked ${base_mlocked} kB, Unevictable ${base_unevict} kB"

# (b) the bats kernel suite
if compgen -G "$repo/tests/kernel/*.bats" > /dev/null; then
	# bats exits 1 on a failing test; its TAP is complete either way.
	(cd "$repo" && run_suite kernel bats --tap tests/kernel/)
	# run_suite ran in a subshell: pick up its verdict
	case $(cat "$res/kernel.status") in 0) ;; *) overall=1 ;; esac
else
	skip_tap "$res/kernel.tap" "no tests/kernel/*.bats in $repo"
	echo 0 > "$res/kernel.status"
fi

# (c) the series' kselftest
ki=${MLOCK_GUEST_KSELFTEST_INHERIT:-$kst/mlock-inherit}
if [ -x "$ki" ]; then
	(cd "$(dirname "$ki")" && run_suite kselftest-mlock-inherit "$ki")
	case $(cat "$res/kselftest-mlock-inherit.status") in 0|4) ;; *) overall=1 ;; esac
else
	skip_tap "$res/kselftest-mlock-inherit.tap" "mlock-inherit kselftest not built ($ki missing: kernel tree without the series)"
	echo 4 > "$res/kselftest-mlock-inherit.status"
fi

# (d) the kernel's own mlock selftests (as run_vmtests.sh runs them)
cd "$kst" 2>/dev/null || { log "no $kst"; }
for t in mlock2-tests mlock-random-test; do
	if [ -x "$kst/$t" ]; then
		run_suite "kselftest-$t" "$kst/$t"
	else
		printf 'TAP version 13\n1..1\nnot ok 1 %s # binary missing: %s\n' "$t" "$kst/$t" > "$res/kselftest-$t.tap"
		echo 1 > "$res/kselftest-$t.status"; overall=1
	fi
done
if [ -x "$kst/on-fault-limit" ]; then
	run_suite kselftest-on-fault-limit \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$kst/on-fault-limit"
else
	printf 'TAP version 13\n1..1\nnot ok 1 on-fault-limit # binary missing: %s\n' "$kst/on-fault-limit" > "$res/kselftest-on-fault-limit.tap"
	echo 1 > "$res/kselftest-on-fault-limit.status"; overall=1
fi
cd /

# (e) post checks
pc=0
{
	echo "TAP version 13"
	echo "1..3"
	bad='BUG:|WARNING:|Bad page|Oops|general protection|Kernel panic|kernel BUG at|Unable to handle|underflow|soft lockup|hung_task|Call Trace:'
	if dmesg | grep -E "$bad" > "$res/dmesg-errors"; then
		sed 's/^/# /' "$res/dmesg-errors"
		echo "not ok 1 dmesg has no BUG/WARNING/Bad page/Oops/underflow"
		pc=1
	else
		rm -f "$res/dmesg-errors"
		echo "ok 1 dmesg has no BUG/WARNING/Bad page/Oops/underflow"
	fi
	m= u=
	for i in $(seq 1 15); do
		settle
		m=$(meminfo Mlocked); u=$(meminfo Unevictable)
		[ "$m" = "$base_mlocked" ] && [ "$u" = "$base_unevict" ] && break
		sleep 1
	done
	echo "# after ${i} settle rounds: Mlocked $m kB (baseline $base_mlocked), Unevictable $u kB (baseline $base_unevict)"
	# a process left running by a suite holds its locks: name it
	for st in /proc/[0-9]*/status; do
		awk '$1 == "Name:" { n = $2 } $1 == "Pid:" { p = $2 }
		     $1 == "PPid:" { pp = $2 } $1 == "VmLck:" && $2 > 0 {
			printf "# still locked: pid %s (%s), ppid %s, VmLck %s kB\n", p, n, pp, $2 }' "$st" 2>/dev/null
	done
	if [ "$m" = "$base_mlocked" ]; then
		echo "ok 2 Mlocked back to baseline ($m kB)"
	else
		echo "not ok 2 Mlocked back to baseline: $m kB now, $base_mlocked kB before the suites"
		pc=1
	fi
	if [ "$u" = "$base_unevict" ]; then
		echo "ok 3 Unevictable back to baseline ($u kB)"
	else
		echo "not ok 3 Unevictable back to baseline: $u kB now, $base_unevict kB before the suites"
		pc=1
	fi
} > "$res/post-checks.tap"
echo "$pc" > "$res/post-checks.status"
[ "$pc" = 0 ] || overall=1
dmesg > "$res/dmesg-after-suites"
log "done (overall $overall)"
exit "$overall"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
