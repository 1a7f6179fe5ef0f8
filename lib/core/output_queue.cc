// A bounded queue of records in front of a non-blocking descriptor (see output_queue.h). Several
// records go out in one writev(2), so a reader that catches up gets the backlog in few calls.
#include "core/output_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/output.h"

NonBlockingFd::NonBlockingFd(int fd) : fd_(fd), flags_(fcntl(fd, F_GETFL)) {
  if (flags_ != -1 && fcntl(fd, F_SETFL, flags_ | O_NONBLOCK) == -1) flags_ = -1;
}

NonBlockingFd::~NonBlockingFd() {
  if (flags_ != -1) fcntl(fd_, F_SETFL, flags_);
}

void OutputQueue::Push(std::string record) {
  if (record.empty()) return;
  bytes_ += record.size();
  records_.push_back(std::move(record));
}

OutputQueue::Flush OutputQueue::FlushTo(int fd, std::string* err) {
  constexpr size_t kMaxIov = 64;
  struct iovec iov[kMaxIov];
  while (!records_.empty()) {
    size_t count = std::min(kMaxIov, records_.size());
    for (size_t i = 0; i < count; ++i) {
      const std::string& r = records_[i];
      size_t skip = i == 0 ? offset_ : 0;
      iov[i].iov_base = const_cast<char*>(r.data() + skip);
      iov[i].iov_len = r.size() - skip;
    }
    ssize_t n = writev(fd, iov, static_cast<int>(count));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::kBlocked;
      if (errno == EPIPE) {
        *err = "the reader closed the pipe";
        return Flush::kClosed;
      }
      *err = strerror(errno);
      if (fd == 1) NoteStdoutFailed();
      return Flush::kError;
    }
    if (n == 0) {
      *err = "write returned 0";
      if (fd == 1) NoteStdoutFailed();
      return Flush::kError;
    }
    size_t left = static_cast<size_t>(n);
    bytes_ -= left;
    while (left > 0) {
      size_t rest = records_.front().size() - offset_;
      if (left < rest) {
        offset_ += left;
        break;
      }
      left -= rest;
      offset_ = 0;
      records_.pop_front();
    }
  }
  return Flush::kOk;
}
