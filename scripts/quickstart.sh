#!/bin/bash
# README command 1: install what is needed, build, and show the main job:
# `mlock -r` locking a small real process tree, first on this machine's
# kernel (LD_PRELOAD fallback on a stock kernel), then in kernel mode on the
# patched Linux 6.12 booted in QEMU. Each process prints its own VmLck.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

t0=$SECONDS
scripts/deps.sh
scripts/build.sh
export MLOCK="$top/mlock-cmd/mlock"
export MLOCK_PRELOAD="${MLOCK_PRELOAD:-$(scripts/preload-path.sh)}"

echo
echo "== On this machine ($(uname -r)): mlock -r bash scripts/demo-tree.sh"
"$MLOCK" -r bash scripts/demo-tree.sh

echo
echo "== Building the patched Linux 6.12 (first time: about 10-15 min on 2 cores; cached after)"
kernel=$(tests/vm/build-kernel.sh 6.12 | tail -n 1)
echo "== Booting it in QEMU: mlock --mode kernel -r bash scripts/demo-tree.sh"
tests/vm/run-guest.sh --kernel "$kernel" -- \
	"$MLOCK" --mode kernel -r bash "$top/scripts/demo-tree.sh"
echo
echo "quickstart: done in $((SECONDS - t0)) s"
