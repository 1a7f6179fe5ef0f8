// Plumbing that the libwebsockets loops of ws-serve, ws-cat and twitch-irc need: RAII for the
// context, stdin adopted into the loop (and its flags put back), stdout written from the loop
// without waiting for its reader, timers that reach a C++ object, and the wake-up a stop signal
// uses.
#pragma once

#include <libwebsockets.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "core/log.h"
#include "core/output_queue.h"

struct LwsContextCloser {
  void operator()(struct lws_context* c) const { lws_context_destroy(c); }
};

/// Owns an lws context; destroying it runs the CLOSED callbacks of every connection left.
using LwsContextPtr = std::unique_ptr<struct lws_context, LwsContextCloser>;

/// Puts stdin's file status flags back when destroyed: adopting stdin set O_NONBLOCK on a file
/// description that the rest of the pipeline (or the terminal) shares.
class StdinFlagsRestorer {
 public:
  StdinFlagsRestorer();
  ~StdinFlagsRestorer();
  StdinFlagsRestorer(const StdinFlagsRestorer&) = delete;
  StdinFlagsRestorer& operator=(const StdinFlagsRestorer&) = delete;

 private:
  int flags_;
};

/// Adopts a duplicate of stdin into |vhost| as a raw file bound to |protocol| (lws closes the
/// duplicate, never fd 0). Returns null with |err| on failure.
struct lws* AdoptStdin(struct lws_vhost* vhost, const char* protocol, std::string* err);

/// Reads what is left in stdin once lws has closed our duplicate of it on a hang-up (lws 4.1
/// closes a raw file on POLLHUP even when data is still buffered in the pipe). The writer is
/// gone by then, so this is at most a pipe buffer. Stops at end of input or when nothing more
/// is there.
std::string ReadRestOfStdin();

/// A timer lws can hold that leads back to |owner|: the sul comes first, so the sul pointer an
/// lws timer callback receives is a pointer to the LoopTimer.
template <typename T>
struct LoopTimer {
  lws_sorted_usec_list_t sul;
  T* owner;
  static T* OwnerOf(lws_sorted_usec_list_t* s) { return reinterpret_cast<LoopTimer*>(s)->owner; }
};

/// A timer on an lws loop that runs a function, under GuardCallback like every other C callback.
/// It must not move while scheduled (lws holds its address); destroying it cancels it, and so does
/// Cancel(), which must come before its context is destroyed.
class LoopAlarm {
 public:
  explicit LoopAlarm(std::function<void()> fn = nullptr) : fn_(std::move(fn)) { sul_.self = this; }
  ~LoopAlarm() { Cancel(); }
  LoopAlarm(const LoopAlarm&) = delete;
  LoopAlarm& operator=(const LoopAlarm&) = delete;

  /// What runs when the alarm is due.
  void Set(std::function<void()> fn) { fn_ = std::move(fn); }
  /// (Re)schedules the alarm on |context|, due in |ms| (0: at the next turn of the loop).
  void After(struct lws_context* context, int64_t ms);
  void Cancel();
  bool pending() const { return context_ != nullptr; }

 private:
  struct Sul {  // standard layout: the sul lws hands back leads to |self|
    lws_sorted_usec_list_t sul;
    LoopAlarm* self;
  };
  static void Due(lws_sorted_usec_list_t* sul) noexcept;

  Sul sul_{};
  std::function<void()> fn_;
  struct lws_context* context_ = nullptr;  // while scheduled
};

/// Routes libwebsockets' own log lines into core/log.h's logger, repeats rate-limited: errors
/// (as warnings: mostly per-connection events that we handle and report ourselves) always, its
/// warnings with -v, its notices with -vv.
void LogRouteLibwebsockets();

/// Makes a stop signal wake lws_service() of |context| (SetStopWakeup); clears it when destroyed.
class StopWakeup {
 public:
  explicit StopWakeup(struct lws_context* context);
  ~StopWakeup();
  StopWakeup(const StopWakeup&) = delete;
  StopWakeup& operator=(const StopWakeup&) = delete;
};

/// Reads what stdin has into |buf| (up to |size| bytes). Returns the byte count, 0 at end of
/// input, -1 when nothing is there now (EAGAIN), or -2 with |err| on a read error.
long ReadStdinChunk(struct lws* wsi, char* buf, size_t size, std::string* err);

/// Runs |f| inside a C callback, which must not throw: an exception is logged and becomes -1,
/// which closes the connection at hand.
template <typename F>
int GuardCallback(F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    LogError("internal error: %s", e.what());
  } catch (...) {
    LogError("internal error");
  }
  return -1;
}

/// Standard output written from an lws loop without waiting for its reader. Records wait in an
/// OutputQueue and go to fd 1, non-blocking from Start() to Close() (its flags are put back). A
/// duplicate of fd 1 sits in the loop as a raw file, for its WRITEABLE callback only (reading is
/// switched off, so a terminal or a regular file as stdout does not wake the loop); lws closes
/// the duplicate, never fd 1. lws 4.1 clears a raw file's POLLOUT after its WRITEABLE callback
/// has run, so a wait asked for inside that callback goes through a timer due at once. Without
/// the raw file (adopting it failed, or lws closed it) a blocked write is tried again every few
/// milliseconds.
class LoopStdout {
 public:
  /// |max_bytes| is the bound of queue().Full(). |on_writable| runs when fd 1 may take more: the
  /// owner calls Flush() there and decides what its result means.
  LoopStdout(size_t max_bytes, std::function<void()> on_writable);
  ~LoopStdout() { Close(); }
  LoopStdout(const LoopStdout&) = delete;
  LoopStdout& operator=(const LoopStdout&) = delete;

  /// Makes fd 1 non-blocking and adopts a duplicate of it into |vhost| as a raw file bound to
  /// |protocol|, whose callback passes WRITEABLE and CLOSE on to OnWriteable() and OnClosed().
  void Start(struct lws_context* context, struct lws_vhost* vhost, const char* protocol);

  OutputQueue& queue() { return queue_; }

  /// Writes what fd 1 takes now (OutputQueue::FlushTo). On kBlocked, |on_writable| runs once
  /// fd 1 may take more.
  OutputQueue::Flush Flush(std::string* err);

  /// LWS_CALLBACK_RAW_WRITEABLE_FILE of the raw file.
  void OnWriteable();

  /// LWS_CALLBACK_RAW_CLOSE_FILE of |wsi|, which lws sends on POLLERR/POLLHUP. True when it was
  /// ours and the reader has gone (as EPIPE would say); otherwise, if it was ours, fd 1 is
  /// written without it from now on and |on_writable| runs.
  bool OnClosed(struct lws* wsi);

  /// No more callbacks, and fd 1's flags put back. Call it before destroying the context, and
  /// before a guard of stdin's flags that was made earlier goes (they may be one description).
  void Close();

 private:
  static void Retry(lws_sorted_usec_list_t* sul) noexcept;
  void WaitForWritable();

  OutputQueue queue_;
  std::function<void()> on_writable_;
  struct lws_context* context_ = nullptr;
  struct lws* wsi_ = nullptr;  // our duplicate of fd 1 in the loop; null: retry by timer
  std::unique_ptr<NonBlockingFd> nonblocking_;
  bool in_writeable_ = false;  // inside the raw file's WRITEABLE callback
  LoopTimer<LoopStdout> retry_{};
};
