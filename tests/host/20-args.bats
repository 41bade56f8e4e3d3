#!/usr/bin/env bats
# Option parsing stops at the command; arguments arrive byte for byte.

bats_require_minimum_version 1.5.0
load test_helper

@test "forwards all arguments: spaces, empty strings, leading dashes" {
	run -0 "$MLOCK" -q "$SHOW_ARGS" "a b" "" "-l" "--recursive" "  x  " "--"
	assert_output "argc=6
[a b]
[]
[-l]
[--recursive]
[  x  ]
[--]"
}

@test "options after the command belong to the command" {
	run -0 "$MLOCK" -q -r "$SHOW_ARGS" -r -l 5 --help -V
	assert_output "argc=5
[-r]
[-l]
[5]
[--help]
[-V]"
}

@test "-- ends mlock's options" {
	run -0 "$MLOCK" -q -- "$SHOW_ARGS" -- -q
	assert_output "argc=2
[--]
[-q]"
}

@test "a command named like an option runs after --" {
	ln -s "$SHOW_ARGS" "$BATS_TEST_TMPDIR/-r"
	cd "$BATS_TEST_TMPDIR"
	PATH=$BATS_TEST_TMPDIR:$PATH run -0 "$MLOCK" -q -- -r x
	assert_output "argc=1
[x]"
}

@test "bytes that are not text pass through unchanged" {
	run -0 "$MLOCK" -q "$SHOW_ARGS" $'\xff\xfe' $'tab\there' $'new\nline' '*' '$HOME'
	assert_output "argc=5
["$'\xff\xfe'"]
[tab	here]
[new
line]
[*]
[\$HOME]"
}

@test "the command is looked up in PATH like execvp" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	cp "$SHOW_ARGS" "$BATS_TEST_TMPDIR/bin/mlock-show-args"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH run -0 "$MLOCK" -q mlock-show-args one
	assert_output "argc=1
[one]"
}
