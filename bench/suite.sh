#!/bin/bash
# One environment's part of the benchmarks (issue 5): run on the host by
# bench/run.sh, and inside the patched 6.12 guest through
# tests/vm/run-guest.sh.  Writes raw samples (format: bench/README.md) and a
# description of the machine; prints progress on stderr.
#
# usage: bench/suite.sh --env NAME --out DIR --bin DIR [--make-src DIR]
#                       [--quick] [--only LIST]
#
#   --env NAME      host or guest: names the output files DIR/NAME.tsv and
#                   DIR/NAME.meta
#   --bin DIR       where bench/run.sh built forkbench and spawnbench
#   --make-src DIR  configured copy of the project's userspace for the make
#                   benchmark (copied to a scratch dir before building)
#   --quick         a few repetitions and small sizes only (smoke test)
#   --only LIST     comma-separated subset of fork,fork-thp,resident,spawn,make,
#                   wrapper
#
# Environment: MLOCK (the mlock command) and MLOCK_PRELOAD (its fallback
# library), as in the tests.  Without them, the spawn/make/wrapper figures
# are "n/a" with the reason.  Exit status: 0 unless something really failed
# (a benchmark program error, a child that was not locked); never because of
# a timing.
set -uo pipefail

env_name='' out='' bin='' make_src='' quick=0 only=fork,fork-thp,resident,spawn,make,wrapper
die() { echo "bench/suite: error: $*" >&2; exit 1; }
say() { echo "bench/suite[$env_name]: $*" >&2; }
while [ $# -gt 0 ]; do
	case $1 in
	--env) env_name=${2:?--env wants host or guest}; shift ;;
	--out) out=${2:?--out wants a directory}; shift ;;
	--bin) bin=${2:?--bin wants a directory}; shift ;;
	--make-src) make_src=${2:?--make-src wants a directory}; shift ;;
	--quick) quick=1 ;;
	--only) only=${2:?--only wants a list}; shift ;;
	*) die "unknown argument '$1' (see the usage at the top of $0)" ;;
	esac
	shift
done
[ -n "$env_name" ] && [ -n "$out" ] && [ -n "$bin" ] ||
	die "usage: suite.sh --env NAME --out DIR --bin DIR [--make-src DIR] [--quick] [--only LIST]"
[ -x "$bin/forkbench" ] && [ -x "$bin/spawnbench" ] ||
	die "$bin/forkbench or $bin/spawnbench missing: build them with bench/run.sh --build-only"
mkdir -p "$out" || die "cannot create $out"
tsv=$out/$env_name.tsv
meta=$out/$env_name.meta
: > "$tsv"
failed=0
t_suite=$SECONDS

want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }
na() { printf 'na\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> "$tsv"; }
# run a benchmark program, samples to the TSV; a failure is recorded
bench() {
	if ! "$@" >> "$tsv"; then
		say "FAILED: $*"
		failed=1
		return 1
	fi
}
phase() { say "[$((SECONDS - t_suite))s] $*"; }

# ---- repetition counts: TCG is some 20-50x slower than the host
if [ "$quick" = 1 ]; then
	sizes=16,64 fork_reps=3 fork_budget=20 spawn_rounds=3 spawn_n=5
	make_reps=1 make_budget=60 wrap_n=5
elif [ "$env_name" = guest ]; then
	sizes=16,64,256,1024 fork_reps=7 fork_budget=50 spawn_rounds=7 spawn_n=10
	make_reps=3 make_budget=480 wrap_n=20
else
	sizes=16,64,256,1024 fork_reps=11 fork_budget=20 spawn_rounds=9 spawn_n=20
	make_reps=3 make_budget=200 wrap_n=40
fi

# ---- machine description (key=value), used by the report
{
	echo "env=$env_name"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel=$(uname -r)"
	echo "kernel_version=$(uname -v)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "cpus=$(nproc)"
	echo "mem_total=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo absent)"
	echo "quick=$quick"
	echo "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
	[ -r /sys/class/dmi/id/sys_vendor ] &&
		echo "dmi=$(cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name 2>/dev/null | paste -sd' ')"
} > "$meta"
if grep -q 'Mlockall:' /proc/self/status; then
	echo "status_line=$(grep 'Mlockall:' /proc/self/status | tr '\t' ' ')" >> "$meta"
fi
if "$bin/forkbench" probe; then
	kernel_mode=1
	echo "mcl_inherit=yes" >> "$meta"
else
	kernel_mode=0
	echo "mcl_inherit=no" >> "$meta"
fi
case $(sed -n 's/^clocksource=//p' "$meta") in
*jiffies*) say "warning: clocksource $(sed -n 's/^clocksource=//p' "$meta"): times have a 1-10 ms resolution" ;;
esac
phase "kernel $(uname -r), MCL_INHERIT $([ $kernel_mode = 1 ] && echo supported || echo absent), $(nproc) cpus"

# ---- 1 + 2: fork latency and child residency (no mlock command needed)
if want fork; then
	phase "1. parent fork() latency, sizes $sizes MiB"
	bench "$bin/forkbench" fork -s "$sizes" -r "$fork_reps" -b "$fork_budget"
fi
if want fork-thp; then
	phase "1b. parent fork() latency with transparent huge pages, sizes $sizes MiB"
	bench "$bin/forkbench" fork -H -s "$sizes" -r "$fork_reps" -b "$fork_budget"
fi
if want resident; then
	phase "2. time to a resident and locked child, sizes $sizes MiB"
	bench "$bin/forkbench" resident -s "$sizes" -r "$fork_reps" -b "$fork_budget"
fi

# ---- the mlock command: which modes really lock?
mlock=${MLOCK:-}
modes_na=
if [ -z "$mlock" ]; then
	modes_na="mlock command not available (MLOCK unset)"
elif [ ! -x "$mlock" ]; then
	modes_na="MLOCK=$mlock is not executable"
fi
echo "mlock=${mlock:-none}" >> "$meta"
[ -n "${MLOCK_PRELOAD:-}" ] && echo "mlock_preload=$MLOCK_PRELOAD" >> "$meta"

# VmLck of a grandchild (fork + exec of grep by sh) under "mlock -r ARGS"
grandchild_vmlck() {
	"$mlock" -r "$@" -- /bin/sh -c 'grep "^VmLck:" /proc/self/status; true' 2>&1 |
		awk '/^VmLck:/ {print $2; found=1} END {if (!found) print "none"}'
}
# mode_reason MODE-ARGS...: empty if the mode locks descendants, else why not
mode_reason() {
	local v
	[ -n "$modes_na" ] && { echo "$modes_na"; return; }
	v=$(grandchild_vmlck "$@")
	case $v in
	none) echo "mlock $* failed: $("$mlock" -r "$@" -- /bin/true 2>&1 | head -1)" ;;
	0) echo "mlock -r $* left a grandchild unlocked (VmLck 0 kB)" ;;
	*) return 0 ;;
	esac
}
if [ "$kernel_mode" = 1 ]; then
	kernel_na=$(mode_reason --mode kernel)
else
	kernel_na="kernel lacks MCL_INHERIT"
fi
fallback_na=$(mode_reason --mode preload --quiet)
[ -n "$kernel_na" ] && say "kernel mode: n/a ($kernel_na)"
[ -n "$fallback_na" ] && say "fallback mode: n/a ($fallback_na)"
echo "kernel_mode_na=$kernel_na" >> "$meta"
echo "fallback_mode_na=$fallback_na" >> "$meta"

true_bin=$(command -v true)
[ "${true_bin#/}" != "$true_bin" ] || true_bin=/bin/true

# ---- 3: fork+exec of a small program in a loop under mlock -r
if want spawn; then
	phase "3. fork+exec of $true_bin in a loop ($spawn_rounds rounds x $spawn_n)"
	variants=(plain)
	[ -z "$kernel_na" ] && variants+=(kernel) || na spawn 0 kernel "$kernel_na"
	[ -z "$fallback_na" ] && variants+=(fallback) || na spawn 0 fallback "$fallback_na"
	loop=("$bin/spawnbench" loop -t spawn -n "$spawn_n" -w 2)
	for ((r = 0; r < spawn_rounds; r++)); do
		n=${#variants[@]}
		for ((k = 0; k < n; k++)); do
			v=${variants[$(((k + r) % n))]}
			case $v in
			plain) bench "${loop[@]}" -l plain -i "$r" -- "$true_bin" ;;
			kernel) bench "$mlock" -r --mode kernel -- \
				"${loop[@]}" -l kernel -i "$r" -- "$true_bin" ;;
			fallback) bench "$mlock" -r --mode preload --quiet -- \
				"${loop[@]}" -l fallback -i "$r" -- "$true_bin" ;;
			esac
		done
	done
fi

# ---- 4: mlock -r make -j2 of the project's userspace
if want make; then
	if [ -z "$make_src" ] || [ ! -f "$make_src/Makefile" ]; then
		na make 0 plain "no configured source tree for the make benchmark (--make-src)"
	else
		scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlock-bench-make.XXXXXX") ||
			die "mktemp failed"
		cp -a "$make_src/." "$scratch/" || die "cannot copy $make_src"
		read -ra targets < "$make_src/.bench-targets" 2>/dev/null || targets=(all)
		variants=(plain)
		if [ -z "$kernel_na" ]; then
			variants+=(kernel onfault)
		else
			na make 0 kernel "$kernel_na"
			na make 0 onfault "$kernel_na"
		fi
		# --on-fault: in kernel mode where there is one, else in fallback mode
		if [ -z "$fallback_na" ]; then
			variants+=(fallback)
			[ -z "$kernel_na" ] || variants+=(fallback-onfault)
		else
			na make 0 fallback "$fallback_na"
		fi
		phase "4. make -j2 of the project's userspace (up to $make_reps rounds: ${variants[*]})"
		mk=(make -j2 -s -C "$scratch" "${targets[@]}")
		make -s -C "$scratch" clean >/dev/null 2>&1
		t_warm=$SECONDS
		"${mk[@]}" >/dev/null 2>&1 ||
			{ say "make of $scratch fails even without mlock"; failed=1; }
		t_warm=$((SECONDS - t_warm + 1))
		# as many rounds as fit the budget (TCG builds take minutes)
		fit=$((make_budget / (t_warm * ${#variants[@]})))
		[ "$fit" -lt "$make_reps" ] && make_reps=$((fit > 1 ? fit : 1))
		say "warm-up build: ${t_warm} s; $make_reps round(s) in a ${make_budget} s budget"
		for ((r = 0; r < make_reps; r++)); do
			n=${#variants[@]}
			for ((k = 0; k < n; k++)); do
				v=${variants[$(((k + r) % n))]}
				make -s -C "$scratch" clean >/dev/null 2>&1
				case $v in
				plain) pre=() ;;
				kernel) pre=("$mlock" -r --mode kernel --) ;;
				onfault) pre=("$mlock" -r --on-fault --mode kernel --) ;;
				fallback) pre=("$mlock" -r --mode preload --quiet --) ;;
				fallback-onfault) pre=("$mlock" -r --on-fault --mode preload --quiet --) ;;
				esac
				bench "$bin/spawnbench" loop -t make -l "$v" -i "$r" -n 1 -w 0 -- \
					"${pre[@]}" "${mk[@]}" &&
					say "make $v round $r: $(tail -n1 "$tsv" | cut -f5 | awk '{printf "%.2f s", $1/1e9}')"
			done
		done
		rm -rf "$scratch"
	fi
fi

# ---- 5: wrapper overhead, mlock true vs true
if want wrapper; then
	phase "5. wrapper overhead: mlock $true_bin vs $true_bin ($wrap_n pairs)"
	labels=plain cmds=("$true_bin")
	if [ -z "$kernel_na" ]; then
		labels+=,kernel
		cmds+=(::: "$mlock" --mode kernel -- "$true_bin")
	else
		na wrapper 0 kernel "$kernel_na"
	fi
	if [ -z "$fallback_na" ]; then
		labels+=,fallback
		cmds+=(::: "$mlock" --mode preload --quiet -- "$true_bin")
	else
		na wrapper 0 fallback "$fallback_na"
	fi
	[ "$labels" = plain ] ||
		bench "$bin/spawnbench" alt -t wrapper -l "$labels" -n "$wrap_n" -w 3 -- "${cmds[@]}"
fi

echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$meta"
echo "elapsed_s=$((SECONDS - t_suite))" >> "$meta"
echo "failed=$failed" >> "$meta"
phase "done ($(wc -l < "$tsv") samples in $tsv)"
exit "$failed"
