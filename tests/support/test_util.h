// Helpers shared by the tests: a fresh temporary folder per test, and a
// seed that is printed so a randomized run can be reproduced.
#ifndef OPOSSUM_TESTS_TEST_UTIL_H_
#define OPOSSUM_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "opossum/opossum.h"

namespace opossum::testing {

// A temporary folder removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "opossum-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The seed for a randomized test: $OPOSSUM_SEED when set, else a fresh one.
// It is printed (and recorded in the test's XML output) so that the same run
// can be repeated with OPOSSUM_SEED=<seed>.
inline uint64_t TestSeed() {
  uint64_t seed;
  if (const char* env = std::getenv("OPOSSUM_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    seed = std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
  }
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  std::fprintf(stderr, "[ seed     ] OPOSSUM_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// How many times longer than in a plain optimized build a time budget in a
// test may take: ThreadSanitizer slows this code down 5 to 15 times,
// AddressSanitizer 2 to 3 times. Only budgets are scaled, never what a test
// checks. (tests/CMakeLists.txt scales ctest's timeout to match.)
#if defined(__SANITIZE_THREAD__)
constexpr int kTimeScale = 4;
#elif defined(__SANITIZE_ADDRESS__)
constexpr int kTimeScale = 2;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr int kTimeScale = 4;
#elif __has_feature(address_sanitizer)
constexpr int kTimeScale = 2;
#else
constexpr int kTimeScale = 1;
#endif
#else
constexpr int kTimeScale = 1;
#endif

// The whole content of a file ("" when it cannot be read).
inline std::string ReadFileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `bytes` as the whole file (creating folders); false on failure.
inline bool WriteFileBytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return out.good();
}

// Every regular file under `dir`, keyed by its path relative to `dir`.
inline std::map<std::string, std::string> ReadTree(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    files[std::filesystem::relative(e.path(), dir).string()] = ReadFileBytes(e.path());
  }
  return files;
}

// "{types:A,B, tags:x,} OR ..." or "All", for test traces.
inline std::string DescribeQuery(const Query& q) {
  if (q.items.empty()) return "All";
  std::string s;
  for (const QueryItem& item : q.items) {
    if (!s.empty()) s += " OR ";
    s += "{types:";
    for (const auto& t : item.types) s += t + ",";
    s += " tags:";
    for (const auto& t : item.tags) s += t + ",";
    s += "}";
  }
  return s;
}

// The event's tag that starts with `prefix` (tests mark each batch with
// one), or "".
inline std::string TagWithPrefix(const EventView& v, std::string_view prefix) {
  for (std::string_view t : v.tags()) {
    if (t.substr(0, prefix.size()) == prefix) return std::string(t);
  }
  return {};
}

}  // namespace opossum::testing

#endif  // OPOSSUM_TESTS_TEST_UTIL_H_
