#!/usr/bin/env bash
# Install, build, and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
