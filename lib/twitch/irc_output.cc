// Lines → records → stdout, and the offline --input loop built on it.
#include "twitch/irc_output.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>

#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"

IrcEventWriter::Result IrcEventWriter::Write(const json_t* record, std::string* err) {
  text_ = JsonDump(record);
  text_.push_back('\n');
  return Emit(text_, err);
}

IrcEventWriter::Result IrcEventWriter::Emit(const std::string& line, std::string* err) {
  switch (WriteAll(line, err)) {
    case WriteResult::kOk:
      ++written_;
      return Result::kOk;
    case WriteResult::kClosed:
      return Result::kClosed;
    case WriteResult::kError:
      break;
  }
  return Result::kError;
}

IrcEventWriter::Result IrcEventWriter::Handle(std::string_view line, size_t line_no,
                                              IrcMessage* msg, std::string* err) {
  ++lines_;
  std::string why;
  if (!ParseIrcLine(line, msg, &why)) {
    if (line.find_first_not_of(' ') != std::string_view::npos) {
      ++skipped_;
      LogWarning("%s: line %zu: skipped: %s", name_.c_str(), line_no, why.c_str());
    }
    return Result::kOk;
  }
  if (id_capacity_ > 0 && SeenBefore(*msg)) {
    ++repeated_;
    return Result::kOk;
  }
  if (opts_.all) {
    text_.clear();
    AppendIrcRecordJson(*msg, &text_);
    text_.push_back('\n');
    Result r = Emit(text_, err);
    if (r != Result::kOk) return r;
  }
  records_.clear();
  MapIrcMessage(*msg, opts_, &records_);
  for (const JsonPtr& record : records_) {
    Result r = Write(record.get(), err);
    if (r != Result::kOk) return r;
  }
  return Result::kOk;
}

bool IrcEventWriter::SeenBefore(const IrcMessage& msg) {
  const std::string_view* id = msg.FindTag("id");
  if (!id || id->empty()) return false;
  std::string key(*id);
  if (id_set_.count(key)) return true;
  id_set_.insert(key);
  ids_.push_back(std::move(key));
  if (ids_.size() > id_capacity_) {
    id_set_.erase(ids_.front());
    ids_.pop_front();
  }
  return false;
}

int RunIrcInput(int fd, const std::string& name, const IrcMapOptions& opts) {
  // No lws context here, so SIGPIPE is still fatal: make a closed stdout an EPIPE we handle.
  signal(SIGPIPE, SIG_IGN);
  IrcEventWriter writer(opts, name);
  LineReader reader(kMaxIrcLine);
  IrcMessage msg;
  std::string line, err;
  std::vector<char> buf(1 << 16);
  bool eof = false;
  while (!eof && !StopRequested()) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      LogError("%s: read failed: %s", name.c_str(), strerror(errno));
      return kExitFailure;
    }
    if (n == 0) {
      eof = true;
      reader.Finish();
    } else {
      reader.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    for (;;) {
      LineReader::Status st = reader.Next(&line);
      if (st == LineReader::Status::kNone) break;
      if (st == LineReader::Status::kTooLong) {
        LogWarning("%s: line %zu: skipped: longer than %zu bytes", name.c_str(),
                   reader.line_number(), kMaxIrcLine);
        continue;
      }
      switch (writer.Handle(line, reader.line_number(), &msg, &err)) {
        case IrcEventWriter::Result::kOk:
          break;
        case IrcEventWriter::Result::kClosed:
          LogDebug("standard output: %s", err.c_str());
          return kExitOk;
        case IrcEventWriter::Result::kError:
          LogError("standard output: %s", err.c_str());
          return kExitFailure;
      }
    }
  }
  if (writer.skipped() > 0) {
    LogWarning("%s: %zu of %zu lines skipped", name.c_str(), writer.skipped(), writer.lines());
  }
  LogDebug("%s: %zu lines, %zu records written", name.c_str(), writer.lines(), writer.written());
  return kExitOk;
}
