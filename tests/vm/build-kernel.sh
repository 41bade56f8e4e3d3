#!/bin/bash
# Build a guest kernel (bzImage) from Debian's linux-source-<ver> tarball,
# with or without patches/linux-<ver>/, plus uapi headers and the mm mlock
# selftests.  Prints the bzImage path as the last line of stdout; progress
# goes to stderr; the full build log is <build dir>/build.log.
#
# usage: tests/vm/build-kernel.sh <6.12|6.1> [--vanilla] [--config NAME]
#                                 [--tree DIR] [-j N] [--force]
#
#   --vanilla      do not apply patches/linux-<ver>/ (Debian source as is)
#   --config NAME  add tests/vm/kconfig/NAME.config after the base fragment
#   --tree DIR     build an already prepared kernel tree (e.g. a scratch git
#                  tree) instead of extracting + patching the tarball; the
#                  build is incremental (objects in DIR/.build)
#   -j N           parallel jobs (default ${MLOCK_INHERIT_JOBS:-2})
#   --force        rebuild even if a complete build with this key exists
#   --print-dir    only print the build dir of this key if that build is
#                  complete (exit 3 if it is not); builds nothing
#
# Layout (cache root ${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}):
#   src/linux-<ver>-<key>/          extracted + patched tree
#   src/linux-<ver>-<key>/.build/   O= dir (inside the tree so that ccache sees
#                                   identical relative paths for every key)
#   build/<ver>-<key>               symlink to that O= dir; holds
#                                   arch/x86/boot/bzImage, usr/include,
#                                   kselftest/ (selftest binaries), build.log
# key = hash(tarball version, patch files in series order, config fragments,
#            SCRIPT_VERSION).  A build with the done stamp is reused.
set -euo pipefail
# (the body is a function so that editing this file while it runs is safe)
main() {

SCRIPT_VERSION=3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MLOCK_INHERIT_CACHE:-/var/tmp/mlock-inherit}
. "$here/lib.sh"
jobs=${MLOCK_INHERIT_JOBS:-2}

die() { echo "build-kernel: error: $*" >&2; exit 1; }
say() { echo "build-kernel: $*" >&2; }
# Keep the ${MLOCK_INHERIT_KEEP:-6} most recently built trees per version;
# drop older ones and abandoned partial ones (> 3 h), never one whose lock
# is held (being built or booted).
prune_old() {
	local ver=$1 cur=$2 d k n=0 keep=${MLOCK_INHERIT_KEEP:-6}
	for d in $(ls -1dt "$cache/src/linux-$ver-"* 2>/dev/null); do
		[ -d "$d" ] || continue
		k=${d##*/linux-$ver-}; k=${k%.tmp}
		[ "$k" = "$cur" ] && { n=$((n + 1)); continue; }
		if [ -f "$d/.build/.mlock-inherit-done" ]; then
			n=$((n + 1))
			[ "$n" -gt "$keep" ] || continue
		else
			[ -n "$(find "$d" -maxdepth 0 -mmin +180)" ] || continue
		fi
		(
			flock -n 8 || exit 0
			say "pruning old tree $d"
			rm -rf "$d" "$cache/build/$ver-$k" "$cache/build/.cfg-$ver-$k"
		) 8>"$cache/locks/$ver-$k.lock"
	done
	find "$cache/build" -maxdepth 1 -type l -xtype l -delete 2>/dev/null || true
}

usage() {
	sed -n '/^# usage:/,/^#   --print-dir/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

ver= vanilla=0 cfgname= tree= force=0 print_dir=0
while [ $# -gt 0 ]; do
	case $1 in
	6.12|6.1) ver=$1 ;;
	--vanilla) vanilla=1 ;;
	--config) [ $# -ge 2 ] || usage; cfgname=$2; shift ;;
	--config=*) cfgname=${1#--config=} ;;
	--tree) [ $# -ge 2 ] || usage; tree=$2; shift ;;
	--tree=*) tree=${1#--tree=} ;;
	-j) [ $# -ge 2 ] || usage; jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	--force) force=1 ;;
	--print-dir) print_dir=1 ;;
	-h|--help) usage ;;
	*) echo "build-kernel: unknown argument '$1' (expected 6.12 or 6.1 and options)" >&2; usage ;;
	esac
	shift
done
[ -n "$ver" ] || { echo "build-kernel: missing kernel version (6.12 or 6.1)" >&2; usage; }

tarball=/usr/src/linux-source-$ver.tar.xz
kconfdir=$here/kconfig

fragments=("$kconfdir/base.config")
[ -f "$kconfdir/$ver.config" ] && fragments+=("$kconfdir/$ver.config")
if [ -n "$cfgname" ]; then
	[ -f "$kconfdir/$cfgname.config" ] ||
		die "no config fragment '$cfgname' ($kconfdir/$cfgname.config missing; available: $(cd "$kconfdir" && ls *.config | sed 's/\.config$//' | tr '\n' ' '))"
	fragments+=("$kconfdir/$cfgname.config")
fi

patches=()
if [ "$vanilla" = 0 ] && [ -z "$tree" ]; then
	series_patches "$ver" || exit 1
fi

if [ -n "$tree" ]; then
	[ -f "$tree/Makefile" ] && grep -q '^VERSION' "$tree/Makefile" ||
		die "--tree $tree is not a kernel source tree (no top-level Makefile with VERSION)"
	tree=$(cd "$tree" && pwd)
	tv=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p' "$tree/Makefile" | paste -sd.)
	[ "$tv" = "$ver" ] || die "--tree $tree is Linux $tv, but you asked for $ver"
	[ ! -e "$tree/.config" ] ||
		die "--tree $tree has an in-tree build (.config); out-of-tree O= builds need a clean tree: run 'make mrproper' there (or build it yourself)"
	key=tree-$(printf '%s\n' "$tree" "$SCRIPT_VERSION" | cat - "${fragments[@]}" | sha256sum | cut -c1-12)
	src=$tree
else
	tarid=$(tarball_id "$ver") || exit 1
	key=$({
		echo "script $SCRIPT_VERSION"
		echo "tarball $ver $tarid"
		for p in "${patches[@]}"; do echo "patch $(basename "$p")"; cat "$p"; done
		for f in "${fragments[@]}"; do echo "fragment $(basename "$f")"; cat "$f"; done
	} | sha256sum | cut -c1-12)
	src=$cache/src/linux-$ver-$key
fi
obj=$src/.build
blink=$cache/build/$ver-$key
stamp=$obj/.mlock-inherit-done
log=$obj/build.log

if [ "$print_dir" = 1 ]; then
	[ -f "$stamp" ] && [ -f "$obj/arch/x86/boot/bzImage" ] || exit 3
	mkdir -p "$cache/build"; ln -sfn "$obj" "$blink"
	echo "$blink"
	exit 0
fi

mkdir -p "$cache/build" "$cache/src" "$cache/locks" "$cache/ccache"
exec 9>"$cache/locks/$ver-$key.lock"
if ! flock -n 9; then
	say "another build of $ver-$key is running; waiting for it"
	flock 9
fi

if [ -z "$tree" ] && [ "$force" = 0 ] && [ -f "$stamp" ] && [ -f "$obj/arch/x86/boot/bzImage" ]; then
	say "reusing complete build $blink (key $key)"
	ln -sfn "$obj" "$blink"
	echo "$blink/arch/x86/boot/bzImage"
	exit 0
fi

t0=$(date +%s)
phase() { say "[$(( $(date +%s) - t0 ))s] $*"; }

# --- source tree
if [ -z "$tree" ] && { [ ! -f "$src/.mlock-inherit-src-done" ] || [ "$force" = 1 ]; }; then
	phase "extracting $tarball -> $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	for p in "${patches[@]}"; do
		phase "applying $(basename "$p")"
		(cd "$src.tmp" && git apply --whitespace=nowarn -p1 "$p") >&2 ||
			die "patch $(basename "$p") does not apply to Debian linux-source-$ver ($tarid); check patches/linux-$ver/series order and rebase the patch"
	done
	if [ ${#patches[@]} = 0 ]; then
		if [ "$vanilla" = 1 ]; then phase "vanilla: no patches applied"
		else phase "no patches applied: patches/linux-$ver/series is absent or empty"; fi
	fi
	mv "$src.tmp" "$src"
	printf '%s\n' "${patches[@]##*/}" > "$src/.mlock-inherit-src-done"
fi

# Every make below runs under the machine-wide kernel build lock (held
# until this script exits).
kbuild_lock build-kernel
t0=$(date +%s)

mkdir -p "$obj"
ln -sfn "$obj" "$blink"
rm -f "$stamp"
: > "$log"
say "log: $log"

export CCACHE_DIR=$cache/ccache CCACHE_BASEDIR=$cache
ccache -M 5G >/dev/null 2>&1 || true
export KBUILD_BUILD_TIMESTAMP="mlock-inherit $key" KBUILD_BUILD_USER=mlock KBUILD_BUILD_HOST=harness
mk=(make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$jobs")

run() {
	if ! "$@" >>"$log" 2>&1; then
		echo "build-kernel: command failed: $*" >&2
		echo "---- last 40 lines of $log" >&2
		tail -n 40 "$log" >&2
		exit 1
	fi
}

# --- config: tinyconfig + fragments, generated in a side dir and only
# copied over the real .config when it changes (keeps incremental builds).
# The config is regenerated only when the fragments (or Kconfig) changed.
cfgkey=$(cat "${fragments[@]}" "$src/Makefile" | sha256sum | cut -c1-16)
if [ -f "$obj/.config" ] && [ "$(cat "$obj/.mlock-inherit-cfgkey" 2>/dev/null)" = "$cfgkey" ]; then
	phase "config unchanged (fragments ${fragments[*]##*/})"
else
	phase "configuring (tinyconfig + ${fragments[*]##*/})"
	cfgo=$cache/build/.cfg-$ver-$key
	rm -rf "$cfgo"; mkdir -p "$cfgo"
	make_config "$src" "$cfgo" x86_64 "$log" "${fragments[@]}" || exit 1
	if ! cmp -s "$cfgo/.config" "$obj/.config"; then
		cp "$cfgo/.config" "$obj/.config"
	fi
	rm -rf "$cfgo"
	echo "$cfgkey" > "$obj/.mlock-inherit-cfgkey"
fi

phase "building bzImage (-j$jobs, ccache $CCACHE_DIR)"
run "${mk[@]}" olddefconfig
run "${mk[@]}" bzImage
phase "installing uapi headers -> $obj/usr/include"
run "${mk[@]}" headers_install

# --- selftests: mm/ on 6.12, vm/ on 6.1; only the mlock ones.
stdir=tools/testing/selftests/mm
[ -d "$src/$stdir" ] || stdir=tools/testing/selftests/vm
mkdir -p "$obj/kselftest"
sttargets=()
for t in mlock2-tests mlock-random-test on-fault-limit mlock-inherit; do
	if [ -f "$src/$stdir/$t.c" ]; then
		sttargets+=("$obj/kselftest/$t")
	else
		[ "$t" = mlock-inherit ] || die "$src/$stdir/$t.c missing: unexpected kernel tree layout"
	fi
done
phase "building selftests from $stdir: ${sttargets[*]##*/}"
run make -C "$src/$stdir" OUTPUT="$obj/kselftest" CC=gcc \
	KHDR_INCLUDES="-isystem $obj/usr/include" \
	-j"$jobs" "${sttargets[@]}"
echo "$stdir" > "$obj/kselftest/.srcdir"

sha256sum "$obj/arch/x86/boot/bzImage" | cut -d' ' -f1 > "$stamp"
[ -n "$tree" ] || prune_old "$ver" "$key"
phase "done: $blink (key $key)"
ccache -s 2>/dev/null | grep -iE 'hits|misses' | head -3 | sed 's/^/build-kernel:   ccache /' >&2 || true
echo "$blink/arch/x86/boot/bzImage"
}
# (one line: bash has parsed all of it before main runs)
main "$@"; exit $?
