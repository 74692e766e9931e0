#!/usr/bin/env bash
# The whole test suite again under AddressSanitizer + UndefinedBehaviorSanitizer
# (or the sanitizers named in $OPOSSUM_SANITIZE), in ./build-asan.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
sanitize="${OPOSSUM_SANITIZE:-address,undefined}"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON \
      -DOPOSSUM_SANITIZE="$sanitize" -DOPOSSUM_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$(nproc)"
cd build-asan
ctest --output-on-failure -j"$(nproc)" --timeout 900
