// Unit tests of engine/src/log/ledger: the 4 KiB commit page. Two commit
// slots and two checkpoint slots are written alternately; the valid slot
// with the highest sequence number wins, so a slot torn at any byte leaves
// the previous state readable. The header fields round-trip across reopen,
// and a damaged header gives an error naming the file.
#include "log/ledger.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "format/checksum.h"
#include "format/layout.h"
#include "test_util.h"

namespace opossum::log {

namespace {

namespace fs = std::filesystem;
using opossum::testing::TempDir;
using ::testing::HasSubstr;

constexpr uint64_t kSegSize = 64 << 20;
constexpr uint64_t kCommitAt = offsetof(LedgerPage, commit);
constexpr uint64_t kCheckpointAt = offsetof(LedgerPage, checkpoint);
static_assert(kCommitAt == 256 && kCheckpointAt == 384, "docs/format-ledger.md");
static_assert(sizeof(LedgerSlot) == 48);

std::string Str(const LogState& s) {
  return "{seq " + std::to_string(s.seq) + ", head " + std::to_string(s.head) + ", segment " +
         std::to_string(s.segment) + ", end " + std::to_string(s.end_offset) + ", chain " +
         std::to_string(s.last_checksum) + "}";
}

// Field by field (the engine's LogState may or may not have operator==).
::testing::AssertionResult Same(const LogState& got, const LogState& want) {
  if (got.seq == want.seq && got.head == want.head && got.segment == want.segment &&
      got.end_offset == want.end_offset && got.last_checksum == want.last_checksum) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << Str(got) << ", want " << Str(want);
}

LogState State(uint64_t head) {
  return LogState{0, head, head / 100, 64 + head * 8, head * 0x9E3779B97F4A7C15ULL};
}

class LedgerTest : public ::testing::Test {
 protected:
  fs::path path() const { return tmp_.path() / "ledger"; }

  std::vector<uint8_t> ReadBytes(uint64_t offset, size_t n) const {
    std::vector<uint8_t> out(n);
    int fd = ::open(path().c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, out.data(), n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
    ::close(fd);
    return out;
  }
  void WriteBytes(uint64_t offset, const void* data, size_t n) const {
    int fd = ::open(path().c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, data, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
    ::close(fd);
  }
  LedgerSlot ReadSlot(uint64_t base, int i) const {
    LedgerSlot s;
    std::vector<uint8_t> b = ReadBytes(base + i * sizeof(LedgerSlot), sizeof(s));
    std::memcpy(&s, b.data(), sizeof(s));
    return s;
  }
  // A slot with a correct checksum (XXH3-64 of its first five fields).
  void WriteValidSlot(uint64_t base, int i, const LogState& st) const {
    LedgerSlot s{st.seq, st.head, st.segment, st.end_offset, st.last_checksum, 0};
    s.checksum = format::Hash64(&s, 5 * sizeof(uint64_t));
    WriteBytes(base + i * sizeof(LedgerSlot), &s, sizeof(s));
  }
  void Truncate(uint64_t size) const { fs::resize_file(path(), size); }
  // Changes header bytes in [0, 24). When the page carries a header checksum
  // (XXH3-64 of bytes [0, 24) at offset 56), it is recomputed, so that the
  // check under test is the one that answers, not the checksum.
  void PatchHeader(uint64_t offset, const void* data, size_t n) const {
    std::vector<uint8_t> h = ReadBytes(0, 64);
    uint64_t stored;
    std::memcpy(&stored, h.data() + 56, 8);
    const bool sealed = stored == format::Hash64(h.data(), 24);
    ASSERT_NO_FATAL_FAILURE(WriteBytes(offset, data, n));
    if (sealed) {
      h = ReadBytes(0, 64);
      uint64_t sum = format::Hash64(h.data(), 24);
      ASSERT_NO_FATAL_FAILURE(WriteBytes(56, &sum, 8));
    }
  }

  TempDir tmp_;
};

TEST_F(LedgerTest, CreateThenOpen) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  EXPECT_EQ(fs::file_size(path()), kLedgerSize);
  EXPECT_FALSE(fs::exists(tmp_.path() / "ledger.tmp"));
  for (bool writable : {true, false}) {
    Ledger l;
    ASSERT_TRUE(l.Open(path(), writable).ok());
    EXPECT_EQ(l.path(), path());
    EXPECT_EQ(l.segment_size(), kSegSize);
    EXPECT_EQ(l.published_head(), 0u);
    EXPECT_EQ(l.segment_count(), 1u);
    EXPECT_EQ(l.keys_generation(), 0u);
    EXPECT_TRUE(l.clean());
    EXPECT_EQ(l.boot_id(), "");
    // The empty store's state: head 0, the log starts after segment 0's header.
    LogState c, cp;
    ASSERT_TRUE(l.LatestCommit(&c));
    EXPECT_TRUE(Same(c, (LogState{1, 0, 0, format::kSegmentHeaderSize, 0})));
    ASSERT_TRUE(l.LatestCheckpoint(&cp));
    EXPECT_TRUE(Same(cp, (LogState{1, 0, 0, format::kSegmentHeaderSize, 0})));
  }
  uint64_t magic;
  std::memcpy(&magic, ReadBytes(0, 8).data(), 8);
  EXPECT_EQ(magic, kLedgerMagic);
}

TEST_F(LedgerTest, WriteCommitAlternatesSlots) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  LogState prev;
  ASSERT_TRUE(l.LatestCommit(&prev));
  for (uint64_t i = 1; i <= 10; ++i) {
    LogState st = State(i * 10);
    l.WriteCommit(&st);
    EXPECT_EQ(st.seq, prev.seq + 1) << "WriteCommit sets the next sequence number";
    LogState got;
    ASSERT_TRUE(l.LatestCommit(&got));
    EXPECT_TRUE(Same(got, st));
    // The two slots hold this state and the one before, one each.
    LedgerSlot a = ReadSlot(kCommitAt, 0), b = ReadSlot(kCommitAt, 1);
    EXPECT_EQ(std::max(a.seq, b.seq), st.seq);
    EXPECT_EQ(std::min(a.seq, b.seq), prev.seq) << "after commit " << i;
    const LedgerSlot& newer = a.seq > b.seq ? a : b;
    EXPECT_EQ(newer.head, st.head);
    EXPECT_EQ(newer.end_offset, st.end_offset);
    prev = st;
  }
  // Commits do not touch the checkpoint slots.
  LogState cp;
  ASSERT_TRUE(l.LatestCheckpoint(&cp));
  EXPECT_EQ(cp.seq, 1u);
  EXPECT_EQ(cp.head, 0u);
}

TEST_F(LedgerTest, LatestPicksTheHighestValidSequence) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  for (uint64_t base : {kCommitAt, kCheckpointAt}) {
    auto latest = [&](LogState* out) {
      return base == kCommitAt ? l.LatestCommit(out) : l.LatestCheckpoint(out);
    };
    LogState s7 = State(7), s9 = State(9);
    s7.seq = 7;
    s9.seq = 9;
    for (int first : {0, 1}) {
      WriteValidSlot(base, first, s9);
      WriteValidSlot(base, 1 - first, s7);
      LogState got;
      ASSERT_TRUE(latest(&got));
      EXPECT_TRUE(Same(got, s9)) << "seq 9 in slot " << first;
    }
    // A slot with sequence 0 is never valid, even with a good checksum.
    LogState s0 = State(100);
    s0.seq = 0;
    WriteValidSlot(base, 1, s0);  // over seq 9 (slot 1 after the loop)
    LogState got;
    ASSERT_TRUE(latest(&got));
    EXPECT_TRUE(Same(got, s7));
    WriteValidSlot(base, 0, s0);
    EXPECT_FALSE(latest(&got));
    // Very large sequence numbers compare as numbers.
    LogState big = State(5);
    big.seq = UINT64_MAX;
    WriteValidSlot(base, 1, big);
    LogState below = State(6);
    below.seq = UINT64_MAX - 1;
    WriteValidSlot(base, 0, below);
    ASSERT_TRUE(latest(&got));
    EXPECT_TRUE(Same(got, big));
  }
}

TEST_F(LedgerTest, TornCommitSlotFallsBackToTheOther) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  // Including the very first commit after Create: the created state must
  // survive a torn first write.
  for (uint64_t n = 1; n <= 4; ++n) {
    LogState before;
    ASSERT_TRUE(l.LatestCommit(&before));
    // The slot the next commit will overwrite, as it is now.
    LedgerSlot s0 = ReadSlot(kCommitAt, 0), s1 = ReadSlot(kCommitAt, 1);
    LogState st = State(n * 1000);
    l.WriteCommit(&st);
    LedgerSlot n0 = ReadSlot(kCommitAt, 0), n1 = ReadSlot(kCommitAt, 1);
    const int slot = std::memcmp(&s0, &n0, sizeof(s0)) != 0 ? 0 : 1;
    ASSERT_EQ(std::memcmp(slot == 0 ? &s1 : &s0, slot == 0 ? &n1 : &n0, sizeof(LedgerSlot)), 0)
        << "a commit wrote both slots";
    const LedgerSlot& old_bytes = slot == 0 ? s0 : s1;
    const LedgerSlot& new_bytes = slot == 0 ? n0 : n1;
    const uint64_t at = kCommitAt + slot * sizeof(LedgerSlot);

    // Cut at every byte: the first k bytes new, the rest old; and the same
    // with the sequence number zeroed first (as the writer does).
    for (size_t k = 0; k < sizeof(LedgerSlot); ++k) {
      for (bool zeroed : {false, true}) {
        uint8_t torn[sizeof(LedgerSlot)];
        std::memcpy(torn, &old_bytes, sizeof(torn));
        if (zeroed) std::memset(torn, 0, 8);
        std::memcpy(torn, &new_bytes, k);
        if (zeroed && k < 8) std::memset(torn, 0, 8);
        ASSERT_NO_FATAL_FAILURE(WriteBytes(at, torn, sizeof(torn)));
        LogState got;
        ASSERT_TRUE(l.LatestCommit(&got))
            << "commit " << n << " torn at byte " << k << (zeroed ? " (seq zeroed)" : "")
            << ": no valid commit slot left";
        EXPECT_TRUE(Same(got, before))
            << "commit " << n << " torn at byte " << k << (zeroed ? " (seq zeroed)" : "");
      }
    }
    // Every single bit flipped.
    for (size_t i = 0; i < sizeof(LedgerSlot); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        uint8_t flipped[sizeof(LedgerSlot)];
        std::memcpy(flipped, &new_bytes, sizeof(flipped));
        flipped[i] ^= static_cast<uint8_t>(1u << bit);
        ASSERT_NO_FATAL_FAILURE(WriteBytes(at, flipped, sizeof(flipped)));
        LogState got;
        ASSERT_TRUE(l.LatestCommit(&got)) << "commit " << n << " byte " << i << " bit " << bit;
        EXPECT_TRUE(Same(got, before)) << "commit " << n << " byte " << i << " bit " << bit;
      }
    }
    // The whole write lands: the new state.
    ASSERT_NO_FATAL_FAILURE(WriteBytes(at, &new_bytes, sizeof(new_bytes)));
    LogState got;
    ASSERT_TRUE(l.LatestCommit(&got));
    EXPECT_TRUE(Same(got, st));
  }
}

TEST_F(LedgerTest, BothCommitSlotsTornIsNoCommit) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  for (int i = 0; i < 3; ++i) {
    LogState st = State(i + 1);
    l.WriteCommit(&st);
  }
  uint8_t b = ReadBytes(kCommitAt + 8, 1)[0] ^ 0x40;
  WriteBytes(kCommitAt + 8, &b, 1);
  LogState got;
  EXPECT_TRUE(l.LatestCommit(&got));
  b = ReadBytes(kCommitAt + sizeof(LedgerSlot) + 40, 1)[0] ^ 0x01;
  WriteBytes(kCommitAt + sizeof(LedgerSlot) + 40, &b, 1);
  EXPECT_FALSE(l.LatestCommit(&got));
  // The checkpoint slots are separate.
  EXPECT_TRUE(l.LatestCheckpoint(&got));
  // After both are torn, the next commit is valid again.
  LogState st = State(50);
  l.WriteCommit(&st);
  ASSERT_TRUE(l.LatestCommit(&got));
  EXPECT_TRUE(Same(got, st));
}

TEST_F(LedgerTest, CheckpointSlotsAlternateAndFallBack) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  LogState prev;
  ASSERT_TRUE(l.LatestCheckpoint(&prev));
  for (uint64_t n = 1; n <= 5; ++n) {
    LedgerSlot s0 = ReadSlot(kCheckpointAt, 0);
    LogState st = State(n * 7);
    st.seq = 12345;  // ignored: the ledger numbers checkpoints itself
    l.WriteCheckpoint(st);
    LogState got;
    ASSERT_TRUE(l.LatestCheckpoint(&got));
    EXPECT_EQ(got.seq, prev.seq + 1);
    EXPECT_EQ(got.head, st.head);
    EXPECT_EQ(got.segment, st.segment);
    EXPECT_EQ(got.end_offset, st.end_offset);
    EXPECT_EQ(got.last_checksum, st.last_checksum);
    // Tear the slot just written: the previous checkpoint is read.
    LedgerSlot n0 = ReadSlot(kCheckpointAt, 0);
    const int slot = std::memcmp(&s0, &n0, sizeof(s0)) != 0 ? 0 : 1;
    const uint64_t at = kCheckpointAt + slot * sizeof(LedgerSlot);
    LedgerSlot good = ReadSlot(kCheckpointAt, slot);
    for (size_t i = 0; i < sizeof(LedgerSlot); ++i) {
      LedgerSlot bad = good;
      reinterpret_cast<uint8_t*>(&bad)[i] ^= 0x10;
      ASSERT_NO_FATAL_FAILURE(WriteBytes(at, &bad, sizeof(bad)));
      LogState fallback;
      ASSERT_TRUE(l.LatestCheckpoint(&fallback)) << "checkpoint " << n << " byte " << i;
      EXPECT_TRUE(Same(fallback, prev)) << "checkpoint " << n << " byte " << i;
    }
    ASSERT_NO_FATAL_FAILURE(WriteBytes(at, &good, sizeof(good)));
    prev = got;
  }
  // Both torn: none.
  for (int i = 0; i < 2; ++i) {
    uint8_t b = ReadBytes(kCheckpointAt + i * sizeof(LedgerSlot) + 16, 1)[0] ^ 0x80;
    WriteBytes(kCheckpointAt + i * sizeof(LedgerSlot) + 16, &b, 1);
  }
  LogState got;
  EXPECT_FALSE(l.LatestCheckpoint(&got));
  EXPECT_TRUE(l.LatestCommit(&got));  // the commit slots are separate
}

TEST_F(LedgerTest, TornFirstCheckpointAfterCreateFallsBack) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Ledger l;
  ASSERT_TRUE(l.Open(path(), true).ok());
  LogState created;
  ASSERT_TRUE(l.LatestCheckpoint(&created));
  LedgerSlot s0 = ReadSlot(kCheckpointAt, 0);
  l.WriteCheckpoint(State(3));
  LedgerSlot n0 = ReadSlot(kCheckpointAt, 0);
  const int slot = std::memcmp(&s0, &n0, sizeof(s0)) != 0 ? 0 : 1;
  uint64_t zero = 0;  // the writer's first step: invalidate the slot
  WriteBytes(kCheckpointAt + slot * sizeof(LedgerSlot), &zero, 8);
  LogState got;
  ASSERT_TRUE(l.LatestCheckpoint(&got)) << "the created checkpoint was overwritten";
  EXPECT_TRUE(Same(got, created));
}

TEST_F(LedgerTest, HeaderFieldsRoundTripAcrossReopen) {
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  const std::string boot = "6f1c0e2a-93b1-4b7e-8d51-0c9a3f1e2d44";
  LogState committed = State(99), checkpointed = State(42);
  {
    Ledger l;
    ASSERT_TRUE(l.Open(path(), true).ok());
    Ledger reader;  // a second map of the same page sees each store at once
    ASSERT_TRUE(reader.Open(path(), false).ok());
    l.Publish(99);
    EXPECT_EQ(reader.published_head(), 99u);
    l.SetSegmentCount(5);
    EXPECT_EQ(reader.segment_count(), 5u);
    l.SetKeysGeneration(9);
    EXPECT_EQ(reader.keys_generation(), 9u);
    l.SetClean(false);
    EXPECT_FALSE(reader.clean());
    l.SetBootId(boot);
    EXPECT_EQ(reader.boot_id(), boot);
    l.WriteCommit(&committed);
    l.WriteCheckpoint(checkpointed);
    ASSERT_TRUE(l.Sync().ok());
  }
  {
    Ledger l;
    ASSERT_TRUE(l.Open(path(), true).ok());
    EXPECT_EQ(l.published_head(), 99u);
    EXPECT_EQ(l.segment_count(), 5u);
    EXPECT_EQ(l.keys_generation(), 9u);
    EXPECT_FALSE(l.clean());
    EXPECT_EQ(l.boot_id(), boot);
    EXPECT_EQ(l.segment_size(), kSegSize);
    LogState got;
    ASSERT_TRUE(l.LatestCommit(&got));
    EXPECT_TRUE(Same(got, committed));
    ASSERT_TRUE(l.LatestCheckpoint(&got));
    EXPECT_EQ(got.head, checkpointed.head);
    EXPECT_EQ(got.end_offset, checkpointed.end_offset);
    l.SetClean(true);
    l.Publish(UINT64_MAX);
    // A boot id longer than its 63 bytes is cut; a shorter one replaces
    // all of a longer one.
    l.SetBootId(std::string(100, 'b'));
    EXPECT_EQ(l.boot_id(), std::string(63, 'b'));
    l.SetBootId("short");
    EXPECT_EQ(l.boot_id(), "short");
  }
  Ledger l;
  ASSERT_TRUE(l.Open(path(), false).ok());
  EXPECT_TRUE(l.clean());
  EXPECT_EQ(l.published_head(), UINT64_MAX);
  EXPECT_EQ(l.boot_id(), "short");
  // The boot id field ends in a NUL: the 64th byte was never written.
  EXPECT_EQ(ReadBytes(offsetof(LedgerPage, boot_id) + 63, 1)[0], 0);
}

// ---------------------------------------------------------------------------
// Damaged files.

TEST_F(LedgerTest, OpenMissingFile) {
  Ledger l;
  Status s = l.Open(path(), true);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr(path().string()));
}

TEST_F(LedgerTest, OpenShortFileIsCorruption) {
  for (uint64_t size : {uint64_t{0}, uint64_t{8}, uint64_t{256}, kLedgerSize - 1}) {
    ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
    Truncate(size);
    for (bool writable : {true, false}) {
      Ledger l;
      Status s = l.Open(path(), writable);
      EXPECT_TRUE(s.IsCorruption()) << size << ": " << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr(path().string()));
      EXPECT_THAT(s.message(), HasSubstr(std::to_string(size) + " bytes"));
    }
  }
  // Longer than a page is fine (only the page is read).
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  Truncate(2 * kLedgerSize);
  Ledger l;
  EXPECT_TRUE(l.Open(path(), true).ok());
}

TEST_F(LedgerTest, OpenBadMagicIsCorruption) {
  for (size_t byte = 0; byte < 8; ++byte) {
    ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
    uint8_t b = ReadBytes(byte, 1)[0] ^ 0x20;
    WriteBytes(byte, &b, 1);
    for (bool writable : {true, false}) {
      Ledger l;
      Status s = l.Open(path(), writable);
      EXPECT_TRUE(s.IsCorruption()) << "magic byte " << byte << ": " << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr(path().string()));
      EXPECT_THAT(s.message(), HasSubstr("magic"));
    }
  }
  // All zeros (a ledger whose page was never written).
  ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
  std::vector<uint8_t> zeros(kLedgerSize, 0);
  WriteBytes(0, zeros.data(), zeros.size());
  Ledger l;
  EXPECT_TRUE(l.Open(path(), true).IsCorruption());
}

TEST_F(LedgerTest, OpenOtherVersionIsNotSupported) {
  for (uint32_t version : {0u, kLedgerVersion + 1, 0xFFFFFFFFu}) {
    ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
    ASSERT_NO_FATAL_FAILURE(PatchHeader(8, &version, 4));
    Ledger l;
    Status s = l.Open(path(), false);
    EXPECT_TRUE(s.IsNotSupported()) << version << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(path().string()));
    EXPECT_THAT(s.message(), HasSubstr(std::to_string(version)));
  }
}

TEST_F(LedgerTest, OpenImplausibleSegmentSizeIsCorruption) {
  for (uint64_t size :
       {uint64_t{0}, uint64_t{(1 << 20) - 1}, (uint64_t{1} << 40) + 1, UINT64_MAX}) {
    ASSERT_TRUE(Ledger::Create(path(), kSegSize).ok());
    ASSERT_NO_FATAL_FAILURE(PatchHeader(16, &size, 8));
    Ledger l;
    Status s = l.Open(path(), true);
    EXPECT_TRUE(s.IsCorruption()) << size << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(path().string()));
  }
  for (uint64_t size : {uint64_t{1} << 20, uint64_t{1} << 40}) {
    ASSERT_TRUE(Ledger::Create(path(), size).ok());
    Ledger l;
    EXPECT_TRUE(l.Open(path(), true).ok()) << size;
  }
}

}  // namespace
}  // namespace opossum::log
