// Unit tests of log::LogWalker (engine/src/log/log_walker.h), the walk
// behind recovery, index rebuilds and Verify: batches written into segment
// files by hand are stepped through in order, from the empty log or from any
// state in the middle, across a segment boundary, with each step's batch,
// record offsets and the state after it; the walk ends at zeros, at a next
// segment that does not continue the log, and stops at a damaged batch, a
// broken checksum chain (and, when deep, a record that is not a well-formed
// event table), saying why and where; a segment it does not know is missing.
#include "log/log_walker.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "format/encoded_batch.h"
#include "format/layout.h"
#include "log/ledger.h"
#include "log/segments.h"
#include "test_util.h"

namespace opossum::log {
namespace {

namespace fs = std::filesystem;
using format::kSegmentHeaderSize;
using opossum::testing::TempDir;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr uint64_t kSize = 1 << 20;

// A batch as written: where, and what the walker should report for it.
struct Written {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t first = 0;
  uint32_t count = 0;
  uint64_t length = 0;
  uint64_t checksum = 0;
  std::vector<uint64_t> record_offsets;  // within the segment
};

Event Ev(uint64_t i) {
  Event e;
  e.type = i % 2 == 0 ? "Ordered" : "Shipped";
  e.tags = {Tag("order", std::to_string(i))};
  e.data = "{\"n\":" + std::to_string(i) + "}";
  e.data_is_json = true;
  return e;
}

class LogWalkerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(set_.Open(tmp_.path()).ok()); }

  void CreateSegment(uint64_t ordinal, uint64_t first_position) {
    Status s = set_.Create(ordinal, first_position, kSize);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Writes a batch of `count` events at (segment, offset), its first
  // position `first`, chained to `prev`. `tamper` may change the encoded
  // bytes before they are sealed (checksums then cover the change).
  Written WriteBatch(uint64_t segment, uint64_t offset, uint64_t first, uint64_t prev,
                     uint32_t count,
                     const std::function<void(format::EncodedBatch&)>& tamper = {}) {
    format::EncodedBatch b;
    for (uint32_t i = 0; i < count; ++i) {
      Status s = b.Add(Ev(first + i));
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    if (tamper) tamper(b);
    Written w;
    w.segment = segment;
    w.offset = offset;
    w.first = first;
    w.count = count;
    w.length = b.length();
    w.checksum = b.Seal(first, 1700000000000000000, prev);
    for (size_t i = 0; i < b.size(); ++i) w.record_offsets.push_back(offset + b.record_offset(i));
    io::File f;
    Status s = set_.OpenForWrite(segment, &f);
    EXPECT_TRUE(s.ok()) << s.ToString();
    uint64_t at = offset;
    for (size_t k = 0; k < b.piece_count(); ++k) {
      s = f.PWrite(b.piece_data(k), b.piece_size(k), at);
      EXPECT_TRUE(s.ok()) << s.ToString();
      at += b.piece_size(k);
    }
    EXPECT_EQ(at, offset + w.length);
    return w;
  }

  // Writes `batches` batches of 1, 2, 3, ... events one after the other in
  // segment 0 from the empty log.
  std::vector<Written> WriteChain(int batches) {
    std::vector<Written> out;
    uint64_t offset = kSegmentHeaderSize, first = 1, prev = 0;
    for (int i = 0; i < batches; ++i) {
      out.push_back(WriteBatch(0, offset, first, prev, static_cast<uint32_t>(i + 1)));
      offset += out.back().length;
      first += out.back().count;
      prev = out.back().checksum;
    }
    return out;
  }

  void FlipByte(uint64_t segment, uint64_t offset) {
    const Segment* seg = set_.Get(segment);
    ASSERT_NE(seg, nullptr);
    uint8_t byte = seg->data()[offset] ^ 0x40;
    int fd = ::open(seg->path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(offset)), 1);
    ::close(fd);
  }

  // After a kBatch step: the batch and the state after it.
  static void ExpectBatch(const LogWalker& w, const Written& b) {
    EXPECT_EQ(w.info().count, b.count);
    EXPECT_EQ(w.info().first_position, b.first);
    EXPECT_EQ(w.info().length, b.length);
    EXPECT_EQ(w.info().checksum, b.checksum);
    EXPECT_EQ(w.batch_segment(), b.segment);
    EXPECT_THAT(w.offsets(), ElementsAreArray(b.record_offsets));
    ExpectStateAfter(w, b);
  }
  // The walker's state is just past batch `b`.
  static void ExpectStateAfter(const LogWalker& w, const Written& b) {
    EXPECT_EQ(w.state().head, b.first + b.count - 1);
    EXPECT_EQ(w.state().segment, b.segment);
    EXPECT_EQ(w.state().end_offset, b.offset + b.length);
    EXPECT_EQ(w.state().last_checksum, b.checksum);
  }

  TempDir tmp_;
  SegmentSet set_;
};

TEST_F(LogWalkerTest, AnEmptyLogEndsAtOnce) {
  CreateSegment(0, 1);
  LogWalker w(&set_, EmptyLogState(), /*deep=*/true);
  EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
  EXPECT_EQ(w.state(), EmptyLogState());
  EXPECT_EQ(w.segment(), set_.Get(0));
}

TEST_F(LogWalkerTest, AnUnknownSegmentIsMissing) {
  LogWalker w(&set_, EmptyLogState(), false);
  EXPECT_EQ(w.Next(), LogWalker::Step::kMissing);
  EXPECT_EQ(w.segment(), nullptr);
  EXPECT_EQ(w.state(), EmptyLogState());
}

TEST_F(LogWalkerTest, BatchesComeInOrderWithTheirRecordsAndState) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(4);
  for (bool deep : {false, true}) {
    SCOPED_TRACE(deep ? "deep" : "shallow");
    LogWalker w(&set_, EmptyLogState(), deep);
    for (const Written& b : chain) {
      ASSERT_EQ(w.Next(), LogWalker::Step::kBatch) << w.why() << " at " << w.Where();
      ExpectBatch(w, b);
    }
    EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
    EXPECT_EQ(w.state().head, 10u);  // 1 + 2 + 3 + 4 events
    // The end leaves the state after the last batch.
    ExpectStateAfter(w, chain.back());
  }
}

TEST_F(LogWalkerTest, AWalkStartsFromAnyStateInTheMiddle) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(5);
  LogState mid{7, chain[1].first + chain[1].count - 1, 0, chain[1].offset + chain[1].length,
               chain[1].checksum};
  LogWalker w(&set_, mid, false);
  for (size_t i = 2; i < chain.size(); ++i) {
    ASSERT_EQ(w.Next(), LogWalker::Step::kBatch) << w.why();
    ExpectBatch(w, chain[i]);
  }
  EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
  EXPECT_EQ(w.state().seq, 7u);  // the slot's sequence is not the walker's
}

TEST_F(LogWalkerTest, AStartWithTheWrongChainSeedStopsAtTheFirstBatch) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(2);
  LogState start = EmptyLogState();
  start.last_checksum = 12345;
  LogWalker w(&set_, start, false);
  ASSERT_EQ(w.Next(), LogWalker::Step::kInvalid);
  EXPECT_EQ(w.why(), format::kChainMismatch);
  EXPECT_EQ(w.state(), start);
}

TEST_F(LogWalkerTest, TheWalkCrossesIntoTheNextSegment) {
  CreateSegment(0, 1);
  std::vector<Written> chain = WriteChain(2);  // positions 1..3
  CreateSegment(1, 4);
  chain.push_back(WriteBatch(1, kSegmentHeaderSize, 4, chain.back().checksum, 5));
  chain.push_back(
      WriteBatch(1, kSegmentHeaderSize + chain.back().length, 9, chain.back().checksum, 1));
  LogWalker w(&set_, EmptyLogState(), true);
  for (const Written& b : chain) {
    ASSERT_EQ(w.Next(), LogWalker::Step::kBatch) << w.why() << " at " << w.Where();
    ExpectBatch(w, b);
  }
  EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
  EXPECT_EQ(w.state().segment, 1u);
  EXPECT_EQ(w.segment(), set_.Get(1));
}

TEST_F(LogWalkerTest, ANextSegmentThatDoesNotContinueTheLogIsItsEnd) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(2);  // positions 1..3
  // A segment for position 10 (not 4), holding a valid batch for it.
  CreateSegment(1, 10);
  WriteBatch(1, kSegmentHeaderSize, 10, chain.back().checksum, 1);
  LogWalker w(&set_, EmptyLogState(), false);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
  ExpectStateAfter(w, chain.back());
}

TEST_F(LogWalkerTest, AnEmptyNextSegmentIsTheEnd) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(2);  // positions 1..3
  CreateSegment(1, 4);                               // continues the log, holds nothing yet
  LogWalker w(&set_, EmptyLogState(), true);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  EXPECT_EQ(w.Next(), LogWalker::Step::kEnd);
  ExpectStateAfter(w, chain.back());
  EXPECT_EQ(w.state().segment, 0u);
}

TEST_F(LogWalkerTest, ADamagedBatchStopsTheWalkSayingWhereAndWhy) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(3);
  // A byte inside the second batch's last record.
  FlipByte(0, chain[1].record_offsets.back() + format::kRecordHeaderSize + 2);
  LogWalker w(&set_, EmptyLogState(), false);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(w.Next(), LogWalker::Step::kInvalid);
  EXPECT_FALSE(w.why().empty());
  EXPECT_EQ(w.where_segment(), 0u);
  EXPECT_EQ(w.Where(),
            "segment " + set_.Get(0)->path.string() + " offset " + std::to_string(chain[1].offset));
  // The state stays after the last good batch.
  ExpectStateAfter(w, chain[0]);
}

TEST_F(LogWalkerTest, ABatchOutOfPlaceInTheChainIsInvalid) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(1);
  // A whole batch for the right positions, chained to the wrong checksum.
  WriteBatch(0, chain[0].offset + chain[0].length, 2, chain[0].checksum ^ 1, 2);
  LogWalker w(&set_, EmptyLogState(), false);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(w.Next(), LogWalker::Step::kInvalid);
  EXPECT_EQ(w.why(), format::kChainMismatch);
  ExpectStateAfter(w, chain[0]);
}

TEST_F(LogWalkerTest, DamageAtTheStartOfTheNextSegmentIsReportedThere) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(1);
  CreateSegment(1, 2);
  const Written next = WriteBatch(1, kSegmentHeaderSize, 2, chain[0].checksum, 3);
  FlipByte(1, next.record_offsets[0] + format::kRecordHeaderSize + 1);
  LogWalker w(&set_, EmptyLogState(), false);
  ASSERT_EQ(w.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(w.Next(), LogWalker::Step::kInvalid);
  EXPECT_EQ(w.where_segment(), 1u);
  EXPECT_EQ(w.Where(), "segment " + set_.Get(1)->path.string() + " offset " +
                           std::to_string(kSegmentHeaderSize));
  // Still in the first segment, after its batch.
  ExpectStateAfter(w, chain[0]);
}

TEST_F(LogWalkerTest, OnlyADeepWalkChecksTheEventTables) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(1);
  // The second batch's second record: its FlatBuffers root offset points far
  // outside the record, under valid checksums.
  WriteBatch(
      0, chain[0].offset + chain[0].length, 2, chain[0].checksum, 3, [](format::EncodedBatch& b) {
        ASSERT_EQ(b.piece_count(), 1u);
        auto* root =
            const_cast<uint8_t*>(b.piece_data(0) + b.record_offset(1) + format::kRecordHeaderSize);
        const uint32_t far = 0x7FFFFFF0;
        std::memcpy(root, &far, 4);
      });
  LogWalker shallow(&set_, EmptyLogState(), false);
  ASSERT_EQ(shallow.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(shallow.Next(), LogWalker::Step::kBatch) << shallow.why();
  EXPECT_EQ(shallow.Next(), LogWalker::Step::kEnd);

  LogWalker deep(&set_, EmptyLogState(), true);
  ASSERT_EQ(deep.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(deep.Next(), LogWalker::Step::kInvalid);
  EXPECT_THAT(deep.why(), HasSubstr("position 3"));
  EXPECT_THAT(deep.why(), HasSubstr("not a well-formed event table"));
  ExpectStateAfter(deep, chain[0]);
}

TEST_F(LogWalkerTest, SegmentsCreatedLaterAreWalkedOnceKnown) {
  CreateSegment(0, 1);
  const std::vector<Written> chain = WriteChain(1);
  // Another set (another process) adds the next segment.
  {
    SegmentSet other;
    ASSERT_TRUE(other.Open(tmp_.path()).ok());
    ASSERT_TRUE(other.Create(1, 2, kSize).ok());
  }
  LogWalker before(&set_, EmptyLogState(), false);
  ASSERT_EQ(before.Next(), LogWalker::Step::kBatch);
  EXPECT_EQ(before.Next(), LogWalker::Step::kEnd);  // segment 1 not known yet
  ASSERT_TRUE(set_.Refresh().ok());
  const Written next = WriteBatch(1, kSegmentHeaderSize, 2, chain[0].checksum, 2);
  LogWalker after(&set_, EmptyLogState(), false);
  ASSERT_EQ(after.Next(), LogWalker::Step::kBatch);
  ASSERT_EQ(after.Next(), LogWalker::Step::kBatch) << after.why();
  ExpectBatch(after, next);
}

}  // namespace
}  // namespace opossum::log
