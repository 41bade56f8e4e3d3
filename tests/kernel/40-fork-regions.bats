#!/usr/bin/env bats
# What a child of an MCL_INHERIT parent gets, region by region (SEMANTICS
# sections 3 and 7): MADV_DONTFORK regions absent, MADV_WIPEONFORK regions
# locked, zero-filled and resident, VmLck its own, holes filled before the
# child runs, MADV_DONTNEED(_LOCKED) as on a locked range, and exact
# page-level accounting when either side munlocks, unmaps or exits.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

@test "MADV_DONTFORK region is absent in the child, whose VmLck is the sum of its own lo VMAs" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit \
		map keep 1024 fill keep map df 4096 dontfork fill df \
		report P region df PDF fork report C region df CDF region keep CK
	assert_kt_locked P
	assert_kt PDF present 1
	assert_kt PDF lo 1
	assert_kt PDF rss_kb 4096

	assert_kt_locked C	# includes VmLck == sum of the child's lo VMAs
	assert_kt CDF present 0
	local p c
	p=$(kt_num P vmlck) c=$(kt_num C vmlck)
	((c == p - 4096)) ||
		fail "child VmLck $c kB, expected the parent's $p kB minus the 4096 kB MADV_DONTFORK region"
	assert_kt CK lo 1
	assert_kt CK exact 1
	assert_kt CK rss_kb 1024
	assert_kt CK content pattern
}

@test "MADV_WIPEONFORK region is locked, resident and zero-filled in the child" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit \
		map wf 2048 wipeonfork fill wf region wf PWF report P \
		fork report C region wf CWF
	assert_kt PWF content pattern
	assert_kt PWF lo 1
	assert_kt_locked C
	assert_kt CWF present 1
	assert_kt CWF exact 1
	assert_kt CWF lo 1
	assert_kt CWF lf 0
	# Rss is read before the content: resident before the child touched it
	assert_kt CWF rss_kb 2048
	assert_kt CWF content zero
	local p c
	p=$(kt_num P vmlck) c=$(kt_num C vmlck)
	((c == p)) || fail "child VmLck $c kB != parent's $p kB although every locked VMA was copied"
}

@test "MADV_WIPEONFORK under RECURSIVE: wiped, locked and resident again in the grandchild" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit,recursive \
		map wf 1024 wipeonfork fill wf fork fill wf fork rss wf GWF region wf GWF2 report G
	assert_kt_locked G
	assert_kt GWF lo 1
	assert_kt GWF rss_kb 1024
	assert_kt GWF2 content zero
}

@test "a hole in a locked range (MADV_DONTNEED_LOCKED) is filled in the child before it runs" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit \
		map h 2048 fill h madvise h dontneed_locked rss h PH \
		fork rss h CH region h CH2 report C
	assert_line 'h madvise=dontneed_locked result=0'
	assert_kt PH lo 1
	assert_kt PH rss_kb 0	# the parent keeps its hole
	assert_kt CH lo 1
	assert_kt CH rss_kb 2048
	assert_kt CH2 content zero
	assert_kt_locked C
}

@test "in an inheriting child, MADV_DONTNEED on a locked range fails with EINVAL, MADV_DONTNEED_LOCKED drops it and it stays locked" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit map r 1024 fill r \
		fork madvise r dontneed rss r AFTER_DONTNEED \
		madvise r dontneed_locked rss r AFTER_LOCKED region r AFTER_READ
	assert_line 'r madvise=dontneed result=EINVAL'
	assert_kt AFTER_DONTNEED rss_kb 1024
	assert_line 'r madvise=dontneed_locked result=0'
	assert_kt AFTER_LOCKED lo 1
	assert_kt AFTER_LOCKED rss_kb 0
	assert_kt AFTER_READ content zero
}

@test "a fork child's locked pages shared copy-on-write with the parent stay shared, not copied" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit map big 8192 fill big \
		fork rss big C region big C1 fill big rss big C2 report CR
	# the parent is alive (waiting): before any write, the child maps the
	# parent's pages, all of them, and copied none
	assert_kt C lo 1
	assert_kt C rss_kb 8192
	assert_kt C shared_kb 8192
	assert_kt C private_kb 0
	assert_kt C1 content pattern
	# writing breaks COW: private copies, still locked and resident
	assert_kt C2 lo 1
	assert_kt C2 rss_kb 8192
	assert_kt C2 private_kb 8192
	assert_kt_locked CR
}

@test "page-level mlock accounting stays exact when parent or child munlocks, unmaps or exits" {
	require_inherit
	in_guest || skip "not in the test guest: other processes change Mlocked here"
	local before after i
	flush_mm_counters
	before=$(mlocked_kb)
	# child munlockall()s, parent exits
	run -0 "$KT" mlockall current,future,inherit map a 8192 fill a fork munlockall
	# child unmaps the shared region, parent exits
	run -0 "$KT" mlockall current,future,inherit map a 8192 fill a fork unmap a
	# child writes (COW copies), exits; parent munlocks one region, then exits
	run -0 "$KT" mlockall current,future,inherit map a 8192 fill a \
		map b 4096 wipeonfork fill b fork fill a
	run -0 "$KT" mlockall current,future,inherit,recursive map a 8192 fill a \
		fork fork fill a munlock-region a
	# the parent is killed first, its orphaned child last
	local ready=$BATS_TEST_TMPDIR/ready
	"$KT" mlockall current,future,inherit map a 8192 fill a fork pause "$ready" 3>&- >/dev/null &
	local bg=$! child=
	for ((i = 0; i < 300; i++)); do
		[[ -e $ready ]] && break
		sleep 0.1
	done
	child=$(pgrep -P "$bg" | head -n 1)
	kill -KILL "$bg"
	wait "$bg" || true
	[[ -n $child ]] || fail "the paused child did not start"
	kill "$child"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$child" 2>/dev/null || break
		sleep 0.1
	done
	for ((i = 0; i < 20; i++)); do
		flush_mm_counters
		after=$(mlocked_kb)
		[[ $after == "$before" ]] && break
		sleep 0.5
	done
	assert_equal "Mlocked ${after} kB" "Mlocked ${before} kB"
}

@test "special mappings are never locked in an inheriting child (vdso, vvar)" {
	require_inherit
	run -0 "$KT" mlockall current,future,inherit,recursive fork report C \
		exec "$KT" report E
	assert_kt C special_lo 0
	assert_kt E special_lo 0
	assert_kt_locked C
	assert_kt_locked E
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
