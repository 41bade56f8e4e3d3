#!/usr/bin/env bats
# mlock -r make -j2 building a small real C program (fixtures/rpn): every
# process of the build proves from its own /proc/self/status that it was
# locked and carries the recursive state, and the program it built works.
#
# Two independent witnesses write to one log:
# - libktstatuslog.so (LD_PRELOAD): a line from every dynamically linked
#   process (make, sh, bash, gcc, cc1, as, collect2, ld) before its main();
# - CC=ccwrap.sh and gcc -wrapper wrapprobe.sh: a line from the wrapper
#   scripts themselves, just before they exec gcc and cc1/as/collect2.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

# count COMM: number of log lines for processes named COMM
count() {
	grep -c -E "^comm=$1 " "$LOG" || true
}

@test "mlock -r make -j2: every make, shell, driver, cc1, as, collect2 and ld process is locked with recursive=1; the program works" {
	require_inherit
	require_mlock
	local gcc make_bin
	gcc=$(command -v gcc) || skip "gcc not installed"
	make_bin=$(command -v make) || skip "make not installed"
	local src=$BATS_TEST_TMPDIR/rpn
	LOG=$BATS_TEST_TMPDIR/status.log
	cp -r "$BATS_TEST_DIRNAME/fixtures/rpn" "$src"
	local nsrc
	nsrc=$(ls "$src"/*.c | wc -l)

	run -0 "$MLOCK" --mode kernel -r env \
		LD_PRELOAD="$KT_STATUSLOG_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
		KT_STATUSLOG="$LOG" KT_REAL_CC="$gcc" \
		KT_WRAPPROBE="$BATS_TEST_DIRNAME/helpers/wrapprobe.sh" \
		"$make_bin" -C "$src" -j2 CC="$BATS_TEST_DIRNAME/helpers/ccwrap.sh"
	[[ -x $src/rpn ]] || fail "make succeeded but built no rpn: $output"

	# the program built under mlock -r works
	run -0 "$src/rpn" 2 3 + 4 '*' 10 -
	assert_output 10
	run -2 "$src/rpn" 1 +

	[[ -s $LOG ]] || fail "no process logged its state to $LOG"
	# every logged process: locked, future + inherit + recursive
	local bad
	bad=$(awk '{
		ok = 0; v = f = i = r = ""
		for (n = 1; n <= NF; n++) {
			split($n, kv, "=")
			if (kv[1] == "vmlck") v = kv[2]
			if (kv[1] == "future") f = kv[2]
			if (kv[1] == "inherit") i = kv[2]
			if (kv[1] == "recursive") r = kv[2]
		}
		if (!(v ~ /^[0-9]+$/ && v > 0 && f == 1 && i == 1 && r == 1))
			print
	}' "$LOG")
	[[ -z $bad ]] || fail "$(printf 'processes of the build not locked recursively:\n%s\n(whole log: %s)' "$bad" "$LOG")"

	# and every kind of process is there, as often as the build needs it
	local c
	for c in cc1 wrap:cc1 as wrap:as; do
		assert_equal "$c: $(count "$c")" "$c: $nsrc"
	done
	assert_equal "script:ccwrap: $(count script:ccwrap)" "script:ccwrap: $((nsrc + 1))"
	assert_equal "gcc drivers: $(count gcc)" "gcc drivers: $((nsrc + 1))"
	for c in make collect2 wrap:collect2 'ld(\.bfd|\.gold)?'; do
		(($(count "$c") >= 1)) || fail "no $c process in the log: $(cat "$LOG")"
	done
	# distinct processes: a pid logs at most once per witness and name
	local dup
	dup=$(awk '{ print $1, $2 }' "$LOG" | sort | uniq -d)
	[[ -z $dup ]] || fail "the same process logged twice under one name: $dup"
}

@test "mlock -r: the built program itself runs locked, a plain run does not" {
	require_inherit
	require_mlock
	command -v gcc >/dev/null || skip "gcc not installed"
	local src=$BATS_TEST_TMPDIR/rpn
	cp -r "$BATS_TEST_DIRNAME/fixtures/rpn" "$src"
	run -0 make -s -C "$src" -j2
	run -0 "$MLOCK" --mode kernel -r env LD_PRELOAD="$KT_STATUSLOG_SO" \
		KT_STATUSLOG="$BATS_TEST_TMPDIR/run.log" "$src/rpn" 6 7 '*'
	assert_output 42
	run -0 cat "$BATS_TEST_TMPDIR/run.log"
	assert_output --regexp '^comm=rpn pid=[0-9]+ ppid=[0-9]+ vmlck=[1-9][0-9]* future=1 onfault=0 inherit=1 recursive=1 exec_keep=[01]$'
	run -0 env LD_PRELOAD="$KT_STATUSLOG_SO" KT_STATUSLOG="$BATS_TEST_TMPDIR/plain.log" "$src/rpn" 6 7 '*'
	run -0 cat "$BATS_TEST_TMPDIR/plain.log"
	assert_output --regexp '^comm=rpn pid=[0-9]+ ppid=[0-9]+ vmlck=0 future=0 onfault=0 inherit=0 recursive=0 exec_keep=0$'
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
