// Unit tests of engine/src/index/key_index: the key table and its posting
// lists, checked against a std::map model; cursors over every range of a
// small list and random ranges of large ones (several full 1024-entry
// blocks); table growth seen by a second index on the same folder; reopen;
// Reset; and damaged posting blocks, which must make a cursor fail cleanly,
// never crash.
//
// Randomized tests print their seed; OPOSSUM_SEED=<seed> repeats a run.
#include "index/key_index.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "format/checksum.h"
#include "test_util.h"

namespace opossum::index {
namespace {

namespace fs = std::filesystem;
using format::KeyHash;
using format::KeyKind;
using opossum::testing::ReadFileBytes;
using opossum::testing::TempDir;
using opossum::testing::TestSeed;
using opossum::testing::WriteFileBytes;

using Model = std::map<uint64_t, std::vector<uint64_t>>;

// Find, failing the test if the index reports damage on the way (where the
// engine's Find reports damage at all).
// (A template, so that only the branch the engine has is compiled.)
template <typename Index>
const KeySlot* FindKey(const Index& ix, uint64_t hash) {
  bool damaged = false;
  const KeySlot* slot;
  if constexpr (requires { ix.Find(hash, &damaged); }) {
    slot = ix.Find(hash, &damaged);
  } else {
    slot = ix.Find(hash);
  }
  EXPECT_FALSE(damaged) << "hash " << hash;
  return slot;
}

// Every position a cursor gives; *failed reports the cursor's failed().
// A cursor on a damaged list must still end: at most `bound` results.
std::vector<uint64_t> Collect(const KeyIndex& ix, const KeySlot* slot, uint64_t lo, uint64_t hi,
                              bool backwards, bool* failed = nullptr, size_t bound = 1 << 22) {
  PostingCursor c(&ix, slot, lo, hi, backwards);
  std::vector<uint64_t> out;
  for (uint64_t p; (p = c.Next()) != 0;) {
    out.push_back(p);
    if (out.size() > bound) {
      ADD_FAILURE() << "cursor does not end";
      break;
    }
  }
  EXPECT_EQ(c.Next(), 0u) << "a finished cursor stays finished";
  if (failed) {
    *failed = c.failed();
  } else {
    EXPECT_FALSE(c.failed());
  }
  return out;
}

std::vector<uint64_t> Expected(const std::vector<uint64_t>& all, uint64_t lo, uint64_t hi,
                               bool backwards) {
  std::vector<uint64_t> out;
  for (uint64_t p : all) {
    if (p >= lo && p <= hi) out.push_back(p);
  }
  if (backwards) std::reverse(out.begin(), out.end());
  return out;
}

Status Insert(KeyIndex* ix, uint64_t hash, uint64_t position, bool* grown = nullptr,
              KeyKind kind = KeyKind::kTag) {
  bool g = false;
  Status s = ix->Insert(hash, kind, position, &g);
  if (grown) *grown = g;
  return s;
}

// Every key of the model is found with exactly its positions, both ways.
void CheckAgainstModel(const KeyIndex& ix, const Model& model) {
  for (const auto& [hash, positions] : model) {
    const KeySlot* slot = FindKey(ix, hash);
    ASSERT_NE(slot, nullptr) << "hash " << hash;
    EXPECT_EQ(KeyIndex::Count(slot), positions.size()) << "hash " << hash;
    EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, false), positions) << "hash " << hash;
    EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, true), Expected(positions, 0, UINT64_MAX, true))
        << "hash " << hash;
  }
}

// The posting blocks of a key, newest first (read through the mapping).
std::vector<uint64_t> BlockChain(const KeyIndex& ix, const KeySlot* slot) {
  std::vector<uint64_t> out;
  for (uint64_t off = slot->last_block; off != 0;) {
    out.push_back(off);
    off = reinterpret_cast<const PostingBlock*>(ix.postings() + off)->prev;
  }
  return out;
}

class KeyIndexTest : public ::testing::Test {
 protected:
  fs::path dir() const { return tmp_.path(); }
  void PWrite(const std::string& file, uint64_t offset, const void* data, size_t n) {
    int fd = ::open((dir() / file).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
    ::close(fd);
  }
  template <typename T>
  void Poke(const std::string& file, uint64_t offset, T value) {
    PWrite(file, offset, &value, sizeof(value));
  }
  TempDir tmp_;
};

TEST_F(KeyIndexTest, FreshIndexIsEmpty) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  EXPECT_TRUE(fs::exists(dir() / "keys"));
  EXPECT_TRUE(fs::exists(dir() / "postings"));
  EXPECT_EQ(ix.generation(), 1u);
  EXPECT_EQ(ix.indexed_through(), 0u);
  EXPECT_EQ(FindKey(ix, KeyHash(KeyKind::kTag, "a")), nullptr);
  EXPECT_EQ(ix.CountKind(KeyKind::kTag), 0u);
  int keys = 0;
  ix.ForEachKey([&](uint64_t, uint8_t, const KeySlot*) { ++keys; });
  EXPECT_EQ(keys, 0);
}

TEST_F(KeyIndexTest, RandomInsertsMatchModel) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  KeyIndex reader;  // another handle on the same files, opened before
  ASSERT_TRUE(reader.Open(dir(), false, 0).ok());

  // 700 keys (more than the initial table takes), one of them on every
  // event (a list of many full 1024-entry blocks), the rest skewed.
  constexpr int kKeys = 700;
  std::vector<uint64_t> hashes;
  std::vector<KeyKind> kinds;
  for (int k = 0; k < kKeys; ++k) {
    KeyKind kind = static_cast<KeyKind>(1 + k % 3);
    hashes.push_back(KeyHash(kind, "key-" + std::to_string(k)));
    kinds.push_back(kind);
  }
  Model model;
  std::map<uint64_t, KeyKind> kind_of;
  bool ever_grown = false;
  for (uint64_t pos = 1; pos <= 40000; ++pos) {
    std::set<int> keys = {0};
    int extra = static_cast<int>(rng() % 3);
    for (int j = 0; j < extra; ++j) {
      int a = static_cast<int>(rng() % kKeys), b = static_cast<int>(rng() % kKeys);
      keys.insert(std::min(a, b));
    }
    for (int k : keys) {
      bool grown = false;
      ASSERT_TRUE(Insert(&ix, hashes[k], pos, &grown, kinds[k]).ok());
      ever_grown |= grown;
      model[hashes[k]].push_back(pos);
      kind_of[hashes[k]] = kinds[k];
    }
  }
  EXPECT_TRUE(ever_grown);
  EXPECT_GT(ix.generation(), 1u);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
  EXPECT_GE(BlockChain(ix, FindKey(ix, hashes[0])).size(), 10u + 30u);  // 4..1024, then 1024s

  // ForEachKey and CountKind see each key once, with its kind.
  std::map<uint64_t, uint8_t> seen;
  ix.ForEachKey([&](uint64_t h, uint8_t kind, const KeySlot* slot) {
    EXPECT_TRUE(seen.emplace(h, kind).second) << "key seen twice";
    EXPECT_EQ(slot->hash, h);
  });
  EXPECT_EQ(seen.size(), model.size());
  size_t per_kind[4] = {};
  for (const auto& [h, kind] : kind_of) {
    EXPECT_EQ(seen[h], static_cast<uint8_t>(kind));
    ++per_kind[static_cast<int>(kind)];
  }
  EXPECT_EQ(ix.CountKind(KeyKind::kTag), per_kind[1]);
  EXPECT_EQ(ix.CountKind(KeyKind::kType), per_kind[2]);
  EXPECT_EQ(ix.CountKind(KeyKind::kId), per_kind[3]);

  // Random ranges, both ways.
  for (int iter = 0; iter < 3000; ++iter) {
    auto it = model.begin();
    std::advance(it, static_cast<long>(rng() % model.size()));
    if (iter % 4 == 0) it = model.find(hashes[0]);
    uint64_t lo = rng() % 40005, hi = rng() % 40005;
    if (iter % 3 == 0) hi = lo + rng() % 3000;
    bool back = rng() % 2;
    ASSERT_EQ(Collect(ix, FindKey(ix, it->first), lo, hi, back), Expected(it->second, lo, hi, back))
        << "seed " << seed << " [" << lo << ", " << hi << "]" << (back ? " backwards" : "");
  }

  // The other handle follows the grown table and the grown postings file.
  ASSERT_TRUE(reader.Refresh(ix.generation()).ok());
  EXPECT_EQ(reader.generation(), ix.generation());
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(reader, model));
}

TEST_F(KeyIndexTest, EveryRangeOfASmallList) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  const uint64_t h = KeyHash(KeyKind::kTag, "small");
  std::vector<uint64_t> positions;
  for (uint64_t p = 2; p <= 30; p += 2) positions.push_back(p);  // 15: blocks of 4, 8, 16
  for (uint64_t p : positions) ASSERT_TRUE(Insert(&ix, h, p).ok());
  const KeySlot* slot = FindKey(ix, h);
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(BlockChain(ix, slot).size(), 3u);
  for (uint64_t lo = 0; lo <= 33; ++lo) {
    for (uint64_t hi = 0; hi <= 33; ++hi) {
      for (bool back : {false, true}) {
        ASSERT_EQ(Collect(ix, slot, lo, hi, back), Expected(positions, lo, hi, back))
            << "[" << lo << ", " << hi << "]" << (back ? " backwards" : "");
      }
    }
  }
  for (bool back : {false, true}) {
    EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, back).size(), positions.size());
    EXPECT_EQ(Collect(ix, slot, UINT64_MAX, UINT64_MAX, back).size(), 0u);
    EXPECT_EQ(Collect(ix, slot, 31, UINT64_MAX, back).size(), 0u);
  }
}

TEST_F(KeyIndexTest, BlockBoundariesOfALargeList) {
  // A list that ends exactly at, and one past, each block's capacity.
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  std::vector<uint64_t> sizes = {1, 4, 5, 12, 13, 2044, 2045, 3068, 3069, 5000};
  Model model;
  for (uint64_t n : sizes) {
    uint64_t h = KeyHash(KeyKind::kType, "n" + std::to_string(n));
    for (uint64_t p = 1; p <= n; ++p) {
      ASSERT_TRUE(Insert(&ix, h, p * 3).ok());
      model[h].push_back(p * 3);
    }
  }
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
  for (const auto& [h, positions] : model) {
    const KeySlot* slot = FindKey(ix, h);
    // Ranges whose ends sit on block edges: 4, 12, 28, ..., 2044, 3068.
    for (uint64_t edge : {4, 12, 28, 60, 124, 252, 508, 1020, 2044, 3068}) {
      for (int64_t d = -1; d <= 1; ++d) {
        uint64_t idx = edge + static_cast<uint64_t>(d);
        uint64_t at = idx * 3;
        for (bool back : {false, true}) {
          ASSERT_EQ(Collect(ix, slot, at, UINT64_MAX, back),
                    Expected(positions, at, UINT64_MAX, back))
              << positions.size() << " from " << at;
          ASSERT_EQ(Collect(ix, slot, 0, at, back), Expected(positions, 0, at, back))
              << positions.size() << " to " << at;
          ASSERT_EQ(Collect(ix, slot, at - 2, at + 2, back),
                    Expected(positions, at - 2, at + 2, back))
              << positions.size() << " around " << at;
        }
      }
    }
  }
}

TEST_F(KeyIndexTest, InsertIsIdempotent) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  const uint64_t h = KeyHash(KeyKind::kId, "id");
  ASSERT_TRUE(Insert(&ix, h, 5).ok());
  ASSERT_TRUE(Insert(&ix, h, 10).ok());
  for (uint64_t p : {10, 9, 5, 1}) ASSERT_TRUE(Insert(&ix, h, p).ok());  // skipped
  const KeySlot* slot = FindKey(ix, h);
  EXPECT_EQ(KeyIndex::Count(slot), 2u);
  EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, false), (std::vector<uint64_t>{5, 10}));
  ASSERT_TRUE(Insert(&ix, h, 11).ok());
  ASSERT_TRUE(Insert(&ix, h, 12).ok());  // the first block (4) is now full
  // Re-inserting the newest of a full block allocates nothing.
  const std::vector<uint64_t> chain = BlockChain(ix, slot);
  ASSERT_EQ(chain.size(), 1u);
  for (uint64_t p : {12, 11, 3}) ASSERT_TRUE(Insert(&ix, h, p).ok());
  EXPECT_EQ(BlockChain(ix, slot), chain);
  EXPECT_EQ(KeyIndex::Count(slot), 4u);
  ASSERT_TRUE(Insert(&ix, h, 13).ok());
  EXPECT_EQ(BlockChain(ix, slot).size(), 2u);
  EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, false), (std::vector<uint64_t>{5, 10, 11, 12, 13}));
  EXPECT_EQ(Collect(ix, slot, 0, UINT64_MAX, true), (std::vector<uint64_t>{13, 12, 11, 10, 5}));
}

TEST_F(KeyIndexTest, CollidingHashesProbe) {
  // Hashes that share a home slot (same low bits), and one whose probe wraps
  // from the last slot to the first.
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  const uint64_t c = kInitialKeyCapacity;
  const std::vector<uint64_t> hashes = {7, 7 + c, 7 + 2 * c, 8, c - 1, 2 * c - 1, 3 * c - 1};
  Model model;
  uint64_t pos = 1;
  for (int round = 0; round < 3; ++round) {
    for (uint64_t h : hashes) {
      ASSERT_TRUE(Insert(&ix, h, pos).ok());
      model[h].push_back(pos++);
    }
  }
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
  EXPECT_EQ(FindKey(ix, 7 + 3 * c), nullptr);
  EXPECT_EQ(FindKey(ix, 4 * c - 1), nullptr);
  EXPECT_EQ(FindKey(ix, 9), nullptr);
}

TEST_F(KeyIndexTest, TableGrowthIsSeenByAnotherHandle) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  KeyIndex reader;
  ASSERT_TRUE(reader.Open(dir(), false, 0).ok());
  EXPECT_EQ(reader.generation(), 1u);

  Model model;
  uint64_t pos = 1;
  auto add_key = [&](int k, bool* grown) {
    uint64_t h = KeyHash(KeyKind::kTag, "grow-" + std::to_string(k));
    ASSERT_TRUE(Insert(&ix, h, pos, grown).ok());
    model[h].push_back(pos++);
  };
  // Half the table fills without growing.
  for (uint64_t k = 0; k < kInitialKeyCapacity / 2; ++k) {
    bool grown = true;
    ASSERT_NO_FATAL_FAILURE(add_key(static_cast<int>(k), &grown));
    ASSERT_FALSE(grown) << "grew at key " << k;
  }
  EXPECT_EQ(ix.generation(), 1u);
  bool grown = false;
  ASSERT_NO_FATAL_FAILURE(add_key(static_cast<int>(kInitialKeyCapacity / 2), &grown));
  EXPECT_TRUE(grown);
  EXPECT_EQ(ix.generation(), 2u);
  EXPECT_FALSE(fs::exists(dir() / "keys.new"));
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));

  // A refresh at the old generation changes nothing; at the new one the
  // reader maps the new table.
  ASSERT_TRUE(reader.Refresh(1).ok());
  EXPECT_EQ(reader.generation(), 1u);
  ASSERT_TRUE(reader.Refresh(2).ok());
  EXPECT_EQ(reader.generation(), 2u);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(reader, model));

  // And again: the second growth at 2048/2 keys.
  for (uint64_t k = kInitialKeyCapacity / 2 + 1; k <= kInitialKeyCapacity; ++k) {
    ASSERT_NO_FATAL_FAILURE(add_key(static_cast<int>(k), &grown));
  }
  EXPECT_EQ(ix.generation(), 3u);
  // Existing keys get more positions after the growth.
  for (auto& [h, positions] : model) {
    if (positions.front() % 5 == 0) {
      ASSERT_TRUE(Insert(&ix, h, pos).ok());
      positions.push_back(pos++);
    }
  }
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
  ASSERT_TRUE(reader.Refresh(3).ok());
  EXPECT_EQ(reader.generation(), 3u);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(reader, model));

  // A handle opened now starts at the current table.
  KeyIndex late;
  ASSERT_TRUE(late.Open(dir(), false, 0).ok());
  EXPECT_EQ(late.generation(), 3u);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(late, model));
}

TEST_F(KeyIndexTest, ReserveGrowsAhead) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 4).ok());
  bool grown = false;
  ASSERT_TRUE(ix.Reserve(10, &grown).ok());
  EXPECT_FALSE(grown);
  EXPECT_EQ(ix.generation(), 4u);
  ASSERT_TRUE(ix.Reserve(kInitialKeyCapacity / 2 + 1, &grown).ok());
  EXPECT_TRUE(grown);
  EXPECT_EQ(ix.generation(), 5u);
  // Then that many keys go in without another growth.
  for (uint64_t k = 0; k < kInitialKeyCapacity / 2 + 1; ++k) {
    bool g = false;
    ASSERT_TRUE(Insert(&ix, KeyHash(KeyKind::kTag, std::to_string(k)), k + 1, &g).ok());
    ASSERT_FALSE(g) << k;
  }
  EXPECT_EQ(ix.generation(), 5u);
  grown = false;
  ASSERT_TRUE(ix.Reserve(3 * kInitialKeyCapacity, &grown).ok());
  EXPECT_TRUE(grown);
  EXPECT_GE(ix.generation(), 7u);  // 2048 -> 4096 -> 8192
}

TEST_F(KeyIndexTest, IndexedThroughRoundTrip) {
  {
    KeyIndex ix;
    ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
    EXPECT_EQ(ix.indexed_through(), 0u);
    ix.SetIndexedThrough(12345);
    EXPECT_EQ(ix.indexed_through(), 12345u);
    KeyIndex reader;
    ASSERT_TRUE(reader.Open(dir(), false, 0).ok());
    EXPECT_EQ(reader.indexed_through(), 12345u);
    // Positions have 48 bits (the top 16 of the stored mark are its check).
    constexpr uint64_t kHighest = (uint64_t{1} << 48) - 1;
    ix.SetIndexedThrough(kHighest);
    EXPECT_EQ(reader.indexed_through(), kHighest);  // one shared page
    ASSERT_TRUE(ix.Sync().ok());
  }
  {
    KeyIndex again;
    ASSERT_TRUE(again.Open(dir(), true, 1).ok());
    EXPECT_EQ(again.indexed_through(), (uint64_t{1} << 48) - 1);
    EXPECT_TRUE(again.MarkIntact());
    again.SetIndexedThrough(77);
    ASSERT_TRUE(again.Sync().ok());
  }
  // A mark damaged on disk (raised, as if more were indexed) fails its check
  // and vouches for nothing.
  std::string bytes = ReadFileBytes(dir() / "postings");
  bytes[24] = static_cast<char>(200);  // 77 -> 200, check bits unchanged
  WriteFileBytes(dir() / "postings", bytes);
  KeyIndex damaged;
  ASSERT_TRUE(damaged.Open(dir(), false, 0).ok());
  EXPECT_FALSE(damaged.MarkIntact());
  EXPECT_EQ(damaged.indexed_through(), 0u);
  EXPECT_FALSE(damaged.HeaderPlausible(1000));
}

TEST_F(KeyIndexTest, ReopenKeepsEverything) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  Model model;
  uint64_t pos = 1, gen = 0;
  auto fill = [&](KeyIndex* ix, int keys, int positions) {
    for (int i = 0; i < positions; ++i, ++pos) {
      int k = static_cast<int>(rng() % keys);
      uint64_t h = KeyHash(KeyKind::kTag, "r" + std::to_string(k));
      ASSERT_TRUE(Insert(ix, h, pos).ok());
      model[h].push_back(pos);
    }
  };
  {
    KeyIndex ix;
    ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
    ASSERT_NO_FATAL_FAILURE(fill(&ix, 400, 5000));
    ix.SetIndexedThrough(pos - 1);
    ASSERT_TRUE(ix.Sync().ok());
    gen = ix.generation();
  }
  {
    KeyIndex ix;
    ASSERT_TRUE(ix.Open(dir(), true, 99).ok());  // the file's generation wins
    EXPECT_EQ(ix.generation(), gen);
    EXPECT_EQ(ix.indexed_through(), pos - 1);
    ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
    // Inserting goes on where it left off, the key count included: the
    // table grows once the keys of both lives pass half of it.
    ASSERT_NO_FATAL_FAILURE(fill(&ix, 900, 20000));
    EXPECT_GT(model.size(), kInitialKeyCapacity / 2);
    EXPECT_EQ(ix.generation(), gen + 1);
    ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
    gen = ix.generation();
  }
  KeyIndex ro;
  ASSERT_TRUE(ro.Open(dir(), false, 0).ok());
  EXPECT_EQ(ro.generation(), gen);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ro, model));
}

TEST_F(KeyIndexTest, ResetEmpties) {
  KeyIndex ix;
  ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
  KeyIndex reader;
  ASSERT_TRUE(reader.Open(dir(), false, 0).ok());
  std::vector<uint64_t> hashes;
  for (int k = 0; k < 600; ++k) {
    hashes.push_back(KeyHash(KeyKind::kTag, "x" + std::to_string(k)));
    for (uint64_t p = 1; p <= 5; ++p) ASSERT_TRUE(Insert(&ix, hashes.back(), p * 1000 + k).ok());
  }
  ix.SetIndexedThrough(5999);
  const uint64_t before = ix.generation();
  uint64_t gen = 0;
  ASSERT_TRUE(ix.Reset(&gen).ok());
  EXPECT_EQ(gen, before + 1);
  EXPECT_EQ(ix.generation(), gen);
  EXPECT_EQ(ix.indexed_through(), 0u);
  EXPECT_EQ(ix.CountKind(KeyKind::kTag), 0u);
  for (uint64_t h : hashes) EXPECT_EQ(FindKey(ix, h), nullptr);
  EXPECT_FALSE(fs::exists(dir() / "keys.new"));

  // Filling again gives only the new positions, even for the old keys.
  Model model;
  for (int k = 0; k < 50; ++k) {
    ASSERT_TRUE(Insert(&ix, hashes[k], 7 + k).ok());
    model[hashes[k]].push_back(7 + k);
  }
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(ix, model));
  ASSERT_TRUE(reader.Refresh(gen).ok());
  EXPECT_EQ(reader.generation(), gen);
  ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(reader, model));
  EXPECT_EQ(FindKey(reader, hashes[100]), nullptr);
}

// ---------------------------------------------------------------------------
// Damaged files.

TEST_F(KeyIndexTest, DamagedHeadersAreCorruption) {
  {
    KeyIndex ix;
    ASSERT_TRUE(ix.Open(dir(), true, 1).ok());
    ASSERT_TRUE(Insert(&ix, 42, 1).ok());
  }
  struct Case {
    const char* file;
    uint64_t offset;
    uint64_t value;
  };
  const Case cases[] = {
      {"keys", 0, 0x1234},                  // magic
      {"keys", 8, kIndexVersion + 1},       // another version
      {"keys", 16, 1000},                   // capacity not a power of two
      {"keys", 16, 0},                      // capacity 0
      {"keys", 16, uint64_t{1} << 20},      // capacity beyond the file
      {"postings", 0, 0x1234},              // magic
      {"postings", 8, 7},                   // version
      {"postings", 16, 8},                  // alloc_end inside the header
      {"postings", 16, uint64_t{1} << 50},  // alloc_end beyond the file
  };
  for (const Case& c : cases) {
    TempDir copy;
    fs::copy(dir(), copy.path(), fs::copy_options::recursive);
    int fd = ::open((copy.path() / c.file).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, &c.value, 8, static_cast<off_t>(c.offset)), 8);
    ::close(fd);
    for (bool writable : {true, false}) {
      KeyIndex ix;
      Status s = ix.Open(copy.path(), writable, 1);
      EXPECT_TRUE(s.IsCorruption()) << c.file << " at " << c.offset << ": " << s.ToString();
      EXPECT_NE(s.message().find((copy.path() / c.file).string()), std::string::npos)
          << s.message();
    }
  }
  // A keys file cut short.
  TempDir copy;
  fs::copy(dir(), copy.path(), fs::copy_options::recursive);
  fs::resize_file(copy.path() / "keys", 40);
  KeyIndex ix;
  Status s = ix.Open(copy.path(), true, 1);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

// A damaged list: the cursor ends, reports failed(), and never crashes.
class KeyIndexDamageTest : public KeyIndexTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ix_.Open(dir(), true, 1).ok());
    for (uint64_t p = 1; p <= 3000; ++p) {  // blocks of 4, 8, ..., 1024, then 956 of 1024
      ASSERT_TRUE(Insert(&ix_, kHot, p * 2).ok());
      if (p % 7 == 0) {
        ASSERT_TRUE(Insert(&ix_, kCold, p * 2).ok());
      }
    }
    slot_ = FindKey(ix_, kHot);
    ASSERT_NE(slot_, nullptr);
    chain_ = BlockChain(ix_, slot_);  // newest first
    ASSERT_EQ(chain_.size(), 10u);
  }
  // Every cursor over the hot key, both ways, whole and from the middle,
  // must end, and fail.
  void ExpectFails(const std::string& what) {
    for (bool back : {false, true}) {
      bool failed = false;
      Collect(ix_, slot_, 0, UINT64_MAX, back, &failed);
      EXPECT_TRUE(failed) << what << (back ? " backwards" : " forwards");
    }
  }
  // Field offsets from the engine's own struct, so the tests follow it.
  using Capacity = decltype(PostingBlock::capacity);
  uint64_t PrevAt(uint64_t block) const { return block + offsetof(PostingBlock, prev); }
  uint64_t CapacityAt(uint64_t block) const { return block + offsetof(PostingBlock, capacity); }
  uint64_t CountAt(uint64_t block) const { return block + offsetof(PostingBlock, count); }
  uint64_t PositionAt(uint64_t block, uint64_t i) const {
    return block + sizeof(PostingBlock) + 8 * i;
  }

  static constexpr uint64_t kHot = 0x1111;
  static constexpr uint64_t kCold = 0x2222;
  KeyIndex ix_;
  const KeySlot* slot_ = nullptr;
  std::vector<uint64_t> chain_;
};

TEST_F(KeyIndexDamageTest, UndamagedListDoesNotFail) {
  for (bool back : {false, true}) {
    bool failed = true;
    EXPECT_EQ(Collect(ix_, slot_, 0, UINT64_MAX, back, &failed).size(), 3000u);
    EXPECT_FALSE(failed);
  }
}

TEST_F(KeyIndexDamageTest, BadPrevPointers) {
  const uint64_t size = fs::file_size(dir() / "postings");
  // Every block but the first (whose prev is 0) in turn.
  for (size_t b = 0; b + 1 < chain_.size(); ++b) {
    const uint64_t blk = chain_[b];
    for (uint64_t bad : {blk, blk + 8, blk + 1, uint64_t{8}, uint64_t{63}, size, size + 4096,
                         uint64_t{1} << 40, UINT64_MAX - 7}) {
      Poke<uint64_t>("postings", PrevAt(blk), bad);
      ExpectFails("block " + std::to_string(b) + " prev " + std::to_string(bad));
      Poke<uint64_t>("postings", PrevAt(blk), chain_[b + 1]);
    }
  }
  // A prev in the middle of a block (positions read as a header).
  Poke<uint64_t>("postings", PrevAt(chain_[0]), PositionAt(chain_[1], 3));
  for (bool back : {false, true}) {
    bool failed = false;
    Collect(ix_, slot_, 0, UINT64_MAX, back, &failed);
  }
}

TEST_F(KeyIndexDamageTest, BadCapacityOrCount) {
  for (size_t b = 0; b < chain_.size(); ++b) {
    const uint64_t blk = chain_[b];
    const Capacity cap = reinterpret_cast<const PostingBlock*>(ix_.postings() + blk)->capacity;
    const uint32_t count = reinterpret_cast<const PostingBlock*>(ix_.postings() + blk)->count;
    for (uint64_t bad :
         {uint64_t{0}, uint64_t{kMaxBlockCapacity} + 1, uint64_t{kMaxBlockCapacity} * 2,
          uint64_t{std::numeric_limits<Capacity>::max()}}) {
      Poke<Capacity>("postings", CapacityAt(blk), static_cast<Capacity>(bad));
      ExpectFails("block " + std::to_string(b) + " capacity " + std::to_string(bad));
      Poke<Capacity>("postings", CapacityAt(blk), cap);
    }
    for (uint32_t bad : {uint32_t{cap} + 1, UINT32_MAX}) {
      Poke<uint32_t>("postings", CountAt(blk), bad);
      ExpectFails("block " + std::to_string(b) + " count " + std::to_string(bad));
      Poke<uint32_t>("postings", CountAt(blk), count);
    }
  }
}

TEST_F(KeyIndexDamageTest, PositionsOutOfOrder) {
  for (size_t b = 0; b < chain_.size(); ++b) {
    const uint64_t blk = chain_[b];
    const auto* pb = reinterpret_cast<const PostingBlock*>(ix_.postings() + blk);
    const uint32_t n = pb->count;
    const uint64_t* pos = reinterpret_cast<const uint64_t*>(pb + 1);
    const uint64_t first = pos[0], last = pos[n - 1];
    // A repeat inside the block, a first position below the previous
    // block's last, a last position above the next block's first.
    if (n >= 2) {
      const uint64_t second = pos[1];
      Poke<uint64_t>("postings", PositionAt(blk, 1), first);
      ExpectFails("block " + std::to_string(b) + " repeat");
      Poke<uint64_t>("postings", PositionAt(blk, 1), second);
    }
    if (b + 1 < chain_.size()) {
      Poke<uint64_t>("postings", PositionAt(blk, 0), 1);
      ExpectFails("block " + std::to_string(b) + " first below previous block");
      Poke<uint64_t>("postings", PositionAt(blk, 0), first);
    }
    if (b > 0) {
      Poke<uint64_t>("postings", PositionAt(blk, n - 1), UINT64_MAX - 1);
      ExpectFails("block " + std::to_string(b) + " last above next block");
      Poke<uint64_t>("postings", PositionAt(blk, n - 1), last);
    }
  }
}

TEST_F(KeyIndexDamageTest, BadSlotThroughTheMapping) {
  auto* slot = const_cast<KeySlot*>(slot_);
  const uint64_t last = slot->last_block;
  const uint64_t size = fs::file_size(dir() / "postings");
  for (uint64_t bad : {uint64_t{0}, uint64_t{8}, uint64_t{63}, last + 4, last + 8, size - 8, size,
                       uint64_t{1} << 40, uint64_t{1} << 62}) {
    slot->last_block = bad;
    ExpectFails("slot last_block " + std::to_string(bad));
  }
  slot->last_block = last;
  bool failed = true;
  EXPECT_EQ(Collect(ix_, slot_, 0, UINT64_MAX, false, &failed).size(), 3000u);
  EXPECT_FALSE(failed);
}

// A slot's last_block near 2^64 (a damaged keys file) must not wrap the
// bounds check (off + block header size overflows to a small number, and
// postings() + off points just before the map). Run in a child that makes
// the page before the postings map inaccessible and hands the cursor a copy
// of the slot, so that a read before the map is a fault, whatever happens
// to be mapped there in this process.
class KeyIndexDamageDeathTest : public KeyIndexDamageTest {};

TEST_F(KeyIndexDamageDeathTest, HugeBlockOffsetDoesNotWrapTheBoundsCheck) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (uint64_t bad : {UINT64_MAX - 7, UINT64_MAX - 15, UINT64_MAX - 23}) {
    EXPECT_EXIT(
        {
          const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
          const uintptr_t base = reinterpret_cast<uintptr_t>(ix_.postings());
          void* guard = ::mmap(reinterpret_cast<void*>((base & ~(page - 1)) - page), page,
                               PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
          if (guard == MAP_FAILED) std::exit(2);
          KeySlot copy = *slot_;
          copy.last_block = bad;
          bool failed = false;
          std::vector<uint64_t> got = Collect(ix_, &copy, 0, UINT64_MAX, false, &failed);
          std::exit(failed && got.empty() ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "")
        << "last_block " << bad;
  }
}

TEST_F(KeyIndexDamageTest, RandomDamageNeverCrashes) {
  const uint64_t seed = TestSeed();
  std::mt19937_64 rng(seed);
  const uint64_t end = chain_.front() + sizeof(PostingBlock) + 8 * 1024;  // past every block
  std::vector<uint8_t> original(end);
  {
    int fd = ::open((dir() / "postings").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pread(fd, original.data(), end, 0), static_cast<ssize_t>(end));
    ::close(fd);
  }
  const KeySlot* cold = FindKey(ix_, kCold);
  int failures = 0;
  for (int round = 0; round < 300; ++round) {
    int words = 1 + static_cast<int>(rng() % 6);
    for (int w = 0; w < words; ++w) {
      uint64_t at = kIndexHeaderSize + (rng() % ((end - kIndexHeaderSize) / 4)) * 4;
      uint32_t v;
      switch (rng() % 4) {
        case 0:
          v = static_cast<uint32_t>(rng());
          break;
        case 1:
          v = static_cast<uint32_t>(rng() % 2048);
          break;
        case 2:
          v = static_cast<uint32_t>(chain_[rng() % chain_.size()] + 8 * (rng() % 4));
          break;
        default:
          v = 0;
          break;
      }
      Poke<uint32_t>("postings", at, v);
    }
    for (const KeySlot* s : {slot_, cold}) {
      for (int q = 0; q < 4; ++q) {
        uint64_t lo = rng() % 6100, hi = lo + rng() % 6100;
        bool failed = false;
        Collect(ix_, s, lo, hi, q % 2 == 1, &failed);
        failures += failed;
      }
    }
    PWrite("postings", 0, original.data(), original.size());
  }
  RecordProperty("failed_cursors", failures);
  EXPECT_GT(failures, 0) << "seed " << seed;
}

}  // namespace
}  // namespace opossum::index
