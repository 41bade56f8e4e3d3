#!/bin/bash
# Bisectability: every prefix of patches/linux-<ver>/ must build.  Applies
# the series one patch at a time (git am) onto a git tree of Debian's
# linux-source-<ver> and after each patch runs an incremental
# `make bzImage` (x86_64, the guest config of build-kernel.sh, ccache, -j2),
# no compiler warnings allowed (W=1 warnings of the files a patch touches
# are shown, not fatal: some predate the series); after the last patch also
# headers_install and the mm mlock selftests.  Slow (one incremental build
# per patch); not part of run-all.sh.
#
# usage: tests/vm/check-bisect.sh <6.12|6.1> [--from N]
#   --from N   start building at patch N (1-based; earlier ones are applied
#              without building)
# Work tree: ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}/check/linux-<ver>-bisect/
# (its O= dir .build/ is kept between runs).
set -uo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
. "$here/lib.sh" || exit 2
jobs=${MLOCK_INHERIT_JOBS:-2}

ver= from=1
while [ $# -gt 0 ]; do
	case $1 in
	6.12|6.1) ver=$1 ;;
	--from) [ $# -ge 2 ] || { echo "check-bisect: --from wants a number" >&2; exit 2; }; from=$2; shift ;;
	-h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check-bisect: unknown argument '$1' (usage: check-bisect.sh <6.12|6.1> [--from N])" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$ver" ] || { echo "check-bisect: usage: check-bisect.sh <6.12|6.1> [--from N]" >&2; exit 2; }
series_patches "$ver" || exit 1
[ ${#patches[@]} -gt 0 ] || { echo "check-bisect: patches/linux-$ver/series is absent or empty: nothing to check" >&2; exit 1; }

T0=$(date +%s)
git=$cache/check/linux-$ver-bisect
obj=$git/.build
mkdir -p "$cache/check"
log=$cache/check/linux-$ver-bisect.log
: > "$log"
git_base_tree "$ver" "$git" "$log" || exit 1

fragments=("$here/kconfig/base.config")
[ -f "$here/kconfig/$ver.config" ] && fragments+=("$here/kconfig/$ver.config")
rm -rf "$git/.build-cfg"
kbuild_locked check-bisect make_config "$git" "$git/.build-cfg" x86_64 "$log" "${fragments[@]}" || exit 1
mkdir -p "$obj"
cmp -s "$git/.build-cfg/.config" "$obj/.config" || cp "$git/.build-cfg/.config" "$obj/.config"
rm -rf "$git/.build-cfg"

export CCACHE_DIR=$cache/ccache CCACHE_BASEDIR=$cache
export KBUILD_BUILD_TIMESTAMP="mlock-inherit bisect" KBUILD_BUILD_USER=mlock KBUILD_BUILD_HOST=harness
mk=(make -C "$git" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$jobs")
rc=0 i=0
for p in "${patches[@]}"; do
	i=$((i + 1))
	name=$(basename "$p")
	if ! out=$(cd "$git" && git am -q --keep-cr "$p" 2>&1); then
		echo "check-bisect[$ver]: FAIL: $name does not apply:"
		echo "$out" | sed 's/^/    /'
		exit 1
	fi
	[ "$i" -ge "$from" ] || { echo "check-bisect[$ver]: $i $name: applied (not built, --from $from)"; continue; }
	t=$(date +%s)
	plog=$cache/check/linux-$ver-bisect-$i.log
	rm -f "$plog.w1"
	# W=1 on the C files this patch changes (compiled on their own after
	# the full build, so only their new warnings are shown).
	cfiles=$(cd "$git" && git diff --name-only HEAD~1 HEAD -- '*.c' |
		grep -vE '^(tools|Documentation|scripts|samples)/' || true)
	ok=1
	kbuild_lock check-bisect
	"${mk[@]}" olddefconfig bzImage > "$plog" 2>&1 || ok=0
	if grep -E '(warning|error):' "$plog" > "$plog.warnings"; then ok=0; fi
	w1=
	if [ "$ok" = 1 ] && [ -n "$cfiles" ]; then
		for c in $cfiles; do
			o=${c%.c}.o
			[ -f "$obj/$o" ] || continue   # not built in this config
			rm -f "$obj/$o"
			"${mk[@]}" W=1 "$o" >> "$plog.w1" 2>&1 || ok=0
		done
		w1=$(grep -E 'warning:' "$plog.w1" 2>/dev/null || true)
	fi
	kbuild_unlock
	if [ "$ok" = 1 ]; then
		echo "check-bisect[$ver]: $i $name: PASS ($(dur $(( $(date +%s) - t ))))"
		rm -f "$plog.warnings"
		[ -z "$w1" ] || { echo "    W=1 warnings in the files it touches (informational; may predate the series):"; echo "$w1" | sed 's/^/      /' | head -20; }
	else
		echo "check-bisect[$ver]: $i $name: FAIL ($(dur $(( $(date +%s) - t ))), log $plog):"
		if [ -s "$plog.warnings" ]; then sed 's/^/    /' "$plog.warnings" | head -30
		else tail -n 20 "$plog" | sed 's/^/    /'; fi
		rc=1
	fi
done

# the full series: uapi headers and the mlock selftests against them
stdir=tools/testing/selftests/mm
[ -d "$git/$stdir" ] || stdir=tools/testing/selftests/vm
st=()
for t in mlock2-tests mlock-random-test on-fault-limit mlock-inherit; do
	[ -f "$git/$stdir/$t.c" ] && st+=("$obj/kselftest/$t")
done
mkdir -p "$obj/kselftest"
kbuild_lock check-bisect
if "${mk[@]}" headers_install >> "$log" 2>&1 &&
   make -C "$git/$stdir" OUTPUT="$obj/kselftest" CC=gcc KHDR_INCLUDES="-isystem $obj/usr/include" \
	-j"$jobs" "${st[@]}" >> "$log" 2>&1; then
	echo "check-bisect[$ver]: selftests (${st[*]##*/}) build against the series' headers: PASS"
else
	echo "check-bisect[$ver]: selftests: FAIL; last lines of $log:"
	tail -n 20 "$log" | sed 's/^/    /'
	rc=1
fi
kbuild_unlock
echo "check-bisect[$ver]: $([ $rc = 0 ] && echo PASS || echo FAIL) (${#patches[@]} patches, $(dur $(( $(date +%s) - T0 ))))"
exit "$rc"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
