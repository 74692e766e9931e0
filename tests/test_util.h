// Helpers shared by the tests: a fresh temporary folder per test, and a
// seed that is printed so a randomized run can be reproduced.
#ifndef OPOSSUM_TESTS_TEST_UTIL_H_
#define OPOSSUM_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace opossum::testing {

// A temporary folder removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "opossum-test-XXXXXX").string();
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
  std::fprintf(stderr, "[ seed     ] OPOSSUM_SEED=%llu\n",
               static_cast<unsigned long long>(seed));
  return seed;
}

}  // namespace opossum::testing

#endif  // OPOSSUM_TESTS_TEST_UTIL_H_
