#!/bin/bash
# Build (or reuse) a kernel and run every guest suite in ONE guest:
# tests/kernel/*.bats, the series' mlock-inherit kselftest, the kernel's own
# mlock selftests, then the post checks (dmesg clean, Mlocked back to
# baseline).  Prints all TAP, a per-suite summary, exits non-zero on any
# failure or guest crash.
#
# usage: tests/vm/run-suites.sh <6.12|6.1> [--vanilla] [--config NAME]
#            [--tree DIR] [--results DIR] [--timeout SECS] [--mem SIZE]
#            [--smp N] [--quiet]
#
#   --vanilla        Debian's kernel without patches/linux-<ver>/ (the
#                    kernel-mode tests must then skip: "kernel lacks
#                    MCL_INHERIT"); the mlock-inherit kselftest binary of the
#                    patched build is run if that build exists, to prove it
#                    detects the missing feature
#   --config NAME    extra kconfig fragment (see build-kernel.sh)
#   --tree DIR       build and boot a prepared kernel tree (a scratch git
#                    tree with the series being worked on; see
#                    build-kernel.sh --tree)
#   --results DIR    results dir (default ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}/results/suites-<ver>-<mode>-<time>)
#   --timeout SECS   guest wall-clock limit (default 3000); each suite in the
#                    guest gets half of it (MLOCK_GUEST_SUITE_TIMEOUT overrides)
#   --mem SIZE       guest memory (default 2G)
#   --smp N          guest CPUs (default 2)
#   --quiet          print only the summary, not every TAP file
set -euo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}

usage() {
	sed -n '/^# usage:/,/^#   --quiet/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
ver= vanilla=0 results= tmo=3000 mem=2G smp=2 quiet=0
bkargs=()
while [ $# -gt 0 ]; do
	case $1 in
	6.12|6.1) ver=$1 ;;
	--vanilla) vanilla=1; bkargs+=(--vanilla) ;;
	--config) [ $# -ge 2 ] || usage; bkargs+=(--config "$2"); shift ;;
	--tree) [ $# -ge 2 ] || usage; bkargs+=(--tree "$2"); shift ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift ;;
	--results) [ $# -ge 2 ] || usage; results=$2; shift ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift ;;
	--quiet) quiet=1 ;;
	-h|--help) usage ;;
	*) echo "run-suites: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[ -n "$ver" ] || { echo "run-suites: missing kernel version (6.12 or 6.1)" >&2; usage; }
mode=patched; [ "$vanilla" = 1 ] && mode=vanilla

T0=$(date +%s)
echo "run-suites: building $ver ($mode)" >&2
bz=$("$here/build-kernel.sh" "$ver" "${bkargs[@]}" | tail -n 1)
[ -f "$bz" ] || { echo "run-suites: build-kernel.sh did not produce a bzImage" >&2; exit 1; }
T1=$(date +%s)
build=${bz%/arch/x86/boot/bzImage}

genv=(--env "MLOCK_GUEST_BUILD=$build" --env "MLOCK_GUEST_KVER=$ver" --env "MLOCK_GUEST_MODE=$mode")
# Each suite's own limit in the guest: half the guest's wall-clock limit
# (1500 s with the default --timeout), so that a longer --timeout (the
# debug kernel) gives the kernel bats suite longer too.
# MLOCK_GUEST_SUITE_TIMEOUT in the environment still wins.
[ -n "${MLOCK_GUEST_SUITE_TIMEOUT:-}" ] ||
	genv+=(--env "MLOCK_GUEST_SUITE_TIMEOUT=$((tmo / 2))")
if [ "$vanilla" = 1 ] && [ ! -x "$build/kselftest/mlock-inherit" ]; then
	# The patched build's selftest binary, if there is one, run on the
	# vanilla kernel: it must detect the missing feature and skip.
	pdir=$("$here/build-kernel.sh" "$ver" --print-dir 2>/dev/null || true)
	if [ -n "$pdir" ] && [ -x "$pdir/kselftest/mlock-inherit" ]; then
		genv+=(--env "MLOCK_GUEST_KSELFTEST_INHERIT=$pdir/kselftest/mlock-inherit")
		echo "run-suites: vanilla run uses the patched build's kselftest $pdir/kselftest/mlock-inherit" >&2
	fi
fi

[ -n "$results" ] || results=$cache/results/suites-$ver-$mode-$(date -u +%Y%m%dT%H%M%S)
mkdir -p "$results"
echo "run-suites: booting $bz; results in $results" >&2
set +e
"$here/run-guest.sh" --kernel "$bz" --mem "$mem" --smp "$smp" --timeout "$tmo" --results "$results" \
	"${genv[@]}" -- "$here/guest-suites.sh"
grc=$?
set -e
T2=$(date +%s)

# ---- report
fail=0
suites=(kernel kselftest-mlock-inherit kselftest-mlock2-tests kselftest-mlock-random-test kselftest-on-fault-limit post-checks)
if [ "$quiet" = 0 ]; then
	for s in "${suites[@]}"; do
		[ -f "$results/$s.tap" ] || continue
		echo "======== $s ($results/$s.tap)"
		cat "$results/$s.tap"
	done
fi
echo
echo "======== summary: Linux $ver ($mode), results $results"
printf '%-30s %5s %5s %5s  %s\n' suite pass fail skip verdict
for s in "${suites[@]}"; do
	tap=$results/$s.tap
	if [ ! -f "$tap" ]; then
		printf '%-30s %5s %5s %5s  %s\n' "$s" - - - "FAIL (no TAP: guest did not run it)"
		fail=1
		continue
	fi
	st=$(cat "$results/$s.status" 2>/dev/null || echo missing)
	read -r pass nfail skip plan nres <<<"$(awk '
		/^1\.\.0/ && /# *[Ss][Kk][Ii][Pp]/ { skip++; plan=0; planned=1; next }
		/^1\.\.[0-9]+/ { if (!planned) { plan=substr($1,4)+0; planned=1 }; next }
		/^not ok/ { if ($0 ~ /# *TODO/) pass++; else fail++; n++; next }
		/^ok/ { if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) skip++; else pass++; n++; next }
		END { printf "%d %d %d %d %d\n", pass, fail, skip, planned ? plan : -1, n }' "$tap")"
	verdict=ok
	if [ "$nfail" -gt 0 ]; then verdict="FAIL"
	elif [ "$plan" -ge 0 ] && [ "$plan" -ne "$nres" ] && [ "$plan" -ne 0 ]; then
		verdict="FAIL (plan 1..$plan but $nres results)"
	elif [ "$plan" -lt 0 ]; then verdict="FAIL (no TAP plan)"
	fi
	case $st in 0|4) ;; *) [ "$verdict" = ok ] && verdict="FAIL (exit status $st)" ;; esac
	[ "$verdict" = ok ] || fail=1
	secs=$(cat "$results/$s.seconds" 2>/dev/null || true)
	printf '%-30s %5s %5s %5s  %s\n' "$s" "$pass" "$nfail" "$skip" "$verdict${secs:+ (${secs}s)}"
done
if [ "$grc" != 0 ]; then
	echo "guest: FAIL (run-guest.sh exit status $grc; see above and $results/console.log)"
	fail=1
fi
echo "timings: build $((T1 - T0))s, guest boot+suites $((T2 - T1))s, total $((T2 - T0))s"
if [ "$fail" = 0 ]; then
	echo "run-suites: Linux $ver ($mode): PASS"
else
	echo "run-suites: Linux $ver ($mode): FAIL"
fi
exit "$fail"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
