#!/usr/bin/env bats
# The real mlock command in kernel mode: the command, its children by fork
# and by exec, grandchildren, non-recursive vs -r, --on-fault, and --pid on
# a running process (SEMANTICS sections 4, 5, 6, 8).

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
}

setup() {
	BG_PIDS=()
}

teardown() {
	kill_bg "${BG_PIDS[@]}"
}

@test "mlock --mode kernel: the command is locked and resident, with exec_keep only" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel "$KT" report C map buf 2048 region buf R
	assert_kt_locked C
	assert_kt C lf_vmas 0
	assert_kt_state C "$STATE_EXEC_KEEP"
	# the inherited MCL_FUTURE locks and populates new memory
	assert_kt R lo 1
	assert_kt R lf 0
	assert_kt R rss_kb 2048
	assert_kt R content zero
}

@test "kernel mode locks what the fallback cannot: a static binary and a #! script, with -r down the tree" {
	require_inherit
	require_mlock
	[[ -x $KT_STATIC ]] || skip "no static libc to link the static helper (libc6-dev's libc.a)"
	run -0 "$MLOCK" --mode kernel -r "$KT_STATIC" report ST fork report STF \
		exec "$KT_STATIC" report STFE
	local l
	for l in ST STF STFE; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done

	local script=$BATS_TEST_TMPDIR/report.sh
	printf '#!/bin/bash\n%s\nst SCRIPT; ( st SCRIPTSUB )\n' "$BASH_REPORT" > "$script"
	chmod 755 "$script"
	run -0 "$MLOCK" --mode kernel "$script"
	local vmlck
	vmlck=$(kt_num SCRIPT vmlck)
	((vmlck > 0)) || fail "#! script not locked: $(kt_line SCRIPT)"
	assert_kt_state SCRIPT "$STATE_EXEC_KEEP"
	assert_kt SCRIPTSUB vmlck 0
	run -0 "$MLOCK" --mode kernel -r "$script"
	vmlck=$(kt_num SCRIPTSUB vmlck)
	((vmlck > 0)) || fail "#! script's subshell not locked under -r: $(kt_line SCRIPTSUB)"
	assert_kt_state SCRIPTSUB "$STATE_RECURSIVE"
}

@test "mlock --on-fault: every VMA of the command is lf, new memory stays unpopulated until touched" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel --on-fault "$KT" report C \
		map buf 4096 rss buf BEFORE fill buf rss buf AFTER
	assert_kt_locked C
	assert_equal "lf_vmas=$(kt_num C lf_vmas)" "lf_vmas=$(kt_num C lo_vmas)"
	assert_kt_state C "future=1 onfault=1 inherit=0 recursive=0 exec_keep=1"
	assert_kt BEFORE lo 1
	assert_kt BEFORE lf 1
	local rss
	rss=$(kt_num BEFORE rss_kb)
	((rss < 4096)) || fail "lock-on-fault region populated before touch: $(kt_line BEFORE)"
	assert_kt AFTER lf 1
	assert_kt AFTER rss_kb 4096
}

@test "non-recursive: the command's fork child and grandchild are not locked" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel "$KT" report C fork report F fork report FF
	assert_kt_locked C
	assert_kt_state C "$STATE_EXEC_KEEP"
	assert_kt_unlocked F
	assert_kt_state F "$STATE_NONE"
	assert_kt_unlocked FF
	assert_kt_state FF "$STATE_NONE"
}

@test "non-recursive: what the command execs itself is locked, what its fork child execs is not" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel "$KT" report C fork exec "$KT" report FE
	assert_kt_locked C
	assert_kt_unlocked FE
	assert_kt_state FE "$STATE_NONE"

	run -0 "$MLOCK" --mode kernel "$KT" report C exec "$KT" report CE \
		exec "$KT" report CEE
	assert_kt_locked C
	assert_kt_locked CE
	assert_kt_state CE "$STATE_EXEC_KEEP"
	assert_kt_locked CEE
	assert_kt_state CEE "$STATE_EXEC_KEEP"
}

# A bash script reporting itself (SH), subshells (SUB, SUBSUB), external
# commands (EXT, SUBEXT) and a second bash it execs after fork (BASH2,
# BASH2SUB).
write_bash_tree() {
	BASH_TREE=$BATS_TEST_TMPDIR/tree.sh
	cat > "$BASH_TREE" <<EOF
$BASH_REPORT
if [[ \$1 == inner ]]; then st BASH2; ( st BASH2SUB ); exit; fi
st SH; ( st SUB; ( st SUBSUB; "$KT" report SUBEXT ) ); "$KT" report EXT
bash "\$0" inner
EOF
}

@test "non-recursive: a bash command is locked, its subshells and external commands are not" {
	require_inherit
	require_mlock
	write_bash_tree
	run -0 "$MLOCK" --mode kernel bash "$BASH_TREE"
	local vmlck l
	vmlck=$(kt_num SH vmlck)
	((vmlck > 0)) || fail "bash not locked: $(kt_line SH)"
	assert_kt_state SH "$STATE_EXEC_KEEP"
	for l in SUB SUBSUB BASH2 BASH2SUB; do
		assert_kt "$l" vmlck 0
		assert_kt_state "$l" "$STATE_NONE"
	done
	for l in EXT SUBEXT; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done
}

@test "-r: the command, fork children, exec'd children and grandchildren are all locked with recursive=1" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel -r "$KT" report C \
		fork report F fork report FF exec "$KT" report FFE \
		fork report FFEF exec "$KT" report FFEFE
	local l
	for l in C F FF FFE FFEF FFEFE; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done

	run -0 "$MLOCK" --mode kernel -r "$KT" report C exec "$KT" report CE \
		exec "$KT" report CEE
	for l in C CE CEE; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
}

@test "-r: bash, its subshells, nested subshells and external commands are locked" {
	require_inherit
	require_mlock
	write_bash_tree
	run -0 "$MLOCK" --mode kernel -r bash "$BASH_TREE"
	local l vmlck
	for l in SH SUB SUBSUB BASH2 BASH2SUB; do
		vmlck=$(kt_num "$l" vmlck)
		((vmlck > 0)) || fail "$l not locked: $(kt_line "$l")"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
	for l in EXT SUBEXT; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
}

@test "-r --on-fault: descendants by fork and exec lock on fault and are not populated" {
	require_inherit
	require_mlock
	run -0 "$MLOCK" --mode kernel -r --on-fault "$KT" map pre 2048 report C \
		fork rss pre FPRE map buf 2048 rss buf FBUF report F \
		exec "$KT" report FE map buf 2048 rss buf FEBUF
	local l rss
	for l in C F FE; do
		assert_kt_locked "$l"
		assert_equal "$l lf_vmas=$(kt_num "$l" lf_vmas)" "$l lf_vmas=$(kt_num "$l" lo_vmas)"
		assert_kt_state "$l" "future=1 onfault=1 inherit=1 recursive=1 exec_keep=*"
	done
	for l in FPRE FBUF FEBUF; do
		assert_kt "$l" lo 1
		assert_kt "$l" lf 1
		rss=$(kt_num "$l" rss_kb)
		((rss < 2048)) || fail "lock-on-fault region populated without a touch: $(kt_line "$l")"
	done
}

@test "mlock --pid reports a running locked process, readable and --output=raw" {
	require_inherit
	require_mlock
	start_paused --mode kernel -r "$KT"
	local pid=$PAUSED_PID status_vmlck status_mla
	status_vmlck=$(awk '$1 == "VmLck:" { print $2 }' "/proc/$pid/status")
	status_mla=$(sed -n 's/^Mlockall:\t//p' "/proc/$pid/status")
	((status_vmlck > 0)) || fail "the paused command is not locked: VmLck $status_vmlck"

	run -0 "$MLOCK" --pid "$pid"
	assert_output --partial "$pid"
	assert_line --regexp "^ *VmLck: *$status_vmlck kB\$"
	assert_line --regexp "^ *Mlockall: *$status_mla\$"
	[[ $status_mla == "future=1 onfault=0 inherit=1 recursive=1 exec_keep="[01] ]] ||
		fail "unexpected status line of mlock -r's command: $status_mla"

	run -0 "$MLOCK" --pid "$pid" --output=raw
	assert_line "pid=$pid"
	assert_line "vmlck_kb=$status_vmlck"
	assert_line "kernel_mlockall=yes"
	assert_line "future=1"
	assert_line "onfault=0"
	assert_line "inherit=1"
	assert_line "recursive=1"
	assert_line "preload_mapped=0"
}

@test "mlock --pid --output=raw on a non-recursive command and on its unlocked child" {
	require_inherit
	require_mlock
	start_paused --mode kernel "$KT"
	local pid=$PAUSED_PID
	run -0 "$MLOCK" --pid "$pid" --output=raw
	local kb
	kb=$(sed -n 's/^vmlck_kb=//p' <<<"$output")
	((kb > 0)) || fail "vmlck_kb=$kb for a locked command: $output"
	assert_line "future=1"
	assert_line "inherit=0"
	assert_line "recursive=0"
	assert_line "exec_keep=1"

	start_paused --mode kernel "$KT" fork
	local child
	child=$(pgrep -P "$PAUSED_PID" | head -n 1)
	[[ -n $child ]] || fail "no child of $PAUSED_PID"
	BG_PIDS+=("$child")
	# the ready file comes from the child, so it exists: the child is running
	run -0 "$MLOCK" --pid "$child" --output=raw
	assert_line "vmlck_kb=0"
	assert_line "future=0"
	assert_line "inherit=0"
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
