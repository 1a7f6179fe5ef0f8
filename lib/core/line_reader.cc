// Line splitting with a hard bound on what is buffered for one line.
#include "core/line_reader.h"

#include <algorithm>

LineReader::LineReader(size_t max_line) : max_line_(max_line) {}

void LineReader::Feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void LineReader::Finish() { finished_ = true; }

LineReader::Status LineReader::Next(std::string* line) {
  for (;;) {
    size_t nl = buf_.find('\n', pos_);
    if (discarding_) {
      if (nl == std::string::npos) {
        // Still inside the over-long line: drop what we have, keep nothing.
        buf_.clear();
        pos_ = 0;
        if (!finished_) return Status::kNone;
      } else {
        pos_ = nl + 1;
      }
      discarding_ = false;
      ++line_number_;
      *line = discarded_head_;
      discarded_head_.clear();
      return Status::kTooLong;
    }
    size_t end = nl == std::string::npos ? buf_.size() : nl;
    size_t len = end - pos_;
    if (nl != std::string::npos && len > 0 && buf_[end - 1] == '\r') --len;
    if (len > max_line_ || (nl == std::string::npos && end - pos_ > max_line_ + 1)) {
      discarded_head_ = buf_.substr(pos_, std::min<size_t>(64, end - pos_));
      discarding_ = true;
      continue;
    }
    if (nl == std::string::npos) {
      if (finished_ && pos_ < buf_.size()) {
        line->assign(buf_, pos_, len);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        pos_ = buf_.size();
        ++line_number_;
        return Status::kLine;
      }
      return Status::kNone;
    }
    line->assign(buf_, pos_, len);
    pos_ = nl + 1;
    ++line_number_;
    return Status::kLine;
  }
}
