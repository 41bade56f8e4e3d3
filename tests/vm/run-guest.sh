#!/bin/bash
# Boot a kernel in QEMU (TCG) with the host's root filesystem shared
# read-only over 9p and run one command in it, as root.
#
# usage: tests/vm/run-guest.sh --kernel BZIMAGE [--mem SIZE] [--smp N]
#            [--timeout SECS] [--results DIR] [--env VAR=VALUE]...
#            [--append KERNEL-ARGS] [--verbose] -- CMD [ARGS...]
#
#   --kernel BZIMAGE  kernel to boot (e.g. the path build-kernel.sh printed)
#   --mem SIZE        guest memory (default 2G)
#   --smp N           guest CPUs (default 2), one socket each: on QEMU's pc
#                     machine `-smp N` alone shows the guest ONE CPU (the
#                     MP table SeaBIOS writes lists one core per socket); a
#                     guest that brings up fewer CPUs than N is a failure
#   --timeout SECS    wall-clock limit for boot + CMD + shutdown (default 900)
#   --results DIR     writable results directory, mounted in the guest at the
#                     same path (default: a new dir under
#                     ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}/results/);
#                     must not be under /tmp or /run (those are tmpfs in the
#                     guest) and must not contain spaces
#   --env VAR=VALUE   extra environment variable for CMD (repeatable)
#   --append ARGS     extra kernel command line (repeatable; e.g. to test
#                     that a panicking guest is reported: rdinit=/nonexistent)
#   --verbose         copy the whole console (firmware, boot) to stdout, not
#                     only the part from CMD's start to its end
#
# In the guest: / is the host root (read-only, 9p), /tmp /run /dev/shm are
# tmpfs, /proc /sys /dev are the guest's own, the results dir is writable.
# A source tree that those tmpfs mounts would hide (a clone in /tmp) is
# shared read-only at its own path too.
# CMD runs in the host's current directory (if visible in the guest, else
# /) with stdin /dev/null, PATH, HOME=/root, TERM=dumb, LANG=C.UTF-8, the
# host's MLOCK, MLOCK_PRELOAD and MLOCK_* variables and MLOCK_GUEST_RESULTS
# (the results dir).  Its stdout+stderr go to the serial console, which is
# copied to stdout and saved as DIR/console.log.
# DIR/dmesg is the guest's kernel log at the end, DIR/exit-status CMD's status.
#
# Exit status: CMD's own status if the kernel stayed clean; otherwise
#   121  the kernel logged BUG/WARNING/Oops/Bad page/panic/... (CMD's status
#        is printed), 122 the guest never reported a status (crash, panic,
#        init failure), 123 the guest brought up fewer CPUs than --smp,
#        124 timeout (hung guest), 125 usage or setup error.
# DIR/cpus is the number of CPUs online in the guest when CMD started.
# On 121/122/124 the matching kernel lines and the tail of the console log
# are printed to stderr.
set -euo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}

die() { echo "run-guest: error: $*" >&2; exit 125; }
usage() {
	sed -n '/^# usage:/,/^#   --verbose/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 125
}

kernel= mem=2G smp=2 tmo=900 results= verbose=0 xappend=
extra_env=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || usage; kernel=$2; shift ;;
	--kernel=*) kernel=${1#*=} ;;
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift ;;
	--mem=*) mem=${1#*=} ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift ;;
	--smp=*) smp=${1#*=} ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift ;;
	--timeout=*) tmo=${1#*=} ;;
	--results) [ $# -ge 2 ] || usage; results=$2; shift ;;
	--results=*) results=${1#*=} ;;
	--env) [ $# -ge 2 ] || usage; extra_env+=("$2"); shift ;;
	--env=*) extra_env+=("${1#*=}") ;;
	--append) [ $# -ge 2 ] || usage; xappend+=" $2"; shift ;;
	--append=*) xappend+=" ${1#*=}" ;;
	--verbose|-v) verbose=1 ;;
	-h|--help) usage ;;
	--) shift; break ;;
	*) echo "run-guest: unknown argument '$1' (the command goes after --)" >&2; usage ;;
	esac
	shift
done
[ $# -gt 0 ] || { echo "run-guest: missing command after --" >&2; usage; }
[ -n "$kernel" ] || { echo "run-guest: missing --kernel BZIMAGE (build one with tests/vm/build-kernel.sh 6.12)" >&2; usage; }
[ -f "$kernel" ] || die "kernel image '$kernel' does not exist (build one with tests/vm/build-kernel.sh 6.12)"
[[ $tmo =~ ^[0-9]+$ ]] || die "--timeout wants seconds, got '$tmo'"
[[ $smp =~ ^[1-9][0-9]*$ ]] || die "--smp wants a number of CPUs (1 or more), got '$smp'"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: apt-get install qemu-system-x86"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	{ busybox=/bin/busybox; file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	  die "need a static busybox: apt-get install busybox-static"; }
for v in "${extra_env[@]}"; do
	[[ $v =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants VAR=VALUE, got '$v'"
done

if [ -z "$results" ]; then
	results=$cache/results/run-$(date -u +%Y%m%dT%H%M%S)-$$
fi
mkdir -p "$results" || die "cannot create results dir $results"
results=$(cd "$results" && pwd -P)
# Paths the guest covers with its own tmpfs, proc, sys and dev mounts.
hidden_in_guest() {
	case $1 in
	/tmp|/tmp/*|/run|/run/*|/proc|/proc/*|/sys|/sys/*|/dev|/dev/*) return 0 ;;
	esac
	return 1
}
case $results in
*[[:space:]]*) die "results dir '$results' contains whitespace; choose another --results" ;;
/) die "results dir cannot be /" ;;
esac
hidden_in_guest "$results" &&
	die "results dir '$results' would be hidden in the guest (tmpfs/proc there); use a dir under $cache/results"
rm -f "$results/exit-status" "$results/dmesg" "$results/console.log" "$results/guest-cmd.sh" "$results/cpus"

# The source tree (tests, the mlock command) under a path that the guest
# covers with its own tmpfs: share it at the same path.
src=$(cd "$here/../.." && pwd -P) src_share=
if hidden_in_guest "$src"; then
	case $src in
	*[[:space:]]*) die "source tree '$src' is hidden in the guest (tmpfs there) and its path has whitespace, which cannot go on the kernel command line: clone it elsewhere (e.g. under /var/tmp or \$HOME)" ;;
	esac
	src_share=$src
fi

# --- initramfs: static busybox + our init (cached by content)
init_src=$here/guest-init.sh
[ -f "$init_src" ] || die "$init_src missing"
ikey=$(cat "$init_src" "$busybox" | sha256sum | cut -c1-12)
initrd=$cache/initramfs/initramfs-$ikey.cpio
if [ ! -f "$initrd" ]; then
	mkdir -p "$cache/initramfs"
	tmp=$(mktemp -d "$cache/initramfs/build.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,host,tmp}
	cp "$busybox" "$tmp/bin/busybox"
	cp "$init_src" "$tmp/init"
	chmod 755 "$tmp/init" "$tmp/bin/busybox"
	ln -s busybox "$tmp/bin/sh"
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$tmp"
fi

# --- the command script, run in the guest by bash inside the host root
{
	echo "# generated by tests/vm/run-guest.sh"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/root TERM=dumb LANG=C.UTF-8"
	echo "export MLOCK_GUEST_RESULTS=$(printf '%q' "$results")"
	while IFS= read -r -d '' kv; do
		name=${kv%%=*}
		case $name in
		MLOCK|MLOCK_PRELOAD|MLOCK_*) printf 'export %s=%q\n' "$name" "${kv#*=}" ;;
		esac
	done < <(env -0)
	for kv in "${extra_env[@]}"; do
		printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
	done
	printf 'cd %q 2>/dev/null || { echo "run-guest: %q not visible in the guest, running in /" >&2; cd /; }\n' "$PWD" "$PWD"
	printf '%q ' "$@"
	echo
} > "$results/guest-cmd.sh"

append="console=ttyS0 panic=-1 loglevel=5 mlock_results=$results${src_share:+ mlock_src=$src_share}$xappend"
fs9p=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap")
tags=(hostroot results)
if [ -n "$src_share" ]; then
	fs9p+=(-fsdev "local,id=src,path=$src_share,security_model=none,readonly=on,multidevs=remap")
	tags+=(src)
fi
for t in "${tags[@]}"; do
	fs9p+=(-device "virtio-9p-pci,fsdev=$t,mount_tag=$t")
done
qemu=(qemu-system-x86_64 -machine pc -cpu max -smp "$smp,sockets=$smp" -m "$mem"
	-nographic -no-reboot -nic none
	-kernel "$kernel" -initrd "$initrd" -append "$append"
	"${fs9p[@]}")

t0=$(date +%s.%N)
set +e
timeout -k 10 "$tmo" "${qemu[@]}" </dev/null 2>"$results/qemu.stderr" |
	tr -d '\r' | tee "$results/console.log" |
	if [ "$verbose" = 1 ]; then cat; else
		# (not anchored: the firmware's terminal escapes share the
		# line; kernel messages stay in console.log and are checked below)
		awk '/mlock-inherit-guest: running/ {on=1; next}
		     /mlock-inherit-guest: exit/ {on=0}
		     on && !/^\[ *[0-9]+\.[0-9]+\] / {print; fflush()}'
	fi
qrc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
elapsed=$(echo "$t1 - $t0" | bc)
printf '%.1f\n' "$elapsed" > "$results/elapsed"

# Lines of the kernel log that mean the kernel is broken.
badre='BUG:|WARNING:|Bad page|Oops|general protection|Kernel panic|kernel BUG at|Unable to handle|RCU stall|rcu: INFO|underflow|hung_task|soft lockup|Call Trace:'
fail_tail() {
	echo "---- run-guest: last 40 lines of the console ($results/console.log)" >&2
	tail -n 40 "$results/console.log" >&2
	[ -s "$results/qemu.stderr" ] && { echo "---- qemu stderr" >&2; tail -n 10 "$results/qemu.stderr" >&2; }
	echo "---- run-guest: results in $results" >&2
}

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "run-guest: FAIL: guest timed out after ${tmo}s (hung kernel or command)" >&2
	grep -E "$badre" "$results/console.log" >&2 || true
	fail_tail
	exit 124
fi
if [ ! -s "$results/exit-status" ]; then
	echo "run-guest: FAIL: guest did not report a status (qemu exit $qrc): crashed, panicked or init failed" >&2
	grep -E "$badre" "$results/console.log" >&2 || true
	fail_tail
	exit 122
fi
rc=$(cat "$results/exit-status")
cpus=$(cat "$results/cpus" 2>/dev/null || echo 0)
if [ "$cpus" != "$smp" ]; then
	echo "run-guest: FAIL: the guest brought up $cpus CPU(s), $smp were asked for (command exit status $rc)" >&2
	grep -iE 'smpboot|Brought up|APIC' "$results/console.log" >&2 || true
	fail_tail
	exit 123
fi
# dmesg holds only kernel messages; the console also carries CMD's output,
# so it is scanned only when dmesg is missing.
scan=$results/dmesg
[ -s "$scan" ] || scan=$results/console.log
# A panic after the command's status was saved is only on the console.
{
	grep -E "$badre" "$scan" || true
	[ "$scan" = "$results/console.log" ] ||
		grep -E 'Kernel panic - not syncing|---\[ end trace' "$results/console.log" || true
} > "$results/kernel-errors"
if [ -s "$results/kernel-errors" ]; then
	echo "run-guest: FAIL: the guest kernel logged errors (command exit status $rc):" >&2
	cat "$results/kernel-errors" >&2
	fail_tail
	exit 121
fi
rm -f "$results/kernel-errors"
echo "run-guest: command exit status $rc, $cpus CPUs, $(cat "$results/elapsed")s wall (results: $results)" >&2
exit "$rc"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
