#!/usr/bin/env bats
# Options that make no sense together are refused with 125 before anything
# is run or read (util-linux's "mutually exclusive arguments" style).

bats_require_minimum_version 1.5.0
load test_helper

# refused ARGS...: mlock ARGS exits 125, says why on stderr, prints nothing
# on stdout and points to --help
refused() {
	run -125 --separate-stderr "$MLOCK" "$@"
	assert_output ""
	[[ $stderr == *"Try 'mlock --help'"* ]] || fail "no --help hint: $stderr"
}

@test "-r, -f, --limit, --mode, --best-effort and -q are refused with --pid" {
	for opt in -r --recursive -f --on-fault "-l 1M" "--limit=1M" "-m kernel" \
		   --mode=preload --best-effort -q --quiet; do
		# shellcheck disable=SC2086 # word splitting of "-l 1M" wanted
		refused $opt -p $$
		[[ $stderr == "mlock: mutually exclusive arguments: --"*" --pid ("* ]] ||
			fail "$opt: $stderr"
		# shellcheck disable=SC2086
		refused -p $$ $opt
	done
	refused -r -p $$
	[[ $stderr == *"mutually exclusive arguments: --recursive --pid"* ]] || fail "$stderr"
	refused --limit 64M --pid $$
	[[ $stderr == *"mutually exclusive arguments: --limit --pid"* ]] || fail "$stderr"
}

@test "--output without --pid is refused, with a command or alone" {
	refused -o raw true
	[[ $stderr == *"--output is only meaningful with --pid"* ]] || fail "$stderr"
	refused --output=human true
	refused --output=raw
}

@test "--probe refuses the options that lock and the --pid output options" {
	refused --probe --pid $$
	[[ $stderr == *"mutually exclusive arguments: --pid --probe"* ]] || fail "$stderr"
	for opt in -r -f "-l 1M" "-m kernel" --best-effort; do
		# shellcheck disable=SC2086
		refused --probe $opt
		[[ $stderr == *"mutually exclusive arguments: --"*" --probe"* ]] || fail "$opt: $stderr"
	done
	refused --probe -o raw
}

@test "meaningful combinations are still accepted" {
	run "$MLOCK" --probe -q
	(( status == 0 || status == 1 )) || fail "--probe -q: $status"
	run "$MLOCK" --probe -v
	(( status == 0 || status == 1 )) || fail "--probe -v: $status"
	run -0 "$MLOCK" -p $$ -o raw
	run -0 "$MLOCK" -v -p $$
	run -0 "$MLOCK" -q -r -f --best-effort -m auto -l 1M true
}
