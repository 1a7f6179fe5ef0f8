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
#include <utility>

#include "core/log.h"
#include "core/output_queue.h"

struct LwsContextCloser {
  void operator()(struct lws_context* c) const { lws_context_destroy(c); }
};

/// Owns an lws context; destroying it runs the CLOSED callbacks of every connection left.
using LwsContextPtr = std::unique_ptr<struct lws_context, LwsContextCloser>;

/// An epoll loop for a server with many connections. libwebsockets' own loop calls poll(2) on
/// every descriptor at each wake-up, so each event costs in proportion to all the connections
/// held, idle ones too; this one (libev, through lws's libev plugin, Debian's
/// libwebsockets-evlib-ev) costs in proportion to the descriptors that are ready.
///
/// lws 4.1.6 arms its libev timer only from its own callbacks: a timer (lws_sul_schedule,
/// LoopTimer, LoopAlarm) set outside them waits for the next event, so whoever sets one there
/// calls lws_cancel_service() after it (Kick()), which makes an event of it.
class EvLoop {
 public:
  EvLoop() = default;
  ~EvLoop();
  EvLoop(const EvLoop&) = delete;
  EvLoop& operator=(const EvLoop&) = delete;

  /// Makes a loop and asks |info| for lws's libev plugin on it. False, with nothing asked, when
  /// libev cannot make one (the default loop then serves).
  bool Attach(struct lws_context_creation_info* info);
  /// The context could not be made on the loop (the plugin is not installed): the loop goes, and
  /// |info| asks for lws's default loop again.
  void Detach(struct lws_context_creation_info* info);
  bool attached() const { return loop_ != nullptr; }
  /// Waits for the next events (ready descriptors, lws's timers, lws_cancel_service()) and runs
  /// their callbacks.
  void RunOnce();
  /// Destroys the loop; the context made on it must be gone.
  void Close();

 private:
  struct ev_loop* loop_ = nullptr;
  void* foreign_[1] = {nullptr};
};

/// A server engine (ws-serve's, twitch-hook's) set up without a listening socket, stdin or state
/// file, for the fuzz harnesses in tests/fuzz: the real callbacks, fed through sockets the harness
/// connects itself. |owner| keeps the engine alive; its context and vhost outlive nothing else.
class ServerHarness {
 public:
  ServerHarness(std::shared_ptr<void> owner, struct lws_context* context, struct lws_vhost* vhost)
      : owner_(std::move(owner)), context_(context), vhost_(vhost) {}
  /// Hands |fd| (one end of a connected socket) to the vhost as an accepted connection; lws owns
  /// it from then on, and closes it even when this fails (false).
  bool Adopt(int fd) { return lws_adopt_socket_vhost(vhost_, fd) != nullptr; }
  /// One round of the loop without waiting: lws_service()'s result.
  int Service() { return lws_service(context_, -1); }

 private:
  std::shared_ptr<void> owner_;
  struct lws_context* context_;
  struct lws_vhost* vhost_;
};

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

/// The callback of LoopStdout's raw file (LoopStdoutProtocol()).
int LoopStdoutCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                       size_t len) noexcept;

/// The entry of a context's protocol list that LoopStdout::Start() adopts fd 1 with: its
/// callback passes WRITEABLE and CLOSE on to the LoopStdout (under GuardCallback).
constexpr struct lws_protocols LoopStdoutProtocol(const char* name) {
  return {name, &LoopStdoutCallback, 0, 0, 0, nullptr, 0};
}

/// Fills the listening part of |info| for a server's vhost: |host| (an address; an IPv4 one gets
/// an IPv4-only vhost, any other is made dual-stack whatever net.ipv6.bindv6only says, because
/// libwebsockets 4.1 reads an IPv4 address given as iface into an IPv6 socket address at the
/// wrong offset and binds the IPv6 wildcard), |port| (0: any free one), the vhost name, and with
/// |tls_cert| TLS 1.2 or later, HTTP/1.1 only (WebSocket over HTTP/2 would skip the upgrade
/// callback that checks tokens and origins). Without |listen| no socket at all (the fuzz
/// harnesses). The protocols and the rest are the caller's.
void SetListenInfo(struct lws_context_creation_info* info, bool listen, const std::string& host,
                   int port, const std::string& tls_cert, const std::string& tls_key);

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
  /// owner calls Flush() there and decides what its result means. |on_gone| runs when lws closed
  /// the raw file because the reader has gone (as EPIPE would say).
  LoopStdout(size_t max_bytes, std::function<void()> on_writable,
             std::function<void()> on_gone = nullptr);
  ~LoopStdout() { Close(); }
  LoopStdout(const LoopStdout&) = delete;
  LoopStdout& operator=(const LoopStdout&) = delete;

  /// Makes fd 1 non-blocking and adopts a duplicate of it into |vhost| as a raw file bound to
  /// |protocol|, an entry made with LoopStdoutProtocol().
  void Start(struct lws_context* context, struct lws_vhost* vhost, const char* protocol);

  OutputQueue& queue() { return queue_; }

  /// Writes what fd 1 takes now (OutputQueue::FlushTo). On kBlocked, |on_writable| runs once
  /// fd 1 may take more.
  OutputQueue::Flush Flush(std::string* err);

  /// No more callbacks, and fd 1's flags put back. Call it before destroying the context, and
  /// before a guard of stdin's flags that was made earlier goes (they may be one description).
  void Close();

 private:
  friend int LoopStdoutCallback(struct lws*, enum lws_callback_reasons, void*, void*,
                                size_t) noexcept;
  static void Retry(lws_sorted_usec_list_t* sul) noexcept;
  void WaitForWritable();
  // LWS_CALLBACK_RAW_WRITEABLE_FILE of the raw file.
  void OnWriteable();
  // LWS_CALLBACK_RAW_CLOSE_FILE of |wsi|, which lws sends on POLLERR/POLLHUP. True when it was
  // ours and the reader has gone; otherwise, if it was ours, fd 1 is written without it from now
  // on and |on_writable| runs.
  bool OnClosed(struct lws* wsi);

  OutputQueue queue_;
  std::function<void()> on_writable_;
  std::function<void()> on_gone_;
  struct lws_context* context_ = nullptr;
  struct lws* wsi_ = nullptr;  // our duplicate of fd 1 in the loop; null: retry by timer
  std::unique_ptr<NonBlockingFd> nonblocking_;
  bool in_writeable_ = false;  // inside the raw file's WRITEABLE callback
  LoopTimer<LoopStdout> retry_{};
};
