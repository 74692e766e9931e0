#!/usr/bin/env bash
# Checks the compiler and the formatter make, apart from the tests:
#   1. every C++ file in the repository is formatted as .clang-format says
#      (clang-format; `tools/run-static-checks.sh --fix` rewrites them instead);
#   2. the engine builds with clang's thread-safety analysis (-Wthread-safety
#      -Werror): every member marked GUARDED_BY is touched only with its mutex
#      held, every function marked REQUIRES is called with it held;
#   3. the analysis is really on: tests/static/thread_safety_violation.cc, which
#      breaks both rules, must fail to compile with the same flags.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
echo "static checks: clang-format on ${#files[@]} files"
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "static checks: the files above are not formatted; run tools/run-static-checks.sh --fix" >&2
  exit 1
fi

echo "static checks: the engine under clang -Wthread-safety"
cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
      -DOPOSSUM_WERROR=ON -DOPOSSUM_BUILD_TOOLS=OFF -DOPOSSUM_BUILD_TESTS=OFF \
      -DOPOSSUM_BUILD_BENCH=OFF >/dev/null
cmake --build build-clang -j"${JOBS:-$(nproc)}" --target opossum

echo "static checks: a lock rule broken on purpose must not compile"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if clang++ -std=c++20 -fsyntax-only -Wthread-safety -Werror -Iengine/src \
     tests/static/thread_safety_violation.cc 2>"$log"; then
  echo "static checks: tests/static/thread_safety_violation.cc compiled: the analysis is off" >&2
  exit 1
fi
for want in "writing variable 'n_' requires holding mutex 'mu_'" \
            "calling function 'BumpLocked' requires holding mutex 'mu_'"; do
  if ! grep -qF "$want" "$log"; then
    echo "static checks: expected \"$want\" from the compiler, got:" >&2
    cat "$log" >&2
    exit 1
  fi
done
echo "static checks: passed"
