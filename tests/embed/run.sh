#!/usr/bin/env bash
# The embedding tests (ctest: embed_subdirectory, embed_fetchcontent,
# embed_lean). Each configures and builds a separate tree with the
# generator, compiler and build type of the build that runs it:
#
#   run.sh subdirectory|fetchcontent|lean SOURCE WORK GENERATOR CXX BUILD_TYPE WERROR
#
#   subdirectory  tests/embed (a parent project) takes SOURCE in with
#                 add_subdirectory, in a fresh WORK/parent; embed_check runs.
#   fetchcontent  the same parent with FetchContent_Declare(SOURCE_DIR) +
#                 FetchContent_MakeAvailable, reconfigured in WORK/parent so
#                 that the engine built by the first is reused.
#   lean          SOURCE itself, top level, with -DOPOSSUM_BUILD_TESTS=OFF
#                 -DOPOSSUM_BUILD_BENCH=OFF, in a fresh WORK/lean: everything
#                 builds without searching for SQLite, LMDB, GoogleTest or
#                 Google Benchmark (the configure's trace and its cache show
#                 no search), the command line links none of them (ldd),
#                 and `opossum bench` says this build has none.
#
# Every configure runs without SQLite, LMDB, GoogleTest, Google Benchmark
# and mimalloc's development files in sight, although they are installed
# here (see hide_test_and_bench_deps): the library loads mimalloc at run
# time, and the command line links it only when it is there.
set -euo pipefail

if [[ $# -ne 7 ]]; then
  echo "usage: $0 subdirectory|fetchcontent|lean SOURCE WORK GENERATOR CXX BUILD_TYPE WERROR" >&2
  exit 2
fi
mode=$1 source=$2 work=$3 generator=$4 cxx=$5 build_type=$6 werror=$7
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"

fail() {
  echo "$mode: $*" >&2
  exit 1
}

# Hides the packages a build without tests and benchmarks must not need,
# without uninstalling them:
#  - SQLite and LMDB are found through pkg-config only (bench/driver): the
#    configure sees a pkg-config search path holding every installed .pc file
#    except theirs (and GoogleTest's and Benchmark's). PKG_CONFIG_LIBDIR
#    replaces pkg-config's default path; PKG_CONFIG_PATH is unset, and CMake
#    adds to it only from CMAKE_PREFIX_PATH, which is not set. An empty path
#    would not do: the library needs libxxhash through pkg-config too. The
#    check after it shows the trick works.
#  - GoogleTest, Google Benchmark (and SQLite3's CMake module, should one
#    ever use it) through find_package: CMAKE_DISABLE_FIND_PACKAGE_<name>
#    makes find_package(<name>) find nothing, and a REQUIRED one stop the
#    configure with an error.
hidden_args=(-DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON
             -DCMAKE_DISABLE_FIND_PACKAGE_SQLite3=ON -DCMAKE_DISABLE_FIND_PACKAGE_mimalloc=ON)
hide_test_and_bench_deps() {
  # One folder per mode: the modes run at the same time under ctest -j.
  local dir=$work/pkgconfig-visible-$mode d pc name
  rm -rf "$dir"
  mkdir -p "$dir"
  local IFS=:
  for d in ${PKG_CONFIG_PATH:-} ${PKG_CONFIG_LIBDIR:-} $(pkg-config --variable pc_path pkg-config); do
    for pc in "$d"/*.pc; do
      [[ -e $pc ]] || continue
      name=$(basename "$pc")
      case $name in
        sqlite3.pc | lmdb.pc | gtest*.pc | gmock*.pc | benchmark*.pc) continue ;;
      esac
      [[ -e $dir/$name ]] || ln -s "$pc" "$dir/$name"  # the first in the path wins
    done
  done
  unset IFS
  export PKG_CONFIG_LIBDIR=$dir
  unset PKG_CONFIG_PATH
  local m
  for m in sqlite3 lmdb gtest benchmark; do
    if pkg-config --exists "$m"; then fail "pkg-config still finds $m"; fi
  done
  pkg-config --exists libxxhash || fail "pkg-config no longer finds libxxhash"
}

configure() {  # SOURCE_DIR BUILD_DIR ARGS...
  local src=$1 bin=$2
  shift 2
  cmake -S "$src" -B "$bin" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
        -DCMAKE_BUILD_TYPE="$build_type" "${hidden_args[@]}" "$@"
}

data=$(mktemp -d "${TMPDIR:-/tmp}/opossum-embed-XXXXXX")
trap 'rm -rf "$data"' EXIT
hide_test_and_bench_deps

case $mode in
  subdirectory | fetchcontent)
    parent=$work/parent
    # The first starts afresh (nothing cached from an earlier run); the
    # second keeps the build so the engine's objects are reused.
    [[ $mode == subdirectory ]] && rm -rf "$parent"
    configure "$here" "$parent" -DOPOSSUM_SOURCE="$source" -DEMBED_MODE="$mode"
    cmake --build "$parent" -j2
    "$parent/embed_check" "$data"
    ;;
  lean)
    lean=$work/lean
    rm -rf "$lean"
    # The trace: every command the configure runs, variables expanded.
    configure "$source" "$lean" -DOPOSSUM_BUILD_TESTS=OFF -DOPOSSUM_BUILD_BENCH=OFF \
              -DOPOSSUM_WERROR="$werror" --trace-expand --trace-redirect="$work/lean-trace.txt"
    # Not searched at all: no find_package or pkg-config module of theirs in
    # this project's files (a search that failed quietly would pass the
    # hiding above), and nothing of theirs in the cache.
    searched=$(grep -F "$source/" "$work/lean-trace.txt" |
               grep -iE '(find_package|pkg_check_modules|pkg_search_module)\(.*(sqlite|lmdb|gtest|gmock|benchmark)' ||
               true)
    [[ -z $searched ]] || fail "the configure searches for what it must not need: $searched"
    grep -F "$source/CMakeLists.txt" "$work/lean-trace.txt" | grep -q 'find_package(Boost' ||
      fail "the trace shows no find_package(Boost): it does not show the searches"
    cached=$(grep -v '^CMAKE_DISABLE_FIND_PACKAGE_' "$lean/CMakeCache.txt" |
             grep -iE '^[A-Za-z0-9_.-]*(sqlite|lmdb|gtest|gmock|benchmark)[A-Za-z0-9_.-]*:' || true)
    [[ -z $cached ]] || fail "the cache holds entries of what it must not need: $cached"
    rm -f "$work/lean-trace.txt"
    cmake --build "$lean" -j2
    [[ ! -e $lean/bin/opossum-bench ]] || fail "a build without benchmarks made opossum-bench"
    cli=$lean/bin/opossum
    [[ -x $cli ]] || fail "no $cli"
    # The command line works without the benchmarks...
    echo '{"type": "CourseCreated", "tags": ["course:c1"], "data": {"capacity": 10}}' |
      "$cli" --root "$data" append >/dev/null
    [[ $("$cli" --root "$data" head) == 1 ]] || fail "opossum head after one append is not 1"
    # ...and asked for them, says this build has none (usage error, exit 2).
    rc=0
    "$cli" --root "$data" bench --tiny --dir "$data/bench" 2>"$data/bench.err" || rc=$?
    [[ $rc -eq 2 ]] || fail "opossum bench exits $rc, not 2"
    grep -q '"this build has no benchmarks' "$data/bench.err" ||
      fail "opossum bench says: $(cat "$data/bench.err")"
    [[ ! -e $data/bench ]] || fail "opossum bench wrote $data/bench"
    # Neither SQLite nor LMDB is linked, nor anything of the tests.
    command -v ldd >/dev/null || fail "ldd is missing"
    if ldd "$cli" | grep -iE 'sqlite|lmdb|gtest|gmock|benchmark'; then
      fail "$cli is linked with SQLite, LMDB, GoogleTest or Google Benchmark"
    fi
    ;;
  *)
    fail "unknown mode"
    ;;
esac
echo "$mode: ok"
