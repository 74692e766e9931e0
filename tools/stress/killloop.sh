#!/usr/bin/env bash
# The process kill loop (not part of the test suite): writers append with
# random conditions from several threads, a reader reads, and all of them are
# killed with SIGKILL at a random moment; then the store is reopened for
# writing (recovery) and checked against the writers' logs of acknowledged
# appends (tools/stress/killloop_worker.cc says what is checked). Repeats for
# the given time on one store, which grows across kills, and stops at the
# first failure, keeping the store and the logs.
#
# usage: tools/stress/killloop.sh [SECONDS] [--writers 1|2] [--reader]
#          [--durability sync|buffered] [--threads N] [--dir DIR]
#   SECONDS       how long to loop (default 60)
#   --writers     writer processes at once (default 1)
#   --reader      also run a reader process that checks every snapshot
#   --durability  the writers' mode (default sync)
#   --threads     appending threads per writer (default 4)
#   --dir         where the store and logs go (default: a new mktemp folder;
#                 removed after a clean run, kept after a failure)
#
# With two writers, half of the rounds kill them a random 0-300 ms apart, so
# that the survivor adopts the dead writer's tail while it appends.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

seconds=60
writers=1
reader=0
durability=sync
threads=4
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --writers) writers=$2; shift 2 ;;
    --reader) reader=1; shift ;;
    --durability) durability=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    [0-9]*) seconds=$1; shift ;;
    *) echo "killloop: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $writers == 1 || $writers == 2 ]] || { echo "killloop: --writers 1 or 2" >&2; exit 2; }
[[ $durability == sync || $durability == buffered ]] ||
  { echo "killloop: --durability sync or buffered" >&2; exit 2; }

# Build if needed (ninja does nothing when the worker is up to date).
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPOSSUM_WERROR=ON >/dev/null
fi
cmake --build build -j2 --target opossum_stress_worker >/dev/null
worker=$repo/build/bin/opossum_stress_worker

made_dir=0
if [[ -z $dir ]]; then dir=$(mktemp -d /tmp/opossum-killloop.XXXXXX); made_dir=1; fi
mkdir -p "$dir/logs"
root=$dir/root
store=kill
seed=${KILLLOOP_SEED:-$(( (RANDOM << 15) | RANDOM ))}
RANDOM=$seed
echo "killloop: $seconds s, $writers writer(s) x $threads threads, reader: $reader," \
     "durability: $durability, folder: $dir, seed: $seed (KILLLOOP_SEED repeats the timings)"

pids=()
fail() {
  echo "killloop: FAILED in round $round: $1" >&2
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  echo "killloop: store and logs kept in $dir (worker stderr: $dir/*.err, checks: $dir/check.out)" >&2
  echo "killloop: $kills kill rounds survived before the failure" >&2
  exit 1
}

# "SECONDS.MMM" for a number of milliseconds.
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

end=$((SECONDS + seconds))
round=0
kills=0          # rounds killed and checked clean
process_kills=0  # processes killed with SIGKILL
rounds_with_acks=0
events=0
summary=""
while ((SECONDS < end)); do
  round=$((round + 1))
  pids=()
  for ((w = 0; w < writers; w++)); do
    "$worker" write --root "$root" --store "$store" --log "$dir/logs/writer-$w.log" \
      --writer "$w" --run "$round" --threads "$threads" --durability "$durability" \
      --seed "$RANDOM" 2>>"$dir/writer-$w.err" &
    pids+=($!)
  done
  if ((reader)); then
    "$worker" read --root "$root" --store "$store" --seed "$RANDOM" 2>>"$dir/reader.err" &
    pids+=($!)
  fi
  sleep "$(secs $((50 + RANDOM % 1451)))"
  # Every process must still be running: none of them stops by itself.
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      rc=0; { wait "$p"; } 2>/dev/null || rc=$?
      fail "process $p stopped by itself (exit $rc) before the kill; see $dir/*.err"
    fi
  done
  if ((writers == 2 && RANDOM % 2 == 0)); then
    # One writer dies first; the other goes on appending over its tail.
    rc=0; { kill -9 "${pids[0]}"; wait "${pids[0]}" || rc=$?; } 2>/dev/null
    ((rc == 137)) || fail "writer 0 ended with exit $rc, not by SIGKILL; see $dir/writer-0.err"
    process_kills=$((process_kills + 1))
    pids=("${pids[@]:1}")
    sleep "$(secs $((RANDOM % 300)))"
    if ! kill -0 "${pids[0]}" 2>/dev/null; then
      rc=0; { wait "${pids[0]}"; } 2>/dev/null || rc=$?
      fail "writer 1 stopped by itself (exit $rc) after writer 0 was killed; see $dir/writer-1.err"
    fi
  fi
  # (Standard error off while they die: bash would report each kill.)
  rcs=()
  {
    kill -9 "${pids[@]}" || true
    for p in "${pids[@]}"; do
      rc=0; wait "$p" || rc=$?
      rcs+=("$rc")
    done
  } 2>/dev/null
  for i in "${!pids[@]}"; do
    ((rcs[i] == 137)) ||
      fail "process ${pids[i]} ended with exit ${rcs[i]}, not by SIGKILL; see $dir/*.err"
    process_kills=$((process_kills + 1))
  done
  pids=()
  if ! summary=$("$worker" check --root "$root" --store "$store" --logs "$dir/logs" \
                 --run "$round" --durability "$durability" 2>>"$dir/check.err"); then
    echo "$summary" >>"$dir/check.out"
    fail "check: $summary"
  fi
  echo "$summary" >>"$dir/check.out"
  kills=$((kills + 1))
  events=$(sed -n 's/.*"events": \([0-9]*\).*/\1/p' <<<"$summary")
  acked=$(sed -n 's/.*"acked_this_run": \([0-9]*\).*/\1/p' <<<"$summary")
  ((acked > 0)) && rounds_with_acks=$((rounds_with_acks + 1))
  if ((round % 20 == 0)); then
    echo "killloop: round $round: $events events in the store, $((end - SECONDS)) s left"
  fi
done
echo "killloop: PASSED: $kills kill rounds survived ($process_kills processes killed;" \
     "$rounds_with_acks rounds had acknowledged appends), $events events checked in the" \
     "final store; writers: $writers, reader: $reader, durability: $durability, $seconds s"
echo "killloop: last check: $summary"
if ((made_dir)); then rm -rf "$dir"; fi
