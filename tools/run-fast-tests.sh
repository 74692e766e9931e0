#!/usr/bin/env bash
# The fast tier, for every change: builds only the engine's unit tests and the
# contract tests (tests/unit, tests/contract) in ./build and runs them with
# ctest (the label `fast`). A build folder that does not exist yet is
# configured as tools/build.sh does; one that does is used as it is.
# Arguments go to ctest (for example -R LogWalker). $JOBS sets the build's and
# ctest's parallelism (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-$(nproc)}"
if [[ ! -f build/CMakeCache.txt ]]; then
  tools/install-deps.sh
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON >/dev/null
fi
cmake --build build -j"$jobs" --target opossum_unit_tests opossum_contract_tests
cd build
ctest -L fast --output-on-failure -j"$jobs" "$@"
