#!/usr/bin/env bash
# ctest bench_driver_tiny: runs `opossum bench --tiny` (every workload on
# every backend, a few seconds) and checks that its CSV holds one row with a
# positive rate for each workload, store size and backend.
# Usage: tiny_check.sh OPOSSUM_BINARY WORK_DIR
set -euo pipefail
bin=$1 dir=$2
rm -rf "$dir"
"$bin" bench --tiny --dir "$dir" --csv "$dir/tiny.csv" >"$dir.out"
cat "$dir.out"
# 11 workloads on one store + 2 scale workloads on 3 sizes = 17 rows per backend.
expected=$((17 * 4))
rows=$(awk -F, '!/^#/ && NR > 2 && NF == 14 && $10 > 0 { n++ } END { print n + 0 }' "$dir/tiny.csv")
for b in opossum sqlite lmdb limit; do
  n=$(awk -F, -v b="$b" '!/^#/ && $2 == b { n++ } END { print n + 0 }' "$dir/tiny.csv")
  [ "$n" -eq 17 ] || { echo "backend $b: $n rows, expected 17" >&2; exit 1; }
done
[ "$rows" -eq "$expected" ] || { echo "$rows rows with a rate, expected $expected" >&2; exit 1; }
rm -rf "$dir" "$dir.out"
