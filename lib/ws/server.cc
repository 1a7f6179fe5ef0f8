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
#include <vector>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output_queue.h"
#include "core/secret.h"
#include "core/signals.h"
#include "core/time.h"
#include "core/utf8.h"
#include "http/responder.h"
#include "http/static_files.h"
#include "version.h"
#include "ws/address.h"
#include "ws/broadcast.h"
#include "ws/frame.h"
#include "ws/loop.h"
#include "ws/retain_file.h"

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

// One WebSocket client. Allocated by us in ESTABLISHED, freed in CLOSED; lws's per-session
// memory only holds a pointer to it.
struct Client {
  struct lws* wsi = nullptr;
  std::string notice;  // a control message for this client alone, written before its backlog
  Broadcast::Cursor cursor;
  size_t index = 0;  // in Server::clients_
  unsigned long long id = 0;
  bool kicked = false;
  unsigned long long dropped = 0;
  std::string rx;  // a message from the client, being reassembled (--relay)
  bool rx_too_long = false;
};

// lws's per-session data of protocol "servitor": zeroed C memory, so plain data only.
struct SessionData {
  Client* client;
};

class Server {
 public:
  explicit Server(const ServeOptions& opts)
      : opts_(opts),
        broadcast_(opts.history, opts.max_queue, opts.max_queue_bytes, 0),
        reader_(opts.max_line),
        chunk_(kReadChunk),
        relay_out_(opts.relay_buffer, [this] { FlushStdout(); }) {
    broadcast_.SetRetention(opts.retain, static_cast<int64_t>(opts.retain_for * 1000));
  }

  int Run();

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
  void OnStdoutWriteable() { relay_out_.OnWriteable(); }
  void OnStdoutClosed(struct lws* wsi);
  void FlushStdout();
  void OnWake();
  void OnDrainTimeout();
  void OnRetainTick();

 private:
  bool CheckListeningSocket(int port) const;
  size_t BatchBytes() const {
    size_t b = kBatchBudget / (clients_.empty() ? 1 : clients_.size());
    return b < kBatchMinBytes ? kBatchMinBytes : b > kBatchMaxBytes ? kBatchMaxBytes : b;
  }
  std::string HealthJson() const;
  bool TokenPresented(struct lws* wsi) const;
  bool OriginAllowed(struct lws* wsi) const;
  bool LoadRetained();
  void AttachClient(Client* c);
  void PumpLines();
  bool TakeLine();
  bool SomeoneHasRoom(size_t len) const;
  void Publish(const std::string& line);
  void Kick(Client* c);
  void PauseInput(bool pause);
  void EndOfInput();
  void StartDrain(const char* why);
  void MaybeStopLoop();
  void StopLoop();
  void StopRelaying();
  void UpdateRelayFlow();

  ServeOptions opts_;  // a copy: Run() settles max_clients
  Broadcast broadcast_;
  LineReader reader_;
  std::vector<char> chunk_;
  std::string batch_;  // frames being written to one client
  std::vector<Client*> clients_;
  struct lws_context* context_ = nullptr;
  struct lws* stdin_wsi_ = nullptr;
  LoopTimer<Server> drain_timer_{};
  LoopTimer<Server> retain_timer_{};
  RetainFile retain_file_;
  LoopStdout relay_out_;       // relayed lines waiting for stdout
  bool relay_paused_ = false;  // clients are not read: relay_out_ went over its bound
  std::string pending_;        // a line taken from stdin that no client had room for yet
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

int CallbackStdout(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                   size_t len) noexcept {
  return GuardCallback([&]() -> int {
    if (reason == LWS_CALLBACK_RAW_WRITEABLE_FILE) ServerOf(wsi)->OnStdoutWriteable();
    if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) ServerOf(wsi)->OnStdoutClosed(wsi);
    if (reason == LWS_CALLBACK_RAW_WRITEABLE_FILE || reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
      return 0;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  });
}

const struct lws_protocols kProtocols[] = {
    {"servitor", CallbackServitor, sizeof(SessionData), 1024, 0, nullptr, 65536},
    {kStdinProtocol, CallbackStdin, 0, 0, 0, nullptr, 0},
    {kStdoutProtocol, CallbackStdout, 0, 0, 0, nullptr, 0},
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

// Sets the code and reason of the close frame that ends |wsi|.
void CloseReason(struct lws* wsi, enum lws_close_status code, const char* reason) {
  lws_close_reason(wsi, code, reinterpret_cast<unsigned char*>(const_cast<char*>(reason)),
                   strlen(reason));
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

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (!opts_.tls_cert.empty()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.port = CONTEXT_PORT_NO_LISTEN;
  LwsContextPtr context(lws_create_context(&info));
  if (!context) {
    LogError("cannot create the WebSocket context");
    return kExitFailure;
  }
  context_ = context.get();

  std::string err;
  if (!IsLocalAddress(opts_.host, &err)) {
    LogError("listen %s:%d: cannot listen there: %s", opts_.host.c_str(), opts_.port, err.c_str());
    return kExitFailure;
  }
  info.port = opts_.port;
  info.iface = opts_.host.c_str();
  // libwebsockets 4.1 reads an IPv4 address given as iface into an IPv6 socket address at the
  // wrong offset and binds the IPv6 wildcard, which takes every address of the machine: an IPv4
  // address gets an IPv4-only vhost. "::" is made dual-stack whatever net.ipv6.bindv6only says.
  if (IsIpv4Address(opts_.host)) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (!IsIpv4Address(opts_.host)) info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY;
  info.protocols = kProtocols;
  info.vhost_name = "default";
  if (!opts_.tls_cert.empty()) {
    info.ssl_cert_filepath = opts_.tls_cert.c_str();
    info.ssl_private_key_filepath = opts_.tls_key.c_str();
    // HTTP/1.1 only: WebSocket over HTTP/2 would reach us without the upgrade callback that
    // checks the token and the origin.
    info.alpn = "http/1.1";
  }
  struct lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (!vhost) {
    LogError("listen %s:%d: cannot listen there (in use, or not a local address?)",
             opts_.host.c_str(), opts_.port);
    return kExitFailure;
  }
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
  if (!opts_.retain_file.empty() && !LoadRetained()) return kExitFailure;
  if (opts_.retain > 0) OnRetainTick();
  {
    StopWakeup wakeup(context_);
    while (!done_) {
      if (StopRequested()) OnWake();
      if (lws_service(context_, 0) < 0) break;
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
  context.reset();  // runs CLOSED for the clients left
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
    LogWarning(
        "no token: whoever reaches this machine on port %d can read the events%s "
        "(set WS_SERVE_TOKEN or --token-file)",
        port, opts_.relay ? " and write to standard output" : "");
  }
  return true;
}

std::string Server::HealthJson() const {
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"status\":\"ok\",\"clients\":%zu,\"lines_in\":%llu,\"frames_sent\":%llu,"
           "\"dropped\":%llu,\"skipped\":%llu,\"slow_disconnects\":%llu,\"buffered\":%zu,"
           "\"refused\":%llu,\"input_done\":%s}\n",
           clients_.size(), lines_in_, frames_sent_, dropped_, skipped_, slow_, broadcast_.size(),
           refused_, input_done_ ? "true" : "false");
  return buf;
}

int Server::OnHttp(struct lws* wsi, const char* uri) {
  std::string path = uri ? uri : "/";
  // HEAD takes GET's path through here; the responder leaves out the body.
  HttpMethod method = RequestMethod(wsi);
  if (method != HttpMethod::kGet && method != HttpMethod::kHead) {
    LogDebug("%s %s: 405", MethodName(method), path.c_str());
    return HttpRespondStatus(wsi, 405, "GET, HEAD");
  }
  if (path == "/healthz") return HttpRespond(wsi, 200, "application/json", HealthJson());
  return HttpServeStatic(wsi, opts_.root, path);
}

bool Server::TokenPresented(struct lws* wsi) const {
  char buf[1024];
  const char* v = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
  if (v && SecretEquals(v, opts_.token)) return true;
  int n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
  if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0) {
    std::string presented(buf + 7, n - 7);
    while (!presented.empty() && presented.back() == ' ') presented.pop_back();
    return SecretEquals(presented, opts_.token);
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
  if (!protocol || strcasecmp(protocol, "websocket") != 0) {
    status = 400, why = "upgrade to anything but a WebSocket refused (HTTP/1.1 only)";
  } else if (draining_) {
    status = 503, why = "shutting down";
  } else if (clients_.size() >= opts_.max_clients) {
    status = 503, why = "too many clients";
  } else if (!OriginAllowed(wsi)) {
    status = 403, why = "origin not allowed";
  } else if (!opts_.token.empty() && !TokenPresented(wsi)) {
    status = 401, why = "missing or wrong token";
  }
  if (!status) return 0;
  refused_++;
  refusals_.Warn("client %s: refused: %s", peer, why);
  if (!HttpWriteResponse(wsi, status, "text/plain; charset=utf-8", std::string(why) + "\n")) {
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
  c->id = next_id_++;
  c->index = clients_.size();
  clients_.push_back(c);
  sd->client = c;
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  LogInfo("client %llu (%s): connected; %zu clients", c->id, peer, clients_.size());
  AttachClient(c);
  if (relay_paused_) lws_rx_flow_control(wsi, 0);
  if (broadcast_.Backlog(c->cursor) > 0 || !c->notice.empty()) lws_callback_on_writable(wsi);
  if (have_pending_) PumpLines();
}

// A client that names the last event it has (?after=ID) starts right after it, or, when that one
// is not retained, at the oldest retained event; either way a control message first says which,
// and how many events it catches up on (an overlay does not play those that are too old). Any
// other client starts at the --history.
void Server::AttachClient(Client* c) {
  char after[512];
  const char* id = lws_get_urlarg_by_name(c->wsi, "after=", after, sizeof after);
  if (!id || opts_.retain == 0) {
    broadcast_.Attach(&c->cursor);
    return;
  }
  Broadcast::Resume r = broadcast_.AttachAfter(&c->cursor, id, LoopNowMs());
  LogInfo("client %llu: resumes after %s: %zu events to catch up on%s", c->id, id, r.replayed,
          r.found ? "" : " (that id is not retained: older events may be missing)");
  JsonPtr notice = JsonOwn(json_object());
  json_object_set_new(notice.get(), "control", json_string("resume"));
  json_object_set_new(notice.get(), "found", json_boolean(r.found));
  json_object_set_new(notice.get(), "after", json_string(id));
  json_object_set_new(notice.get(), "replayed", json_integer(static_cast<json_int_t>(r.replayed)));
  json_object_set_new(notice.get(), "retain", json_integer(static_cast<json_int_t>(opts_.retain)));
  json_object_set_new(notice.get(), "retain_for", json_real(opts_.retain_for));
  c->notice = JsonDump(notice.get());
}

int Server::OnWriteable(Client* c) {
  if (c->kicked) {
    CloseReason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow");
    return -1;
  }
  if (!c->notice.empty()) {  // before its backlog, in a write of its own
    batch_.assign(LWS_PRE, '\0');
    AppendTextFrame(reinterpret_cast<const unsigned char*>(c->notice.data()), c->notice.size(),
                    &batch_);
    c->notice.clear();
    size_t n = batch_.size() - LWS_PRE;
    if (lws_write(c->wsi, reinterpret_cast<unsigned char*>(&batch_[LWS_PRE]), n, LWS_WRITE_RAW) <
        static_cast<int>(n)) {
      return -1;
    }
    lws_callback_on_writable(c->wsi);
    return 0;
  }
  // What is queued for this client leaves in one write as consecutive frames (a small batch,
  // see kBatchFrames): one system call for several messages when the client is behind.
  unsigned char* data;
  size_t len, frames = 0;
  batch_.assign(LWS_PRE, '\0');
  const size_t batch_bytes = BatchBytes();
  while (frames < kBatchFrames && batch_.size() < LWS_PRE + batch_bytes &&
         broadcast_.Peek(c->cursor, &data, &len)) {
    AppendTextFrame(data, len, &batch_);
    broadcast_.Advance(&c->cursor);
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
    if (have_pending_ && broadcast_.HasRoom(c->cursor, pending_.size())) PumpLines();
    if (broadcast_.Backlog(c->cursor) > 0 || draining_) lws_callback_on_writable(c->wsi);
    return 0;
  }
  if (draining_) {
    CloseReason(c->wsi, LWS_CLOSE_STATUS_NORMAL, "end of input");
    return -1;
  }
  return 0;
}

void Server::OnReceive(Client* c, const void* in, size_t len) {
  if (!opts_.relay || relay_closed_) return;
  if (!c->rx_too_long) {
    if (c->rx.size() + len > opts_.max_line) {
      // Said at once, not at the message's end, which may never come.
      LogWarning("client %llu: message longer than %zu bytes not relayed", c->id, opts_.max_line);
      c->rx_too_long = true;
      c->rx.clear();
      c->rx.shrink_to_fit();
    } else {
      c->rx.append(static_cast<const char*>(in), len);
    }
  }
  if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi) != 0) return;
  std::string msg;
  msg.swap(c->rx);
  bool too_long = c->rx_too_long;
  c->rx_too_long = false;
  if (lws_frame_is_binary(c->wsi)) {
    LogWarning("client %llu: binary message not relayed", c->id);
    return;
  }
  if (too_long) return;
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

// lws closed our duplicate of stdout: the reader has gone, or stdout goes on without it.
void Server::OnStdoutClosed(struct lws* wsi) {
  if (!relay_out_.OnClosed(wsi)) return;
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
  broadcast_.Detach(&c->cursor);
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
  if (StopRequested() && !draining_) {
    LogInfo("signal %d: stopping", StopSignal());
    input_done_ = true;
    have_pending_ = false;
    PauseInput(true);
    StartDrain("stop requested");
  }
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
    broadcast_.Push(line, j ? JsonString(j.get(), "id") : "", now - age);
    kept++;
  }
  LogInfo("--retain-file %s: %zu retained events read back", opts_.retain_file.c_str(), kept);
  return true;
}

// Once a second: retained lines past --retain-for go, and the retain file is synced (and
// rewritten when it has grown to several times what is retained).
void Server::OnRetainTick() {
  broadcast_.Expire(LoopNowMs());
  if (retain_file_.is_open()) {
    std::string err;
    size_t retained = 0;
    broadcast_.ForEachRetained(LoopNowMs(), [&](std::string_view) { retained++; });
    if (retain_file_.WantsCompaction(retained)) {
      auto each = [&](const std::function<void(std::string_view)>& write) {
        broadcast_.ForEachRetained(LoopNowMs(), write);
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
    if (opts_.json) {
      std::string err;
      if (!JsonParse(line, &err)) {
        skipped_++;
        LogWarning("line %zu: not JSON: %s: skipped", reader_.line_number(), err.c_str());
        continue;
      }
    }
    pending_.swap(line);
    have_pending_ = true;
    return true;
  }
}

bool Server::SomeoneHasRoom(size_t len) const {
  bool any_active = false;
  for (const Client* c : clients_) {
    if (c->kicked) continue;
    any_active = true;
    if (broadcast_.HasRoom(c->cursor, len)) return true;
  }
  return !any_active;
}

void Server::PumpLines() {
  if (draining_ && !have_pending_ && reader_.buffered() == 0) return;
  for (;;) {
    if (!have_pending_ && !TakeLine()) break;
    if (!SomeoneHasRoom(pending_.size())) {
      PauseInput(true);
      return;
    }
    Publish(pending_);
    have_pending_ = false;
  }
  if (input_done_) {
    EndOfInput();
  } else {
    PauseInput(false);
  }
}

void Server::Publish(const std::string& line) {
  broadcast_.Push(line, opts_.retain > 0 ? IdOf(line) : std::string(), LoopNowMs());
  if (retain_file_.is_open()) retain_file_.Append(line);
  lines_in_++;
  for (size_t i = 0; i < clients_.size(); i++) {
    Client* c = clients_[i];
    if (c->kicked) continue;
    if (broadcast_.OverLimit(c->cursor)) {
      if (opts_.slow_client == SlowClientPolicy::kDisconnect) {
        Kick(c);
        continue;
      }
      if (!c->dropped) {
        LogWarning("client %llu: too slow (%zu messages, %llu bytes queued): dropping messages",
                   c->id, broadcast_.Backlog(c->cursor),
                   static_cast<unsigned long long>(broadcast_.BacklogBytes(c->cursor)));
      }
      size_t n = broadcast_.DropToFit(&c->cursor);
      c->dropped += n;
      dropped_ += n;
    }
    if (broadcast_.Backlog(c->cursor) == 1) lws_callback_on_writable(c->wsi);
  }
}

void Server::Kick(Client* c) {
  LogWarning("client %llu: too slow (%zu messages, %llu bytes queued): disconnecting", c->id,
             broadcast_.Backlog(c->cursor),
             static_cast<unsigned long long>(broadcast_.BacklogBytes(c->cursor)));
  c->kicked = true;
  slow_++;
  broadcast_.Detach(&c->cursor);
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
