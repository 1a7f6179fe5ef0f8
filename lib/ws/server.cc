// ws-serve's engine (see server.h). One lws context, one vhost, two protocols: "servitor" on the
// listening socket (HTTP and WebSocket; protocols[0] takes upgrades without a subprotocol) and
// "servitor-stdin" for the adopted standard input.
//
// Input pacing, precisely: a line is taken from stdin only when some connected client can queue
// it and stay within half of its limits (--max-queue, --max-queue-bytes), or when no client is
// connected (the line then only feeds --history). Otherwise the line waits and stdin is paused
// with lws_rx_flow_control(), so the pipe pushes back on the producer. A client over its full
// limits after a line was queued gets the --slow-client treatment. The fastest client never
// does, so the buffer stays bounded and input moves at the pace of the fastest client; the
// other half of the limits is the slack for clients a moment behind it.
//
// Relaying (--relay), precisely: a client's text message becomes one line in a queue for stdout,
// which is non-blocking and written as far as its reader takes it, at once and again whenever
// stdout is writable (a duplicate of fd 1 sits in the loop as the raw file "servitor-stdout" for
// that). A stalled reader of stdout therefore stalls nothing else: broadcasting and reading stdin
// go on. While more than --relay-buffer bytes wait, no client is read (lws_rx_flow_control), so
// TCP pushes back on the senders; from half of it, they are read again. A message holding a line
// break would become two lines and is not relayed.
#include "ws/server.h"

#include <libwebsockets.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output_queue.h"
#include "core/secret.h"
#include "core/signals.h"
#include "core/time.h"
#include "core/tls_options.h"
#include "core/utf8.h"
#include "http/responder.h"
#include "http/static_files.h"
#include "version.h"
#include "ws/address.h"
#include "ws/broadcast.h"
#include "ws/closing.h"
#include "ws/control.h"
#include "ws/frame.h"
#include "ws/loop.h"
#include "ws/reassembly.h"
#include "ws/retain_file.h"
#include "ws/rooms.h"

namespace {

constexpr const char* kStdinProtocol = "servitor-stdin";
constexpr const char* kStdoutProtocol = "servitor-stdout";
constexpr size_t kReadChunk = 64 * 1024;
// One write to a client carries at most kBatchFrames frames and about BatchBytes() bytes. Small
// batches keep the clients in step: a client whose socket has room must not run far ahead of one
// whose socket is momentarily full, or that one is taken for a slow client. And when the socket
// takes only part of a batch, lws keeps a copy of the rest: kBatchBudget bounds those copies over
// all clients together, so batches shrink as clients multiply (16 KiB up to 512 clients, then
// down to 4 KiB).
constexpr size_t kBatchFrames = 64;
constexpr size_t kBatchBudget = 8u << 20;
constexpr size_t kBatchMinBytes = 4 * 1024;
constexpr size_t kBatchMaxBytes = 16 * 1024;
constexpr int kSocketSendBuffer = 256 * 1024;

// A descriptor number at or above the soft limit minus kFdReserve is closed as soon as it is
// accepted: accept(2) must never fail for want of a descriptor, since libwebsockets 4.1 then
// retries the pending connection at once, for ever (a spinning loop and a flood of log lines).
// --max-clients must leave kFdHeadroom descriptors for HTTP requests, files being served and
// stdio.
constexpr int kFdReserve = 16;
constexpr size_t kFdHeadroom = 64;
constexpr size_t kMaxOrigin = 512;

// A warning that a flood would repeat (refused clients): the first of each second is logged; the
// others are counted and their number given with the next one logged.
class ThrottledWarning {
 public:
  void Warn(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    lws_usec_t now = lws_now_usecs();
    if (logged_ && now - last_ < LWS_US_PER_SEC) {
      suppressed_++;
      return;
    }
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (suppressed_) {
      LogWarning("%s (and %llu more in the last second)", text, suppressed_);
    } else {
      LogWarning("%s", text);
    }
    logged_ = true;
    last_ = now;
    suppressed_ = 0;
  }

 private:
  bool logged_ = false;
  lws_usec_t last_ = 0;
  unsigned long long suppressed_ = 0;
};

struct Client;

// One room (--room-key): its own broadcast buffer (history, retention) and its own clients, so
// that an event costs the clients of its room only. Without --room-key, one room holds them all.
// The default room, named "", takes the events without the key and the clients that name no room.
struct Room {
  Room(std::string n, const ServeOptions& o)
      : name(std::move(n)), broadcast(o.history, o.max_queue, o.max_queue_bytes, 0) {
    broadcast.SetRetention(o.retain, static_cast<int64_t>(o.retain_for * 1000));
  }
  std::string name;
  Broadcast broadcast;
  std::vector<Client*> clients;
};

// One WebSocket client. Allocated by us in ESTABLISHED, freed in CLOSED; lws's per-session
// memory only holds a pointer to it.
struct Client {
  struct lws* wsi = nullptr;
  Room* room = nullptr;
  size_t room_index = 0;  // in room->clients
  std::string notice;     // a control message for this client alone, written before its backlog
  Broadcast::Cursor cursor;
  size_t index = 0;  // in Server::clients_
  unsigned long long id = 0;
  bool kicked = false;
  WsClosing closing;  // our close frame to it, sent once (ws/closing.h)
  unsigned long long dropped = 0;
  WsReassembly rx;      // a message from the client, being reassembled
  ControlPeer control;  // its side of the control channel (ws/control.h)
};

// lws's per-session data of protocol "servitor": zeroed C memory, so plain data only.
struct SessionData {
  Client* client;
};

class Server {
 public:
  explicit Server(const ServeOptions& opts)
      : opts_(opts),
        reader_(opts.max_line),
        chunk_(kReadChunk),
        relay_out_(
            opts.relay_buffer, [this] { FlushStdout(); }, [this] { OnStdoutGone(); }) {}

  int Run();
  struct lws_vhost* Open(bool listen);
  struct lws_context* context() const {
    return context_;
  }
  /// For the fuzz harness: no descriptor limit, relayed lines to fd 1 if --relay.
  void OpenHarness(struct lws_vhost* vhost) {
    fd_limit_ = 1 << 30;
    if (opts_.relay) relay_out_.Start(context_, vhost, kStdoutProtocol);
  }
  ~Server() {
    relay_out_.Close();
    context_owner_.reset();
  }

  // Callbacks, all called from the lws loop.
  int OnHttp(struct lws* wsi, const char* uri);
  int OnConfirmUpgrade(struct lws* wsi, const char* protocol);
  int OnNetworkConnection(int fd);
  void OnEstablished(struct lws* wsi, SessionData* sd);
  int OnWriteable(Client* c);
  void OnReceive(Client* c, const void* in, size_t len);
  void OnClosed(SessionData* sd);
  int OnStdinReadable(struct lws* wsi);
  void OnStdinClosed();
  void OnStdoutGone();
  void FlushStdout();
  void OnWake();
  void OnDrainTimeout();
  void OnRetainTick();

 private:
  // After a timer set outside lws's callbacks: makes the loop arm it (EvLoop says why).
  void Kick();
  bool CheckListeningSocket(int port) const;
  size_t BatchBytes() const {
    size_t b = kBatchBudget / (clients_.empty() ? 1 : clients_.size());
    return b < kBatchMinBytes ? kBatchMinBytes : b > kBatchMaxBytes ? kBatchMaxBytes : b;
  }
  std::string HealthJson() const;
  bool TokenPresented(struct lws* wsi, const std::string& token) const;
  // Rooms (--room-key, --room-tokens).
  bool RequestedRoom(struct lws* wsi, std::string* room, unsigned* status, const char** why) const;
  const std::string* RoomToken(const std::string& room) const;
  Room* FindRoom(const std::string& name) const;
  Room* RoomFor(const std::string& name);
  void JoinRoom(Client* c, const std::string& name);
  void LeaveRoom(Client* c);
  void DropRoomIfIdle(Room* r);
  bool LoadTokens();
  size_t Buffered() const;
  void JoinControlChannel(Client* c);
  void OnControl(Client* c, const std::string& msg);
  void SendControl(Client* c, std::string msg);
  int WriteOwnFrame(Client* c, const std::string& text);
  bool OriginAllowed(struct lws* wsi) const;
  bool LoadRetained();
  void AttachClient(Client* c);
  void PumpLines();
  bool TakeLine();
  bool SomeoneHasRoom(const std::string& room, size_t len) const;
  void Publish(const std::string& room, const std::string& line);
  void Kick(Client* c);
  void PauseInput(bool pause);
  void EndOfInput();
  void StartDrain(const char* why);
  void MaybeStopLoop();
  void StopLoop();
  void StopRelaying();
  void UpdateRelayFlow();

  ServeOptions opts_;  // a copy: Run() settles max_clients
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;
  RoomTokens room_tokens_;  // --room-tokens, read again on SIGHUP
  LineReader reader_;
  std::vector<char> chunk_;
  std::string batch_;  // frames being written to one client
  std::vector<Client*> clients_;
  EvLoop ev_loop_;  // the listening server's loop (ws/loop.h); outlives the context
  LwsContextPtr context_owner_;
  struct lws_context* context_ = nullptr;
  struct lws* stdin_wsi_ = nullptr;
  LoopTimer<Server> drain_timer_{};
  LoopTimer<Server> retain_timer_{};
  RetainFile retain_file_;
  LoopStdout relay_out_;       // relayed lines waiting for stdout
  bool relay_paused_ = false;  // clients are not read: relay_out_ went over its bound
  std::string pending_;        // a line taken from stdin that no client had room for yet
  std::string pending_room_;   // its room
  bool have_pending_ = false;
  bool stdin_paused_ = false;
  bool input_done_ = false;  // end of input reached or stop requested
  bool draining_ = false;
  bool done_ = false;
  bool relay_closed_ = false;
  bool eof_reported_ = false;
  int status_ = kExitOk;
  unsigned long long next_id_ = 1;
  int fd_limit_ = 0;  // descriptors at or above it are closed when accepted
  ThrottledWarning refusals_;
  // Counters for /healthz.
  unsigned long long lines_in_ = 0, frames_sent_ = 0, dropped_ = 0, skipped_ = 0, slow_ = 0;
  unsigned long long refused_ = 0;
};

Server* ServerOf(struct lws* wsi) {
  return static_cast<Server*>(lws_context_user(lws_get_context(wsi)));
}

int CallbackServitor(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                     size_t len) noexcept {
  return GuardCallback([&]() -> int {
    Server* s = ServerOf(wsi);
    auto* sd = static_cast<SessionData*>(user);
    switch (reason) {
      case LWS_CALLBACK_HTTP:
        return s->OnHttp(wsi, static_cast<const char*>(in));
      case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return s->OnConfirmUpgrade(wsi, static_cast<const char*>(in));
      case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return s->OnNetworkConnection(static_cast<int>(reinterpret_cast<intptr_t>(in)));
      case LWS_CALLBACK_ESTABLISHED:
        s->OnEstablished(wsi, sd);
        return 0;
      case LWS_CALLBACK_SERVER_WRITEABLE:
        return sd && sd->client ? s->OnWriteable(sd->client) : 0;
      case LWS_CALLBACK_RECEIVE:
        if (sd && sd->client) s->OnReceive(sd->client, in, len);
        return 0;
      case LWS_CALLBACK_CLOSED:
        s->OnClosed(sd);
        return 0;
      case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (s) s->OnWake();
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  });
}

int CallbackStdin(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                  size_t len) noexcept {
  return GuardCallback([&]() -> int {
    if (reason == LWS_CALLBACK_RAW_RX_FILE) return ServerOf(wsi)->OnStdinReadable(wsi);
    if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) ServerOf(wsi)->OnStdinClosed();
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  });
}

const struct lws_protocols kProtocols[] = {
    {"servitor", CallbackServitor, sizeof(SessionData), 1024, 0, nullptr, 65536},
    {kStdinProtocol, CallbackStdin, 0, 0, 0, nullptr, 0},
    LoopStdoutProtocol(kStdoutProtocol),
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

void DrainTimeout(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([&]() -> int {
    LoopTimer<Server>::OwnerOf(sul)->OnDrainTimeout();
    return 0;
  });
}

void RetainTick(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([&]() -> int {
    LoopTimer<Server>::OwnerOf(sul)->OnRetainTick();
    return 0;
  });
}

// The retention ages lines by the loop's monotonic clock.
int64_t LoopNowMs() { return static_cast<int64_t>(lws_now_usecs() / 1000); }

// The "id" of a line that is a JSON object with one; empty otherwise.
std::string IdOf(const std::string& line) {
  if (line.empty() || line[0] != '{') return "";
  std::string err;
  JsonPtr j = JsonParse(line, &err);
  return j ? JsonString(j.get(), "id") : "";
}

// Many clients need many descriptors: take the hard limit. Returns the limit in force.
int RaiseFileLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    struct rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur > INT_MAX ? INT_MAX : static_cast<int>(rl.rlim_cur);
}

}  // namespace

// Makes the context and the vhost: listening on --host/--port, or (for the fuzz harness) on no
// socket at all. Null, logged, when either cannot be made.
struct lws_vhost* Server::Open(bool listen) {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (!opts_.tls_cert.empty()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.port = CONTEXT_PORT_NO_LISTEN;
  // An epoll loop when listening; the fuzz harness drives lws's default one (lws_service).
  if (listen && ev_loop_.Attach(&info)) {
    context_owner_.reset(lws_create_context(&info));
    if (!context_owner_) {
      LogWarning(
          "libwebsockets' libev plugin cannot be loaded (Debian: libwebsockets-evlib-ev): each "
          "event will cost in proportion to all the clients connected");
      ev_loop_.Detach(&info);
    }
  }
  if (!context_owner_) context_owner_.reset(lws_create_context(&info));
  if (!context_owner_) {
    LogError("cannot create the WebSocket context");
    return nullptr;
  }
  context_ = context_owner_.get();

  std::string err;
  if (listen && !IsLocalAddress(opts_.host, &err)) {
    LogError("listen %s:%d: cannot listen there: %s", opts_.host.c_str(), opts_.port, err.c_str());
    return nullptr;
  }
  // An IPv4 address gets an IPv4-only vhost (SetListenInfo says why); HTTP/1.1 only over TLS:
  // WebSocket over HTTP/2 would reach us without the upgrade callback that checks the token and
  // the origin.
  SetListenInfo(&info, listen, opts_.host, opts_.port, opts_.tls_cert, opts_.tls_key);
  info.protocols = kProtocols;
  struct lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (!vhost) {
    LogError("listen %s:%d: cannot listen there (in use, or not a local address?)",
             opts_.host.c_str(), opts_.port);
    return nullptr;
  }
  return vhost;
}

int Server::Run() {
  fd_limit_ = RaiseFileLimit() - kFdReserve;
  size_t most = fd_limit_ > static_cast<int>(2 * kFdHeadroom)
                    ? static_cast<size_t>(fd_limit_) - kFdHeadroom
                    : static_cast<size_t>(fd_limit_ > 2 ? fd_limit_ / 2 : 1);
  if (opts_.max_clients == 0) {
    opts_.max_clients = most;
  } else if (opts_.max_clients > most) {
    LogWarning("--max-clients %zu: the descriptor limit (%d) leaves room for %zu: using %zu",
               opts_.max_clients, fd_limit_ + kFdReserve, most, most);
    opts_.max_clients = most;
  }
  LogDebug("at most %zu clients", opts_.max_clients);
  LogRouteLibwebsockets();
  StdinFlagsRestorer restore_stdin;

  struct lws_vhost* vhost = Open(true);
  if (!vhost) return kExitFailure;
  std::string err;
  int port = lws_get_vhost_listen_port(vhost);
  if (port <= 0) {
    LogError("listen %s:%d: cannot listen there", opts_.host.c_str(), opts_.port);
    return kExitFailure;
  }
  if (!CheckListeningSocket(port)) return kExitFailure;

  if (!(stdin_wsi_ = AdoptStdin(vhost, kStdinProtocol, &err))) {
    LogError("stdin: %s", err.c_str());
    return kExitFailure;
  }
  if (opts_.relay) relay_out_.Start(context_, vhost, kStdoutProtocol);

  drain_timer_.owner = this;
  retain_timer_.owner = this;
  if (!opts_.room_tokens.empty()) {
    if (!LoadTokens()) return kExitUsage;
    InstallReloadSignal();
  }
  if (!opts_.retain_file.empty() && !LoadRetained()) return kExitFailure;
  if (opts_.retain > 0) OnRetainTick();
  {
    StopWakeup wakeup(context_);
    Kick();  // the retention's timer was set outside lws's callbacks
    while (!done_) {
      OnWake();
      if (ev_loop_.attached()) {
        ev_loop_.RunOnce();
      } else if (lws_service(context_, 0) < 0) {
        break;
      }
    }
  }
  lws_sul_cancel(&drain_timer_.sul);
  lws_sul_cancel(&retain_timer_.sul);
  if (retain_file_.is_open() && !retain_file_.Sync(&err)) {
    LogError("--retain-file: %s", err.c_str());
  }
  // Before restore_stdin goes: when stdin and stdout are one file description (a terminal),
  // stdin's guard, made first, puts back the flags found before either changed them.
  relay_out_.Close();
  context_owner_.reset();  // runs CLOSED for the clients left
  ev_loop_.Close();
  const OutputQueue& unwritten = relay_out_.queue();
  if (!unwritten.empty() && !relay_closed_) {
    LogWarning("stdout: %zu relayed lines (%zu bytes) not written", unwritten.records(),
               unwritten.bytes());
  }
  context_ = nullptr;
  return status_;
}

// A wildcard exposes the events to whoever reaches the machine: said once, with what guards them.
bool Server::CheckListeningSocket(int port) const {
  bool wildcard = false;
  if (!CheckListeningAddress(opts_.host, opts_.port, port, &wildcard)) return false;
  if (wildcard && opts_.token.empty()) {
    const char* relay = opts_.relay ? " and write to standard output" : "";
    if (opts_.room_tokens.empty()) {
      LogWarning(
          "no token: whoever reaches this machine on port %d can read the events%s "
          "(set WS_SERVE_TOKEN or --token-file)",
          port, relay);
    } else {
      // The rooms are guarded; the default room (events without a room) takes --token alone.
      LogWarning(
          "the rooms need their tokens (--room-tokens), but the default room has none: whoever "
          "reaches this machine on port %d can read its events (those without a room)%s "
          "(set WS_SERVE_TOKEN or --token-file)",
          port, relay);
    }
  }
  return true;
}

std::string Server::HealthJson() const {
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"status\":\"ok\",\"clients\":%zu,\"lines_in\":%llu,\"frames_sent\":%llu,"
           "\"dropped\":%llu,\"skipped\":%llu,\"slow_disconnects\":%llu,\"buffered\":%zu,"
           "\"refused\":%llu,\"rooms\":%zu,\"input_done\":%s}\n",
           clients_.size(), lines_in_, frames_sent_, dropped_, skipped_, slow_, Buffered(),
           refused_, rooms_.size(), input_done_ ? "true" : "false");
  return buf;
}

int Server::OnHttp(struct lws* wsi, const char* uri) {
  std::string path = uri ? uri : "/";
  // HEAD takes GET's path through here; the responder leaves out the body.
  HttpMethod method = RequestMethod(wsi);
  // A request with a body is answered and its connection closed, the body unread: libwebsockets
  // 4.1.6 spins (100% CPU, for ever) on one pipelined behind another request on a keep-alive
  // connection (found by ws_frames_fuzz: corpus/ws_frames/pipelined-post).
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 ||
      lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
    bool get = method == HttpMethod::kGet || method == HttpMethod::kHead;
    LogDebug("%s %s with a body: %d", MethodName(method), path.c_str(), get ? 400 : 405);
    HttpWriteResponse(wsi, get ? 400 : 405, "text/plain; charset=utf-8",
                      get ? "bad request\n" : "method not allowed\n", HttpThen::kClose,
                      get ? nullptr : "GET, HEAD");
    return -1;
  }
  if (method != HttpMethod::kGet && method != HttpMethod::kHead) {
    LogDebug("%s %s: 405", MethodName(method), path.c_str());
    return HttpRespondStatus(wsi, 405, "GET, HEAD");
  }
  if (path == "/healthz") return HttpRespond(wsi, 200, "application/json", HealthJson());
  // /r/ROOM/... is the overlay of a room (--room-key): the same files, its own stream.
  std::string room, rest;
  if (!opts_.room_key.empty() && SplitRoomPath(path, &room, &rest)) {
    if (!IsRoomName(room)) return HttpRespondStatus(wsi, 404);
    return HttpServeStatic(wsi, opts_.root, rest);
  }
  return HttpServeStatic(wsi, opts_.root, path);
}

bool Server::TokenPresented(struct lws* wsi, const std::string& token) const {
  char buf[1024];
  const char* v = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
  if (v && SecretEquals(v, token)) return true;
  int n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0) {
    std::string presented(buf + 7, n - 7);
    while (!presented.empty() && presented.back() == ' ') presented.pop_back();
    return SecretEquals(presented, token);
  }
  return false;
}

// Browsers send Origin and let any page open a WebSocket to any address, loopback included; so
// a browser is served only from the page's own origin (the overlay that ws-serve serves) or one
// that --origin allows. No Origin at all: not a browser (OBS's browser source sends its page's
// origin; ws-cat and scripts send none). An Origin too long to read is refused, not ignored.
bool Server::OriginAllowed(struct lws* wsi) const {
  int total = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
  if (total <= 0) return true;
  char origin[kMaxOrigin];
  if (total >= static_cast<int>(sizeof origin) ||
      lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) != total) {
    return false;
  }
  for (const auto& o : opts_.origins) {
    if (o == "*" || o == origin) return true;
  }
  char host[kMaxOrigin];
  int n = lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
  return n > 0 && IsSameOrigin(origin, host, !opts_.tls_cert.empty());
}

// ---- rooms (--room-key, --room-tokens) ---------------------------------------------------------

// The room a WebSocket request names: /r/ROOM (its path) or ?room=ROOM; "" (the default room)
// when it names none. False, with an HTTP status, when it names an invalid room, two rooms, or a
// room while there are no rooms.
bool Server::RequestedRoom(struct lws* wsi, std::string* room, unsigned* status,
                           const char** why) const {
  room->clear();
  char uri[1024];
  int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
  std::string rest, in_path, in_query;
  bool has_path =
      n > 0 && SplitRoomPath(std::string_view(uri, static_cast<size_t>(n)), &in_path, &rest);
  char arg[256];
  const char* q = lws_get_urlarg_by_name(wsi, "room=", arg, sizeof arg);
  if (q) in_query = q;
  if (!has_path && !q) return true;
  if (opts_.room_key.empty()) {
    *status = 404, *why = "no rooms here (ws-serve runs without --room-key)";
    return false;
  }
  if (has_path && q && in_path != in_query) {
    *status = 400, *why = "two rooms named (/r/ROOM/ and ?room=)";
    return false;
  }
  *room = has_path ? in_path : in_query;
  if (!IsRoomName(*room)) {
    *status = 400, *why = "not a room name (1 to 100 of A-Z a-z 0-9 - . _ ~)";
    return false;
  }
  return true;
}

// The token a client of |room| must present (empty: none), or nullptr when the room is closed:
// with --room-tokens, a room is open only to its own token; the default room takes --token.
const std::string* Server::RoomToken(const std::string& room) const {
  if (room.empty() || opts_.room_tokens.empty()) return &opts_.token;
  auto it = room_tokens_.find(room);
  return it == room_tokens_.end() ? nullptr : &it->second;
}

// --room-tokens, at the start and on SIGHUP. A file that does not read leaves the tokens as they
// were; connected clients stay either way.
bool Server::LoadTokens() {
  RoomTokens tokens;
  std::string err;
  if (!LoadRoomTokens(opts_.room_tokens, &tokens, &err)) {
    LogError("--room-tokens %s", err.c_str());
    return false;
  }
  room_tokens_.swap(tokens);
  LogInfo("--room-tokens %s: %zu rooms", opts_.room_tokens.c_str(), room_tokens_.size());
  return true;
}

Room* Server::FindRoom(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : it->second.get();
}

Room* Server::RoomFor(const std::string& name) {
  std::unique_ptr<Room>& r = rooms_[name];
  if (!r) r = std::make_unique<Room>(name, opts_);
  return r.get();
}

void Server::JoinRoom(Client* c, const std::string& name) {
  c->room = RoomFor(name);
  c->room_index = c->room->clients.size();
  c->room->clients.push_back(c);
}

void Server::LeaveRoom(Client* c) {
  Room* r = c->room;
  r->broadcast.Detach(&c->cursor);
  r->clients.back()->room_index = c->room_index;
  r->clients[c->room_index] = r->clients.back();
  r->clients.pop_back();
  c->room = nullptr;
  DropRoomIfIdle(r);
}

// A room with no client and nothing kept (history, retention, backlog) goes: the rooms that
// events or clients name come and go without accumulating.
void Server::DropRoomIfIdle(Room* r) {
  if (!r->clients.empty() || r->broadcast.size() > 0) return;
  rooms_.erase(r->name);
}

size_t Server::Buffered() const {
  size_t n = 0;
  for (const auto& [name, r] : rooms_) n += r->broadcast.size();
  return n;
}

int Server::OnNetworkConnection(int fd) {
  if (fd < fd_limit_) return 0;
  refused_++;
  refusals_.Warn("connection refused: %d descriptors in use, the limit is near", fd);
  return 1;
}

// Every upgrade passes here: a WebSocket when the checks allow it, never HTTP/2 (h2c), which
// libwebsockets 4.1 would otherwise switch to, and over which a WebSocket (RFC 8441) would not.
int Server::OnConfirmUpgrade(struct lws* wsi, const char* protocol) {
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  unsigned status = 0;
  const char* why = nullptr;
  std::string room;
  const std::string* token = nullptr;
  if (!protocol || strcasecmp(protocol, "websocket") != 0) {
    status = 400, why = "upgrade to anything but a WebSocket refused (HTTP/1.1 only)";
  } else if (draining_) {
    status = 503, why = "shutting down";
  } else if (clients_.size() >= opts_.max_clients) {
    status = 503, why = "too many clients";
  } else if (!OriginAllowed(wsi)) {
    status = 403, why = "origin not allowed";
  } else if (!RequestedRoom(wsi, &room, &status, &why)) {
  } else if (!(token = RoomToken(room))) {
    status = 401, why = "no token for this room (--room-tokens)";
  } else if (!token->empty() && !TokenPresented(wsi, *token)) {
    status = 401, why = "missing or wrong token";
  }
  if (!status) return 0;
  refused_++;
  refusals_.Warn("client %s: refused: %s", peer, why);
  if (!HttpWriteResponse(wsi, status, "text/plain; charset=utf-8", std::string(why) + "\n",
                         HttpThen::kClose)) {
    return -1;
  }
  return 1;
}

void Server::OnEstablished(struct lws* wsi, SessionData* sd) {
  // A fixed send buffer (Linux otherwise grows it to megabytes) keeps what the kernel holds for
  // one client small next to its --max-queue-bytes: without it, two equally fast clients can
  // drift megabytes apart and the one behind is taken for a slow one.
  int sndbuf = kSocketSendBuffer;
  setsockopt(lws_get_socket_fd(wsi), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  auto* c = new Client;
  c->wsi = wsi;
  c->rx.Reset(opts_.max_line);
  c->id = next_id_++;
  c->index = clients_.size();
  clients_.push_back(c);
  sd->client = c;
  std::string room;
  unsigned status;
  const char* why;
  RequestedRoom(wsi, &room, &status, &why);  // checked at the upgrade
  JoinRoom(c, room);
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  LogInfo("client %llu (%s): connected; %zu clients", c->id, peer, clients_.size());
  AttachClient(c);
  JoinControlChannel(c);
  if (relay_paused_) lws_rx_flow_control(wsi, 0);
  if (c->room->broadcast.Backlog(c->cursor) > 0 || !c->notice.empty() ||
      !c->control.outbox.empty()) {
    lws_callback_on_writable(wsi);
  }
  if (have_pending_) PumpLines();
}

// A client that names the last event it has (?after=ID) starts right after it, or, when that one
// is not retained, at the oldest retained event; either way a control message first says which,
// and how many events it catches up on (an overlay does not play those that are too old). Any
// other client starts at the --history.
void Server::AttachClient(Client* c) {
  char after[512];
  const char* id = lws_get_urlarg_by_name(c->wsi, "after=", after, sizeof after);
  Broadcast& broadcast = c->room->broadcast;
  if (!id || opts_.retain == 0) {
    broadcast.Attach(&c->cursor);
    return;
  }
  Broadcast::Resume r = broadcast.AttachAfter(&c->cursor, id, LoopNowMs());
  LogInfo("client %llu: resumes after %s: %zu events to catch up on%s", c->id, id, r.replayed,
          r.found ? "" : " (that id is not retained: older events may be missing)");
  JsonPtr notice = JsonOwn(json_object());
  json_object_set_new(notice.get(), "v", json_integer(1));
  json_object_set_new(notice.get(), "control", json_string("catchup"));
  json_object_set_new(notice.get(), "found", json_boolean(r.found));
  json_object_set_new(notice.get(), "after", json_string(id));
  json_object_set_new(notice.get(), "replayed", json_integer(static_cast<json_int_t>(r.replayed)));
  json_object_set_new(notice.get(), "retain", json_integer(static_cast<json_int_t>(opts_.retain)));
  json_object_set_new(notice.get(), "retain_for", json_real(opts_.retain_for));
  c->notice = JsonDump(notice.get());
}

int Server::OnWriteable(Client* c) {
  if (c->closing.sent()) return 0;  // the client's answer is awaited (ws/closing.h)
  if (c->kicked) return c->closing.Send(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
  if (!c->notice.empty()) {  // before its backlog, in a write of its own
    std::string notice;
    notice.swap(c->notice);
    return WriteOwnFrame(c, notice);
  }
  if (!c->control.outbox.empty()) {  // control messages before events, one per write
    std::string msg = std::move(c->control.outbox.front());
    c->control.outbox.pop_front();
    return WriteOwnFrame(c, msg);
  }
  // What is queued for this client leaves in one write as consecutive frames (a small batch,
  // see kBatchFrames): one system call for several messages when the client is behind.
  unsigned char* data;
  size_t len, frames = 0;
  batch_.assign(LWS_PRE, '\0');
  const size_t batch_bytes = BatchBytes();
  Broadcast& broadcast = c->room->broadcast;
  while (frames < kBatchFrames && batch_.size() < LWS_PRE + batch_bytes &&
         broadcast.Peek(c->cursor, &data, &len)) {
    AppendTextFrame(data, len, &batch_);
    broadcast.Advance(&c->cursor);
    frames++;
  }
  if (frames > 0) {
    size_t n = batch_.size() - LWS_PRE;
    if (lws_write(c->wsi, reinterpret_cast<unsigned char*>(&batch_[LWS_PRE]), n, LWS_WRITE_RAW) <
        static_cast<int>(n)) {
      LogWarning("client %llu: write failed: closing", c->id);
      return -1;
    }
    frames_sent_ += frames;
    if (have_pending_ && c->room->name == pending_room_ &&
        broadcast.HasRoom(c->cursor, pending_.size())) {
      PumpLines();  // may free c->room's idle neighbours, never c->room: c is in it
    }
    if (broadcast.Backlog(c->cursor) > 0 || draining_) lws_callback_on_writable(c->wsi);
    return 0;
  }
  if (draining_) return c->closing.Send(c->wsi, LWS_CLOSE_STATUS_NORMAL, "end of input");
  return 0;
}

// A message from a client: a control message (ws/control.h) goes to the control channel, never
// to stdout; anything else is relayed with --relay, and ignored without.
void Server::OnReceive(Client* c, const void* in, size_t len) {
  const bool relaying = opts_.relay && !relay_closed_;
  const size_t most = relaying ? opts_.max_line : kMaxControlBytes;
  if (!c->rx.receiving() && c->rx.max_bytes() != most) c->rx.Reset(most);
  std::string msg;
  WsPiece piece = c->rx.Feed(c->wsi, in, len, &msg);
  if (c->rx.just_overflowed() && relaying) {
    // Said at once, not at the message's end, which may never come.
    LogWarning("client %llu: message longer than %zu bytes not relayed", c->id, most);
  }
  if (piece == WsPiece::kPartial) return;
  if (piece == WsPiece::kBinary) {
    if (relaying) LogWarning("client %llu: binary message not relayed", c->id);
    return;
  }
  if (piece == WsPiece::kTooLong) {
    if (!relaying) {
      std::string why = "too large: more than " + std::to_string(most) + " bytes";
      refusals_.Warn("client %llu: control message refused: %s", c->id, why.c_str());
      SendControl(c, ControlRefusal("", why));
    }
    return;
  }
  if (!relaying || LooksLikeControl(msg)) {
    OnControl(c, msg);
    return;
  }
  if (msg.find_first_of("\r\n") != std::string::npos) {
    LogWarning("client %llu: message with a line break not relayed", c->id);
    return;
  }
  // libwebsockets 4.1.6 checks UTF-8 frame by frame and misses a sequence left incomplete by an
  // empty final fragment (found by ws_frames_fuzz): the whole message is checked here.
  if (!IsValidUtf8(msg)) {
    LogWarning("client %llu: message not UTF-8 not relayed", c->id);
    return;
  }
  if (HasControlCharacter(msg)) {
    LogWarning("client %llu: message with a control character not relayed", c->id);
    return;
  }
  std::string err;
  if (opts_.json && !JsonParse(msg, &err)) {
    LogWarning("client %llu: message not JSON (%s): not relayed", c->id, err.c_str());
    return;
  }
  msg.push_back('\n');
  relay_out_.queue().Push(std::move(msg));
  FlushStdout();
}

// The control channel: a client presenting ?control=TOKEN or ?controls=1 joins it and hears its
// hello first; after that it gets the control messages of the others.
void Server::JoinControlChannel(Client* c) {
  char token[1024], sub[16];
  const char* presented = lws_get_urlarg_by_name(c->wsi, "control=", token, sizeof token);
  const char* controls = lws_get_urlarg_by_name(c->wsi, "controls=", sub, sizeof sub);
  bool subscribe = controls && strcmp(controls, "0") != 0;
  std::string hello = JoinControl(&c->control, presented, subscribe, opts_.control_token);
  if (hello.empty()) return;
  LogInfo("client %llu: on the control channel%s", c->id,
          c->control.may_command ? ", may send commands" : ", read-only");
  c->control.Queue(std::move(hello));
}

// A message that is not a control message is ignored here (no --relay); a control message is
// checked, then refused to its sender or relayed to everyone else on the channel in its room.
void Server::OnControl(Client* c, const std::string& msg) {
  if (!LooksLikeControl(msg)) {
    LogDebug("client %llu: a message that is not a control message ignored (no --relay)", c->id);
    return;
  }
  ControlVerdict v = CheckControl(&c->control, msg, LoopNowMs());
  if (!v.ok) {
    refusals_.Warn("client %llu: control message %s refused: %s", c->id,
                   v.name.empty() ? "(unnamed)" : v.name.c_str(), v.reason.c_str());
    SendControl(c, std::move(v.answer));
    return;
  }
  size_t to = 0;
  for (Client* o : clients_) {
    if (o == c || o->kicked || !o->control.joined || o->room != c->room) continue;
    SendControl(o, v.relay);
    to++;
  }
  if (v.name == "status") {
    LogDebug("client %llu: status to %zu clients", c->id, to);
  } else {
    LogInfo("client %llu: control %s to %zu clients", c->id, v.name.c_str(), to);
  }
}

void Server::SendControl(Client* c, std::string msg) {
  c->control.Queue(std::move(msg));
  lws_callback_on_writable(c->wsi);
}

// One text frame written alone (a notice, a control message), ahead of the client's events.
int Server::WriteOwnFrame(Client* c, const std::string& text) {
  batch_.assign(LWS_PRE, '\0');
  AppendTextFrame(reinterpret_cast<const unsigned char*>(text.data()), text.size(), &batch_);
  size_t n = batch_.size() - LWS_PRE;
  if (lws_write(c->wsi, reinterpret_cast<unsigned char*>(&batch_[LWS_PRE]), n, LWS_WRITE_RAW) <
      static_cast<int>(n)) {
    return -1;
  }
  lws_callback_on_writable(c->wsi);
  return 0;
}

// Writes what stdout takes now; the rest waits until it is writable.
void Server::FlushStdout() {
  if (relay_closed_) return;
  std::string err;
  switch (relay_out_.Flush(&err)) {
    case OutputQueue::Flush::kOk:
    case OutputQueue::Flush::kBlocked:  // FlushStdout() runs again once stdout takes more
      break;
    case OutputQueue::Flush::kClosed:
      LogInfo("stdout closed: no more relaying");
      StopRelaying();
      break;
    case OutputQueue::Flush::kError:
      LogError("stdout: %s", err.c_str());
      status_ = kExitFailure;
      StopRelaying();
      StartDrain("stdout failed");
      break;
  }
  UpdateRelayFlow();
  if (relay_out_.queue().empty()) MaybeStopLoop();
}

// lws closed our duplicate of stdout: the reader has gone.
void Server::OnStdoutGone() {
  if (!relay_closed_) LogInfo("stdout closed: no more relaying");
  StopRelaying();
}

void Server::StopRelaying() {
  relay_closed_ = true;
  relay_out_.queue() = OutputQueue(opts_.relay_buffer);
  UpdateRelayFlow();
  MaybeStopLoop();
}

// Backpressure: over --relay-buffer no client is read; from half of it, again.
void Server::UpdateRelayFlow() {
  const OutputQueue& queued = relay_out_.queue();
  bool pause = relay_paused_ ? !(relay_closed_ || queued.Drained()) : queued.Full();
  if (pause == relay_paused_) return;
  relay_paused_ = pause;
  if (pause) {
    LogInfo("stdout: %zu bytes wait for the reader (--relay-buffer %zu): clients not read",
            queued.bytes(), queued.max_bytes());
  } else {
    LogInfo("stdout: %zu bytes wait for the reader: clients read again", queued.bytes());
  }
  for (Client* c : clients_) lws_rx_flow_control(c->wsi, pause ? 0 : 1);
}

void Server::OnClosed(SessionData* sd) {
  Client* c = sd ? sd->client : nullptr;
  if (!c) return;
  sd->client = nullptr;
  LeaveRoom(c);
  clients_.back()->index = c->index;
  clients_[c->index] = clients_.back();
  clients_.pop_back();
  if (c->dropped) LogWarning("client %llu: %llu messages dropped in all", c->id, c->dropped);
  LogInfo("client %llu: disconnected; %zu clients", c->id, clients_.size());
  delete c;
  if (have_pending_) PumpLines();
  MaybeStopLoop();
}

int Server::OnStdinReadable(struct lws* wsi) {
  if (input_done_) return 0;
  std::string err;
  long n = ReadStdinChunk(wsi, chunk_.data(), chunk_.size(), &err);
  if (n == -1) return 0;
  if (n < 0) {
    LogError("stdin: %s", err.c_str());
    status_ = kExitFailure;
    EndOfInput();
    return -1;
  }
  if (n == 0) {
    LogDebug("stdin: end of input");
    reader_.Finish();
    input_done_ = true;
    PumpLines();
    return -1;  // closes our duplicate of stdin
  }
  reader_.Feed(std::string_view(chunk_.data(), static_cast<size_t>(n)));
  PumpLines();
  return 0;
}

void Server::OnStdinClosed() {
  stdin_wsi_ = nullptr;
  if (!input_done_) {
    LogDebug("stdin: hang-up: reading what is left");
    reader_.Feed(ReadRestOfStdin());
    input_done_ = true;
    reader_.Finish();
    PumpLines();
  }
}

void Server::OnWake() {
  if (TakeReloadRequest()) {
    LogInfo("SIGHUP: reading --room-tokens again");
    LoadTokens();
  }
  if (StopRequested() && !draining_) {
    LogInfo("signal %d: stopping", StopSignal());
    input_done_ = true;
    have_pending_ = false;
    PauseInput(true);
    StartDrain("stop requested");
    Kick();  // the drain's timer
  }
}

void Server::Kick() {
  if (ev_loop_.attached()) lws_cancel_service(context_);
}

// --retain-file: the lines it holds that are younger than --retain-for (by their "at", when they
// have one) are retained again, as if they had just been broadcast to nobody.
bool Server::LoadRetained() {
  std::vector<std::string> lines;
  std::string err;
  if (!retain_file_.Open(opts_.retain_file, opts_.retain, &lines, &err)) {
    LogError("--retain-file: %s", err.c_str());
    return false;
  }
  int64_t now = LoopNowMs(), wall = NowMillis();
  size_t kept = 0;
  for (const std::string& line : lines) {
    std::string e;
    JsonPtr j = line[0] == '{' ? JsonParse(line, &e) : nullptr;
    int64_t at = wall;
    std::string when = j ? JsonString(j.get(), "at") : "";
    if (!when.empty() && !ParseRfc3339(when, &at)) at = wall;
    int64_t age = wall > at ? wall - at : 0;
    if (age > static_cast<int64_t>(opts_.retain_for * 1000)) continue;
    std::string room = opts_.room_key.empty() ? "" : RoomOfLine(line, opts_.room_key);
    RoomFor(room)->broadcast.Push(line, j ? JsonString(j.get(), "id") : "", now - age);
    kept++;
  }
  LogInfo("--retain-file %s: %zu retained events read back", opts_.retain_file.c_str(), kept);
  return true;
}

// Once a second: retained lines past --retain-for go, and the retain file is synced (and
// rewritten when it has grown to several times what is retained).
void Server::OnRetainTick() {
  int64_t now = LoopNowMs();
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room* r = it->second.get();
    ++it;  // r may go
    r->broadcast.Expire(now);
    DropRoomIfIdle(r);
  }
  if (retain_file_.is_open()) {
    std::string err;
    size_t retained = 0;
    for (const auto& [name, r] : rooms_) {
      r->broadcast.ForEachRetained(now, [&](std::string_view) { retained++; });
    }
    if (retain_file_.WantsCompaction(retained)) {
      // Room after room: the order within a room, the one that matters when read back, is kept.
      auto each = [&](const std::function<void(std::string_view)>& write) {
        for (const auto& [name, r] : rooms_) r->broadcast.ForEachRetained(now, write);
      };
      if (!retain_file_.Rewrite(each, &err)) LogWarning("--retain-file: %s", err.c_str());
    }
    if (!retain_file_.Sync(&err)) LogWarning("--retain-file: %s", err.c_str());
  }
  lws_sul_schedule(context_, 0, &retain_timer_.sul, RetainTick, LWS_US_PER_SEC);
}

void Server::OnDrainTimeout() {
  size_t behind = clients_.size();
  LogWarning("drain timeout (%gs): closing %zu clients that are behind", opts_.drain_timeout,
             behind);
  StopLoop();
}

// Takes the next valid line into pending_; false when no complete line is buffered.
bool Server::TakeLine() {
  std::string line;
  for (;;) {
    switch (reader_.Next(&line)) {
      case LineReader::Status::kNone:
        return false;
      case LineReader::Status::kTooLong:
        skipped_++;
        LogWarning("line %zu: longer than %zu bytes: skipped", reader_.line_number(),
                   opts_.max_line);
        continue;
      case LineReader::Status::kLine:
        break;
    }
    if (!IsValidUtf8(line)) {
      skipped_++;
      LogWarning("line %zu: not valid UTF-8: skipped", reader_.line_number());
      continue;
    }
    if (LooksLikeControl(line)) {  // replayed from history, it would act again
      skipped_++;
      LogWarning("line %zu: a control message, not an event: skipped", reader_.line_number());
      continue;
    }
    if (opts_.json) {
      std::string err;
      if (!JsonParse(line, &err)) {
        skipped_++;
        LogWarning("line %zu: not JSON: %s: skipped", reader_.line_number(), err.c_str());
        continue;
      }
    }
    pending_room_ = opts_.room_key.empty() ? "" : RoomOfLine(line, opts_.room_key);
    pending_.swap(line);
    have_pending_ = true;
    return true;
  }
}

// Whether a line for |room| can be taken: some client of that room can queue it, or none is
// connected there. Clients of other rooms do not hold it back.
bool Server::SomeoneHasRoom(const std::string& room, size_t len) const {
  const Room* r = FindRoom(room);
  if (!r) return true;
  bool any_active = false;
  for (const Client* c : r->clients) {
    if (c->kicked) continue;
    any_active = true;
    if (r->broadcast.HasRoom(c->cursor, len)) return true;
  }
  return !any_active;
}

void Server::PumpLines() {
  if (draining_ && !have_pending_ && reader_.buffered() == 0) return;
  for (;;) {
    if (!have_pending_ && !TakeLine()) break;
    if (!SomeoneHasRoom(pending_room_, pending_.size())) {
      PauseInput(true);
      return;
    }
    Publish(pending_room_, pending_);
    have_pending_ = false;
  }
  if (input_done_) {
    EndOfInput();
  } else {
    PauseInput(false);
  }
}

void Server::Publish(const std::string& room, const std::string& line) {
  Room* r = RoomFor(room);
  Broadcast& broadcast = r->broadcast;
  broadcast.Push(line, opts_.retain > 0 ? IdOf(line) : std::string(), LoopNowMs());
  if (retain_file_.is_open()) retain_file_.Append(line);
  lines_in_++;
  for (size_t i = 0; i < r->clients.size(); i++) {
    Client* c = r->clients[i];
    if (c->kicked) continue;
    if (broadcast.OverLimit(c->cursor)) {
      if (opts_.slow_client == SlowClientPolicy::kDisconnect) {
        Kick(c);
        continue;
      }
      if (!c->dropped) {
        LogWarning("client %llu: too slow (%zu messages, %llu bytes queued): dropping messages",
                   c->id, broadcast.Backlog(c->cursor),
                   static_cast<unsigned long long>(broadcast.BacklogBytes(c->cursor)));
      }
      size_t n = broadcast.DropToFit(&c->cursor);
      c->dropped += n;
      dropped_ += n;
    }
    if (broadcast.Backlog(c->cursor) == 1) lws_callback_on_writable(c->wsi);
  }
  DropRoomIfIdle(r);
}

void Server::Kick(Client* c) {
  LogWarning("client %llu: too slow (%zu messages, %llu bytes queued): disconnecting", c->id,
             c->room->broadcast.Backlog(c->cursor),
             static_cast<unsigned long long>(c->room->broadcast.BacklogBytes(c->cursor)));
  c->kicked = true;
  slow_++;
  c->room->broadcast.Detach(&c->cursor);
  lws_callback_on_writable(c->wsi);
  // A stalled client never becomes writeable to hear its close frame: cut it after a while.
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 2);
}

void Server::PauseInput(bool pause) {
  if (!stdin_wsi_ || stdin_paused_ == pause) return;
  stdin_paused_ = pause;
  lws_rx_flow_control(stdin_wsi_, pause ? 0 : 1);
}

void Server::EndOfInput() {
  if (draining_ || eof_reported_) return;
  eof_reported_ = true;
  LogInfo("end of input after %llu lines (%llu skipped)", lines_in_, skipped_);
  if (opts_.keep_open) {
    LogInfo("--keep-open: still serving");
    return;
  }
  StartDrain("end of input");
}

void Server::StartDrain(const char* why) {
  if (draining_) return;
  draining_ = true;
  LogDebug("%s: draining %zu clients", why, clients_.size());
  for (Client* c : clients_) lws_callback_on_writable(c->wsi);
  if (opts_.drain_timeout > 0) {
    lws_sul_schedule(context_, 0, &drain_timer_.sul, DrainTimeout,
                     static_cast<lws_usec_t>(opts_.drain_timeout * LWS_US_PER_SEC));
  }
  MaybeStopLoop();
}

void Server::MaybeStopLoop() {
  if (draining_ && clients_.empty() && (relay_closed_ || relay_out_.queue().empty())) StopLoop();
}

void Server::StopLoop() {
  done_ = true;
  lws_cancel_service(context_);
}

int RunServer(const ServeOptions& opts) {
  Server server(opts);
  return server.Run();
}

std::unique_ptr<ServerHarness> MakeServeHarness(const ServeOptions& opts) {
  auto server = std::make_shared<Server>(opts);
  LogRouteLibwebsockets();
  struct lws_vhost* vhost = server->Open(false);
  if (!vhost) return nullptr;
  server->OpenHarness(vhost);
  return std::make_unique<ServerHarness>(server, server->context(), vhost);
}

bool CheckServeOptions(const ServeOptions& o, std::string* err) {
  char buf[256];
  if (o.history > o.max_queue || o.retain > o.max_queue / 2) {
    snprintf(buf, sizeof buf,
             "--history %zu, --retain %zu: more than --max-queue %zu (or half of it)", o.history,
             o.retain, o.max_queue);
    *err = buf;
    return false;
  }
  if (!o.retain_file.empty() && o.retain == 0) {
    *err = "--retain-file needs --retain above 0";
    return false;
  }
  if (o.max_queue < 2 || o.max_line > o.max_queue_bytes / 2) {
    snprintf(buf, sizeof buf,
             "--max-line %zu: more than half of --max-queue-bytes %zu (or --max-queue < 2)",
             o.max_line, o.max_queue_bytes);
    *err = buf;
    return false;
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    *err = "--tls-cert and --tls-key go together";
    return false;
  }
  if (!o.room_tokens.empty() && o.room_key.empty()) {
    *err = "--room-tokens needs --room-key";
    return false;
  }
  return true;
}

std::string DefaultOverlayRoot() {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  exe[n] = '\0';
  std::string dir(exe);
  dir.erase(dir.rfind('/'));
  std::string real;
  if (RealDirectory(dir + "/../share/twitch-servitor/overlay", &real)) return real;
  return "";
}
