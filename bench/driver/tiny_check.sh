#!/usr/bin/env bash
# ctest bench_driver_tiny: runs `opossum-bench --tiny` (every workload on
# every backend, a few seconds) and checks that its CSV holds one row with a
# positive rate for each workload, store size and backend; then that
# `opossum bench` runs that same program (its help is opossum-bench's).
# Usage: tiny_check.sh OPOSSUM_BENCH_BINARY WORK_DIR OPOSSUM_BINARY
set -euo pipefail
bin=$1 dir=$2 cli=$3
rm -rf "$dir"
"$bin" --tiny --dir "$dir" --csv "$dir/tiny.csv" >"$dir.out"
cat "$dir.out"
# 11 workloads on one store + 2 scale workloads on 3 sizes = 17 rows per backend.
expected=$((17 * 4))
rows=$(awk -F, '!/^#/ && NR > 2 && NF == 14 && $10 > 0 { n++ } END { print n + 0 }' "$dir/tiny.csv")
for b in opossum sqlite lmdb limit; do
  n=$(awk -F, -v b="$b" '!/^#/ && $2 == b { n++ } END { print n + 0 }' "$dir/tiny.csv")
  [ "$n" -eq 17 ] || { echo "backend $b: $n rows, expected 17" >&2; exit 1; }
done
[ "$rows" -eq "$expected" ] || { echo "$rows rows with a rate, expected $expected" >&2; exit 1; }
# The command line's `bench` is the driver, arguments and all.
"$bin" --help >"$dir.help"
"$cli" --store ignored bench --help >"$dir.cli-help"
grep -q -- '--read-store' "$dir.help" || { echo "opossum-bench --help lists no --read-store" >&2; exit 1; }
cmp "$dir.help" "$dir.cli-help" || { echo "opossum bench --help is not opossum-bench's" >&2; exit 1; }
rc=0
"$cli" bench --threads 0 --dir "$dir/refused" 2>"$dir.err" || rc=$?
[ "$rc" -eq 2 ] || { echo "opossum bench --threads 0 exits $rc, not 2" >&2; exit 1; }
grep -q '"--threads: expected a whole number from 1 to 1024' "$dir.err" ||
  { echo "opossum bench --threads 0 says: $(cat "$dir.err")" >&2; exit 1; }
[ ! -e "$dir/refused" ] || { echo "a refused opossum bench wrote $dir/refused" >&2; exit 1; }
rm -rf "$dir" "$dir.out" "$dir.help" "$dir.cli-help" "$dir.err"
