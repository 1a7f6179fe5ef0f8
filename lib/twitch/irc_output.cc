// Lines → records → stdout, and the offline --input loop built on it.
#include "twitch/irc_output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
  if (queue_) {
    queue_->Push(line);
    ++written_;
    return Result::kOk;
  }
  switch (WriteAll(line, err, fd_)) {
    case WriteResult::kOk:
      ++written_;
      return Result::kOk;
    case WriteResult::kClosed:
      return Result::kClosed;
    case WriteResult::kBlocked:  // WriteAll() waits EAGAIN out
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

namespace {

// A self-pipe that a stop signal writes to, so that a read waiting on a quiet pipe (tail -f |
// twitch-irc --input -) ends at the first SIGINT/SIGTERM too: SA_RESTART restarts read(2).
class StopPipe {
 public:
  StopPipe() {
    if (pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) fds_[0] = fds_[1] = -1;
    if (fds_[1] >= 0) SetStopWakeup(&StopPipe::Wake, this);
  }
  ~StopPipe() {
    SetStopWakeup(nullptr, nullptr);
    for (int fd : fds_) {
      if (fd >= 0) close(fd);
    }
  }
  StopPipe(const StopPipe&) = delete;
  StopPipe& operator=(const StopPipe&) = delete;

  /// Waits until |fd| is readable (true) or a stop was asked for (false).
  bool WaitReadable(int fd) const {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {fds_[0], POLLIN, 0}};
    for (;;) {
      if (StopRequested()) return false;
      int n = poll(p, fds_[0] >= 0 ? 2 : 1, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return true;  // let read(2) report the problem
      if (p[1].revents != 0 && fds_[0] >= 0) return false;
      return true;
    }
  }

 private:
  static void Wake(void* self) {  // from the signal handler: async-signal-safe only
    int fd = static_cast<StopPipe*>(self)->fds_[1];
    char c = 1;
    ssize_t ignored = write(fd, &c, 1);
    (void)ignored;
  }
  int fds_[2];
};

}  // namespace

int RunIrcInput(int fd, const std::string& name, const IrcMapOptions& opts) {
  // No lws context here, so SIGPIPE is still fatal: make a closed stdout an EPIPE we handle.
  signal(SIGPIPE, SIG_IGN);
  StopPipe stop;
  IrcEventWriter writer(opts, name);
  LineReader reader(kMaxIrcLine);
  IrcMessage msg;
  std::string line, err;
  std::vector<char> buf(1 << 16);
  bool eof = false;
  while (!eof && stop.WaitReadable(fd)) {
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
        case IrcEventWriter::Result::kBlocked:  // not from a blocking write
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
