#!/bin/sh
# Print each argument on its own line between brackets, for the
# argument pass-through tests.
printf 'argc=%d\n' "$#"
for a in "$@"; do
	printf '[%s]\n' "$a"
done
