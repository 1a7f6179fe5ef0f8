// libFuzzer target for NDJSON line reading and schema validation, the path every stage's stdin
// takes: the first byte picks the line limit and the read size, the rest is fed in reads of that
// size, and every line is parsed and validated as an event. Invariants: no crash; a line has no
// '\n', ends in no '\r' that came before one, and fits the limit; a too-long line's head is at most
// 64 bytes; line numbers only grow; the bytes held stay within the limit plus one read; the lines
// and skipped lines together account for every '\n' of the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool init = [] {
    LogInit("line_reader_fuzz");
    LogSetLevel(LogLevel::kError);
    return true;
  }();
  (void)init;
  if (size == 0) return 0;
  const size_t max_line = 1 + (data[0] & 0x0f) * 64;  // 1 .. 961 bytes
  const size_t chunk = 1 + (data[0] >> 4) * 37;       // 1 .. 556 bytes
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  LineReader reader(max_line);
  size_t seen = 0, last_number = 0;
  std::string line, err;
  auto drain = [&] {
    for (;;) {
      LineReader::Status s = reader.Next(&line);
      if (s == LineReader::Status::kNone) break;
      if (reader.line_number() <= last_number) abort();
      last_number = reader.line_number();
      ++seen;
      if (line.find('\n') != std::string::npos) abort();
      if (s == LineReader::Status::kTooLong) {
        if (line.size() > 64) abort();
        continue;
      }
      if (line.size() > max_line) abort();
      if (JsonPtr event = JsonParse(line, &err)) (void)ValidateEvent(event.get(), &err);
    }
  };
  for (size_t off = 0; off < input.size(); off += chunk) {
    reader.Feed(input.substr(off, chunk));
    drain();
    if (reader.buffered() > max_line + 1 + chunk) abort();
  }
  reader.Finish();
  drain();
  size_t newlines = 0;
  for (char c : input) newlines += c == '\n';
  const bool unterminated = !input.empty() && input.back() != '\n';
  if (seen != newlines + (unterminated ? 1 : 0) || last_number != seen) abort();
  return 0;
}
