#!/usr/bin/env bash
# The command line's speed: `opossum append` of N JSON lines from a
# file in one batch (sync durability), and `opossum read` of all of them to
# /dev/null, each repeated; prints events/s per run and the best.
#
#   bench/cli_bench.sh [N] [REPEATS]     (defaults 1000000 and 5)
#
# Uses build/bin/opossum (tools/build.sh builds it). The input: events of
# about 100 bytes of JSON data and two tags (one unique per event, one of
# 1,000 customers), as the other benchmarks use; generated once into
# build-bench-data/cli-N.jsonl. Each append goes into a fresh store in
# build-bench-data/cli-store (on the same file system as the build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
repeats=${2:-5}
bin=build/bin/opossum
[ -x "$bin" ] || { echo "build first: tools/build.sh" >&2; exit 1; }
data=build-bench-data
mkdir -p "$data"
input="$data/cli-$n.jsonl"
if [ ! -s "$input" ]; then
  awk -v n="$n" 'BEGIN {
    srand(1);
    for (i = 0; i < n; i++) {
      printf "{\"type\": \"OrderPlaced\", \"tags\": [\"order:%d\", \"customer:%d\"], \"data\": {\"order\": %d, \"customer\": \"c%d\", \"amount\": %d, \"currency\": \"EUR\", \"note\": \"xxxxxxxxxxxxxxxxxxxx\"}}\n", i, i % 1000, i, i % 1000, int(rand() * 10000) + 1
    }
  }' > "$input"
fi
echo "input: $input ($(wc -c < "$input") bytes, $n events); durability sync"
now() { date +%s.%N; }
best_append=0
best_read=0
for r in $(seq 1 "$repeats"); do
  rm -rf "$data/cli-store"
  t0=$(now)
  "$bin" --root "$data/cli-store" append < "$input" > /dev/null
  t1=$(now)
  "$bin" --root "$data/cli-store" read > /dev/null
  t2=$(now)
  a=$(awk -v n="$n" -v s="$t0" -v e="$t1" 'BEGIN { printf "%d", n / (e - s) }')
  b=$(awk -v n="$n" -v s="$t1" -v e="$t2" 'BEGIN { printf "%d", n / (e - s) }')
  echo "run $r: append $a events/s ($(awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.3f", e - s }') s)," \
       "read $b events/s ($(awk -v s="$t1" -v e="$t2" 'BEGIN { printf "%.3f", e - s }') s)"
  [ "$a" -gt "$best_append" ] && best_append=$a
  [ "$b" -gt "$best_read" ] && best_read=$b
done
"$bin" --root "$data/cli-store" verify > /dev/null
echo "best: append $best_append events/s, read $best_read events/s"
rm -rf "$data/cli-store"
