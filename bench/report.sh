#!/bin/bash
# Build the report of a benchmark run: DIR/RESULTS.md (machine, kernel,
# date, tables, PASS/MISS) and DIR/results.png (gnuplot), from the raw
# samples DIR/host.tsv and/or DIR/guest.tsv and their .meta files.
#
# usage: bench/report.sh DIR
#
# Prints the tables on stdout.  Exit status 0 unless the report cannot be
# made (no samples, gnuplot failing); timings never change it.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "bench/report: error: $*" >&2; exit 1; }

dir=${1:-}
[ -n "$dir" ] && [ -d "$dir" ] || die "usage: bench/report.sh DIR (a results directory of bench/run.sh)"
files=()
for e in host guest; do
	[ -s "$dir/$e.tsv" ] && files+=("$dir/$e.tsv")
done
[ ${#files[@]} -gt 0 ] || die "no samples in $dir (host.tsv, guest.tsv): run bench/run.sh first"

meta() { # meta ENV KEY
	[ -f "$dir/$1.meta" ] && sed -n "s/^$2=//p" "$dir/$1.meta" | tail -n1
}
envname() {
	case $1 in
	host) echo "host, stock $(meta host kernel)" ;;
	guest) echo "guest, $(meta guest kernel) (TCG)" ;;
	esac
}

plotdir=$dir/plot
rm -rf "$plotdir"
mkdir -p "$plotdir"
tables=$(awk -f "$here/report.awk" -v plotdir="$plotdir" \
	-v envnames="host=$(envname host);guest=$(envname guest)" "${files[@]}") ||
	die "report.awk failed"

# ---- the plot
png=$dir/results.png
plot_ok=0
if command -v gnuplot >/dev/null; then
	gp=$plotdir/plot.gp
	lines() { # lines ENV MEAS VARIANT... -> gnuplot plot clauses
		local e=$1 m=$2 v f dash
		shift 2
		dash=1
		[ "$e" = host ] && dash=2
		for v in "$@"; do
			f=$plotdir/$e-$m-$v.dat
			[ -s "$f" ] || continue
			printf "'%s' using 1:2:3:4 with yerrorlines dt %d lw 2 title '%s %s', " \
				"$f" "$dash" "$e" "$v"
		done
	}
	ratio_lines() { # ratio_lines SPEC LABEL
		local e f
		for e in guest host; do
			f=$plotdir/$e-ratio-$1.dat
			[ -s "$f" ] || continue
			printf "'%s' using 1:2:3:4 with yerrorlines lw 2 title '%s %s', " "$f" "$e" "$2"
		done
	}
	p1=$(lines guest fork none locked inherit; lines host fork none locked)
	p2=$(lines guest resident kernel fallback populate; lines host resident fallback populate)
	p3=$(ratio_lines 0 "fork INHERIT/no INHERIT"; ratio_lines 3 "resident kernel/fallback")
	{
		echo "set terminal pngcairo size 1600,1200 font 'DejaVu Sans,10'"
		echo "set output '$png'"
		echo "set multiplot layout 2,2 title 'mlock-inherit benchmarks ($(date -u '+%Y-%m-%d'))'"
		echo "set termoption noenhanced"
		echo "set grid; set key top left; set logscale x 2; set xrange [11:1500]; set xtics (16,64,256,1024)"
		echo "set xlabel 'locked size (MiB)'"
		echo "set logscale y; set ylabel 'ms'"
		echo "set title '1. parent fork() latency'"
		[ -n "$p1" ] && echo "plot ${p1%, }" || echo "set label 'no data' at graph 0.4,0.5; plot NaN notitle; unset label"
		echo "set title '2. fork until the child is resident and locked'"
		[ -n "$p2" ] && echo "plot ${p2%, }" || echo "set label 'no data' at graph 0.4,0.5; plot NaN notitle; unset label"
		echo "set title 'per-pair ratios (targets: fork <= 1.2, resident <= 0.2 at 1 GiB)'"
		echo "set ylabel 'ratio'"
		echo "set arrow from graph 0, first 1.2 to graph 1, first 1.2 nohead dt 3 lc rgb 'red'"
		echo "set arrow from graph 0, first 0.2 to graph 1, first 0.2 nohead dt 3 lc rgb 'red'"
		[ -n "$p3" ] && echo "plot ${p3%, }" || echo "set label 'no data (kernel lacks MCL_INHERIT)' at graph 0.2,0.5; plot [16:1024][0.1:10] NaN notitle; unset label"
		echo "unset arrow; unset logscale; unset xtics; set autoscale x; set xtics rotate by -30 font ',8'; set xlabel ''"
		echo "set title '3./4. fork+exec and make -j2: time / plain (target fork+exec kernel <= 1.25)'"
		echo "set ylabel 'ratio to plain'; set style fill solid 0.5; set boxwidth 0.6; set yrange [0:*]"
		echo "set arrow from graph 0, first 1.25 to graph 1, first 1.25 nohead dt 3 lc rgb 'red'"
		if [ -s "$plotdir/bars.dat" ]; then
			echo "plot '$plotdir/bars.dat' using 0:2:xtic(1) with boxes notitle, '' using 0:2:3:4 with yerrorbars lc rgb 'black' notitle"
		else
			echo "set label 'no data (mlock command not available)' at graph 0.2,0.5; plot [0:1][0:2] NaN notitle"
		fi
		echo "unset multiplot"
	} > "$gp"
	if gnuplot "$gp" 2> "$plotdir/gnuplot.log"; then
		plot_ok=1
	else
		echo "bench/report: gnuplot failed (see $plotdir/gnuplot.log and $gp):" >&2
		tail -n 5 "$plotdir/gnuplot.log" >&2
	fi
else
	echo "bench/report: gnuplot not found (apt-get install gnuplot-nox): no plot" >&2
fi

# ---- RESULTS.md
machine() { # machine ENV
	local e=$1
	[ -f "$dir/$e.meta" ] || return 0
	case $e in
	host) echo "- **host** (measurement 6: fallback on the stock kernel): $(meta host cpu), $(meta host cpus) CPUs, $(meta host mem_total); kernel $(meta host kernel) ($(meta host kernel_version)); MCL_INHERIT: $(meta host mcl_inherit); transparent huge pages: $(meta host thp)." ;;
	guest) echo "- **guest** (kernel mode): QEMU $(meta guest qemu) TCG (no KVM) on the host above, $(meta guest cpus) vCPU(s) online, $(meta guest mem_total); kernel $(meta guest kernel) ($(meta guest kernel_version)), from $(meta guest series); MCL_INHERIT: $(meta guest mcl_inherit); clock: $(meta guest clocksource)$([ -n "$(meta guest tsc_khz)" ] && echo " at the host's $(meta guest tsc_khz) kHz")." ;;
	esac
	case $(meta "$e" clocksource) in
	*jiffies*) echo "  **The clock was $(meta "$e" clocksource) (1-10 ms resolution): short times in this part are quantised.**" ;;
	esac
	if [ -n "$(meta "$e" host_load_start)" ]; then
		echo "  Run $(meta "$e" date), $(meta "$e" elapsed_s) s; the host's load average $(meta "$e" host_load_start) at the start, $(meta "$e" host_load_end) at the end (2 cores shared with other work; inside the guest $(meta "$e" load_start) / $(meta "$e" load_end))$([ "$(meta "$e" quick)" = 1 ] && echo '; **--quick run: few repetitions, small sizes only**')."
	else
		echo "  Run $(meta "$e" date), $(meta "$e" elapsed_s) s; load average $(meta "$e" load_start) at the start, $(meta "$e" load_end) at the end (2 cores shared with other work)$([ "$(meta "$e" quick)" = 1 ] && echo '; **--quick run: few repetitions, small sizes only**')."
	fi
	[ -n "$(meta "$e" kernel_mode_na)" ] && echo "  Kernel mode n/a here: $(meta "$e" kernel_mode_na)."
	[ -n "$(meta "$e" fallback_mode_na)" ] && echo "  Fallback mode n/a here: $(meta "$e" fallback_mode_na)."
	[ "$(meta "$e" failed)" = 1 ] && echo "  **A benchmark program failed in this part; its figures are incomplete (see the run's log).**"
	return 0
}
{
	echo "# Benchmark results"
	echo
	echo "Generated by \`bench/run.sh\` ($(date -u '+%Y-%m-%d %H:%M UTC')); raw samples and"
	echo "logs in \`$dir\`. How to read and reproduce: [README.md](README.md)."
	echo
	echo "## Machine and kernels"
	echo
	machine host
	machine guest
	echo
	echo "These machines are shared and noisy, and the guest is emulated (TCG is"
	echo "tens of times slower than the host and slows page-table work and page"
	echo "copies unevenly): compare ratios, which are taken pair by pair within one"
	echo "run with the variants interleaved; absolute times are context only."
	echo
	echo "## Results"
	echo
	echo "$tables"
	echo
	if [ "$plot_ok" = 1 ]; then
		echo "## Plot"
		echo
		echo "![benchmark plot](results.png)"
		echo
	fi
	# the hand-written reading of the figures (why a target is missed,
	# what would meet it); it names the run it was written for
	if [ -s "$here/analysis.md" ]; then
		cat "$here/analysis.md"
		echo
	fi
} > "$dir/RESULTS.md"

echo "$tables"
[ "$plot_ok" = 1 ] && echo "plot: $png" >&2
echo "report: $dir/RESULTS.md" >&2
exit 0
