// Checked record writes. stdio is not used for data: a record goes out whole with write(2), so
// nothing sits in a buffer when the next stage is waiting for it.
#include "core/output.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

namespace {
bool g_stdout_failed = false;
}

void NoteStdoutFailed() { g_stdout_failed = true; }

WriteResult WriteAll(std::string_view data, std::string* err, int fd) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Another stage made the shared file description non-blocking: wait until it drains.
      struct pollfd pfd = {fd, POLLOUT, 0};
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
        *err = std::string("poll: ") + strerror(errno);
        return WriteResult::kError;
      }
      continue;
    }
    if (n < 0 && errno == EPIPE) {
      *err = "the reader closed the pipe";
      return WriteResult::kClosed;
    }
    *err = n < 0 ? strerror(errno) : "write returned 0";
    if (fd == 1) g_stdout_failed = true;
    return WriteResult::kError;
  }
  return WriteResult::kOk;
}

WriteResult WriteLine(std::string_view record, std::string* err, int fd) {
  std::string line;
  line.reserve(record.size() + 1);
  line.append(record);
  line.push_back('\n');
  return WriteAll(line, err, fd);
}

bool CheckStdoutAtExit(std::string* err) {
  if (g_stdout_failed) {
    *err = "standard output: an earlier write failed";
    return false;
  }
  if (close(1) != 0 && errno != EBADF && errno != EPIPE && errno != EINTR) {
    *err = std::string("standard output: ") + strerror(errno);
    return false;
  }
  return true;
}
