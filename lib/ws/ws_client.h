// The one WebSocket client connection that every listener (ws-cat, twitch-irc, and the EventSub
// and PubSub commands to come) uses, so that each keeps only its own protocol. It owns one
// libwebsockets loop and in it: the URL and TLS (certificate failures are fatal, with the
// reason), connecting and reconnecting with the project's backoff (core/backoff.h), handshake
// headers, an outbox per connection written one message per WRITEABLE, text messages
// reassembled up to a size cap, a watchdog per connection, make-before-break over two
// connections (IRC RECONNECT, EventSub session_reconnect) with a storm of such requests followed
// with backoff, stdin adopted as a raw file when asked, and standard output through LoopStdout:
// over its bound every connection stops being read at the end of the message at hand (the
// lws 4.1 spin) until it has drained to half. The listener hears of opened, message, closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/backoff.h"
#include "core/tls_options.h"
#include "ws/address.h"
#include "ws/closing.h"
#include "ws/loop.h"
#include "ws/reassembly.h"

/// What one connection ended with, for the listener's OnClosed().
struct WsCloseInfo {
  bool opened = false;       ///< the handshake had completed
  int close_code = 0;        ///< from the server's close frame; 0: none came
  std::string close_reason;  ///< from the server's close frame
  std::string error;         ///< why it failed or was cut ("nothing received for 5s", lws' text)
  int http_status = 0;       ///< of a refused handshake (401, 403, ...)
  std::string tls_error;     ///< the server's certificate was refused: why (fatal)
};

/// The protocol side of a WebSocket client. Connections are named by a slot, 0 or 1 (two exist
/// at once only during a handover), or up to WsClientOptions::slots; every call comes from the
/// loop.
class WsClientListener {
 public:
  virtual ~WsClientListener() = default;
  /// Connection |slot| finished its handshake.
  virtual void OnOpened(int slot) = 0;
  /// A whole text message came on |slot| (binary and over-long ones are skipped with a warning).
  virtual void OnMessage(int slot, std::string_view text) = 0;
  /// Connection |slot| is gone, or never opened. (A server certificate that does not verify is
  /// not reported here: it ends the client with status 1.) Return true to connect again after a
  /// backoff delay (nothing more happens while a connection is already on its way).
  virtual bool OnClosed(int slot, const WsCloseInfo& info) = 0;
  /// The watchdog of |slot| (Watch()) expired; the connection is cut after this returns.
  virtual void OnWatchdog(int /*slot*/) {}
  /// What the client's own log lines about |slot| start with: "" (the default), or for a listener
  /// that keeps several connections apart the one it is ("connection 2/3: ").
  virtual std::string LogPrefix(int /*slot*/) { return {}; }
  /// A message queued with Send() went out on |slot|; |left| more wait.
  virtual void OnSent(int /*slot*/, size_t /*left*/) {}
  /// Bytes from stdin (WsClientOptions::read_stdin); empty: end of input.
  virtual void OnStdin(std::string_view /*data*/) {}
  /// A stop signal came. The default drains: Drain(0).
  virtual void OnStopSignal();
  /// The loop exists (context()), before the first connection: for the listener's own users of
  /// the loop (an HTTP client to Attach(), timers).
  virtual void OnLoopStarted() {}
  /// The loop is about to be destroyed: whatever the listener attached to it must go now.
  virtual void OnLoopEnding() {}

  /// Set by WsClient: the client this listener belongs to.
  class WsClient* client = nullptr;
};

/// Everything a connection needs.
struct WsClientOptions {
  WsUrl url;
  std::string display_url;  ///< the URL for diagnostics, without its query (DisplayUrl())
  TlsClientOptions tls;
  std::vector<std::pair<std::string, std::string>> headers;  ///< added to the handshake
  size_t max_message = 1u << 20;                             ///< longer messages are skipped
  size_t max_output = 16u << 20;  ///< bytes waiting for stdout over which reading pauses
  int connect_timeout_ms = 0;     ///< 0: lws' own; else a slower handshake is a failure
  BackoffPolicy backoff;          ///< for reconnects
  bool read_stdin = false;        ///< adopt stdin and pass it on to OnStdin()
  int handover_burst = 3;         ///< handovers in handover_window_ms before they back off
  int handover_window_ms = 60000;
  /// Connections at once: two for a handover; a listener that keeps several apart (PubSub: 50
  /// topics each) asks for more and opens them itself with Open().
  int slots = 2;
  int start_connections = 1;  ///< opened by Run(), in slots 0, 1, ... (at most |slots|)
};

/// The client: one lws context, up to two connections (or WsClientOptions::slots), stdin and
/// stdout.
class WsClient {
 public:
  WsClient(const WsClientOptions& opts, WsClientListener* listener);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Connects and runs the loop until Drain() has finished or Stop(). Returns the exit status
  /// given to them (core/exit_status.h), or 1 when the loop could not be set up. Stdout is
  /// non-blocking meanwhile; its flags are put back.
  int Run();

  /// Queues |text| for |slot|, sent at its next WRITEABLE. Nothing happens when |slot| is closed.
  void Send(int slot, std::string text);
  /// Messages queued for |slot| and not sent yet.
  size_t queued(int slot) const { return conns_[slot].outbox.size(); }
  /// Closes |slot| normally (1000) at its next WRITEABLE, once what is queued has gone.
  void Close(int slot);
  /// Arms the watchdog of |slot|: unless Watch() or Unwatch() comes first, OnWatchdog() runs in
  /// |ms| and the connection is cut with |why| as its error. The time does not run while reading
  /// is paused for stdout (the silence is ours); it starts afresh when reading resumes.
  void Watch(int slot, int64_t ms, std::string why);
  void Unwatch(int slot);

  /// Make before break: opens a successor while the active connection stays (it keeps delivering
  /// until the listener closes it). The successor becomes active(). More than handover_burst of
  /// these within handover_window_ms wait a backoff delay first. False while every slot is in use.
  bool Handover();
  /// The same, with the successor connecting to |url| (EventSub's session_reconnect gives one,
  /// to be opened unchanged) instead of the client's own; later connections use the client's own
  /// URL again. False also when |url| is not a ws:// or wss:// URL (|err| says why).
  bool Handover(const std::string& url, std::string* err);

  /// Connects in |slot| now, without a backoff delay: for a listener that keeps several
  /// connections and decides itself when each one is made again. False when |slot| is in use, out
  /// of range, or the client is ending. A connection that fails at once is reported to
  /// OnClosed() before this returns.
  bool Open(int slot);

  /// The connection that is current (the newest); -1 before the first.
  int active() const { return active_; }
  /// True while |slot| has an open (handshake done) connection.
  bool open(int slot) const;
  /// True while stdout's queue is over its bound and no connection is read.
  bool reading_paused() const { return paused_; }
  /// The loop, for the listener's own timers (LoopAlarm).
  struct lws_context* context() const {
    return context_.get();
  }
  /// How many connections were started so far (1 for the first).
  int connections() const { return started_; }

  /// The path (and query) that the next connection asks for; host and port stay. For a client
  /// that resumes (ws-cat --after) with what it has seen so far.
  void SetPath(std::string path) { opts_.url.path = std::move(path); }

  /// A session that works: the next failure starts from the shortest delay again.
  void ResetBackoff() { backoff_.Reset(); }

  /// The queue that stdout is written from, for a writer that appends whole records to it.
  OutputQueue& output();
  /// Appends |record| (without '\n') to stdout's queue and writes what stdout takes now.
  void Print(std::string_view record);
  /// Writes what stdout takes now; pauses or resumes reading by its fill (call after queueing).
  void FlushOutput();
  /// Pauses (false) or resumes reading stdin.
  void ReadStdin(bool on);

  /// The end, in order: no reconnecting, every connection closed normally, stdout's queue
  /// written, then Run() returns |status|. A later call changes nothing.
  void Drain(int status);
  /// The end at once: Run() returns |status| without writing what is queued.
  void Stop(int status);
  bool ending() const { return draining_ || stopped_; }

  // Callbacks from lws, all under GuardCallback.
  static int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                      size_t len) noexcept;
  static int StdinCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                           size_t len) noexcept;

 private:
  // One connection; the slots never move, so lws may keep &wsi.
  struct Conn {
    WsClient* owner = nullptr;
    int slot = 0;
    bool in_use = false;  // connecting, open or closing
    bool opened = false;
    bool close_now = false;          // close normally at the next WRITEABLE
    WsClosing closing;               // our close frame, sent once (ws/closing.h)
    bool receiving_message = false;  // a message has begun and not ended
    bool pause_at_end = false;       // stop reading once the message at hand has ended
    struct lws* wsi = nullptr;
    std::deque<std::string> outbox;  // LWS_PRE bytes, then the message
    WsReassembly rx;
    WsCloseInfo info;
    std::string watch_why;
    int64_t watch_ms = 0;  // 0: no watchdog
    LoopAlarm watchdog;
    WsUrl url;  // where this connection goes (lws keeps pointers into it while connecting)
    std::string host_header;
    std::string display_url;
  };

  int OnConnection(Conn* c, struct lws* wsi, enum lws_callback_reasons reason, void* in,
                   size_t len);
  int OnReceive(Conn* c, struct lws* wsi, const char* in, size_t len);
  int OnWriteable(Conn* c, struct lws* wsi);
  void OnStdinEvent(struct lws* wsi, enum lws_callback_reasons reason);
  void Lost(Conn* c);
  void Connect();
  void ConnectIn(Conn* c);
  void ScheduleConnect(int delay_ms);
  void SetReading(bool on);
  void OnWatchdogDue(Conn* c);
  void Kill(Conn* c);
  bool AppendHeaders(struct lws* wsi, unsigned char** p, unsigned char* end);
  void CheckEnd();
  bool Busy() const;

  WsClientOptions opts_;
  WsClientListener* listener_;
  LwsContextPtr context_;
  struct lws_vhost* vhost_ = nullptr;
  LoopStdout out_;
  std::vector<Conn> conns_;  // sized once (slots): lws keeps &wsi
  LoopAlarm connect_timer_;
  Backoff backoff_;        // reconnects after a drop
  Backoff storm_backoff_;  // handovers beyond handover_burst
  WsUrl next_url_;         // Handover(url): where the next connection goes
  std::string next_display_url_;
  bool next_url_set_ = false;
  std::deque<int64_t> handovers_;  // when the recent handovers came (monotonic ms)
  struct lws* stdin_wsi_ = nullptr;
  std::vector<char> stdin_chunk_;
  bool stdin_eof_ = false;
  bool connect_pending_ = false;  // a connect is scheduled or under way
  bool paused_ = false;           // stdout's queue is over its bound: no connection is read
  int active_ = -1;
  int started_ = 0;
  bool draining_ = false;
  bool stopped_ = false;
  bool done_ = false;  // leave the loop
  int status_ = 0;
};
