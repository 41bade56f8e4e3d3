#!/usr/bin/env bats
# Special memory stays as in the unpatched kernel under an inherited lock
# (SEMANTICS section 7): MAP_DROPPABLE and hugetlb are never locked, in the
# parent or in an inheriting child, and the child's VmLck still matches its
# own locked VMAs.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

teardown() {
	if [[ -n ${OLD_NR_HUGEPAGES:-} ]]; then
		echo "$OLD_NR_HUGEPAGES" > /proc/sys/vm/nr_hugepages
	fi
}

@test "MAP_DROPPABLE memory is never locked, in the parent or an inheriting child" {
	require_inherit
	run "$KT" mlockall current,future,inherit,recursive map d 1024 droppable \
		region d PD report P fork region d CD report C
	# (the helper stops with a non-zero status after "map=unsupported")
	if [[ $output == *"d map=unsupported"* ]]; then
		skip "kernel without MAP_DROPPABLE (added in 6.11)"
	fi
	assert_success
	assert_kt PD lo 0
	assert_kt CD present 1
	assert_kt CD lo 0
	local l
	for l in P C; do
		assert_kt "$l" unlocked_vmas 1	# the droppable region, nothing else
		assert_equal "$l VmLck $(kt_num "$l" vmlck)" "$l VmLck $(kt_num "$l" lo_kb)"
	done
}

@test "hugetlb memory is never locked, in the parent or an inheriting child" {
	require_inherit
	in_guest || skip "not in the test guest: reserving huge pages is a global change"
	[[ -w /proc/sys/vm/nr_hugepages ]] || skip "no /proc/sys/vm/nr_hugepages (CONFIG_HUGETLBFS off)"
	local hp_kb
	hp_kb=$(awk '$1 == "Hugepagesize:" { print $2 }' /proc/meminfo)
	[[ -n $hp_kb ]] || skip "no Hugepagesize in /proc/meminfo"
	OLD_NR_HUGEPAGES=$(cat /proc/sys/vm/nr_hugepages)
	echo $((OLD_NR_HUGEPAGES + 4)) > /proc/sys/vm/nr_hugepages
	run -0 "$KT" mlockall current,future,inherit,recursive map h "$((2 * hp_kb))" hugetlb \
		fill h region h PH report P fork region h CH report C exec "$KT" report E
	if [[ $output == *"h map=unsupported"* ]]; then
		fail "could not map 2 huge pages after reserving 4 more: $output"
	fi
	assert_kt PH lo 0
	assert_kt CH present 1
	assert_kt CH lo 0
	assert_kt CH content pattern
	local l
	for l in P C; do
		assert_kt "$l" unlocked_vmas 1	# the hugetlb region, nothing else
		assert_equal "$l VmLck $(kt_num "$l" vmlck)" "$l VmLck $(kt_num "$l" lo_kb)"
	done
	assert_kt_locked E
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
