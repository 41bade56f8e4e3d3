#!/bin/sh
# Second pass of the host suite under the sanitizers (run by "make check"):
# the mlock command built with ASan+UBSan, the preload library with UBSan
# only.  ASan cannot be used in the library: an ASan DSO must be loaded
# before everything else, which is impossible when it is preloaded into
# uninstrumented programs such as /bin/sh.  Test helpers are not
# instrumented.  Prints TAP (bats --tap) for the automake TAP driver.

if [ "$MLOCK_SANITIZE" != yes ]; then
	echo "1..0 # SKIP sanitizer pass disabled: configure found no working ASan/UBSan or --disable-sanitize-check was given"
	exit 0
fi

# Refuse to report a "sanitized" pass that is not.
if ! { ldd "$MLOCK_SAN"; nm "$MLOCK_SAN"; } 2>/dev/null | grep -q 'asan'; then
	echo "Bail out! $MLOCK_SAN is not linked with ASan"
	exit 1
fi
if ! ldd "$MLOCK_PRELOAD_SAN" 2>/dev/null | grep -q 'ubsan.*=> /'; then
	echo "Bail out! $MLOCK_PRELOAD_SAN is not linked with UBSan"
	exit 1
fi

MLOCK=$MLOCK_SAN
MLOCK_PRELOAD=$MLOCK_PRELOAD_SAN
# verify_asan_link_order=0: some tests run mlock with a user LD_PRELOAD.
# A sanitizer report makes the process exit 99 (ASan) or 98 (UBSan), which
# no test expects, so it fails the test that triggered it.
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:verify_asan_link_order=0:exitcode=99
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98
export MLOCK MLOCK_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS

exec "$BATS" --tap "$MLOCK_HOST_TESTS"
