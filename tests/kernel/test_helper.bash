# Shared set-up for the kernel-mode suite (tests/kernel/*.bats).
#
# The suite runs inside the QEMU guest booted by tests/vm/ (as root, host
# root read-only over 9p, /tmp a tmpfs), on patched and on vanilla kernels.
# Kernel-mode tests skip with "kernel lacks MCL_INHERIT" when the running
# kernel rejects mlockall(MCL_FUTURE|MCL_INHERIT) with EINVAL; nothing is
# assumed from the kernel version.
#
# Binaries under test come from the environment, never from $PATH:
#   MLOCK          the mlock command     (default: the build tree's)
#   MLOCK_PRELOAD  the fallback library  (default: the build tree's)
# Helpers (tests/kernel/helpers/*.c) are compiled once per bats run into
# $BATS_RUN_TMPDIR/kt with ${CC:-cc}.

bats_load_library bats-support
bats_load_library bats-assert

_top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${MLOCK:=$_top/mlock-cmd/mlock}"
: "${MLOCK_PRELOAD:=$_top/mlock-cmd/.libs/libmlock-preload.so}"
export MLOCK MLOCK_PRELOAD

KT_DIR=$BATS_RUN_TMPDIR/kt
KT=$KT_DIR/kt
KT_STATUSLOG_SO=$KT_DIR/libktstatuslog.so
KT_STATIC=$KT_DIR/kt-static
LACKS="kernel lacks MCL_INHERIT (mlockall(MCL_FUTURE|MCL_INHERIT) fails with EINVAL)"

# --- set-up -----------------------------------------------------------------

# Compile the helpers (once per run; files run one after the other) in a
# directory every user can enter, so tests can run them as nobody.
kt_build() {
	local cc=${CC:-cc} src=$BATS_TEST_DIRNAME/helpers
	[[ -x $KT && -f $KT_STATUSLOG_SO ]] && return 0
	command -v "$cc" >/dev/null ||
		{ echo "no C compiler '$cc': install gcc or set CC" >&2; return 1; }
	mkdir -p "$KT_DIR"
	"$cc" -O2 -Wall -Wextra -Werror -o "$KT.tmp" "$src/kt.c" || return 1
	"$cc" -O2 -Wall -Wextra -Werror -shared -fPIC -o "$KT_STATUSLOG_SO" \
		"$src/statuslog.c" || return 1
	# a static copy, for the "kernel mode covers static binaries" test
	"$cc" -O2 -static -o "$KT_DIR/kt-static" "$src/kt.c" 2>/dev/null ||
		rm -f "$KT_DIR/kt-static"
	mv "$KT.tmp" "$KT"
	chmod 711 "$BATS_RUN_TMPDIR"
	chmod 755 "$KT_DIR" "$KT" "$KT_STATUSLOG_SO"
}

# Runs in every file's setup_file: helpers, feature probe, starting values
# for the final "kernel left clean" test.
kt_setup_file() {
	kt_build || return 1
	local rc=0
	"$KT" probe || rc=$?
	case $rc in
	0) KERNEL_INHERIT=1 ;;
	1) KERNEL_INHERIT=0 ;;
	*) echo "the MCL_INHERIT probe failed unexpectedly (status $rc)" >&2
	   return 1 ;;
	esac
	export KERNEL_INHERIT
	KT_MLOCKED_START=$(mlocked_kb)
	KT_DMESG_START=$(dmesg 2>/dev/null | wc -l)
	export KT_MLOCKED_START KT_DMESG_START
}

in_guest() {
	[[ -n ${MLOCK_GUEST_RESULTS:-} ]] ||
		grep -qw 'mlock_results=[^ ]*' /proc/cmdline ||
		[[ $(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts) == 9p ]]
}

require_inherit() {
	[[ ${KERNEL_INHERIT:-} == 1 ]] || skip "$LACKS"
}

require_mlock() {
	[[ -x $MLOCK ]] ||
		fail "MLOCK=$MLOCK is not executable: build the command (./autogen.sh && ./configure && make) or point MLOCK at it"
}

require_root() {
	[[ $(id -u) == 0 ]] || skip "needs root (to switch to user nobody and create a setuid-root file)"
}

# --- reading kt output --------------------------------------------------------

# kt_line LABEL: the line of $output that starts with "LABEL ".
kt_line() {
	local line
	while IFS= read -r line; do
		if [[ $line == "$1 "* ]]; then
			printf '%s\n' "$line"
			return 0
		fi
	done <<<"$output"
	return 1
}

# kt_get LABEL KEY: the value of KEY=... on LABEL's line.
kt_get() {
	local line word
	line=$(kt_line "$1") || { echo "no line '$1' in output" >&2; return 1; }
	for word in $line; do
		if [[ $word == "$2="* ]]; then
			printf '%s\n' "${word#*=}"
			return 0
		fi
	done
	echo "no $2= on line: $line" >&2
	return 1
}

# assert_kt LABEL KEY VALUE
assert_kt() {
	local v
	v=$(kt_get "$1" "$2") || fail "$(printf 'no %s= for %s in output:\n%s' "$2" "$1" "$output")"
	[[ $v == "$3" ]] ||
		fail "$(printf '%s: %s=%s, expected %s\nline: %s' "$1" "$2" "$v" "$3" "$(kt_line "$1")")"
}

kt_num() {
	local v
	v=$(kt_get "$1" "$2") || fail "$(printf 'no %s= for %s in output:\n%s' "$2" "$1" "$output")"
	[[ $v =~ ^[0-9]+$ ]] || fail "$1: $2=$v is not a number"
	printf '%s\n' "$v"
}

# assert_kt_locked LABEL: VmLck > 0, equal to the sum of the process's own
# lo VMAs, every VMA locked except the kernel's special mappings, and none of
# those locked.
assert_kt_locked() {
	local line vmlck lo_kb
	line=$(kt_line "$1") || fail "$(printf 'no line %s in output:\n%s' "$1" "$output")"
	vmlck=$(kt_num "$1" vmlck)
	lo_kb=$(kt_num "$1" lo_kb)
	((vmlck > 0)) || fail "$1 is not locked (VmLck 0): $line"
	((vmlck == lo_kb)) ||
		fail "$1: VmLck ${vmlck} kB != ${lo_kb} kB, the sum of its own lo VMAs: $line"
	assert_kt "$1" unlocked_vmas 0
	assert_kt "$1" special_lo 0
}

# assert_kt_unlocked LABEL: VmLck 0 and no VMA flagged lo.
assert_kt_unlocked() {
	local line
	line=$(kt_line "$1") || fail "$(printf 'no line %s in output:\n%s' "$1" "$output")"
	assert_kt "$1" vmlck 0
	assert_kt "$1" lo_vmas 0
}

# assert_kt_state LABEL "future=1 onfault=0 inherit=1 recursive=1 exec_keep=*"
# checks the Mlockall: status line fields; * accepts 0 or 1. (exec_keep is
# "implied" by inherit in SEMANTICS section 4: where inherit=1, whether the
# bit is also stored is the implementation's choice, so tests say *.)
assert_kt_state() {
	local kv key want
	for kv in $2; do
		key=${kv%%=*} want=${kv#*=}
		if [[ $want == '*' ]]; then
			assert_kt_matches "$1" "$key" '^[01]$'
		else
			assert_kt "$1" "$key" "$want"
		fi
	done
}

assert_kt_matches() {
	local v
	v=$(kt_get "$1" "$2") || fail "$(printf 'no %s= for %s in output:\n%s' "$2" "$1" "$output")"
	[[ $v =~ $3 ]] || fail "$1: $2=$v does not match $3: $(kt_line "$1")"
}

STATE_NONE="future=0 onfault=0 inherit=0 recursive=0 exec_keep=0"
STATE_LOCKED_ONLY="future=1 onfault=0 inherit=0 recursive=0 exec_keep=0"
# a process that stays locked through its own execs (SEMANTICS 4, version 2)
STATE_EXEC_KEEP="future=1 onfault=0 inherit=0 recursive=0 exec_keep=1"
STATE_RECURSIVE="future=1 onfault=0 inherit=1 recursive=1 exec_keep=*"

# A bash function printing "LABEL pid=... vmlck=... <Mlockall fields>" for
# the current bash process ($BASHPID: subshells report themselves), without
# forking. Prepend it to bash -c scripts: bash -c "$BASH_REPORT; st A; ...".
BASH_REPORT='st() {
	local l v=? m=mlockall=absent
	while IFS= read -r l; do
		case $l in
		VmLck:*) v=${l//[!0-9]/} ;;
		Mlockall:*) m=${l#Mlockall:}; m=${m#$'\''\t'\''} ;;
		esac
	done < /proc/$BASHPID/status
	echo "$1 pid=$BASHPID vmlck=$v $m"
}'

# --- users ----------------------------------------------------------------------

# A scratch directory that user nobody can enter, removed by the caller.
public_tmpdir() {
	local d
	d=$(mktemp -d /tmp/mlock-ktest.XXXXXX) || return 1
	chmod 755 "$d"
	printf '%s\n' "$d"
}

# as_nobody LIMIT_KB CMD...: run CMD as nobody/nogroup without capabilities,
# with RLIMIT_MEMLOCK (soft and hard) set to LIMIT_KB.
as_nobody() {
	local limit=$1
	shift
	command -v setpriv >/dev/null || fail "setpriv (util-linux) not found"
	bash -c 'ulimit -l "$1" || { echo "as_nobody: cannot set RLIMIT_MEMLOCK to $1 KiB (raising the hard limit needs CAP_SYS_RESOURCE)" >&2; exit 125; }
		shift; exec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$@"' \
		as_nobody "$limit" "$@"
}

# --- end-of-file checks ---------------------------------------------------------

mlocked_kb() {
	awk '$1 == "Mlocked:" { print $2 }' /proc/meminfo
}

# Flush the per-CPU mlock batches and vmstat deltas so that /proc/meminfo's
# Mlocked is exact (guest only: these are global writes).
flush_mm_counters() {
	echo 1 > /proc/sys/vm/compact_memory 2>/dev/null || true
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null || true
}

# The last test of every file: Mlocked back to its value at setup_file and no
# kernel BUG/WARNING since then. Only meaningful in the guest, where nothing
# else runs.
check_kernel_clean() {
	in_guest || skip "not in the test guest: other processes change Mlocked and the kernel log here"
	local now i
	for ((i = 0; i < 20; i++)); do
		flush_mm_counters
		now=$(mlocked_kb)
		[[ $now == "$KT_MLOCKED_START" ]] && break
		sleep 0.5
	done
	[[ $now == "$KT_MLOCKED_START" ]] ||
		fail "Mlocked is $now kB, was $KT_MLOCKED_START kB at the start of this file (leaked or underflowed page-level mlock accounting)"
	local bad
	bad=$(dmesg | tail -n +"$((KT_DMESG_START + 1))" |
		grep -E 'BUG|WARNING|Bad page|Oops|general protection|Call Trace|underflow' || true)
	[[ -z $bad ]] || fail "$(printf 'kernel log since the start of this file:\n%s' "$bad")"
}

# start_paused ARGS...: run "$MLOCK" ARGS... pause FILE in the background
# until it has created FILE; sets PAUSED_PID and adds it to BG_PIDS (the
# file's teardown kills it with kill_bg).
start_paused() {
	local ready=$BATS_TEST_TMPDIR/ready.$RANDOM i
	"$MLOCK" "$@" pause "$ready" 3>&- >/dev/null &
	PAUSED_PID=$!
	BG_PIDS+=("$PAUSED_PID")
	for ((i = 0; i < 300; i++)); do
		[[ -e $ready ]] && return 0
		kill -0 "$PAUSED_PID" 2>/dev/null || fail "mlock $* exited early"
		sleep 0.1
	done
	fail "mlock $* did not start within 30 s"
}

# Kill a background process started by a test (teardown).
kill_bg() {
	local pid
	for pid in "$@"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
