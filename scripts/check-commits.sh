#!/bin/sh
# Commit subjects since the rule began (HACKING.md, "Contributing"): one
# topic each, at most 72 characters, in `component: summary` form as in the
# kernel. Merge commits are skipped. Exit 1 with the offending subjects.
#
# usage: scripts/check-commits.sh [BASE]   (default: the last commit before
#                                           the rule, f985021)
set -eu
cd "$(dirname "$0")/.."
base=${1:-f985021}
if ! git rev-parse -q --verify "$base^{commit}" >/dev/null 2>&1; then
	echo "check-commits: base $base is not in this clone's history (a shallow clone? fetch more, or pass a BASE that exists)" >&2
	exit 2
fi
bad=0 n=0
tab=$(printf '\t')
git log --no-merges --format='%h%x09%s' "$base..HEAD" > "${TMPDIR:-/tmp}/check-commits.$$"
while IFS="$tab" read -r h s; do
	n=$((n + 1))
	why=
	if [ "${#s}" -gt 72 ]; then
		why="subject is ${#s} characters (at most 72)"
	elif ! printf '%s\n' "$s" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9_.,/+-]*( [A-Za-z0-9_.,/+-]+)?: [^ ]'; then
		why="not in 'component: summary' form"
	elif printf '%s\n' "$s" | grep -q ';'; then
		why="joins topics with ';' (one topic per commit)"
	fi
	if [ -n "$why" ]; then
		echo "check-commits: $h \"$s\": $why"
		bad=$((bad + 1))
	fi
done < "${TMPDIR:-/tmp}/check-commits.$$"
rm -f "${TMPDIR:-/tmp}/check-commits.$$"
echo "check-commits: $n commits since $base, $bad bad"
[ "$bad" -eq 0 ]
