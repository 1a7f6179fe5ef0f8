// The shared WebSocket client (see ws_client.h). Protocols, in this order: the connection's
// (protocol 0 also hears lws' certificate check), stdin's raw file and stdout's raw file.
#include "ws/ws_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/time.h"
#include "ws/address.h"

namespace {

constexpr char kProtocol[] = "servitor-client";
constexpr char kStdinProtocol[] = "servitor-client-stdin";
constexpr char kStdoutProtocol[] = "servitor-client-stdout";
constexpr size_t kStdinChunk = 16 * 1024;
constexpr int kMaxShownError = 256;  // bytes of an lws error text kept

const struct lws_protocols kProtocols[] = {
    {kProtocol, &WsClient::Callback, 0, 1 << 16, 0, nullptr, 0},
    {kStdinProtocol, &WsClient::StdinCallback, 0, 0, 0, nullptr, 0},
    LoopStdoutProtocol(kStdoutProtocol),
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

// The system's trust for the client SSL_CTX, as SSL_CTX_set_default_verify_paths gives it
// (SSL_CERT_FILE and SSL_CERT_DIR honoured) but without reading the default bundle file: its
// hashed directory (/etc/ssl/certs on Debian) is consulted per verification, one file per CA
// asked for. --cacert's file, loaded by lws, comes on top.
void LoadSystemTrust(SSL_CTX* ctx) {
  if (!ctx) return;
  if (const char* file = getenv(X509_get_default_cert_file_env())) {
    if (!SSL_CTX_load_verify_file(ctx, file)) {
      LogWarning("%s: cannot load %s", X509_get_default_cert_file_env(), file);
    }
  }
  const char* dir = getenv(X509_get_default_cert_dir_env());
  if (!SSL_CTX_load_verify_dir(ctx, dir ? dir : X509_get_default_cert_dir())) {
    LogWarning("cannot use the system's CA directory %s", dir ? dir : X509_get_default_cert_dir());
  }
  ERR_clear_error();
}

WsClient* ClientOf(struct lws* wsi) {
  return static_cast<WsClient*>(lws_context_user(lws_get_context(wsi)));
}

// The Host header of |url|: the port only when it is not the scheme's own.
std::string HostHeader(const WsUrl& url) {
  const bool default_port = url.port == (url.tls ? 443 : 80);
  bool v6 = url.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + url.host + "]" : url.host;
  if (!default_port) h += ":" + std::to_string(url.port);
  return h;
}

}  // namespace

void WsClientListener::OnStopSignal() { client->Drain(kExitOk); }

WsClient::WsClient(const WsClientOptions& opts, WsClientListener* listener)
    : opts_(opts),
      listener_(listener),
      // The reader of stdout went away: the command ends at once, as EPIPE would end it.
      out_(
          opts.max_output, [this] { FlushOutput(); },
          [this] {
            LogDebug("standard output: the reader went away");
            if (!stopped_) Stop(kExitOk);
          }),
      conns_(static_cast<size_t>(std::max(2, opts.slots))),
      backoff_(opts.backoff),
      storm_backoff_(opts.backoff),
      stdin_chunk_(kStdinChunk) {
  listener_->client = this;
  for (int i = 0; i < static_cast<int>(conns_.size()); ++i) {
    conns_[i].owner = this;
    conns_[i].slot = i;
    Conn* c = &conns_[i];
    conns_[i].watchdog.Set([this, c] { OnWatchdogDue(c); });
  }
  connect_timer_.Set([this] {
    connect_pending_ = false;
    Connect();
  });
}

WsClient::~WsClient() = default;

OutputQueue& WsClient::output() { return out_.queue(); }

bool WsClient::open(int slot) const {
  return slot >= 0 && slot < static_cast<int>(conns_.size()) && conns_[slot].in_use &&
         conns_[slot].opened;
}

int WsClient::Run() {
  LogRouteLibwebsockets();
  StdinFlagsRestorer restore_stdin;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (opts_.url.tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = this;
  // the connections, stdio, and a listener's HTTP requests
  info.fd_limit_per_thread = 64 + static_cast<int>(conns_.size());
  context_.reset(lws_create_context(&info));
  if (!context_) {
    LogError("cannot create the WebSocket context");
    return kExitFailure;
  }
  info.protocols = kProtocols;
  info.vhost_name = "default";
  if (!opts_.tls.cacert.empty()) info.client_ssl_ca_filepath = opts_.tls.cacert.c_str();
  info.ssl_client_options_set = kTlsBelow12Off;
  // Not the system bundle parsed whole into the client SSL_CTX (about 140 certificates, 0.6 MB of
  // heap): the system's CA directory is looked up by hash when a chain is verified instead
  // (LoadSystemTrust, from LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS).
  info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  vhost_ = lws_create_vhost(context_.get(), &info);
  if (!vhost_) {
    LogError("cannot create the client (TLS set-up failed?)");
    return kExitFailure;
  }
  if (opts_.read_stdin) {
    std::string err;
    if (!(stdin_wsi_ = AdoptStdin(vhost_, kStdinProtocol, &err))) {
      LogError("stdin: %s", err.c_str());
      return kExitFailure;
    }
  }
  out_.Start(context_.get(), vhost_, kStdoutProtocol);
  listener_->OnLoopStarted();
  Connect();
  for (int i = 1; i < opts_.start_connections && i < static_cast<int>(conns_.size()); ++i) {
    Open(i);
  }
  {
    StopWakeup wakeup(context_.get());
    while (!done_) {
      if (StopRequested() && !draining_ && !stopped_) {
        LogDebug("signal %d: stopping", StopSignal());
        listener_->OnStopSignal();
      }
      if (done_ || lws_service(context_.get(), 0) < 0) break;
    }
  }
  stopped_ = true;  // the callbacks that destroying the context runs change nothing now
  listener_->OnLoopEnding();
  connect_timer_.Cancel();
  for (Conn& c : conns_) c.watchdog.Cancel();
  out_.Close();
  context_.reset();
  if (!out_.queue().empty()) {
    LogDebug("standard output: %zu bytes not written", out_.queue().bytes());
  }
  return status_;
}

void WsClient::ScheduleConnect(int delay_ms) {
  connect_pending_ = true;
  connect_timer_.After(context_.get(), delay_ms);
}

void WsClient::Connect() {
  if (ending()) return;
  for (Conn& c : conns_) {
    if (!c.in_use) return ConnectIn(&c);
  }
  // every slot is in use already: nothing to add
}

bool WsClient::Open(int slot) {
  if (ending() || slot < 0 || slot >= static_cast<int>(conns_.size()) || conns_[slot].in_use) {
    return false;
  }
  ConnectIn(&conns_[slot]);
  return true;
}

void WsClient::ConnectIn(Conn* c) {
  c->in_use = true;
  c->opened = c->close_now = c->receiving_message = c->pause_at_end = false;
  c->closing.Reset();
  c->wsi = nullptr;
  c->outbox.clear();
  c->rx.Reset(opts_.max_message);
  c->info = WsCloseInfo();
  c->url = next_url_set_ ? next_url_ : opts_.url;
  c->display_url = next_url_set_ ? next_display_url_ : opts_.display_url;
  next_url_set_ = false;
  c->host_header = HostHeader(c->url);
  active_ = c->slot;
  ++started_;
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = context_.get();
  ci.vhost = vhost_;
  ci.address = c->url.host.c_str();
  ci.port = c->url.port;
  ci.path = c->url.path.c_str();
  ci.host = c->host_header.c_str();
  // No Origin: this is not a browser (ws-serve serves browsers only from its own origin).
  ci.local_protocol_name = kProtocol;
  ci.ietf_version_or_minus_one = -1;
  ci.pwsi = &c->wsi;
  ci.opaque_user_data = c;
  if (c->url.tls) {
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (opts_.tls.insecure) {
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
  }
  LogDebug("connecting to %s", c->display_url.c_str());
  if (c->url.tls && opts_.tls.insecure) WarnInsecure(c->display_url);
  if (opts_.connect_timeout_ms > 0) {
    char why[64];
    snprintf(why, sizeof why, "no connection within %gs", opts_.connect_timeout_ms / 1000.0);
    Watch(c->slot, opts_.connect_timeout_ms, why);
  }
  if (!lws_client_connect_via_info(&ci) && c->in_use) {
    // Failed before CONNECTION_ERROR could tell (else Lost() freed the slot already).
    c->wsi = nullptr;
    if (c->info.error.empty()) c->info.error = ConnectStartFailure(opts_.url.host);
    Lost(c);
  }
}

bool WsClient::Handover() {
  bool full = std::all_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.in_use; });
  if (ending() || full || connect_pending_) return false;
  int64_t now = MonotonicMs();
  while (!handovers_.empty() && now - handovers_.front() >= opts_.handover_window_ms) {
    handovers_.pop_front();
  }
  handovers_.push_back(now);
  if (static_cast<int>(handovers_.size()) > opts_.handover_burst) {
    // Its own count: a successor that logs in resets the reconnect backoff, not this one.
    int delay = storm_backoff_.NextDelayMs();
    LogWarning("%zu reconnect requests within %d s: following this one in %d ms", handovers_.size(),
               opts_.handover_window_ms / 1000, delay);
    ScheduleConnect(delay);
  } else {
    storm_backoff_.Reset();
    Connect();
  }
  return true;
}

bool WsClient::Handover(const std::string& url, std::string* err) {
  WsUrl parsed;
  if (!ParseWsUrl(url, &parsed, err)) return false;
  if (parsed.tls && !opts_.url.tls) {
    *err = DisplayUrl(url) + ": wss:// while the client was set up without TLS";
    return false;
  }
  next_url_ = parsed;
  next_display_url_ = DisplayUrl(url);
  next_url_set_ = true;
  if (Handover()) return true;
  next_url_set_ = false;
  *err = "a reconnect is under way already";
  return false;
}

void WsClient::Send(int slot, std::string text) {
  Conn& c = conns_[slot];
  if (!c.in_use) return;
  c.outbox.push_back(std::string(LWS_PRE, '\0') + text);
  if (c.wsi && c.opened) lws_callback_on_writable(c.wsi);
}

void WsClient::Close(int slot) {
  Conn& c = conns_[slot];
  if (!c.in_use) return;
  c.close_now = true;
  if (c.wsi && c.opened) {
    lws_callback_on_writable(c.wsi);
  } else {
    Kill(&c);
  }
}

void WsClient::Kill(Conn* c) {
  if (c->wsi) lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void WsClient::Watch(int slot, int64_t ms, std::string why) {
  Conn& c = conns_[slot];
  if (!c.in_use || stopped_) return;
  c.watch_ms = ms;
  c.watch_why = std::move(why);
  if (!paused_) c.watchdog.After(context_.get(), ms);
}

void WsClient::Unwatch(int slot) {
  conns_[slot].watch_ms = 0;
  conns_[slot].watchdog.Cancel();
}

void WsClient::OnWatchdogDue(Conn* c) {
  if (!c->in_use || c->watch_ms == 0 || paused_) return;
  c->watch_ms = 0;
  c->info.error = c->watch_why;
  listener_->OnWatchdog(c->slot);
  if (c->in_use) Kill(c);
}

void WsClient::Print(std::string_view record) {
  std::string line(record);
  line.push_back('\n');
  out_.queue().Push(std::move(line));
  FlushOutput();
}

// Writes what stdout takes now; over the bound no connection is read, from half of it again.
void WsClient::FlushOutput() {
  if (stopped_) return;
  std::string err;
  switch (out_.Flush(&err)) {
    case OutputQueue::Flush::kOk:
    case OutputQueue::Flush::kBlocked:  // FlushOutput() runs again once stdout takes more
      break;
    case OutputQueue::Flush::kClosed:
      LogDebug("standard output: %s: stopping", err.c_str());
      Stop(kExitOk);
      return;
    case OutputQueue::Flush::kError:
      LogError("standard output: %s", err.c_str());
      Stop(kExitFailure);
      return;
  }
  const OutputQueue& queued = out_.queue();
  if (!paused_ && queued.Full()) {
    LogInfo("standard output: %zu bytes wait for the reader (over %zu): reading paused",
            queued.bytes(), queued.max_bytes());
    SetReading(false);
  } else if (paused_ && queued.Drained()) {
    LogInfo("standard output: %zu bytes wait for the reader: reading resumed", queued.bytes());
    SetReading(true);
  }
  CheckEnd();
}

// lws 4.1 spins when a client is flow-controlled in the middle of a message longer than its
// receive buffer: such a connection stops at its message's end instead. The watchdogs stop too:
// nothing can arrive while we do not read.
void WsClient::SetReading(bool on) {
  paused_ = !on;
  for (Conn& c : conns_) {
    if (!c.in_use || !c.wsi) continue;
    c.pause_at_end = !on && c.receiving_message;
    if (!c.pause_at_end) lws_rx_flow_control(c.wsi, on ? 1 : 0);
    if (!on) {
      c.watchdog.Cancel();
    } else if (c.watch_ms > 0) {
      c.watchdog.After(context_.get(), c.watch_ms);
    }
  }
}

void WsClient::ReadStdin(bool on) {
  if (stdin_wsi_) lws_rx_flow_control(stdin_wsi_, on ? 1 : 0);
}

void WsClient::Drain(int status) {
  if (ending()) return;
  draining_ = true;
  status_ = status;
  connect_timer_.Cancel();
  connect_pending_ = false;
  for (Conn& c : conns_) Close(c.slot);
  if (!out_.queue().empty()) {
    LogInfo("standard output: writing the %zu bytes left before exiting", out_.queue().bytes());
  }
  FlushOutput();
  CheckEnd();
}

void WsClient::Stop(int status) {
  if (stopped_) return;
  stopped_ = true;
  status_ = status;
  done_ = true;
  if (context_) lws_cancel_service(context_.get());
}

bool WsClient::Busy() const {
  return std::any_of(conns_.begin(), conns_.end(), [](const Conn& c) { return c.in_use; });
}

// A drain ends when every connection has closed and stdout has taken the queue.
void WsClient::CheckEnd() {
  if (!draining_ || stopped_ || Busy() || !out_.queue().empty()) return;
  done_ = true;
  if (context_) lws_cancel_service(context_.get());
}

bool WsClient::AppendHeaders(struct lws* wsi, unsigned char** p, unsigned char* end) {
  for (const auto& h : opts_.headers) {
    std::string name = h.first + ":";
    for (char& ch : name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name.c_str()),
                                    reinterpret_cast<const unsigned char*>(h.second.data()),
                                    static_cast<int>(h.second.size()), p, end)) {
      return false;
    }
  }
  return true;
}

void WsClient::Lost(Conn* c) {
  if (!c->in_use) return;  // CONNECTION_ERROR, then CLOSED or WSI_DESTROY for the same one
  c->in_use = false;
  c->wsi = nullptr;
  c->outbox.clear();
  c->watch_ms = 0;
  c->watchdog.Cancel();
  if (stopped_) return;
  if (draining_) {
    CheckEnd();
    return;
  }
  WsCloseInfo info = c->info;
  if (!info.opened && !info.tls_error.empty() && !opts_.tls.insecure) {
    // The project's rule, as in amqp: a certificate that does not verify will not start to.
    LogError("%s: the server's certificate is not trusted: %s", opts_.display_url.c_str(),
             info.tls_error.c_str());
    Drain(kExitFailure);
    return;
  }
  bool again = listener_->OnClosed(c->slot, info);
  if (!again || ending() || connect_pending_) return;
  int delay = backoff_.NextDelayMs();
  LogWarning("reconnecting in %d ms (attempt %d)", delay, backoff_.failures());
  ScheduleConnect(delay);
}

int WsClient::OnConnection(Conn* c, struct lws* wsi, enum lws_callback_reasons reason, void* in,
                           size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      if (c->info.error.empty()) {
        c->info.error =
            in ? std::string(static_cast<const char*>(in),
                             strnlen(static_cast<const char*>(in), len ? len : kMaxShownError))
               : "connection failed";
      }
      c->info.http_status = wsi ? static_cast<int>(lws_http_client_http_response(wsi)) : 0;
      Lost(c);
      return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      return AppendHeaders(wsi, static_cast<unsigned char**>(in),
                           *static_cast<unsigned char**>(in) + len)
                 ? 0
                 : -1;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      c->opened = c->info.opened = true;
      Unwatch(c->slot);
      LogInfo("%sconnected to %s", listener_->LogPrefix(c->slot).c_str(), c->display_url.c_str());
      if (paused_) lws_rx_flow_control(wsi, 0);  // read once stdout has drained
      if (!c->outbox.empty() || c->close_now) lws_callback_on_writable(wsi);
      listener_->OnOpened(c->slot);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return OnReceive(c, wsi, static_cast<const char*>(in), len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return OnWriteable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const unsigned char* b = static_cast<const unsigned char*>(in);
        c->info.close_code = b[0] << 8 | b[1];
        c->info.close_reason.assign(reinterpret_cast<const char*>(b + 2), len - 2);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      Lost(c);
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      // A connection killed during its handshake (the watchdog) ends here without an error.
      if (c->in_use && c->wsi == wsi) Lost(c);
      return 0;
    default:
      return 0;
  }
}

int WsClient::OnReceive(Conn* c, struct lws* wsi, const char* in, size_t len) {
  c->receiving_message = true;
  std::string msg;
  WsPiece piece = c->rx.Feed(wsi, in, len, &msg);
  if (piece == WsPiece::kPartial) return 0;
  c->receiving_message = false;
  if (piece == WsPiece::kBinary) {
    LogWarning("binary message of %zu bytes: skipped", msg.size());
  } else if (piece == WsPiece::kTooLong) {
    LogWarning("message longer than %zu bytes: skipped", opts_.max_message);
  } else {
    listener_->OnMessage(c->slot, msg);
  }
  if (c->pause_at_end && paused_ && c->wsi) lws_rx_flow_control(c->wsi, 0);
  c->pause_at_end = false;
  return stopped_ ? -1 : 0;
}

int WsClient::OnWriteable(Conn* c, struct lws* wsi) {
  if (c->closing.sent()) return 0;  // the server's answer is awaited (ws/closing.h)
  if (!c->outbox.empty()) {
    std::string& m = c->outbox.front();
    size_t n = m.size() - LWS_PRE;
    if (lws_write(wsi, reinterpret_cast<unsigned char*>(&m[LWS_PRE]), n, LWS_WRITE_TEXT) <
        static_cast<int>(n)) {
      c->info.error = "write failed";
      return -1;
    }
    c->outbox.pop_front();
    if (!c->outbox.empty() || c->close_now) lws_callback_on_writable(wsi);
    listener_->OnSent(c->slot, c->outbox.size());
    return 0;
  }
  if (c->close_now) return c->closing.Send(wsi, LWS_CLOSE_STATUS_NORMAL, "");
  return 0;
}

void WsClient::OnStdinEvent(struct lws* wsi, enum lws_callback_reasons reason) {
  if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) stdin_wsi_ = nullptr;
  if (stdin_eof_) return;
  if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
    // lws 4.1 closes a raw file on POLLHUP with data still in the pipe: read the rest.
    std::string rest = ReadRestOfStdin();
    stdin_eof_ = true;
    if (!rest.empty()) listener_->OnStdin(rest);
    listener_->OnStdin({});
    return;
  }
  std::string err;
  long n = ReadStdinChunk(wsi, stdin_chunk_.data(), stdin_chunk_.size(), &err);
  if (n == -1) return;
  if (n < 0) {
    LogError("stdin: %s", err.c_str());
    n = 0;
  }
  if (n == 0) stdin_eof_ = true;
  listener_->OnStdin(std::string_view(stdin_chunk_.data(), static_cast<size_t>(n)));
}

int WsClient::Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                       size_t len) noexcept {
  return GuardCallback([&]() -> int {
    WsClient* self = ClientOf(wsi);
    auto* c = static_cast<Conn*>(lws_get_opaque_user_data(wsi));
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS) {
      LoadSystemTrust(static_cast<SSL_CTX*>(user));
      return 0;
    }
    if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) {
      // For each certificate of the chain; --insecure overrules a failure after this.
      if (c && len == 0 && c->info.tls_error.empty()) {  // len: preverify_ok
        int e = X509_STORE_CTX_get_error(static_cast<X509_STORE_CTX*>(user));
        c->info.tls_error = X509_verify_cert_error_string(e);
      }
      return 0;
    }
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED || !self || !c || self->stopped_) {
      return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    return self->OnConnection(c, wsi, reason, in, len);
  });
}

int WsClient::StdinCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                            size_t len) noexcept {
  return GuardCallback([&]() -> int {
    WsClient* self = ClientOf(wsi);
    if (self && !self->stopped_ &&
        (reason == LWS_CALLBACK_RAW_RX_FILE || reason == LWS_CALLBACK_RAW_CLOSE_FILE)) {
      self->OnStdinEvent(wsi, reason);
      return self->stdin_eof_ && reason == LWS_CALLBACK_RAW_RX_FILE ? -1 : 0;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  });
}
