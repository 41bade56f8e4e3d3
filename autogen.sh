#!/bin/sh
# Regenerate the build system from a git checkout: ./autogen.sh && ./configure
set -e
cd "$(dirname "$0")"
autoreconf -fi
