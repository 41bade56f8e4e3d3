#!/usr/bin/env bats
# Usage, --help, --version and option errors.

bats_require_minimum_version 1.5.0
load test_helper

@test "--help goes to stdout, exits 0 and lists every option" {
	run -0 --separate-stderr "$MLOCK" --help
	assert_equal "$stderr" ""
	assert_line --index 0 "Usage:"
	for opt in --recursive --on-fault --limit --mode --best-effort \
		   --quiet --pid --tree --output --probe --verbose --help --version; do
		assert_output --partial -- "$opt"
	done
}

@test "--help lists the exit statuses" {
	run -0 "$MLOCK" -h
	assert_line --regexp '^ +125 +if mlock itself fails$'
	assert_line --regexp '^ +126 +if the command is found but cannot be invoked$'
	assert_line --regexp '^ +127 +if the command cannot be found$'
}

@test "--help to a full disk fails with 125" {
	[[ -w /dev/full ]] || skip "no /dev/full"
	run -125 bash -c '"$MLOCK" --help >/dev/full'
	assert_output --partial "write error"
}

@test "-V and --version print the package version" {
	run -0 "$MLOCK" -V
	assert_output --regexp '^mlock from mlock-inherit [0-9]'
	run -0 "$MLOCK" --version
	assert_output --regexp '^mlock from mlock-inherit [0-9]'
}

@test "an unknown option fails with 125 and points to --help" {
	run -125 --separate-stderr "$MLOCK" --no-such-option true
	assert_output ""
	[[ $stderr == *"unrecognized option"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"Try 'mlock --help'"* ]] || fail "stderr: $stderr"
}

@test "no command fails with 125" {
	run -125 "$MLOCK"
	assert_output --partial "no command given"
	run -125 "$MLOCK" -r --
	assert_output --partial "no command given"
}

@test "--mode rejects an unknown mode with 125" {
	run -125 "$MLOCK" --mode=bogus true
	assert_output --partial "invalid --mode 'bogus': expected auto, kernel or preload"
	run -125 "$MLOCK" -m
	assert_output --partial "requires an argument"
}

@test "--mode accepts auto and preload" {
	run -0 "$MLOCK" -q --mode=auto true
	run -0 "$MLOCK" -m preload true
}

@test "--output rejects an unknown format with 125" {
	run -125 "$MLOCK" --pid $$ --output=json
	assert_output --partial "invalid --output 'json': expected human or raw"
}

@test "--pid rejects a bad PID and a command with 125" {
	run -125 "$MLOCK" --pid abc
	assert_output --partial "invalid PID 'abc'"
	run -125 "$MLOCK" --pid 0
	assert_output --partial "invalid PID '0'"
	run -125 "$MLOCK" --pid $$ true
	assert_output --partial "no command is run with --pid"
	run -125 "$MLOCK" --probe --pid $$
	assert_output --partial "mutually exclusive arguments: --pid --probe"
}

@test "the fallback is announced once on stderr, and -q silences it" {
	skip_if_kernel_mode
	run -0 --separate-stderr "$MLOCK" true
	assert_equal "$(grep -c 'using the LD_PRELOAD fallback' <<<"$stderr")" 1
	[[ $stderr == *"static binaries"* ]] || fail "notice does not name the limits: $stderr"
	run -0 --separate-stderr "$MLOCK" -q true
	assert_equal "$stderr" ""
	run -0 --separate-stderr "$MLOCK" --quiet true
	assert_equal "$stderr" ""
}

@test "--mode preload does not announce anything" {
	run -0 --separate-stderr "$MLOCK" --mode=preload true
	assert_equal "$stderr" ""
}

@test "-v says what is done" {
	skip_if_kernel_mode
	run -0 --separate-stderr "$MLOCK" -q -v -r -f -l 1M true
	[[ $stderr == *"RLIMIT_MEMLOCK set to 1024 KiB"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"MLOCK_INHERIT_PRELOAD=recursive,onfault,strict"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"LD_PRELOAD="* ]] || fail "stderr: $stderr"
	run -0 --separate-stderr "$MLOCK" --verbose -q true
	[[ $stderr == *"MLOCK_INHERIT_PRELOAD=once,strict"* ]] || fail "stderr: $stderr"
}
