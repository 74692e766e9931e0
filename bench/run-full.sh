#!/usr/bin/env bash
# The full benchmark run (not a test): installs and builds, runs every
# workload against this store, SQLite, LMDB and the limit, and writes the
# report, the CSV and the plots to docs/bench/ (docs/benchmarks.md quotes
# them). Stores are kept in build-bench-driver/ (override with
# OPOSSUM_BENCH_DIR) and reused by later runs; the first run builds stores of
# up to 10,000,000 events for every backend (several GB, some minutes).
# Extra arguments go to `opossum-bench` (for example --seconds 5, or
# --workloads read_tag,decide_sync_1).
set -euo pipefail
cd "$(dirname "$0")/.."
# gnuplot only for the plots, so not in install-deps.sh (CI does not plot);
# tools/build.sh below installs the rest.
dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q "install ok installed" || {
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnuplot-nox
}
tools/build.sh
dir=${OPOSSUM_BENCH_DIR:-build-bench-driver}
out=docs/bench
mkdir -p "$out"
build/bin/opossum-bench --dir "$dir" --csv "$out/results.csv" "$@" | tee "$out/results.txt"
bench/plot.sh "$out/results.csv" "$out"
