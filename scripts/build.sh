#!/bin/sh
# Configure and build the userspace part in the source tree (idempotent).
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --quiet
make -s -j"$(nproc)"
