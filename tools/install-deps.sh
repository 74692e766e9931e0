#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those that are missing.
set -euo pipefail
packages=(
  # the toolchain
  g++ clang cmake ninja-build pkg-config git
  # the library (README "Embedding"): Boost headers, FlatBuffers and its
  # compiler, xxHash; and mimalloc, which the engine loads at run time
  # (libmimalloc2.0, brought in by libmimalloc-dev)
  libboost-dev libflatbuffers-dev flatbuffers-compiler libxxhash-dev libmimalloc-dev
  # the command line (OPOSSUM_BUILD_TOOLS); it also links mimalloc (above)
  # to run on it as a whole
  libcli11-dev libsimdjson-dev
  # the benchmarks (OPOSSUM_BUILD_BENCH): the peers of the workload driver
  # opossum-bench, and Google Benchmark
  libsqlite3-dev liblmdb-dev libbenchmark-dev
  # the tests (OPOSSUM_BUILD_TESTS); python3 runs the documentation's link
  # check (tools/check-doc-links.sh, ctest doc_links)
  libgtest-dev libgmock-dev python3
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
