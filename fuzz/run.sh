#!/usr/bin/env bash
# Runs a libFuzzer target for a while: fuzz/run.sh <target>|all <seconds>
#
# Configures build-fuzz (clang, -DOPOSSUM_FUZZ=ON: libFuzzer, ASan, UBSan)
# when needed, builds the target, and fuzzes a copy of fuzz/corpus/<target>
# (with fuzz/crashes/<target> as extra seeds) for <seconds>, with
# -timeout=10 and -rss_limit_mb=2048. With FUZZ_MERGE=1, new inputs of at
# most 4 KiB that add coverage are merged back into fuzz/corpus/<target>
# (review them before committing: the corpora stay small). A crashing
# input is left in
# fuzz/crashes/<target>/. Prints the number of executions.
#
# Targets: batch segment record ledger index json ops
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGETS=(batch segment record ledger index json ops)

if [[ $# -ne 2 ]]; then
  echo "usage: fuzz/run.sh <target>|all <seconds>   targets: ${TARGETS[*]}" >&2
  exit 2
fi
target=$1
seconds=$2
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${FUZZ_JOBS:-2}

if [[ ! -f $BUILD/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DOPOSSUM_FUZZ=ON -DOPOSSUM_WERROR=ON -DOPOSSUM_BUILD_TESTS=OFF -DOPOSSUM_BUILD_BENCH=OFF >/dev/null
fi

run_one() {
  local t=$1
  local corpus=$ROOT/fuzz/corpus/$t crashes=$ROOT/fuzz/crashes/$t
  cmake --build "$BUILD" -j"$JOBS" --target "${t}_fuzz" >/dev/null
  mkdir -p "$corpus" "$crashes"
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/opossum-fuzz-$t-XXXXXX")
  mkdir -p "$work/corpus"
  cp "$corpus"/* "$work/corpus/" 2>/dev/null || true
  find "$crashes" -type f ! -name 'README*' -exec cp {} "$work/corpus/" \;
  local log=$work/log status=0
  echo "== $t: ${seconds}s" >&2
  (cd "$work" && "$BUILD/bin/${t}_fuzz" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=1100000 -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$work/corpus" >"$log" 2>&1) || status=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  grep -E '^#[0-9]+ +DONE|ERROR|FUZZ CHECK FAILED|SUMMARY|Test unit written' "$log" >&2 || true
  if [[ $status -eq 0 ]]; then
    echo "$t: ${execs:-?} executions in ${seconds}s, no crash"
  else
    echo "$t: ${execs:-?} executions, then a failure (exit status $status; log: $log)"
  fi
  if [[ $status -eq 0 && ${FUZZ_MERGE:-0} -eq 1 ]]; then
    # Keep what adds coverage to the committed corpus, if it is small.
    mkdir -p "$work/small"
    find "$work/corpus" -type f -size -4097c -exec cp {} "$work/small/" \;
    local before added
    before=$(find "$corpus" -type f | wc -l)
    "$BUILD/bin/${t}_fuzz" -merge=1 -timeout=10 -rss_limit_mb=2048 "$corpus" "$work/small" \
      >"$work/merge.log" 2>&1 || true
    added=$(($(find "$corpus" -type f | wc -l) - before))
    echo "$t: $added new corpus inputs merged into fuzz/corpus/$t"
  fi
  [[ $status -ne 0 ]] || rm -rf "$work/corpus" "$work/small" "$work/merged"
  return $status
}

if [[ $target == all ]]; then
  rc=0
  for t in "${TARGETS[@]}"; do run_one "$t" || rc=1; done
  exit $rc
fi
run_one "$target"
