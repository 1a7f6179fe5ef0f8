// Plumbing that every libwebsockets loop of ws-serve and ws-cat needs: RAII for the context,
// stdin adopted into the loop (and its flags put back), timers that reach a C++ object, and the
// wake-up a stop signal uses.
#pragma once

#include <libwebsockets.h>

#include <exception>
#include <memory>
#include <string>

#include "core/log.h"

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

/// Adopts a duplicate of stdout into |vhost| as a raw file bound to |protocol|, for its
/// WRITEABLE callback only: reading is switched off (so a terminal or a regular file as stdout
/// does not wake the loop). Records are still written to fd 1, the same file description; lws
/// closes the duplicate, never fd 1. Returns null with |err| on failure.
struct lws* AdoptStdout(struct lws_vhost* vhost, const char* protocol, std::string* err);

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
