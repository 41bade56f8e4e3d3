# Shared set-up for the host suite (tests/host/*.bats).
#
# The binaries under test come from the environment, never from $PATH:
#   MLOCK            the mlock command    (make check: build tree)
#   MLOCK_PRELOAD    the fallback library (make check: build tree)
#   MLOCK_TESTPROBE  tests/host/mlock-testprobe
#   MLOCK_TESTMARK   tests/host/.libs/libmlock-testmark.so

bats_load_library bats-support
bats_load_library bats-assert

_top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${MLOCK:=$_top/mlock-cmd/mlock}"
: "${MLOCK_PRELOAD:=$_top/mlock-cmd/.libs/libmlock-preload.so}"
: "${MLOCK_TESTPROBE:=$_top/tests/host/mlock-testprobe}"
: "${MLOCK_TESTMARK:=$_top/tests/host/.libs/libmlock-testmark.so}"
export MLOCK MLOCK_PRELOAD MLOCK_TESTPROBE MLOCK_TESTMARK
PROBE=$MLOCK_TESTPROBE
SHOW_ARGS=$BATS_TEST_DIRNAME/show-args.sh

# Value of key=... in $output (the probes print key=value lines).
field() {
	local line
	while IFS= read -r line; do
		if [[ $line == "$1="* ]]; then
			printf '%s\n' "${line#*=}"
			return 0
		fi
	done <<<"$output"
	echo "field $1 not in output: $output" >&2
	return 1
}

assert_locked() {	# assert_locked KEY: $output has KEY=<n>, n > 0
	local v
	v=$(field "$1") || fail "no $1 in output: $output"
	(( v > 0 )) || fail "$1=$v: expected locked memory (> 0)"
}

assert_unlocked() {	# assert_unlocked KEY: $output has KEY=0
	local v
	v=$(field "$1") || fail "no $1 in output: $output"
	(( v == 0 )) || fail "$1=$v: expected no locked memory"
}

kernel_has_inherit() {
	"$MLOCK" --probe -q
}

# Tests of the LD_PRELOAD fallback's own mechanics (environment, static
# and setuid refusals, the auto-mode notice) only make sense when auto mode
# picks the fallback.
skip_if_kernel_mode() {
	if kernel_has_inherit; then
		skip "kernel accepts MCL_INHERIT: auto mode does not use the fallback here"
	fi
}

skip_unless_root() {
	[[ $(id -u) == 0 ]] || skip "needs root (to drop privilege with setpriv or chown a setuid file)"
}

# Run a command as nobody without capabilities: RLIMIT_MEMLOCK applies.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"
}

skip_unless_nobody_works() {
	skip_unless_root
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	as_nobody test -x "$MLOCK" -a -r "$MLOCK_PRELOAD" -a -x "$PROBE" ||
		skip "user nobody cannot reach the build tree ($MLOCK)"
}

# A scratch directory that user nobody can enter (BATS_TEST_TMPDIR may not be).
public_tmpdir() {
	local d
	d=$(mktemp -d /tmp/mlock-test.XXXXXX)
	chmod 755 "$d"
	echo "$d"
}

# For tests where nobody's lock must succeed: the probe under the fallback
# library must fit in nobody's RLIMIT_MEMLOCK.  (In the sanitizer pass the
# UBSan runtime, pulled in by the library, adds about 9 MiB to every process.)
skip_unless_nobody_can_lock() {
	skip_unless_nobody_works
	local out
	out=$(as_nobody env LD_PRELOAD="$MLOCK_PRELOAD" MLOCK_INHERIT_PRELOAD=once "$PROBE" vmlck 2>/dev/null)
	[[ $out == *vmlck_kb=[1-9]* ]] ||
		skip "the probe with $MLOCK_PRELOAD does not fit in nobody's RLIMIT_MEMLOCK ($(as_nobody sh -c 'ulimit -l') KiB)"
}
