#!/bin/sh
# Fails when an engine source file other than io/env_posix.cc asks the
# operating system about files or memory directly, instead of through the
# io::Env (engine/src/io/env.h says what counts): std::filesystem's calls
# that touch the file system (fs::exists, file_size, directory_iterator,
# absolute, weakly_canonical, remove, rename, ...) and the POSIX calls on
# files, folders, maps and memory (::open, pwrite, fsync, mmap, madvise,
# stat, ...). Pure path arithmetic (fs::path, lexically_normal) is allowed.
# Comments are not code: `//` to the end of a line is left out.
#
# Usage: tools/check-os-calls.sh [engine/src folder]
# Before checking the sources it checks itself: each forbidden call in a
# sample must be caught and each allowed line must pass, so that the check
# can fail.
set -eu

src=${1:-$(dirname "$0")/../engine/src}
allowed_file=io/env_posix.cc

fs_calls='exists|file_size|directory_iterator|recursive_directory_iterator|absolute|canonical|weakly_canonical|relative|proximate|remove|remove_all|rename|create_directory|create_directories|create_symlink|create_directory_symlink|create_hard_link|copy|copy_file|copy_symlink|status|symlink_status|is_regular_file|is_directory|is_symlink|is_empty|is_other|is_block_file|is_character_file|is_fifo|is_socket|last_write_time|permissions|resize_file|space|current_path|temp_directory_path|read_symlink|hard_link_count|equivalent'
posix_calls='open|openat|creat|close|read|write|pread|pwrite|preadv|pwritev|fsync|fdatasync|sync_file_range|msync|mmap|munmap|mremap|madvise|posix_madvise|mlock|fallocate|posix_fallocate|ftruncate|truncate|stat|fstat|lstat|statfs|fstatfs|statx|access|unlink|unlinkat|rename|renameat|mkdir|rmdir|opendir|readdir|closedir|chmod|fchmod|flock|fcntl|realpath|getcwd|fopen|dup|dup2'

# Both patterns for grep -E. A std::filesystem call: fs::name( or
# std::filesystem::name( (a call, or a constructed iterator). A POSIX call:
# ::name( or name( not preceded by a name character, `.`, `->` or `::` of
# a namespace or class (io::Rename( is the Env's own).
fs_pattern="(std::filesystem|fs)::($fs_calls)[[:space:]]*\\("
posix_pattern="(^|[^A-Za-z0-9_.>:])(::)?($posix_calls)[[:space:]]*\\("
stream_pattern="std::(i|o)?fstream|[^A-Za-z0-9_]fopen[[:space:]]*\\("

# Prints the offending lines of the files given (file:line: text).
scan() {
  for f in "$@"; do
    sed -e 's|//.*$||' "$f" |
      grep -n -E -e "$fs_pattern" -e "$posix_pattern" -e "$stream_pattern" |
      sed -e "s|^|$f:|" || true
  done
}

# Self-check.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/bad.cc" <<'EOF'
  bool exists = fs::exists(ledger_path);
  auto abs = std::filesystem::absolute(root, ec);
  auto c = std::filesystem::weakly_canonical(path, ec);
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
  out += std::filesystem::file_size(path, ec);
  int fd = ::open(path.c_str(), O_RDONLY);
  if (end > begin) madvise(p, n, MADV_HUGEPAGE);
  if (fsync(fd) != 0) return;
  ::fdatasync(fd);
  void* m = mmap(nullptr, n, PROT_READ, MAP_SHARED, fd, 0);
  if (::stat(p.c_str(), &st) != 0) return;
  std::ifstream in(path);
  fs::remove_all(dir);
EOF
cat >"$tmp/good.cc" <<'EOF'
  Status s = io::Exists(ledger_path, &exists);
  fs::path path = (abs / std::string(name)).lexically_normal();
  io::Advise(data() + from, target - from, Advice::kPopulateWrite);
  if (!(s = file_.Open(path, mode)).ok()) return s;
  Status st = CurrentEnv()->Open(path, mode, &fd);
  segments_.Open(dir);
  map->Sync(0, size());
  file->read(buf);
  // fs::exists(path) and ::open( in a comment are not calls
  const std::filesystem::path index_dir = format::IndexDir(path_);
EOF
bad_lines=$(wc -l <"$tmp/bad.cc")
caught=$(scan "$tmp/bad.cc" | wc -l)
if [ "$caught" -ne "$bad_lines" ]; then
  echo "check-os-calls.sh: the check catches $caught of $bad_lines forbidden sample calls:" >&2
  scan "$tmp/bad.cc" >&2
  exit 2
fi
if [ -n "$(scan "$tmp/good.cc")" ]; then
  echo "check-os-calls.sh: the check flags allowed sample lines:" >&2
  scan "$tmp/good.cc" >&2
  exit 2
fi

# The sources.
if [ ! -f "$src/$allowed_file" ]; then
  echo "check-os-calls.sh: $src is not the engine's source folder (no $allowed_file)" >&2
  exit 2
fi
found=$(cd "$src" && find . -type f \( -name '*.cc' -o -name '*.h' \) | sed 's|^\./||' |
  grep -v -x "$allowed_file" | sort | while read -r f; do scan "$f"; done)
if [ -n "$found" ]; then
  echo "Direct OS calls outside $allowed_file (go through io::Env, engine/src/io/env.h):" >&2
  echo "$found" >&2
  exit 1
fi
echo "check-os-calls.sh: no direct OS calls in $src outside $allowed_file"
