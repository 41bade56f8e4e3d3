#!/bin/sh
# Install the Debian 12 packages mlock-inherit needs to build, test and boot
# its kernels. Idempotent: installs only what is missing. Needs root (or sudo).
set -eu

PKGS="build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
bats bats-assert bats-support
linux-source-6.12 linux-source-6.1 qemu-system-x86 busybox-static ccache
flex bison bc cpio libelf-dev libssl-dev dwarves rsync kmod
gcc-aarch64-linux-gnu libcap-dev libcap2-bin manpages-dev util-linux
gnuplot-nox python3 python3-ply python3-git xz-utils git"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all packages present"; exit 0; }

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
