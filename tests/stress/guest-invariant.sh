#!/bin/bash
# Runs inside the guest (tests/stress/run.sh boots it): the invariant
# checker on the booted kernel, strict meminfo baseline, feature expected
# as the host side says (patched: yes, vanilla: no).
#   MLOCK_STRESS_BIN      dir with mlock-invariant (built on the host)
#   MLOCK_STRESS_SEED     master seed
#   MLOCK_STRESS_FEATURE  yes|no|auto
#   MLOCK_STRESS_INV_TIME seconds of random trees
set -u
bin=${MLOCK_STRESS_BIN:?set by tests/stress/run.sh}
seed=${MLOCK_STRESS_SEED:-1}
echo "guest-invariant: kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB"
"$bin/mlock-invariant" --seed "$seed" -n 0 -t "${MLOCK_STRESS_INV_TIME:-240}" \
	--meminfo=strict --feature="${MLOCK_STRESS_FEATURE:-auto}"
rc=$?
# a second, different shape: deep trees, few operations per process
[ $rc -eq 0 ] && "$bin/mlock-invariant" --seed "$((seed + 1))" -n 0 \
	-t "$(( ${MLOCK_STRESS_INV_TIME:-240} / 4 ))" -o 12 -p 24 \
	--meminfo=strict --feature="${MLOCK_STRESS_FEATURE:-auto}"
rc=$((rc | $?))
exit $rc
