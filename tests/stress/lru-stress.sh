#!/bin/bash
# Unevictable-LRU stress (issue 4), run as root in a small-memory guest by
# tests/stress/run.sh (or: tests/vm/run-guest.sh --kernel BZIMAGE --mem 512M
# --env MLOCK_STRESS_BIN=DIR -- tests/stress/lru-stress.sh).
#
# Under `mlock -r` (kernel mode, MCL_INHERIT|MCL_RECURSIVE), at the same time:
#   - a real parallel build (make -j4 of generated C files, gcc);
#   - a shell fork storm (thousands of fork+exec, sampled: each sample must
#     report itself locked with the recursive state);
#   - munlockall / re-lock / map / exit churn (sechelp churn);
# while an unlocked page-cache reader and an unlocked anonymous hog add
# pressure, all inside a memory cgroup whose memory.high is below the
# working set (plus swap on zram when the kernel has it).
# Afterwards: every job succeeded, no BUG/WARNING/Bad page/underflow in
# dmesg, Mlocked and Unevictable back to baseline, and the cgroup holds no
# anonymous or unevictable memory.  Prints the number of processes created.
#
#   MLOCK_STRESS_BIN   dir with sechelp (tests/stress/run.sh builds it)
#   MLOCK              the mlock command (HACKING.md)
#   MLOCK_STRESS_SOAK  1: ten times the work
set -u
bin=${MLOCK_STRESS_BIN:?set by tests/stress/run.sh}
sec=$bin/sechelp
mlock=${MLOCK:-}
soak=${MLOCK_STRESS_SOAK:-0}
scale=$([ "$soak" = 1 ] && echo 10 || echo 1)
work=/tmp/lru-stress
cg=
swapdev=

fail() { echo "lru-stress: FAIL: $*"; cleanup; exit 1; }
meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
forks() { awk '$1 == "processes" {print $2}' /proc/stat; }
cleanup() {
	[ -n "$swapdev" ] && swapoff "$swapdev" 2>/dev/null
	rm -rf "$work"
}

"$sec" lockexec FUTURE,INHERIT /bin/true >/dev/null 2>&1 ||
	{ echo "lru-stress: SKIP: kernel lacks MCL_INHERIT"; exit 77; }
[ -x "$mlock" ] || { echo "lru-stress: SKIP: MLOCK is not a built mlock command (scripts/build.sh)"; exit 77; }
command -v gcc >/dev/null && command -v make >/dev/null ||
	{ echo "lru-stress: SKIP: needs gcc and make"; exit 77; }

ram_kb=$(meminfo MemTotal)
echo "lru-stress: kernel $(uname -r), RAM $((ram_kb / 1024)) MiB, scale $scale"

# --- swap on zram, when the kernel has it
if [ -e /sys/class/zram-control/hot_add ] || [ -e /sys/block/zram0 ]; then
	[ -e /sys/block/zram0 ] || cat /sys/class/zram-control/hot_add >/dev/null
	if echo $((ram_kb / 2))K > /sys/block/zram0/disksize 2>/dev/null &&
	   mkswap /dev/zram0 >/dev/null 2>&1 && swapon /dev/zram0; then
		swapdev=/dev/zram0
	fi
fi
echo "lru-stress: swap: ${swapdev:-none (kernel without zram: pressure from the memory cgroup only)}"

# --- memory cgroup
if ! grep -q cgroup2 /proc/mounts; then
	mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
fi
root=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
if [ -n "$root" ] && grep -qw memory "$root/cgroup.controllers" 2>/dev/null; then
	echo +memory > "$root/cgroup.subtree_control" 2>/dev/null
	cg=$root/lru-stress-$$
	mkdir "$cg" || fail "cannot create $cg"
	echo $((ram_kb * 1024 / 3)) > "$cg/memory.high"
	echo $((ram_kb * 1024 * 3 / 4)) > "$cg/memory.max"
	echo "lru-stress: memory cgroup $cg: memory.high $((ram_kb / 3 / 1024)) MiB, memory.max $((ram_kb * 3 / 4 / 1024)) MiB"
else
	echo "lru-stress: no cgroup2 memory controller: global pressure only"
fi

# --- the build: generated C sources, one per object
rm -rf "$work"
mkdir -p "$work/src"
nfiles=$((48 * scale))
for i in $(seq "$nfiles"); do
	{
		echo "#include <stdio.h>"
		echo "#include <string.h>"
		for j in 1 2 3 4 5 6; do
			echo "int f${i}_$j(const char *s) { int h = $j; while (*s) h = h * 31 + *s++; return h ^ (int)strlen(\"$i-$j\"); }"
		done
	} > "$work/src/u$i.c"
done
{
	echo "int main(void) { return 0; }"
} > "$work/src/main.c"
{
	printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\n'
	printf 'prog: $(OBJS)\n\tgcc -o $@ $(OBJS)\n'
	printf '%%.o: %%.c\n\tgcc -O1 -c -o $@ $<\n'
} > "$work/src/Makefile"

ml0=$(meminfo Mlocked) ue0=$(meminfo Unevictable)
d0=$(dmesg | wc -l)
p0=$(forks)
echo "lru-stress: baseline Mlocked $ml0 kB, Unevictable $ue0 kB"

storm=$((3000 * scale))
churn=$((2000 * scale))
t0=$SECONDS

# The workload runs in a subshell that alone enters the cgroup: the memory
# a process allocates there stays charged to the cgroup after it leaves
# (cgroup v2 does not move charges), so the script itself stays outside
# and the cgroup must be empty of anon/unevictable memory once all exit.
(
if [ -n "$cg" ]; then
	echo "$BASHPID" > "$cg/cgroup.procs" || { echo "cannot enter $cg"; exit 99; }
fi
# pressure, unlocked: page cache and an anonymous hog
( while [ -e "$work/src" ]; do cat /usr/lib/x86_64-linux-gnu/*.so* > /dev/null 2>&1; done ) &
reader=$!
( exec "$sec" hog $((ram_kb / 1024 / 5)) ) &
hog=$!

"$mlock" -r make -s -j4 -C "$work/src" > "$work/build.log" 2>&1 &
build=$!
"$mlock" -r bash -c '
	n=$1 sec=$2 ok=0
	for ((i = 0; i < n; i++)); do
		if ((i % 100 == 0)); then
			"$sec" report storm$i | grep -q "future=1 onfault=0 inherit=1 recursive=1" &&
				((ok++))
		else
			/bin/true &
		fi
		((i % 64 == 63)) && wait
	done
	wait
	echo "storm: $n processes, $ok of $(((n + 99) / 100)) samples locked and recursive"
	[ $ok -eq $(((n + 99) / 100)) ]' _ "$storm" "$sec" > "$work/storm.log" 2>&1 &
stormpid=$!
"$mlock" -r "$sec" churn "$churn" > "$work/churn.log" 2>&1 &
churnpid=$!

wait $build; rb=$?
wait $stormpid; rs=$?
wait $churnpid; rc=$?
kill $hog 2>/dev/null
rm -rf "$work/src.done"; mv "$work/src" "$work/src.done"
wait $reader 2>/dev/null
wait $hog 2>/dev/null
echo "$rb $rs $rc" > "$work/status.done"
)
[ -s "$work/status.done" ] || fail "the workload did not finish (could not enter the cgroup?)"
read -r rb rs rc < "$work/status.done"
nproc_made=$(( $(forks) - p0 ))
echo "lru-stress: workload done in $((SECONDS - t0)) s, $nproc_made processes created"
cat "$work/storm.log" "$work/churn.log"
[ $rb -eq 0 ] || { tail -20 "$work/build.log"; fail "the build failed (status $rb)"; }
"$work/src.done/prog" || fail "the built program does not run"
echo "lru-stress: build of $((nfiles + 1)) objects ok"
[ $rs -eq 0 ] || fail "fork storm: status $rs"
[ $rc -eq 0 ] || fail "churn: status $rc"

# --- afterwards
cleanup
echo 3 > /proc/sys/vm/drop_caches
for i in $(seq 100); do
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	[ "$(meminfo Mlocked)" = "$ml0" ] && [ "$(meminfo Unevictable)" = "$ue0" ] && break
	sleep 0.1
done
[ "$(meminfo Mlocked)" = "$ml0" ] && [ "$(meminfo Unevictable)" = "$ue0" ] ||
	fail "Mlocked $(meminfo Mlocked) kB / Unevictable $(meminfo Unevictable) kB, baseline $ml0 / $ue0 kB"
if [ -n "$cg" ]; then
	anon=$(awk '$1 == "anon" {print $2}' "$cg/memory.stat")
	unev=$(awk '$1 == "unevictable" {print $2}' "$cg/memory.stat")
	echo "lru-stress: cgroup after: memory.current $(cat "$cg/memory.current") B, anon $anon B, unevictable $unev B"
	[ "$anon" = 0 ] && [ "$unev" = 0 ] ||
		fail "memory left charged to the emptied cgroup: anon $anon B, unevictable $unev B"
	rmdir "$cg" || fail "cannot remove the emptied cgroup $cg"
fi
if dmesg | tail -n +$((d0 + 1)) |
   grep -E 'BUG:|WARNING:|Bad page|underflow|Call Trace:|general protection'; then
	fail "kernel errors in dmesg (above)"
fi
echo "lru-stress: PASS processes=$nproc_made build_objects=$((nfiles + 1)) storm=$storm churn=$churn swap=${swapdev:-none}"
