#!/usr/bin/env bats
# Prefix commands compose by exec (SEMANTICS version 2, sections 3, 4, 5):
# a process started by `mlock cmd` stays locked, with state exec_keep,
# through every program it execs itself (env, nice, chrt, taskset, sh -c
# 'exec ...', bash -c '<one command>', #! wrapper scripts ending in exec, an
# exec from a second thread), and none of its children is locked without
# -r. posix_spawn, vfork and clone(CLONE_VM) children (sharing the mm) take
# the fork rule at their exec; a clone(CLONE_VFORK) child without CLONE_VM
# is an ordinary fork child. munlockall() and mlockall() without
# MCL_INHERIT end the chain. A page swapped out before an INHERIT fork is
# resident in the child before it runs.
#
# Version 1 of the series consumed EXEC_KEEP at the first exec: on such a
# kernel every composition below runs its target unlocked or with
# exec_keep=0, and these tests fail.

bats_require_minimum_version 1.5.0
load test_helper

setup_file() {
	kt_setup_file
	ENV_BIN=$(command -v env)
	export ENV_BIN
}

setup() {
	SWAP_DEV=
	[[ $BATS_TEST_DESCRIPTION == Mlocked* ]] && return 0
	require_inherit
	require_mlock
}

teardown() {
	if [[ -n $SWAP_DEV ]]; then
		swapoff "$SWAP_DEV" 2>/dev/null || true
		echo 1 > /sys/block/zram0/reset 2>/dev/null || true
	fi
}

STATE_INHERIT="future=1 onfault=0 inherit=1 recursive=0 exec_keep=*"

# run_launched [MLOCK-OPTIONS] -- CMD...: run `mlock --mode kernel
# [MLOCK-OPTIONS] CMD...` from a shell that first prints "LAUNCH pid=$$"
# and then execs mlock, so that a target reporting the same pid is the
# launched process itself, reached by exec only.
run_launched() {
	local opts=()
	while [[ $1 != -- ]]; do
		opts+=("$1")
		shift
	done
	shift
	run -0 sh -c 'echo "LAUNCH pid=$$"; exec "$@"' launch \
		"$MLOCK" --mode kernel "${opts[@]}" "$@"
}

# assert_target LABEL [STATE]: LABEL is the launched process (same pid),
# locked (VmLck > 0 and equal to its lo VMAs) with STATE (default: exec_keep
# only).
assert_target() {
	local want=${2:-$STATE_EXEC_KEEP} pid launch
	pid=$(kt_num "$1" pid)
	launch=$(kt_num LAUNCH pid)
	[[ $pid == "$launch" ]] ||
		fail "$1 is pid $pid, not the launched pid $launch: something in the chain forked instead of exec'ing: $(kt_line "$1")"
	assert_kt_locked "$1"
	assert_kt_state "$1" "$want"
}

# status_of FILE KEY: the value of the "FILE:KEY:" line grep -H printed into
# $output, blanks squeezed.
status_of() {
	local line
	line=$(grep -F -- "$1:$2:" <<<"$output") ||
		fail "$(printf 'no %s line for %s in output:\n%s' "$2" "$1" "$output")"
	line=${line#"$1:$2:"}
	# shellcheck disable=SC2086
	echo $line
}

# The target is sh (after env); grep is its fork child: `; true` keeps sh
# from exec'ing grep itself.
SH_GREP='echo "SHPID $$"; grep -H -E "^(VmLck|Mlockall):" /proc/$$/status /proc/self/status; true'

# --- one prefix command -----------------------------------------------------

@test "mlock env PROG: PROG and what it execs next stay locked, state exec_keep" {
	run_launched -- "$ENV_BIN" MLOCK_TEST_VAR=1 "$KT" report T exec "$KT" report T2
	assert_target T
	assert_target T2
}

@test "mlock nice -n 1 PROG: PROG is locked, state exec_keep" {
	run_launched -- nice -n 1 "$KT" report T exec "$KT" report T2
	assert_target T
	assert_target T2
}

@test "mlock chrt -f 10 PROG: PROG is locked, state exec_keep" {
	require_root
	run_launched -- chrt -f 10 "$KT" report T exec "$KT" report T2
	assert_target T
	assert_target T2
}

@test "mlock taskset -c 0 PROG: PROG is locked, state exec_keep" {
	run_launched -- taskset -c 0 "$KT" report T exec "$KT" report T2
	assert_target T
	assert_target T2
}

@test "mlock sh -c 'exec PROG': PROG is locked, state exec_keep" {
	# shellcheck disable=SC2016
	run_launched -- sh -c 'exec "$0" report T exec "$0" report T2' "$KT"
	assert_target T
	assert_target T2
}

@test "mlock bash -c '<one command>': bash execs it, PROG is locked, state exec_keep" {
	# shellcheck disable=SC2016
	run_launched -- bash -c '"$0" report T exec "$0" report T2' "$KT"
	assert_target T
	assert_target T2
}

# A #!/bin/sh wrapper in the usual style: reports itself as SH (without
# forking: dash's read builtin), sets a variable, ends in exec.
# write_wrapper PATH TAIL: TAIL is the wrapper's last line.
write_wrapper() {
	cat > "$1" <<EOF
#!/bin/sh
st() {
	v=? m=mlockall=absent
	while IFS= read -r l; do
		case \$l in
		VmLck:*) set -- \${l#VmLck:}; v=\$1 ;;
		Mlockall:*) set -- \${l#Mlockall:}; m="\$*" ;;
		esac
	done < /proc/\$\$/status
	echo "SH pid=\$\$ vmlck=\$v \$m"
}
st
WRAPPED=1
export WRAPPED
$2
EOF
	chmod 755 "$1"
}

@test "mlock WRAPPER: a #!/bin/sh script ending in exec: the script and PROG are locked, state exec_keep" {
	local w=$BATS_TEST_TMPDIR/wrapper
	write_wrapper "$w" "exec \"$KT\" report T exec \"$KT\" report T2 \"\$@\""
	run_launched -- "$w"
	local vmlck
	vmlck=$(kt_num SH vmlck)
	((vmlck > 0)) || fail "the wrapper script (/bin/sh) is not locked: $(kt_line SH)"
	assert_kt_state SH "$STATE_EXEC_KEEP"
	assert_kt SH pid "$(kt_num LAUNCH pid)"
	assert_target T
	assert_target T2
}

# --- chains -----------------------------------------------------------------

@test "mlock env nice taskset PROG: a chain of three prefix commands, PROG locked, state exec_keep" {
	run_launched -- "$ENV_BIN" A=1 nice -n 1 taskset -c 0 "$KT" report T \
		exec "$KT" report T2
	assert_target T
	assert_target T2
}

@test "mlock WRAPPER chrt sh -c 'exec bash -c ...': wrapper, chrt, sh, bash in a row, PROG locked, state exec_keep" {
	require_root
	local w=$BATS_TEST_TMPDIR/wrapper
	write_wrapper "$w" 'exec "$@"'
	# shellcheck disable=SC2016
	run_launched -- "$w" chrt -f 10 sh -c 'exec bash -c "\"\$0\" report T exec \"\$0\" report T2" "$0"' "$KT"
	assert_kt_state SH "$STATE_EXEC_KEEP"
	assert_target T
	assert_target T2
}

@test "mlock -r through a chain: PROG locked with the recursive state" {
	# shellcheck disable=SC2016
	run_launched -r -- "$ENV_BIN" nice -n 1 sh -c 'exec "$0" report T fork report TF' "$KT"
	assert_target T "$STATE_RECURSIVE"
	assert_kt_locked TF
	assert_kt_state TF "$STATE_RECURSIVE"
}

# --- the target's own children ----------------------------------------------

@test "without -r, the target's fork children are not locked (sh -c 'grep ...; true', kt fork)" {
	run_launched -- "$ENV_BIN" sh -c "$SH_GREP"
	local sh
	sh=$(awk '$1 == "SHPID" { print $2 }' <<<"$output")
	[[ -n $sh ]] || fail "no SHPID line: $output"
	local v
	v=$(status_of "/proc/$sh/status" VmLck)
	[[ $v =~ ^([0-9]+)\ kB$ ]] && ((BASH_REMATCH[1] > 0)) ||
		fail "the target sh is not locked: VmLck $v"
	assert_equal "sh: $(status_of "/proc/$sh/status" Mlockall)" "sh: $STATE_EXEC_KEEP"
	assert_equal "grep: VmLck $(status_of /proc/self/status VmLck)" "grep: VmLck 0 kB"
	assert_equal "grep: $(status_of /proc/self/status Mlockall)" "grep: $STATE_NONE"

	run_launched -- "$ENV_BIN" "$KT" report T fork report TF exec "$KT" report TFE
	assert_target T
	local l
	for l in TF TFE; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done
}

@test "with -r, the target's fork children are locked (sh -c 'grep ...; true', kt fork)" {
	run_launched -r -- "$ENV_BIN" sh -c "$SH_GREP"
	local v
	v=$(status_of /proc/self/status VmLck)
	[[ $v =~ ^([0-9]+)\ kB$ ]] && ((BASH_REMATCH[1] > 0)) ||
		fail "grep, the target's fork child, is not locked under -r: VmLck $v"
	[[ $(status_of /proc/self/status Mlockall) =~ ^future=1\ onfault=0\ inherit=1\ recursive=1\ exec_keep=[01]$ ]] ||
		fail "grep under -r: Mlockall $(status_of /proc/self/status Mlockall)"

	run_launched -r -- "$ENV_BIN" "$KT" report T fork report TF exec "$KT" report TFE
	assert_target T "$STATE_RECURSIVE"
	local l
	for l in TF TFE; do
		assert_kt_locked "$l"
		assert_kt_state "$l" "$STATE_RECURSIVE"
	done
}

# --- children sharing the mm, and clone(CLONE_VFORK) without CLONE_VM -----------
#
# (a) a one-generation launcher: a process that itself called
#     mlockall(MCL_CURRENT|MCL_FUTURE|MCL_INHERIT): its children run locked,
#     state exec_keep, through their own execs, and their fork children not;
# (b) a process whose state is exec_keep only (the program under `mlock`,
#     or the fork child of (a)): its children run unlocked.

@test "posix_spawn child of a one-generation launcher: locked, state exec_keep, through its own exec" {
	run -0 "$KT" mlockall current,future,inherit report L \
		spawn "$KT" report S fork report SF exec "$KT" report SFE \; \
		spawn "$KT" exec "$KT" report S2 \; report L2
	assert_kt_locked L
	assert_kt_state L "$STATE_INHERIT"
	assert_kt_locked S
	assert_kt_state S "$STATE_EXEC_KEEP"
	assert_kt_locked S2
	assert_kt_state S2 "$STATE_EXEC_KEEP"
	assert_kt_unlocked SF
	assert_kt_state SF "$STATE_NONE"
	assert_kt_unlocked SFE
	assert_kt_state SFE "$STATE_NONE"
	# the child's exec did not change the mm it shared until then
	assert_kt_locked L2
	assert_kt_state L2 "future=1 onfault=0 inherit=1 recursive=0 exec_keep=$(kt_get L exec_keep)"
}

@test "posix_spawn child of an exec_keep-only process: unlocked, state clear" {
	run -0 "$MLOCK" --mode kernel "$KT" report P spawn "$KT" report S \; report P2
	assert_kt_locked P
	assert_kt_state P "$STATE_EXEC_KEEP"
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
	assert_kt_locked P2
	assert_kt_state P2 "$STATE_EXEC_KEEP"

	# the same from the fork child of a launcher
	run -0 "$KT" mlockall current,future,inherit fork report C \
		spawn "$KT" report S \;
	assert_kt_locked C
	assert_kt_state C "$STATE_EXEC_KEEP"
	assert_kt_unlocked S
	assert_kt_state S "$STATE_NONE"
}

@test "vfork child of a one-generation launcher: locked, state exec_keep, through its own exec" {
	run -0 "$KT" mlockall current,future,inherit report L \
		vfork "$KT" report V fork report VF exec "$KT" report VFE \; \
		vfork "$KT" exec "$KT" report V2 \; report L2
	assert_kt_locked V
	assert_kt_state V "$STATE_EXEC_KEEP"
	assert_kt_locked V2
	assert_kt_state V2 "$STATE_EXEC_KEEP"
	assert_kt_unlocked VF
	assert_kt_state VF "$STATE_NONE"
	assert_kt_unlocked VFE
	assert_kt_state VFE "$STATE_NONE"
	assert_kt_locked L2
	assert_kt_state L2 "future=1 onfault=0 inherit=1 recursive=0 exec_keep=$(kt_get L exec_keep)"
}

@test "vfork child of an exec_keep-only process: unlocked, state clear" {
	run -0 "$MLOCK" --mode kernel "$KT" report P vfork "$KT" report V \; report P2
	assert_kt_locked P
	assert_kt_state P "$STATE_EXEC_KEEP"
	assert_kt_unlocked V
	assert_kt_state V "$STATE_NONE"
	assert_kt_state P2 "$STATE_EXEC_KEEP"

	run -0 "$KT" mlockall current,future,inherit fork vfork "$KT" report V \;
	assert_kt_unlocked V
	assert_kt_state V "$STATE_NONE"
}

@test "clone(CLONE_VM) child of a one-generation launcher: locked, state exec_keep; of an exec_keep-only process: unlocked" {
	run -0 "$KT" mlockall current,future,inherit \
		clone-vm "$KT" report M exec "$KT" report ME \; report L2
	assert_kt_locked M
	assert_kt_state M "$STATE_EXEC_KEEP"
	assert_kt_locked ME
	assert_kt_state ME "$STATE_EXEC_KEEP"
	assert_kt_state L2 "$STATE_INHERIT"

	run -0 "$MLOCK" --mode kernel "$KT" clone-vm "$KT" report M \; report P2
	assert_kt_unlocked M
	assert_kt_state M "$STATE_NONE"
	assert_kt_state P2 "$STATE_EXEC_KEEP"
}

@test "clone(CLONE_VFORK) without CLONE_VM, child of a one-generation launcher: an ordinary fork child, locked through its execs" {
	run -0 "$KT" mlockall current,future,inherit clone-vfork report CV \
		exec "$KT" report CVE exec "$KT" report CVE2 fork report CVEF
	# its own mm: the fork rule applied once, at clone time
	assert_kt_locked CV
	assert_kt_state CV "$STATE_EXEC_KEEP"
	# and not a second time at its exec (version 1 ran it unlocked here)
	assert_kt_locked CVE
	assert_kt_state CVE "$STATE_EXEC_KEEP"
	assert_kt_locked CVE2
	assert_kt_state CVE2 "$STATE_EXEC_KEEP"
	assert_kt_unlocked CVEF
	assert_kt_state CVEF "$STATE_NONE"
}

@test "clone(CLONE_VFORK) without CLONE_VM, child of an exec_keep-only process: unlocked, before and after its exec" {
	run -0 "$MLOCK" --mode kernel "$KT" report P clone-vfork report CV \
		exec "$KT" report CVE
	assert_kt_locked P
	assert_kt_state P "$STATE_EXEC_KEEP"
	local l
	for l in CV CVE; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done
}

# --- exec from a second thread ------------------------------------------------

@test "an exec from a second thread is the process's own exec: it stays locked, state exec_keep" {
	run_launched -- "$KT" thread-exec "$KT" report T fork report TF
	assert_target T
	assert_kt_unlocked TF
	assert_kt_state TF "$STATE_NONE"

	# from a one-generation launcher (INHERIT): section 4 gives exec_keep
	run -0 "$KT" mlockall current,future,inherit thread-exec "$KT" report T \
		thread-exec "$KT" report T2
	assert_kt_locked T
	assert_kt_state T "$STATE_EXEC_KEEP"
	assert_kt_locked T2
	assert_kt_state T2 "$STATE_EXEC_KEEP"

	# recursive: the state is kept whole
	run_launched -r -- "$KT" thread-exec "$KT" report T
	assert_target T "$STATE_RECURSIVE"
}

# --- what ends the chain ------------------------------------------------------

@test "opt-out: under mlock -r, a program's own mlockall(MCL_CURRENT|MCL_FUTURE) clears the state: its children are not locked" {
	run_launched -r -- "$ENV_BIN" "$KT" report A mlockall current,future report B \
		spawn "$KT" report S \; vfork "$KT" report V \; fork report C
	assert_target A "$STATE_RECURSIVE"
	# locked by its own call, inheriting nothing any more
	assert_target B "$STATE_LOCKED_ONLY"
	local l
	for l in S V C; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done

	# and its own exec is an ordinary one (no exec_keep)
	run_launched -r -- "$KT" mlockall current,future exec "$KT" report E
	assert_kt_unlocked E
	assert_kt_state E "$STATE_NONE"
}

@test "munlockall() ends the chain: a later exec runs unlocked with Mlockall all 0" {
	run_launched -- "$ENV_BIN" "$KT" report A munlockall report B \
		exec "$ENV_BIN" "$KT" report E fork report EF
	assert_target A
	local l
	for l in B E EF; do
		assert_kt_unlocked "$l"
		assert_kt_state "$l" "$STATE_NONE"
	done

	# after a chain of execs, and under -r
	# shellcheck disable=SC2016
	run_launched -r -- nice -n 1 sh -c 'exec "$0" munlockall exec "$0" report E' "$KT"
	assert_kt_unlocked E
	assert_kt_state E "$STATE_NONE"
}

# --- swapped-out pages are holes for the fork child ---------------------------

# setup_zram_swap: a 64 MiB zram swap device (sets SWAP_DEV for teardown),
# or skip when the kernel has no zram.
setup_zram_swap() {
	in_guest || skip "not in the test guest: adding a swap device is a global change"
	require_root
	[[ -e /sys/class/zram-control/hot_add || -e /sys/block/zram0 ]] ||
		skip "kernel without zram (CONFIG_ZRAM is only in tests/vm/kconfig/debug.config): no swap device in the guest"
	local b
	for b in mkswap swapon swapoff; do
		command -v "$b" >/dev/null || fail "$b (util-linux) not found"
	done
	[[ -e /sys/block/zram0 ]] || cat /sys/class/zram-control/hot_add >/dev/null
	if ! grep -q '^/dev/zram0 ' /proc/swaps; then
		echo 64M > /sys/block/zram0/disksize ||
			fail "cannot size /dev/zram0 (in use?)"
		mkswap /dev/zram0 >/dev/null || fail "mkswap /dev/zram0 failed"
		swapon /dev/zram0 || fail "swapon /dev/zram0 failed"
		SWAP_DEV=/dev/zram0
	fi
}

@test "a page swapped out before an INHERIT fork is resident in the child before it runs" {
	setup_zram_swap
	# The region is paged out, then another thread's
	# mlockall(MCL_CURRENT|MCL_FUTURE|MCL_INHERIT) sets VM_LOCKED and the
	# state and is held by a userfaultfd page before its populate reaches
	# the region: the fork happens with the region's PTEs all swap entries.
	run -0 "$KT" map r 1024 fill r pageout r fork-in-populate r W report P
	assert_kt r pageout "done"
	# the window was hit: locked VMA, every page still a swap entry
	assert_kt W-PR lo 1
	assert_kt W-P swapped 256
	# the child's first look at its page tables: every page present
	assert_kt W pages 256
	assert_kt W swapped 0
	assert_kt W present 256
	assert_kt W-CR lo 1
	assert_kt W-CR rss_kb 1024
	assert_kt W-CR content pattern
	assert_kt_locked W-C
	assert_kt_state W-C "$STATE_EXEC_KEEP"
	assert_kt W-T mlockall 0
	assert_kt_locked P
	assert_kt_state P "$STATE_INHERIT"
}

@test "Mlocked in /proc/meminfo is back to its starting value and the kernel log is clean" {
	check_kernel_clean
}
