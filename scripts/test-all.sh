#!/bin/bash
# README command 2 (and what CI runs): the whole test suite.
#   1. host suite: `make check` (bats on this kernel = fallback mode, plus the
#      ASan/UBSan pass) and `make distcheck`;
#   2. kernel suites: for Linux 6.12 and 6.1, patched and vanilla, build, boot
#      in QEMU and run the bats kernel suite, the mlock-inherit kselftest and
#      the kernel's own mlock selftests; checkpatch + cross-build checks;
#   3. reliability: bounded fuzzing, hostile input, the random-operation
#      invariant checker on the host and in the patched 6.12 guest, security
#      tests, unevictable-LRU stress and OOM in the guest (tests/stress/).
# Every phase runs; the exit status is non-zero if any phase failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

failed=()
summary=()
phase() {
	local name=$1 t=$SECONDS rc
	shift
	echo
	echo "=== [$name] $*"
	"$@"
	rc=$?
	summary+=("$(printf '%-22s %-4s %5ss' "$name" \
		"$([ $rc -eq 0 ] && echo ok || echo FAIL)" $((SECONDS - t)))")
	[ $rc -eq 0 ] || failed+=("$name")
	return 0
}

t0=$SECONDS
phase deps scripts/deps.sh
phase commits scripts/check-commits.sh
phase build scripts/build.sh
phase host-check make -s check
phase distcheck make -s distcheck
phase kernel tests/vm/run-all.sh
phase reliability tests/stress/run.sh

echo
echo "=== summary ($((SECONDS - t0)) s)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all phases passed"
