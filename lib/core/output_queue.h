// Writing records to a slow reader without waiting for it: a bounded queue of whole records that
// is written to a non-blocking descriptor as far as the reader takes it, a partial write going on
// where it stopped, and a guard that makes a descriptor non-blocking and puts its flags back. An
// event loop pushes records as they come, calls Flush() now and whenever the descriptor is
// writable again, and stops reading its own input while Full().
#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "core/output.h"

/// Sets O_NONBLOCK on |fd| and restores the file status flags it had when destroyed. The flags
/// belong to the file description, which the rest of a pipeline (or the terminal) shares, so they
/// must go back as they were.
class NonBlockingFd {
 public:
  explicit NonBlockingFd(int fd);
  ~NonBlockingFd();
  NonBlockingFd(const NonBlockingFd&) = delete;
  NonBlockingFd& operator=(const NonBlockingFd&) = delete;

  /// False when the flags could not be read or set (|fd| not open): the descriptor is unchanged.
  bool ok() const { return flags_ != -1; }

 private:
  int fd_;
  int flags_;  // as found; -1: untouched
};

/// Whole records waiting for a descriptor, oldest first. Records are written in order and never
/// interleave: the next one starts only when the one before it is out entirely.
class OutputQueue {
 public:
  /// |max_bytes|: the bound that Full() reports against (the queue itself takes any amount).
  explicit OutputQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  /// kOk: everything is written; kBlocked: the descriptor takes no more now
  /// (EAGAIN), flush again when it is writable; kClosed: the reader went away (EPIPE); kError:
  /// another write error, |err| says which.
  using Flush = WriteResult;

  /// Appends |record| (a whole line, its '\n' included) behind the others.
  void Push(std::string record);

  /// Writes queued records to |fd| until it is drained or would block. A record cut by a
  /// partial write goes on from its first unwritten byte next time. Fills |err| on kClosed and
  /// kError; the records not written stay queued.
  Flush FlushTo(int fd, std::string* err);

  /// Bytes queued and not yet written (the unwritten rest of a partly written record included).
  size_t bytes() const { return bytes_; }
  size_t records() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  size_t max_bytes() const { return max_bytes_; }

  /// More than the bound is queued: the producer should stop until Drained().
  bool Full() const { return bytes_ > max_bytes_; }

  /// No more than half the bound is queued: a producer that stopped at Full() may go on.
  bool Drained() const { return bytes_ <= max_bytes_ / 2; }

 private:
  size_t max_bytes_;
  std::deque<std::string> records_;
  size_t offset_ = 0;  // bytes of records_.front() already written
  size_t bytes_ = 0;
};
