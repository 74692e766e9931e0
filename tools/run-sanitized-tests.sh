#!/usr/bin/env bash
# The whole test suite again under sanitizers:
#   tools/run-sanitized-tests.sh [asan]  AddressSanitizer + UndefinedBehaviorSanitizer (or the
#                                        sanitizers named in $OPOSSUM_SANITIZE), in ./build-asan
#   tools/run-sanitized-tests.sh tsan    ThreadSanitizer, in ./build-tsan, with the suppressions
#                                        in tools/tsan-suppressions.txt (each one says why it is
#                                        not a race)
# $JOBS sets the build's and ctest's parallelism (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-asan}"
jobs="${JOBS:-$(nproc)}"
case "$kind" in
  asan)
    sanitize="${OPOSSUM_SANITIZE:-address,undefined}"
    dir=build-asan
    ;;
  tsan)
    sanitize=thread
    dir=build-tsan
    # halt_on_error: the first report fails the test that made it, as the other sanitizers do
    # (-fno-sanitize-recover does not reach TSan's reports).
    # second_deadlock_stack: both stacks of a lock-order report.
    # die_after_fork stays at its default (1): the tests fork only while single-threaded.
    export TSAN_OPTIONS="suppressions=$PWD/tools/tsan-suppressions.txt halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
    ;;
  *)
    echo "usage: $0 [asan|tsan]" >&2
    exit 2
    ;;
esac
tools/install-deps.sh
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON \
      -DOPOSSUM_SANITIZE="$sanitize" -DOPOSSUM_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$jobs"
cd "$dir"
ctest --output-on-failure -j"$jobs" --timeout 900
