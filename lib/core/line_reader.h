// Splits a byte stream into lines ('\n', with an optional '\r' before it removed), with a maximum
// line length: a longer line is reported and skipped as a whole, never split or truncated.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

class LineReader {
 public:
  /// |max_line| is the longest line, in bytes without its terminator, that Next() returns.
  explicit LineReader(size_t max_line);

  /// Appends bytes read from the input.
  void Feed(std::string_view bytes);

  /// Marks end of input: a last line without '\n' is then returned by Next().
  void Finish();

  enum class Status {
    kLine,     ///< |line| holds the next line
    kTooLong,  ///< a line longer than max_line was skipped; |line| holds its first 64 bytes
    kNone,     ///< no complete line is buffered (feed more, or input is finished)
  };

  /// Takes the next complete line. Lines are numbered from 1 in line_number().
  Status Next(std::string* line);

  /// The number of the line Next() returned last (1-based, counting skipped lines).
  size_t line_number() const { return line_number_; }

  /// Bytes held that are not yet a complete line (bounded by max_line + one read).
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;
  bool finished_ = false;
  bool discarding_ = false;  // inside a too-long line, skipping to its '\n'
  std::string discarded_head_;
  size_t line_number_ = 0;
};
