#!/bin/sh
# Print the path of the fallback library in the build tree.
cd "$(dirname "$0")/.." || exit 1
for f in mlock-cmd/.libs/libmlock-preload.so mlock-cmd/libmlock-preload.so \
	.libs/libmlock-preload.so; do
	[ -f "$f" ] && { echo "$PWD/$f"; exit 0; }
done
echo "preload-path: fallback library not built; run scripts/build.sh" >&2
exit 1
