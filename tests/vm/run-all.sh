#!/bin/bash
# The kernel part of the README's test command.  For 6.12 and 6.1 (only
# those whose patches/linux-<ver>/series lists patches): run-suites.sh
# patched; for 6.12 also vanilla (the proof that the suites detect the
# feature: one unpatched kernel is enough, and a cold cache would pay a
# fourth kernel build for the second); then check-series.sh (git am,
# checkpatch --strict, arm64 compile, powerpc uapi) and the harness
# selftest (tests/vm/selftest.sh, on the vanilla kernel).  Prints wall-clock
# timings per phase; exits non-zero if any phase failed.
#
# usage: tests/vm/run-all.sh [--no-check-series] [--only 6.12|6.1]
#                            [--all-vanilla]
#   --all-vanilla  run the vanilla suites for 6.1 too
#
# The slower per-patch bisectability check is separate:
#   tests/vm/check-bisect.sh <ver>
set -uo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
. "$here/lib.sh" || exit 2

check=1 only= allvan=0
while [ $# -gt 0 ]; do
	case $1 in
	--no-check-series) check=0 ;;
	--all-vanilla) allvan=1 ;;
	--only) [ $# -ge 2 ] || { echo "run-all: --only wants 6.12 or 6.1" >&2; exit 2; }; only=$2; shift ;;
	-h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-all: unknown argument '$1' (usage: run-all.sh [--no-check-series] [--only 6.12|6.1] [--all-vanilla])" >&2; exit 2 ;;
	esac
	shift
done

T0=$(date +%s)
summary=()
rc=0
phase() { # name cmd...
	local name=$1 t s
	shift
	echo
	echo "################ run-all: $name: $*"
	t=$(date +%s)
	"$@"
	s=$?
	t=$(( $(date +%s) - t ))
	summary+=("$(printf '%-28s %-5s %s' "$name" "$([ $s = 0 ] && echo PASS || echo FAIL)" "$(dur $t)")")
	[ $s = 0 ] || rc=1
}

vers=()
for v in 6.12 6.1; do
	[ -z "$only" ] || [ "$only" = "$v" ] || continue
	series_patches "$v" || { summary+=("series $v: broken series file"); rc=1; continue; }
	if [ ${#patches[@]} -gt 0 ]; then
		vers+=("$v")
	else
		echo "run-all: patches/linux-$v/series absent or empty: skipping Linux $v"
		summary+=("$(printf '%-28s %-5s %s' "linux-$v" SKIP "no patches/linux-$v/series")")
	fi
done

for v in "${vers[@]}"; do
	phase "suites $v patched" "$here/run-suites.sh" "$v"
	if [ "$v" = 6.12 ] || [ "$allvan" = 1 ]; then
		phase "suites $v vanilla" "$here/run-suites.sh" "$v" --vanilla
	fi
done
# The harness must fail crashed, hung, complaining and CPU-short guests.
if [ ${#vers[@]} -gt 0 ]; then
	phase "harness selftest ${vers[0]}" "$here/selftest.sh" "${vers[0]}"
fi
if [ "$check" = 1 ] && [ ${#vers[@]} -gt 0 ]; then
	phase "check-series ${vers[*]}" "$here/check-series.sh" "${vers[@]}"
fi

echo
echo "################ run-all: summary"
printf '%s\n' "${summary[@]}"
echo "total wall clock: $(dur $(( $(date +%s) - T0 )))"
[ "$rc" = 0 ] && echo "run-all: PASS" || echo "run-all: FAIL"
exit "$rc"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
