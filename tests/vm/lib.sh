# Shared helpers of the tests/vm scripts (sourced, bash).
# Callers set: here (tests/vm), repo, cache.

# series_patches VER: fills the array `patches` with the absolute paths of
# patches/linux-VER/<patch> in `series` order (comments, blank lines and the
# cover letter skipped).  Absent or empty series: no patches.
series_patches() {
	local ver=$1 dir=$repo/patches/linux-$1 line
	patches=()
	[ -f "$dir/series" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		case $line in 0000-cover-letter.patch|*/0000-cover-letter.patch) continue ;; esac
		if [ ! -f "$dir/$line" ]; then
			echo "error: patches/linux-$ver/series lists '$line' but $dir/$line does not exist (fix the series file)" >&2
			return 1
		fi
		patches+=("$dir/$line")
	done < "$dir/series"
}

# tarball_id VER: identity of Debian's linux-source-VER tarball.
tarball_id() {
	local tb=/usr/src/linux-source-$1.tar.xz
	[ -f "$tb" ] || { echo "error: $tb not found: apt-get install linux-source-$1" >&2; return 1; }
	echo "$(dpkg-query -W -f='${Version}' "linux-source-$1" 2>/dev/null || true) $(stat -c '%s %Y' "$tb")"
}

# make_config SRC ODIR ARCH LOG FRAGMENT...: tinyconfig + fragments into
# ODIR/.config, then checks every CONFIG_X=val line of the fragments made it
# (=n: must not be set; a later fragment's value for a symbol wins).  Returns 1 with the list of dropped options.
make_config() {
	local src=$1 odir=$2 arch=$3 log=$4 line sym missing=()
	shift 4
	mkdir -p "$odir"
	if ! { make -C "$src" O="$odir" ARCH="$arch" tinyconfig &&
	       "$src/scripts/kconfig/merge_config.sh" -m -O "$odir" "$odir/.config" "$@" &&
	       make -C "$src" O="$odir" ARCH="$arch" olddefconfig; } >>"$log" 2>&1; then
		echo "error: kernel configuration failed; last lines of $log:" >&2
		tail -n 20 "$log" >&2
		return 1
	fi
	while IFS= read -r line; do
		sym=${line%%=*}
		case $line in
		*=n) grep -q "^$sym=" "$odir/.config" &&
			missing+=("$line (got $(grep "^$sym=" "$odir/.config"))") ;;
		*) grep -qxF "$line" "$odir/.config" ||
			missing+=("$line (got $(grep -E "^(# )?$sym[= ]" "$odir/.config" || echo 'nothing: unknown symbol or unmet dependency'))") ;;
		esac
	done < <(cat "$@" | sed 's/[[:space:]]*#.*//' | grep -E '^CONFIG_[A-Za-z0-9_]+=' |
		# a later fragment overrides an earlier one, as in merge_config.sh
		awk -F= '!($1 in v) { o[++n] = $1 } { v[$1] = $0 }
			END { for (i = 1; i <= n; i++) print v[o[i]] }')
	if [ ${#missing[@]} -gt 0 ]; then
		echo "error: Kconfig dropped requested options for ARCH=$arch (fix tests/vm/kconfig/*.config: add the missing dependency, or move the option to a per-version fragment):" >&2
		printf '  %s\n' "${missing[@]}" >&2
		return 1
	fi
}

# Human-readable duration.
dur() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# git_base_tree VER DIR LOG: DIR is a git tree of Debian's linux-source-VER
# (imported once, tagged debian-base), reset to that tag and cleaned, except
# for the O= dirs (.build*) kept for incremental builds.
git_base_tree() {
	local ver=$1 git=$2 log=$3 tarid
	tarid=$(tarball_id "$ver") || return 1
	if [ ! -d "$git/.git" ] || [ "$(cat "$git/.git/mlock-inherit-tarid" 2>/dev/null)" != "$tarid" ]; then
		echo "importing /usr/src/linux-source-$ver.tar.xz into $git (once)" >&2
		rm -rf "$git"; mkdir -p "$git"
		tar -xf "/usr/src/linux-source-$ver.tar.xz" -C "$git" --strip-components=1
		(cd "$git" && git init -q && git config user.name mlock-inherit-check &&
			git config user.email check@mlock-inherit.invalid &&
			git config core.autocrlf false && git config gc.auto 0 &&
			git add -A -f . && git commit -q -m "Debian linux-source-$ver $tarid" &&
			git tag debian-base) >>"$log" 2>&1 || { echo "error: git import of linux-source-$ver failed (see $log)" >&2; return 1; }
		echo "$tarid" > "$git/.git/mlock-inherit-tarid"
	fi
	(cd "$git" && { git am --abort >/dev/null 2>&1 || true; } &&
		git reset -q --hard debian-base &&
		git clean -fdxq -e '/.build*') >>"$log" 2>&1 ||
		{ echo "error: cannot reset $git to debian-base (see $log)" >&2; return 1; }
}

# --- the machine-wide kernel build lock
# Only one kernel build runs on the machine at a time (2 shared cores): every
# kernel `make` of the harness runs under flock on this file, the same lock
# developers take for their manual builds
#   flock /var/tmp/mlock-inherit/locks/kbuild.lock make ...
# It is machine-wide on purpose: it does not follow MLOCK_INHERIT_CACHE.
kbuild_lockfile=${MLOCK_INHERIT_KBUILD_LOCK:-/var/tmp/mlock-inherit/locks/kbuild.lock}
kbuild_lock_mine=0

# kbuild_lock_held_above: true if an ancestor of this shell (e.g. an outer
# `flock kbuild.lock tests/vm/build-kernel.sh ...`, or a harness script that
# calls another) already holds the lock; taking it again would deadlock.
kbuild_lock_held_above() {
	local ino holders p f
	ino=$(stat -c '%i' "$kbuild_lockfile" 2>/dev/null) || return 1
	# An fd on the lock file inherited from the ancestor that locked it
	# (flock(1) passes its fd to the command; our own scripts keep fd 7
	# open for their children): flock on the same open file succeeds at once.
	for f in /proc/$BASHPID/fd/*; do
		[ "$(stat -L -c '%i' "$f" 2>/dev/null)" = "$ino" ] || continue
		[ "$(readlink -f "$f")" = "$(readlink -f "$kbuild_lockfile")" ] || continue
		flock -n "${f##*/}" 2>/dev/null && return 0
	done
	# /proc/locks: "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE ..."
	holders=" $(awk -v ino="$ino" '$2 == "FLOCK" && $4 == "WRITE" {
		n = split($6, a, ":"); if (a[n] == ino) print $5 }' /proc/locks | tr '\n' ' ')"
	[ "$holders" != "  " ] || return 1
	p=$BASHPID
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		case $holders in *" $p "*) return 0 ;; esac
		p=$(awk '$1 == "PPid:" {print $2}' "/proc/$p/status" 2>/dev/null)
	done
	return 1
}

# kbuild_lock WHO: take the lock on fd 7 (blocking), saying so when another
# build holds it.  No-op when an ancestor holds it already.
kbuild_lock() {
	local who=$1 ino holder
	kbuild_lock_mine=0
	if kbuild_lock_held_above; then
		return 0
	fi
	mkdir -p "$(dirname "$kbuild_lockfile")"
	exec 7>>"$kbuild_lockfile"
	if ! flock -n 7; then
		ino=$(stat -c '%i' "$kbuild_lockfile")
		holder=$(awk -v ino="$ino" '$2 == "FLOCK" { n = split($6, a, ":");
			if (a[n] == ino) { print $5; exit } }' /proc/locks)
		# (a lock taken by flock on an fd names the flock process, which
		# may be gone: then nothing is shown)
		if [ "${holder:-0}" -gt 1 ] 2>/dev/null; then
			holder=$(tr '\0' ' ' 2>/dev/null < "/proc/$holder/cmdline" | cut -c1-120) || holder=
		else
			holder=
		fi
		echo "$who: waiting for another kernel build (lock $kbuild_lockfile${holder:+, taken by: $holder})" >&2
		flock 7
		echo "$who: got the kernel build lock" >&2
	fi
	kbuild_lock_mine=1
}

# kbuild_unlock: release the lock if this shell took it.
kbuild_unlock() {
	if [ "$kbuild_lock_mine" = 1 ]; then
		flock -u 7
		exec 7>&-
		kbuild_lock_mine=0
	fi
}

# kbuild_locked WHO CMD...: run CMD under the lock.
kbuild_locked() {
	local who=$1 rc
	shift
	kbuild_lock "$who"
	"$@"
	rc=$?
	kbuild_unlock
	return "$rc"
}
