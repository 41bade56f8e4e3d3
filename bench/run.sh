#!/bin/bash
# The benchmarks of issue 5 in one command: builds the benchmark programs
# and the mlock command, runs the fallback-mode figures on this (stock)
# kernel, boots the patched 6.12 kernel in QEMU and runs the kernel-mode
# figures there, then prints the tables (median/min/max, per-pair ratios,
# PASS/MISS) and writes bench/RESULTS.md and bench/results.png.
#
# usage: bench/run.sh [--host-only | --guest-only] [--quick] [--out DIR]
#                     [--kernel BZIMAGE [--kernel-desc TEXT]] [--mem SIZE]
#                     [--no-save]
#        bench/run.sh --report DIR [--no-save]
#        bench/run.sh --build-only
#
#   --host-only      only the host part (stock kernel: fallback figures)
#   --guest-only     only the guest part (patched 6.12 in QEMU)
#   --quick          few repetitions, sizes 16 and 64 MiB (smoke test)
#   --out DIR        results directory (default: a new one under
#                    ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}/results/);
#                    an existing one keeps the other part's samples, so a
#                    --host-only and a --guest-only run can share one report
#   --kernel BZIMAGE boot this kernel instead of tests/vm/build-kernel.sh 6.12
#   --kernel-desc T  what that kernel is (series, commit), for RESULTS.md
#   --mem SIZE       guest memory (default 4G: 1 GiB locked in the parent,
#                    its copy in the child, and a 1 GiB MAP_POPULATE)
#   --no-save        do not copy RESULTS.md and results.png into bench/
#   --report DIR     only rebuild the report of an earlier run
#   --build-only     only build the programs (CC=clang-14 works too)
#
# Environment: MLOCK, MLOCK_PRELOAD (use this mlock command and fallback
# library instead of building the working tree's), CC, MLOCK_INHERIT_CACHE.
# Takes about 16 minutes (guest ~10, host ~6).  Exit status: 0 when every
# part ran, whatever the timings; 1 when a part could not run or a
# benchmark program failed (e.g. a child that was not locked).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
build=$cache/bench-build
CC=${CC:-gcc}

die() { echo "bench/run: error: $*" >&2; exit 1; }
say() { echo "bench/run: $*" >&2; }
usage() {
	sed -n '/^# usage:/,/^#   --build-only/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

do_host=1 do_guest=1 quick='' out='' kernel='' kernel_desc='' mem=4G save=1 report_only='' build_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--host-only) do_guest=0 ;;
	--guest-only) do_host=0 ;;
	--quick) quick=--quick ;;
	--out) [ $# -ge 2 ] || usage; out=$2; shift ;;
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift ;;
	--kernel-desc) [ $# -ge 2 ] || usage; kernel_desc=$2; shift ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift ;;
	--no-save) save=0 ;;
	--report) [ $# -ge 2 ] || usage; report_only=$2; shift ;;
	--build-only) build_only=1 ;;
	-h|--help) usage ;;
	*) echo "bench/run: unknown argument '$1'" >&2; usage ;;
	esac
	shift
done
[ "$do_host$do_guest" != 00 ] || die "--host-only and --guest-only exclude each other"

save_report() {
	local d=$1
	"$here/report.sh" "$d" || return 1
	if [ "$save" = 1 ]; then
		cp "$d/RESULTS.md" "$here/RESULTS.md" &&
			say "wrote $here/RESULTS.md"
		if [ -f "$d/results.png" ]; then
			cp "$d/results.png" "$here/results.png" && say "wrote $here/results.png"
		fi
	fi
}

if [ -n "$report_only" ]; then
	[ -d "$report_only" ] || die "--report $report_only: no such directory"
	save_report "$report_only"
	exit
fi

# ---- 1. the benchmark programs (kernel style, warnings are errors)
mkdir -p "$build/bin" || die "cannot create $build"
cflags=(-O2 -g -Wall -Wextra -Werror)
for p in forkbench spawnbench; do
	"$CC" "${cflags[@]}" -o "$build/bin/$p" "$here/$p.c" ||
		die "$CC failed to build bench/$p.c"
done
say "built $build/bin/{forkbench,spawnbench} with $CC"
[ "$build_only" = 1 ] && exit 0

# ---- 2. the mlock command and its fallback library: the working tree's
# userspace, built out of the repo (also the code base of the make bench)
us=$build/userspace
build_userspace() {
	local files key
	command -v autoreconf >/dev/null || { echo "autoreconf missing (apt-get install autoconf automake libtool)"; return 1; }
	files=$(cd "$repo" && git ls-files -co --exclude-standard -- \
		configure.ac Makefile.am autogen.sh mlock-cmd man tests/host \
		Documentation build-aux/tap-driver.sh 2>/dev/null)
	[ -n "$files" ] && [ -f "$repo/configure.ac" ] && [ -f "$repo/mlock-cmd/mlock.c" ] ||
		{ echo "the repo has no userspace sources yet (configure.ac, mlock-cmd/mlock.c)"; return 1; }
	key=$(cd "$repo" && echo "$files" | xargs sha256sum | sha256sum | cut -c1-16)
	if [ -f "$us/.bench-key" ] && [ "$(cat "$us/.bench-key")" = "$key" ] &&
	   [ -x "$us/mlock-cmd/mlock" ]; then
		return 0
	fi
	say "building the working tree's mlock command in $us"
	rm -rf "$us"
	mkdir -p "$us"
	(cd "$repo" && echo "$files" | tar -cf - -T -) | (cd "$us" && tar -xf -) ||
		{ echo "cannot copy the sources to $us"; return 1; }
	mkdir -p "$us/m4" "$us/build-aux"
	(
		cd "$us" &&
		autoreconf -fi &&
		./configure --quiet &&
		make -s -j2 &&
		make -s -j2 tests/host/mlock-testprobe tests/host/libmlock-testmark.la
	) > "$build/userspace.log" 2>&1 ||
		{ echo "build failed, see $build/userspace.log"; return 1; }
	# the make benchmark rebuilds exactly this
	echo "all tests/host/mlock-testprobe tests/host/libmlock-testmark.la" > "$us/.bench-targets"
	echo "$key" > "$us/.bench-key"
}
make_src=
if [ -n "${MLOCK:-}" ]; then
	[ -x "$MLOCK" ] || die "MLOCK=$MLOCK is not executable"
	say "using MLOCK=$MLOCK${MLOCK_PRELOAD:+ and MLOCK_PRELOAD=$MLOCK_PRELOAD}"
	if why=$(build_userspace); then make_src=$us; else say "make benchmark n/a: $why"; fi
elif why=$(build_userspace); then
	export MLOCK=$us/mlock-cmd/mlock
	export MLOCK_PRELOAD=$us/mlock-cmd/.libs/libmlock-preload.so
	make_src=$us
else
	say "the mlock command is not available ($why): figures 3-5 will be n/a"
fi

# ---- 3. results directory
if [ -z "$out" ]; then
	out=$cache/results/bench-$(date -u +%Y%m%dT%H%M%S)
fi
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd -P)
say "results: $out"
status=0
t0=$SECONDS

# ---- 4. host part: the stock kernel, fallback mode (measurement 6)
if [ "$do_host" = 1 ]; then
	say "host part on $(uname -r)"
	"$here/suite.sh" --env host --out "$out" --bin "$build/bin" \
		${make_src:+--make-src "$make_src"} $quick 2>&1 | tee "$out/host.log" >&2
	[ "${PIPESTATUS[0]}" = 0 ] ||
		{ say "host part: a benchmark failed (see $out/host.log)"; status=1; }
	say "host part done after $((SECONDS - t0)) s"
fi

# ---- 5. guest part: the patched 6.12 kernel in QEMU
guest_kernel() {
	local series=$repo/patches/linux-6.12/series n
	if [ -n "$kernel" ]; then
		[ -f "$kernel" ] || { echo "--kernel $kernel does not exist"; return 1; }
		echo "$kernel"
		return 0
	fi
	n=0
	[ -f "$series" ] && n=$(sed 's/#.*//' "$series" | grep -v -c -e '^[[:space:]]*$' -e 'cover-letter')
	[ "$n" -gt 0 ] || { echo "no patch series yet ($series lists no patch); pass --kernel BZIMAGE"; return 1; }
	if pgrep -f 'make.*bzImage' >/dev/null; then
		say "another kernel build is running; build-kernel.sh reuses or waits for its own key"
	fi
	say "tests/vm/build-kernel.sh 6.12 (reuses a cached build with the same key)"
	"$repo/tests/vm/build-kernel.sh" 6.12 | tail -n1
}
if [ "$do_guest" = 1 ]; then
	if ! bz=$(guest_kernel) || [ ! -f "$bz" ]; then
		say "guest part impossible: ${bz:-build-kernel.sh failed}"
		status=1
	else
		# Without HPET or PM timer (tinyconfig) the guest cannot calibrate
		# its TSC and falls back to 4 ms jiffies as its clock.  Under TCG
		# the guest's TSC is the host's, so hand the guest the host's rate.
		clockargs=()
		if khz=$("$build/bin/forkbench" tsc-khz 2>/dev/null); then
			clockargs=(--append "tsc_early_khz=$khz tsc=reliable")
			say "guest clock: TSC at the host's $khz kHz"
		else
			say "warning: cannot measure the host's TSC rate; the guest may time in 4 ms jiffies"
		fi
		say "guest part: booting $bz with $mem"
		# suite.sh inherits MLOCK and MLOCK_PRELOAD through run-guest.sh
		tg=$SECONDS
		host_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
		"$repo/tests/vm/run-guest.sh" --kernel "$bz" --mem "$mem" --smp 2 \
			"${clockargs[@]}" --timeout 1800 --results "$out" -- \
			"$here/suite.sh" --env guest --out "$out" --bin "$build/bin" \
			${make_src:+--make-src "$make_src"} $quick
		rc=$?
		say "guest part: exit status $rc after $((SECONDS - tg)) s"
		if [ -f "$out/guest.meta" ]; then
			{
				echo "qemu=$(qemu-system-x86_64 --version | head -1 | sed 's/.*version //')"
				echo "bzimage=$bz"
				echo "host_load_start=$host_load_start"
				echo "host_load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
				[ -n "${khz:-}" ] && echo "tsc_khz=$khz"
				if [ -n "$kernel" ]; then
					echo "series=${kernel_desc:-the given --kernel $kernel}"
				else
					echo "series=patches/linux-6.12 ($(sed 's/#.*//' "$repo/patches/linux-6.12/series" | grep -c '[^[:space:]]') lines in series, repo $(cd "$repo" && git rev-parse --short HEAD))"
				fi
			} >> "$out/guest.meta"
		fi
		[ "$rc" = 0 ] || { say "guest part failed (run-guest.sh status $rc; console: $out/console.log)"; status=1; }
	fi
fi

save_report "$out" || status=1
say "total $((SECONDS - t0)) s; exit status $status"
exit "$status"
