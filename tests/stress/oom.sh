#!/bin/bash
# Guest test (tests/stress/run.sh boots a small guest for it): a root tree
# with CAP_IPC_LOCK, locked through MCL_INHERIT|MCL_RECURSIVE, locks more
# than the guest's RAM.  The OOM killer must act, the kernel must survive,
# and Mlocked/Unevictable must return to their starting values.
# An OOM report prints a "Call Trace:"; run.sh accepts that line, and only
# that, from this guest.
#   MLOCK_STRESS_BIN  dir with sechelp (built by run.sh)
set -u
bin=${MLOCK_STRESS_BIN:?set by tests/stress/run.sh}
sec=$bin/sechelp
fail() { echo "oom: FAIL: $*"; exit 1; }
meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
settle() {
	local i
	for i in $(seq 100); do
		echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
		[[ $(meminfo Mlocked) == "$1" && $(meminfo Unevictable) == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}

"$sec" lockexec FUTURE,INHERIT /bin/true ||
	{ echo "oom: SKIP: kernel lacks MCL_INHERIT"; exit 77; }
ram_mib=$(( $(meminfo MemTotal) / 1024 ))
n=$(( ram_mib / 96 + 3 ))	# n * 128 MiB is well above RAM
ml0=$(meminfo Mlocked) ue0=$(meminfo Unevictable)
d0=$(dmesg | wc -l)
echo "oom: RAM ${ram_mib} MiB, $n locked hogs of 128 MiB, baseline Mlocked $ml0 kB Unevictable $ue0 kB"
echo -1000 > /proc/self/oom_score_adj
# the tree: one locked recursive shell, n children each locking 128 MiB
# (pids collected by hand: dash's $(jobs -p) runs in a subshell and is empty)
timeout 300 "$sec" lockexec CURRENT,FUTURE,INHERIT,RECURSIVE /bin/sh -c "
	echo 1000 > /proc/self/oom_score_adj
	pids=
	for i in \$(seq $n); do '$sec' hog 128 & pids=\"\$pids \$!\"; done
	sleep 20
	grep -E '^(VmLck|Mlockall)' /proc/self/status
	kill \$pids 2>/dev/null
	wait
	exit 0"
rc=$?
echo "oom: tree ended with status $rc"
[[ $rc -eq 0 ]] || fail "the tree's shell did not end normally (status $rc)"
kills=$(dmesg | tail -n +$((d0 + 1)) | grep -cE 'Killed process|oom-kill:')
echo "oom: OOM kills in dmesg: $kills"
[[ $kills -ge 1 ]] || fail "no OOM kill although $n x 128 MiB were locked in ${ram_mib} MiB"
settle "$ml0" "$ue0" ||
	fail "Mlocked $(meminfo Mlocked) kB / Unevictable $(meminfo Unevictable) kB, baseline $ml0 / $ue0 kB"
echo "oom: PASS: OOM killer acted ($kills kills), kernel alive, counters back to baseline"
