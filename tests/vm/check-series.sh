#!/bin/bash
# Static checks of the kernel series (no guest boot):
#   1. `git am` of patches/linux-<ver>/ (series order, cover letter skipped)
#      onto a fresh git tree of Debian's linux-source-<ver>;
#   2. scripts/checkpatch.pl --strict on every patch: any ERROR, WARNING or
#      CHECK fails;
#   3. compile of the patched tree for arm64 (ARCH=arm64,
#      CROSS_COMPILE=aarch64-linux-gnu-, tinyconfig + kconfig/cross-arm64.config,
#      ccache): mm/, kernel/fork.o, kernel/sys.o, fs/exec.o, fs/binfmt_*.o,
#      fs/proc/ (or a full vmlinux with --full);
#   4. `make ARCH=powerpc headers_install`, then with the host gcc against
#      those headers: a static check of the powerpc MCL_* values, and a
#      compile of the series' mlock-inherit selftest.
#
# usage: tests/vm/check-series.sh [6.12] [6.1] [--full|--quick]
#   default: every version whose patches/linux-<ver>/series is non-empty.
#   --full   build a whole arm64 vmlinux instead of the mm/exec/fork objects
#   --quick  skip the arm64 compile (git am, checkpatch, powerpc uapi only)
# Work trees: ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}/check/linux-<ver>-git/
set -euo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
. "$here/lib.sh"
jobs=${MLOCK_INHERIT_JOBS:-2}

vers=() full=0 quick=0
for a in "$@"; do
	case $a in
	6.12|6.1) vers+=("$a") ;;
	--full) full=1 ;;
	--quick) quick=1 ;;
	-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check-series: unknown argument '$a' (usage: check-series.sh [6.12] [6.1] [--full|--quick])" >&2; exit 2 ;;
	esac
done
if [ ${#vers[@]} = 0 ]; then
	for v in 6.12 6.1; do
		series_patches "$v" || exit 1
		[ ${#patches[@]} -gt 0 ] && vers+=("$v")
	done
	if [ ${#vers[@]} = 0 ]; then
		echo "check-series: no patches/linux-*/series with patches: nothing to check"
		exit 0
	fi
fi

export CCACHE_DIR=$cache/ccache CCACHE_BASEDIR=$cache
rc=0
failed=()
for ver in "${vers[@]}"; do
	check_one "$ver" || { rc=1; failed+=("$ver"); }
done
if [ "$rc" = 0 ]; then
	echo "check-series: PASS (${vers[*]})"
else
	echo "check-series: FAIL (${failed[*]})"
fi
exit "$rc"
}

say() { echo "check-series[$ver]: $*"; }

check_one() {
	local ver=$1 t0 git log fail=0 p n out
	t0=$(date +%s)
	series_patches "$ver" || return 1
	if [ ${#patches[@]} = 0 ]; then
		say "FAIL: patches/linux-$ver/series is absent or empty"
		return 1
	fi
	git=$cache/check/linux-$ver-git
	mkdir -p "$cache/check"
	log=$cache/check/linux-$ver.log
	: > "$log"

	# --- 1. fresh git tree (the pristine import is cached, tagged debian-base)
	git_base_tree "$ver" "$git" "$log" || return 1
	for p in "${patches[@]}"; do
		if ! out=$(cd "$git" && git am -q --keep-cr "$p" 2>&1); then
			say "FAIL: git am $(basename "$p") does not apply:"
			echo "$out" | sed 's/^/    /'
			(cd "$git" && git am --abort) >/dev/null 2>&1 || true
			return 1
		fi
	done
	say "git am: ${#patches[@]} patches applied ($(( $(date +%s) - t0 ))s)"

	# --- 2. checkpatch --strict
	local t1=$(date +%s) cp_fail=0
	for p in "${patches[@]}"; do
		# /usr/bin first: spdxcheck.py needs Debian's python3 (python3-ply,
		# python3-git), not some other python3 earlier in PATH
		out=$(cd "$git" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --no-color --showfile "$p" 2>&1) || true
		if echo "$out" | grep -q '^Traceback'; then
			say "checkpatch $(basename "$p"): FAIL: scripts/spdxcheck.py crashed (apt-get install python3-ply python3-git):"
			echo "$out" | grep -A3 '^Traceback' | sed 's/^/    /' | head -8
			cp_fail=1
		fi
		n=$(echo "$out" | sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' | tail -n1)
		if [ -z "$n" ]; then
			say "checkpatch $(basename "$p"): no summary line?"; echo "$out" | tail -5 | sed 's/^/    /'
			cp_fail=1
		elif [ "$n" != "0 0 0" ]; then
			say "checkpatch $(basename "$p"): FAIL (errors warnings checks: $n)"
			echo "$out" | grep -E -A3 '(ERROR|WARNING|CHECK):' | sed 's/^/    /' | head -60
			cp_fail=1
		else
			say "checkpatch $(basename "$p"): clean"
		fi
	done
	[ "$cp_fail" = 0 ] || fail=1
	say "checkpatch: $([ "$cp_fail" = 0 ] && echo PASS || echo FAIL) ($(( $(date +%s) - t1 ))s)"

	# --- 3. arm64 compile (3 and 4 under the machine-wide kernel build lock)
	kbuild_lock "check-series[$ver]"
	t1=$(date +%s)
	local a64=$git/.build-arm64 cfgo=$git/.build-arm64-cfg alog=$cache/check/linux-$ver-arm64.log
	local frag=$here/kconfig/cross-arm64.config
	if [ "$quick" = 1 ]; then
		say "arm64: skipped (--quick)"
	elif ! command -v aarch64-linux-gnu-gcc >/dev/null; then
		say "arm64: FAIL: aarch64-linux-gnu-gcc missing (apt-get install gcc-aarch64-linux-gnu)"
		fail=1
	else
		rm -rf "$cfgo"
		if make_config "$git" "$cfgo" arm64 "$log" "$frag" 2>&1 | sed 's/^/    /'; [ "${PIPESTATUS[0]}" = 0 ]; then
			mkdir -p "$a64"
			cmp -s "$cfgo/.config" "$a64/.config" || cp "$cfgo/.config" "$a64/.config"
			rm -rf "$cfgo"
			local targets=(mm/ kernel/fork.o kernel/sys.o fs/exec.o fs/binfmt_elf.o fs/binfmt_script.o fs/proc/)
			[ "$full" = 1 ] && targets=(vmlinux)
			if make -C "$git" O="$a64" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
				CC="ccache aarch64-linux-gnu-gcc" -j"$jobs" olddefconfig "${targets[@]}" >"$alog" 2>&1; then
				if grep -E '(warning|error):' "$alog" > "$cache/check/linux-$ver-arm64.warnings"; then
					say "arm64: FAIL: compiler warnings:"
					sed 's/^/    /' "$cache/check/linux-$ver-arm64.warnings" | head -40
					fail=1
				else
					say "arm64: PASS: ${targets[*]} ($(( $(date +%s) - t1 ))s)"
				fi
			else
				say "arm64: FAIL: compile failed; last lines of $alog:"
				tail -n 30 "$alog" | sed 's/^/    /'
				fail=1
			fi
		else
			say "arm64: FAIL: configuration"
			fail=1
		fi
	fi

	# --- 4. powerpc uapi headers + MCL values + selftest compile
	t1=$(date +%s)
	local ppc=$git/.build-ppc
	mkdir -p "$ppc"; rm -f "$ppc/mcl-values.o" "$ppc/mlock-inherit.o"
	if make -C "$git" O="$ppc" ARCH=powerpc headers_install >>"$log" 2>&1; then
		cat > "$ppc/mcl-values.c" <<-'EOF'
		/* compile-only: the powerpc MCL_* values of the installed uapi */
		#include <linux/mman.h>
		#ifndef MCL_INHERIT
		#error "MCL_INHERIT missing from the powerpc uapi headers"
		#endif
		#ifndef MCL_RECURSIVE
		#error "MCL_RECURSIVE missing from the powerpc uapi headers"
		#endif
		_Static_assert(MCL_CURRENT == 0x2000, "powerpc MCL_CURRENT");
		_Static_assert(MCL_FUTURE == 0x4000, "powerpc MCL_FUTURE");
		_Static_assert(MCL_ONFAULT == 0x8000, "powerpc MCL_ONFAULT");
		_Static_assert(MCL_INHERIT == 0x10000, "powerpc MCL_INHERIT");
		_Static_assert(MCL_RECURSIVE == 0x20000, "powerpc MCL_RECURSIVE");
		_Static_assert(MCL_INHERIT == MCL_ONFAULT << 1, "MCL_INHERIT rule");
		_Static_assert(MCL_RECURSIVE == MCL_ONFAULT << 2, "MCL_RECURSIVE rule");
		int mcl_values_ok;
		EOF
		if out=$(gcc -Wall -Wextra -Werror -nostdinc -isystem "$ppc/usr/include" \
				-c "$ppc/mcl-values.c" -o "$ppc/mcl-values.o" 2>&1); then
			say "powerpc: MCL_* values PASS"
		else
			say "powerpc: MCL_* values FAIL:"; echo "$out" | sed 's/^/    /'
			fail=1
		fi
		local stdir=tools/testing/selftests/mm
		[ -d "$git/$stdir" ] || stdir=tools/testing/selftests/vm
		if [ -f "$git/$stdir/mlock-inherit.c" ]; then
			if out=$(cd "$git/$stdir" && gcc -Wall -O2 -I "$git/tools/testing/selftests" \
					-isystem "$ppc/usr/include" -isystem "$git/tools/include/uapi" \
					-c mlock-inherit.c -o "$ppc/mlock-inherit.o" 2>&1); then
				say "powerpc: selftest $stdir/mlock-inherit.c compiles against the powerpc uapi: PASS"
				[ -z "$out" ] || echo "$out" | sed 's/^/    /'
			else
				say "powerpc: selftest $stdir/mlock-inherit.c against the powerpc uapi: FAIL:"
				echo "$out" | sed 's/^/    /' | head -40
				fail=1
			fi
		else
			say "powerpc: FAIL: the series adds no $stdir/mlock-inherit.c"
			fail=1
		fi
	else
		say "powerpc: FAIL: headers_install failed; last lines of $log:"
		tail -n 20 "$log" | sed 's/^/    /'
		fail=1
	fi
	say "powerpc checks ($(( $(date +%s) - t1 ))s)"
	kbuild_unlock
	say "$([ "$fail" = 0 ] && echo PASS || echo FAIL) in $(( $(date +%s) - t0 ))s (log $log)"
	return "$fail"
}

# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
