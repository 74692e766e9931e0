#!/usr/bin/env bash
# Installs what is missing and builds (Release with debug info) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
