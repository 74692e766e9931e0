#include "block_parser.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "batch_input.h"
#include "cli_error.h"

namespace opossum::cli {

struct BlockParser::Part {
  std::string_view text;
  uint64_t first_line = 0;
  std::vector<Event> events;
  std::vector<uint64_t> lines;
  std::vector<uint64_t> positions;
  Batch batch;                // when encoding
  uint64_t error_line = 0;    // 0: none
  uint64_t error_column = 0;  // 0: the line is JSON, but not a valid event
  std::string why;
};

namespace {

bool Blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

size_t CountLines(std::string_view s) {
  size_t n = 0;
  for (const char* p = s.data();
       (p = static_cast<const char*>(std::memchr(p, '\n', s.data() + s.size() - p))) != nullptr;
       ++p) {
    ++n;
  }
  return n;
}

}  // namespace

BlockParser::BlockParser(bool with_positions, std::string source)
    : with_positions_(with_positions), source_(std::move(source)) {
  const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  for (unsigned i = 0; i < n; ++i) {
    parsers_.push_back(std::make_unique<EventParser>());
    parts_.push_back(std::make_unique<Part>());
  }
}

BlockParser::~BlockParser() = default;

void BlockParser::Parse(std::string_view block, uint64_t first_line_no, const Sink& sink) {
  Run(block, first_line_no, false);
  for (auto& part : parts_) {
    Part& p = *part;
    for (size_t i = 0; i < p.events.size(); ++i)
      sink(std::move(p.events[i]), p.lines[i], p.positions[i]);
    p.events.clear();
    if (p.error_line != 0) Fail(p);
    if (p.text.data() + p.text.size() == block.data() + block.size()) break;
  }
}

void BlockParser::ParseInto(std::string_view block, uint64_t first_line_no, Batch* out) {
  Run(block, first_line_no, true);
  for (auto& part : parts_) {
    Part& p = *part;
    out->Extend(std::move(p.batch));
    if (p.error_line != 0) Fail(p);
    if (p.text.data() + p.text.size() == block.data() + block.size()) break;
  }
}

void BlockParser::Fail(const Part& p) const {
  std::string where = source_ + " line " + std::to_string(p.error_line);
  if (p.error_column != 0) where += ", column " + std::to_string(p.error_column);
  CliError e = CliError::Invalid(where + ": " + p.why, p.error_line);
  if (p.error_column != 0) e.column = p.error_column;
  throw e;
}

void BlockParser::Run(std::string_view block, uint64_t first_line_no, bool encode) {
  // Cut the block at line ends into one part per thread (small blocks: one).
  const size_t want = block.size() < (size_t{64} << 10) ? 1 : parts_.size();
  size_t used = 0;
  size_t begin = 0;
  uint64_t line = first_line_no;
  for (size_t i = 0; i < want && begin < block.size(); ++i) {
    size_t end = block.size();
    if (i + 1 < want) {
      const size_t target = begin + (block.size() - begin) / (want - i);
      const void* nl = std::memchr(block.data() + target, '\n', block.size() - target);
      end = nl == nullptr ? block.size()
                          : static_cast<size_t>(static_cast<const char*>(nl) - block.data()) + 1;
    }
    Part& p = *parts_[used++];
    p.text = block.substr(begin, end - begin);
    p.first_line = line;
    line += CountLines(p.text);
    begin = end;
  }
  for (size_t k = used; k < parts_.size(); ++k) parts_[k]->text = {};
  auto work = [this, encode](size_t k) {
    Part& p = *parts_[k];
    EventParser& parser = *parsers_[k];
    p.events.clear();
    p.lines.clear();
    p.positions.clear();
    p.batch = Batch();  // a part left over from a failed call starts empty
    p.error_line = 0;
    p.error_column = 0;
    Event reused;
    uint64_t line_no = p.first_line;
    size_t at = 0;
    while (at < p.text.size()) {
      const void* nl = std::memchr(p.text.data() + at, '\n', p.text.size() - at);
      const size_t stop = nl == nullptr
                              ? p.text.size()
                              : static_cast<size_t>(static_cast<const char*>(nl) - p.text.data());
      std::string_view l = p.text.substr(at, stop - at);
      at = stop + 1;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (!Blank(l)) {
        // Encoding copies the event: one object serves every line. Otherwise
        // each event is moved out.
        Event fresh;
        Event& e = encode ? reused : fresh;
        uint64_t position = 0;
        // Every line is followed by readable bytes: its '\n' and the rest of
        // the block, then the reader's padding.
        if (!parser.Parse(l, true, &e, with_positions_ ? &position : nullptr, &p.why)) {
          p.error_line = line_no;
          p.error_column = parser.error_column();
          return;
        }
        if (encode) {
          Status s = p.batch.Add(e);
          if (!s.ok()) {
            p.why = WithoutEventIndex(s);
            p.error_line = line_no;
            return;
          }
        } else {
          p.events.push_back(std::move(e));
          p.lines.push_back(line_no);
          p.positions.push_back(position);
        }
      }
      ++line_no;
    }
  };
  std::vector<std::thread> threads;
  for (size_t k = 1; k < used; ++k) threads.emplace_back(work, k);
  work(0);
  for (auto& t : threads) t.join();
}

}  // namespace opossum::cli
