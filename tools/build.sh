#!/usr/bin/env bash
# Installs what is missing and builds (Release with debug info) into ./build:
# everything, or only the targets named (tools/build.sh opossum-demo).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
