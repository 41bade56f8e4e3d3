#!/usr/bin/env bats
# Feature detection, the /proc status line, mlockall() flag validation, and
# the mlock command's mode choice. Each kernel checks its own expectation:
# these tests run (not skip) on patched and vanilla kernels alike.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

@test "the mlockall probe, mlock --probe and the Mlockall: status line agree" {
	require_mlock
	local rc=0
	"$MLOCK" --probe -q || rc=$?
	if [[ $KERNEL_INHERIT == 1 ]]; then
		assert_equal "mlock --probe status $rc" "mlock --probe status 0"
	else
		assert_equal "mlock --probe status $rc" "mlock --probe status 1"
	fi

	run -0 "$KT" report S
	if [[ $KERNEL_INHERIT == 1 ]]; then
		# a fresh process: the line is there and says nothing is set
		assert_kt_state S "$STATE_NONE"
	else
		assert_kt S mlockall absent
	fi
}

@test "the Mlockall: line has the documented format, after VmLck, only for tasks with an mm" {
	require_inherit
	run -0 grep -n -E '^(VmLck|Mlockall):' /proc/self/status
	assert_line --index 0 --regexp '^[0-9]+:VmLck:'
	assert_line --index 1 --regexp $'^[0-9]+:Mlockall:\tfuture=[01] onfault=[01] inherit=[01] recursive=[01] exec_keep=[01]$'
	assert_equal "${#lines[@]}" 2
	local vmlck_line=${lines[0]%%:*} mla_line=${lines[1]%%:*}
	((mla_line > vmlck_line)) || fail "Mlockall: (line $mla_line) is not after VmLck: (line $vmlck_line)"

	# kthreadd (pid 2) has no mm: no VmLck, no Mlockall line
	run -0 cat /proc/2/status
	assert_line --regexp '^Name:[[:space:]]+kthreadd$'
	refute_line --partial 'Mlockall:'
}

@test "mlockall() validates its flags in the documented order (SEMANTICS section 1)" {
	# bits: CURRENT 1, FUTURE 2, ONFAULT 4, INHERIT 8, RECURSIVE 16, 32 unknown
	run -0 "$KT" try-mlockall 0 try-mlockall onfault try-mlockall inherit \
		try-mlockall inherit,recursive try-mlockall current,recursive \
		try-mlockall future,onfault,recursive try-mlockall 33 \
		try-mlockall 59 \
		try-mlockall current,inherit try-mlockall future,inherit \
		try-mlockall current,future,onfault,inherit,recursive \
		try-mlockall current munlockall
	# rejected on every kernel
	assert_line 'mlockall 0 = EINVAL'
	assert_line 'mlockall onfault = EINVAL'
	assert_line 'mlockall inherit = EINVAL'
	assert_line 'mlockall inherit,recursive = EINVAL'
	assert_line 'mlockall current,recursive = EINVAL'
	assert_line 'mlockall future,onfault,recursive = EINVAL'
	assert_line 'mlockall 33 = EINVAL'
	assert_line 'mlockall 59 = EINVAL'
	assert_line 'mlockall current = 0'
	# accepted only with the series
	local want=EINVAL
	[[ $KERNEL_INHERIT == 1 ]] && want=0
	assert_line "mlockall current,inherit = $want"
	assert_line "mlockall future,inherit = $want"
	assert_line "mlockall current,future,onfault,inherit,recursive = $want"
}

@test "mlockall() sets, replaces and clears the state; a failing call and mlock()/munlock() leave it" {
	require_inherit
	run -0 "$KT" map r 64 \
		mlockall current,future,inherit,recursive report SET \
		try-mlockall inherit try-mlockall current,recursive try-mlockall 35 \
		report FAILED \
		mlock-region r munlock-region r report MLOCK \
		mlockall current,future,onfault,inherit report REPLACED \
		mlockall current,future report PLAIN \
		mlockall future,inherit report AGAIN \
		munlockall report CLEARED
	assert_kt_state SET "$STATE_RECURSIVE"
	assert_kt_state FAILED "$STATE_RECURSIVE"
	assert_kt_state MLOCK "$STATE_RECURSIVE"
	assert_kt_state REPLACED "future=1 onfault=1 inherit=1 recursive=0 exec_keep=*"
	assert_kt_state PLAIN "$STATE_LOCKED_ONLY"
	assert_kt_state AGAIN "future=1 onfault=0 inherit=1 recursive=0 exec_keep=*"
	assert_kt_state CLEARED "$STATE_NONE"
	assert_kt_unlocked CLEARED
}

@test "mlock --mode kernel: runs the command locked with the series, fails with 125 naming MCL_INHERIT without" {
	require_mlock
	if [[ $KERNEL_INHERIT == 1 ]]; then
		run -0 --separate-stderr "$MLOCK" --mode kernel "$KT" report C
		assert_kt_locked C
		assert_kt_state C "$STATE_EXEC_KEEP"
		assert_equal "$stderr" ""
	else
		run -125 --separate-stderr "$MLOCK" --mode kernel "$KT" report C
		assert_equal "$output" ""	# the command never ran
		[[ $stderr == *MCL_INHERIT* ]] ||
			fail "error does not name the missing MCL_INHERIT: $stderr"
	fi
}

@test "mlock in auto mode uses the kernel flags with the series and the announced fallback without" {
	require_mlock
	[[ -r $MLOCK_PRELOAD ]] || fail "MLOCK_PRELOAD=$MLOCK_PRELOAD not readable: build the tree or set it"
	run -0 --separate-stderr "$MLOCK" "$KT" report C
	assert_kt_locked C
	local maps
	run -0 --separate-stderr "$MLOCK" cat /proc/self/maps
	maps=$output
	if [[ $KERNEL_INHERIT == 1 ]]; then
		assert_equal "$stderr" ""
		[[ $maps != *libmlock-preload* ]] ||
			fail "auto mode loaded the LD_PRELOAD fallback on a kernel with MCL_INHERIT"
	else
		[[ $stderr == *"lacks MCL_INHERIT"* ]] ||
			fail "no fallback notice on stderr: $stderr"
		[[ $maps == *libmlock-preload* ]] ||
			fail "auto mode on a kernel without MCL_INHERIT did not load the fallback library"
	fi
}

@test "the LD_PRELOAD fallback still locks the command in the guest (--mode preload)" {
	require_mlock
	[[ -r $MLOCK_PRELOAD ]] || fail "MLOCK_PRELOAD=$MLOCK_PRELOAD not readable: build the tree or set it"
	run -0 "$MLOCK" --mode preload -q "$KT" report C fork report F
	local vmlck
	vmlck=$(kt_num C vmlck)
	((vmlck > 0)) || fail "fallback did not lock the command: $(kt_line C)"
	# non-recursive: a fork child of the command is not locked
	assert_kt F vmlck 0
	if [[ $KERNEL_INHERIT == 1 ]]; then
		# the library's mlockall has no MCL_INHERIT: nothing inherited
		assert_kt_state F "$STATE_NONE"
	fi
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
