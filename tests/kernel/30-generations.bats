#!/usr/bin/env bats
# The generations of SEMANTICS section 5, driven by mlockall() calls made
# directly by the helper (not through the mlock command), and what stops a
# recursive chain: munlockall(), mlockall() without MCL_INHERIT.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

@test "P mlockall(CURRENT|FUTURE|INHERIT): fork child C is locked with exec_keep only, C's fork child G is not" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit report P \
		fork report C fork report G
	assert_kt_locked P
	assert_kt_state P "future=1 onfault=0 inherit=1 recursive=0 exec_keep=*"
	assert_kt_locked C
	assert_kt_state C "$STATE_EXEC_KEEP"
	assert_kt_unlocked G
	assert_kt_state G "$STATE_NONE"
}

@test "C exec: C' and C'' are locked with exec_keep only; C' fork child is not locked" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit \
		fork exec "$KT" report C2 fork report C2F
	assert_kt_locked C2
	assert_kt_state C2 "$STATE_EXEC_KEEP"
	assert_kt_unlocked C2F
	assert_kt_state C2F "$STATE_NONE"
	run -0 "$KT" mlockall current,future,inherit \
		fork exec "$KT" exec "$KT" report C3
	assert_kt_locked C3
	assert_kt_state C3 "$STATE_EXEC_KEEP"
}

@test "P exec: P' and P'' are locked with exec_keep only; P' fork child and its exec are not" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit exec "$KT" report P2 \
		fork report P2F exec "$KT" report P2FE
	assert_kt_locked P2
	assert_kt_state P2 "$STATE_EXEC_KEEP"
	assert_kt_unlocked P2F
	assert_kt_state P2F "$STATE_NONE"
	assert_kt_unlocked P2FE
	assert_kt_state P2FE "$STATE_NONE"
	run -0 "$KT" mlockall current,future,inherit exec "$KT" exec "$KT" \
		report P3
	assert_kt_locked P3
	assert_kt_state P3 "$STATE_EXEC_KEEP"
}

@test "an inherit state set by mlockall(FUTURE|INHERIT) without CURRENT still locks the next exec" {
	require_inherit
	run -0 "$KT" mlockall future,inherit report P exec "$KT" report P2
	assert_kt_unlocked P	# nothing was mapped after the call
	assert_kt_state P "future=1 onfault=0 inherit=1 recursive=0 exec_keep=*"
	assert_kt_locked P2
	assert_kt_state P2 "$STATE_EXEC_KEEP"
}

@test "RECURSIVE: every descendant, by any chain of fork and exec, is locked with the same state" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit,recursive report P \
		fork report A exec "$KT" report B fork report C fork report D \
		exec "$KT" report E exec "$KT" report F fork report G
	local l
	for l in P A B C D E F G; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
	# the same exec_keep everywhere: the state is copied whole
	local want
	want=$(kt_get P exec_keep)
	for l in A B C D E F G; do
		assert_kt "$l" exec_keep "$want"
	done
}

@test "munlockall() in a recursive chain clears the state: nothing after it is locked" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel -r "$KT" report A fork report B munlockall \
		report B2 fork report C exec "$KT" report D
	assert_kt_locked A
	assert_kt_locked B
	assert_kt_unlocked B2
	assert_kt_state B2 "$STATE_NONE"
	local l
	for l in C D; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done

	# munlockall() then exec straight away
	run -0 "$MLOCK" --mode kernel -r "$KT" munlockall exec "$KT" report E \
		fork report EF
	assert_kt_unlocked E
	assert_kt_state E "$STATE_NONE"
	assert_kt_unlocked EF
}

@test "mlockall() without MCL_INHERIT in a middle generation stops the chain" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel -r "$KT" report A fork \
		mlockall current,future report B fork report C exec "$KT" report D
	assert_kt_locked A
	assert_kt_state A "$STATE_RECURSIVE"
	# B locked by its own call, inheriting nothing any more
	assert_kt_locked B
	assert_kt_state B "$STATE_LOCKED_ONLY"
	assert_kt_unlocked C
	assert_kt_state C "$STATE_NONE"
	assert_kt_unlocked D
	assert_kt_state D "$STATE_NONE"

	# the same generation exec'ing directly: MCL_FUTURE alone dies at exec
	run -0 "$MLOCK" --mode kernel -r "$KT" fork mlockall current,future \
		exec "$KT" report E
	assert_kt_unlocked E
	assert_kt_state E "$STATE_NONE"
}

@test "a middle generation switching to non-recursive INHERIT locks one more generation only" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit,recursive fork \
		mlockall current,future,inherit report B fork report C \
		exec "$KT" report D fork report E
	assert_kt_locked B
	assert_kt_state B "future=1 onfault=0 inherit=1 recursive=0 exec_keep=*"
	assert_kt_locked C
	assert_kt_state C "$STATE_EXEC_KEEP"
	assert_kt_locked D
	assert_kt_state D "$STATE_EXEC_KEEP"
	assert_kt_unlocked E
	assert_kt_state E "$STATE_NONE"
}

@test "MCL_ONFAULT passes to children: lf VMAs, no population, onfault=1" {
	require_inherit
	run -0 "$KT" mlockall current,future,onfault,inherit,recursive \
		map a 1024 report P fork rss a CA map b 1024 rss b CB report C \
		exec "$KT" report E
	local l rss
	for l in P C E; do
		assert_kt_locked "$l"
		assert_equal "$l lf_vmas=$(kt_num "$l" lf_vmas)" "$l lf_vmas=$(kt_num "$l" lo_vmas)"
		assert_kt_state "$l" "future=1 onfault=1 inherit=1 recursive=1 exec_keep=*"
	done
	for l in CA CB; do
		assert_kt "$l" lo 1
		assert_kt "$l" lf 1
		rss=$(kt_num "$l" rss_kb)
		((rss < 1024)) || fail "lock-on-fault region populated in the child: $(kt_line "$l")"
	done
}

@test "without MCL_INHERIT, fork and exec behave as on an unpatched kernel (both kernels)" {
	run -0 "$KT" mlockall current,future report P fork report C \
		exec "$KT" report CE
	assert_kt_locked P
	assert_kt_unlocked C
	assert_kt_unlocked CE
	if [[ $KERNEL_INHERIT == 1 ]]; then
		assert_kt_state P "$STATE_LOCKED_ONLY"
		assert_kt_state C "$STATE_NONE"
		assert_kt_state CE "$STATE_NONE"
	else
		assert_kt C mlockall absent
	fi
}

@test "posix_spawn (vfork + exec) children are locked like fork + exec ones; the parent's state is untouched" {
	require_inherit
	# non-recursive INHERIT: the spawned program is locked, exec_keep only
	run -0 "$KT" mlockall current,future,inherit report P \
		spawn "$KT" report S fork report SF \; report P2
	assert_kt_locked S
	assert_kt_state S "$STATE_EXEC_KEEP"
	assert_kt_unlocked SF
	assert_kt_state SF "$STATE_NONE"
	# the vfork child's exec must not have changed the shared old mm
	assert_kt_locked P2
	assert_kt_state P2 "future=1 onfault=0 inherit=1 recursive=0 exec_keep=$(kt_get P exec_keep)"
}

@test "posix_spawn under mlock -r: the whole spawned tree is locked; under plain mlock it is not" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel -r "$KT" spawn "$KT" report S fork report SF \
		spawn "$KT" report SFS \; \; report P
	local l
	for l in S SF SFS P; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done

	run -0 "$MLOCK" --mode kernel "$KT" spawn "$KT" report S \; report P
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
	assert_kt_locked P
	assert_kt_state P "$STATE_EXEC_KEEP"
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
