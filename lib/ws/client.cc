// ws-cat's engine (see client.h). Protocols: "servitor-cat" for the connection and
// "servitor-stdin" for stdin adopted as a raw file with --send.
#include "ws/client.h"

#include <libwebsockets.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>

#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"
#include "core/utf8.h"
#include "ws/loop.h"

namespace {

constexpr const char* kStdinProtocol = "servitor-stdin";
constexpr size_t kMaxQueuedLines = 1024;  // stdin lines waiting to be sent
constexpr size_t kReadChunk = 16 * 1024;

// Reconnect backoff: the table's last entry repeats; lws adds up to 30% jitter.
const uint32_t kBackoffMs[] = {250, 500, 1000, 2000, 4000, 8000, 15000};

std::string Seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

// The URL for diagnostics: the query may hold a token, so it is not shown.
std::string DisplayUrl(const std::string& url) {
  size_t q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q) + "?...";
}

class Cat {
 public:
  explicit Cat(const CatOptions& opts)
      : opts_(opts), reader_(opts.max_line), chunk_(kReadChunk), url_(DisplayUrl(opts.url_text)) {
    retry_.retry_ms_table = kBackoffMs;
    retry_.retry_ms_table_count = sizeof kBackoffMs / sizeof kBackoffMs[0];
    retry_.conceal_count = LWS_RETRY_CONCEAL_ALWAYS;
    retry_.jitter_percent = 30;
  }

  int Run();

  // Callbacks, all called from the lws loop.
  int OnConnection(struct lws* wsi, enum lws_callback_reasons reason, void* in, size_t len);
  int OnStdin(struct lws* wsi, enum lws_callback_reasons reason);
  void OnWake();
  void OnTimeout();
  void Connect();

 private:
  int OnReceive(struct lws* wsi, const void* in, size_t len);
  int OnWriteable(struct lws* wsi);
  void OnLost();
  bool AppendHeaders(struct lws* wsi, unsigned char** p, unsigned char* end);
  void TakeLines();
  void ArmTimeout();
  void Finish(int status);
  void Exit();

  const CatOptions& opts_;
  LineReader reader_;
  std::vector<char> chunk_;
  std::deque<std::string> outbox_;
  std::string rx_;
  bool rx_too_long_ = false;
  struct lws_context* context_ = nullptr;
  struct lws_vhost* vhost_ = nullptr;
  struct lws* wsi_ = nullptr;
  struct lws* stdin_wsi_ = nullptr;
  lws_retry_bo_t retry_{};
  uint16_t tries_ = 0;
  LoopTimer<Cat> retry_timer_{};
  LoopTimer<Cat> timeout_timer_{};
  std::string host_header_;
  const std::string url_;  // for diagnostics
  bool connected_ = false;
  bool stdin_eof_ = false;
  bool stdin_paused_ = false;
  bool closing_ = false;  // we asked to close: close 1000 at the next WRITEABLE
  bool timed_out_ = false;
  bool done_ = false;  // the outcome is decided: no reconnecting, no more output
  bool exit_ = false;  // leave the loop
  int close_code_ = 0;
  int http_status_ = 0;  // of a refused handshake
  std::string close_reason_;
  std::string error_;
  long long received_ = 0;
  int status_ = kExitOk;
};

Cat* CatOf(struct lws* wsi) { return static_cast<Cat*>(lws_context_user(lws_get_context(wsi))); }

int CallbackCat(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                size_t len) noexcept {
  return GuardCallback([&]() -> int {
    Cat* cat = CatOf(wsi);
    if (!cat) return lws_callback_http_dummy(wsi, reason, user, in, len);
    return cat->OnConnection(wsi, reason, in, len);
  });
}

int CallbackStdin(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                  size_t len) noexcept {
  return GuardCallback([&]() -> int {
    if (reason == LWS_CALLBACK_RAW_RX_FILE || reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
      return CatOf(wsi)->OnStdin(wsi, reason);
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  });
}

const struct lws_protocols kProtocols[] = {
    {"servitor-cat", CallbackCat, 0, 4096, 0, nullptr, 0},
    {kStdinProtocol, CallbackStdin, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

void RetryDue(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([&]() -> int {
    LoopTimer<Cat>::OwnerOf(sul)->Connect();
    return 0;
  });
}

void TimeoutDue(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([&]() -> int {
    LoopTimer<Cat>::OwnerOf(sul)->OnTimeout();
    return 0;
  });
}

}  // namespace

bool ParseHeader(const std::string& text, std::string* name, std::string* value, std::string* err) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    *err = "'" + text + "' is not 'Name: value'";
    return false;
  }
  *name = text.substr(0, colon);
  for (char c : *name) {
    if (!isalnum(static_cast<unsigned char>(c)) && !strchr("!#$%&'*+-.^_`|~", c)) {
      *err = "'" + *name + "' is not a header name";
      return false;
    }
  }
  size_t v = text.find_first_not_of(" \t", colon + 1);
  *value = v == std::string::npos ? "" : text.substr(v);
  if (value->find_first_of("\r\n") != std::string::npos) {
    *err = "header values cannot hold line breaks";
    return false;
  }
  return true;
}

int Cat::Run() {
  LogRouteLibwebsockets();
  StdinFlagsRestorer restore_stdin;

  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (opts_.url.tls) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.user = this;
  info.fd_limit_per_thread = 16;
  LwsContextPtr context(lws_create_context(&info));
  if (!context) {
    LogError("cannot create the WebSocket context");
    return kExitFailure;
  }
  context_ = context.get();
  info.protocols = kProtocols;
  info.vhost_name = "default";
  if (!opts_.tls.cacert.empty()) info.client_ssl_ca_filepath = opts_.tls.cacert.c_str();
  vhost_ = lws_create_vhost(context_, &info);
  if (!vhost_) {
    LogError("cannot create the client (TLS set-up failed?)");
    return kExitFailure;
  }

  if (opts_.send) {
    std::string err;
    if (!(stdin_wsi_ = AdoptStdin(vhost_, kStdinProtocol, &err))) {
      LogError("stdin: %s", err.c_str());
      return kExitFailure;
    }
  }

  const bool default_port = opts_.url.port == (opts_.url.tls ? 443 : 80);
  bool v6 = opts_.url.host.find(':') != std::string::npos;
  host_header_ = v6 ? "[" + opts_.url.host + "]" : opts_.url.host;
  if (!default_port) host_header_ += ":" + std::to_string(opts_.url.port);
  retry_timer_.owner = this;
  timeout_timer_.owner = this;
  {
    StopWakeup wakeup(context_);
    Connect();
    while (!exit_) {
      if (StopRequested()) OnWake();
      if (lws_service(context_, 0) < 0) break;
    }
  }
  lws_sul_cancel(&retry_timer_.sul);
  lws_sul_cancel(&timeout_timer_.sul);
  context.reset();
  context_ = nullptr;
  std::string err;
  if (!CheckStdoutAtExit(&err)) {
    LogError("stdout: %s", err.c_str());
    return kExitFailure;
  }
  return status_;
}

void Cat::Connect() {
  if (done_) return;
  struct lws_client_connect_info cc;
  memset(&cc, 0, sizeof cc);
  cc.context = context_;
  cc.vhost = vhost_;
  cc.address = opts_.url.host.c_str();
  cc.port = opts_.url.port;
  cc.path = opts_.url.path.c_str();
  cc.host = host_header_.c_str();
  cc.origin = host_header_.c_str();
  cc.protocol = nullptr;
  cc.local_protocol_name = "servitor-cat";
  cc.ietf_version_or_minus_one = -1;
  cc.pwsi = &wsi_;
  if (opts_.url.tls) {
    cc.ssl_connection = LCCSCF_USE_SSL;
    if (opts_.tls.insecure) {
      cc.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
  }
  connected_ = false;
  close_code_ = 0;
  http_status_ = 0;
  close_reason_.clear();
  error_.clear();
  timed_out_ = false;
  rx_.clear();
  rx_too_long_ = false;
  LogDebug("connecting to %s", url_.c_str());
  ArmTimeout();
  if (!lws_client_connect_via_info(&cc)) {
    // CLIENT_CONNECTION_ERROR may already have run OnLost(); otherwise do it here.
    if (wsi_ || error_.empty()) {
      wsi_ = nullptr;
      if (error_.empty()) error_ = "cannot start connecting";
      OnLost();
    }
  }
}

void Cat::ArmTimeout() {
  if (opts_.timeout <= 0) return;
  lws_sul_schedule(context_, 0, &timeout_timer_.sul, TimeoutDue,
                   static_cast<lws_usec_t>(opts_.timeout * LWS_US_PER_SEC));
}

void Cat::OnTimeout() {
  if (!wsi_) return;
  timed_out_ = true;
  error_ = connected_ ? "nothing received for " + Seconds(opts_.timeout)
                      : "no connection within " + Seconds(opts_.timeout);
  lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

bool Cat::AppendHeaders(struct lws* wsi, unsigned char** p, unsigned char* end) {
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

int Cat::OnConnection(struct lws* wsi, enum lws_callback_reasons reason, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      error_ = in ? std::string(static_cast<const char*>(in),
                                strnlen(static_cast<const char*>(in), len ? len : 256))
                  : "connection failed";
      if (timed_out_) error_ = "no connection within " + Seconds(opts_.timeout);
      http_status_ = wsi ? static_cast<int>(lws_http_client_http_response(wsi)) : 0;
      wsi_ = nullptr;
      OnLost();
      return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      return AppendHeaders(wsi, static_cast<unsigned char**>(in),
                           *static_cast<unsigned char**>(in) + len)
                 ? 0
                 : -1;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      connected_ = true;
      tries_ = 0;
      LogInfo("connected to %s", url_.c_str());
      ArmTimeout();
      if (!outbox_.empty() || (stdin_eof_ && opts_.count == 0 && opts_.send)) {
        lws_callback_on_writable(wsi);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      return OnReceive(wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return OnWriteable(wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (len >= 2) {
        const unsigned char* b = static_cast<const unsigned char*>(in);
        close_code_ = b[0] << 8 | b[1];
        close_reason_.assign(reinterpret_cast<const char*>(b + 2), len - 2);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      wsi_ = nullptr;
      OnLost();
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      // A connection killed during its handshake (--timeout) ends here without an error.
      if (wsi == wsi_) {
        wsi_ = nullptr;
        OnLost();
      }
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      OnWake();
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, nullptr, in, len);
  }
}

int Cat::OnReceive(struct lws* wsi, const void* in, size_t len) {
  ArmTimeout();
  if (!rx_too_long_) {
    if (rx_.size() + len > opts_.max_line) {
      rx_too_long_ = true;
      rx_.clear();
    } else {
      rx_.append(static_cast<const char*>(in), len);
    }
  }
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0) return 0;
  std::string msg;
  msg.swap(rx_);
  bool too_long = rx_too_long_;
  rx_too_long_ = false;
  if (lws_frame_is_binary(wsi)) {
    LogWarning("binary message of %zu bytes: skipped", msg.size());
    return 0;
  }
  if (too_long) {
    LogWarning("message longer than %zu bytes: skipped", opts_.max_line);
    return 0;
  }
  std::string err;
  switch (WriteLine(msg, &err)) {
    case WriteResult::kOk:
      break;
    case WriteResult::kClosed:
      LogDebug("stdout closed: stopping");
      Finish(kExitOk);
      return -1;
    case WriteResult::kError:
      LogError("stdout: %s", err.c_str());
      Finish(kExitFailure);
      return -1;
  }
  if (opts_.count > 0 && ++received_ >= opts_.count) {
    LogDebug("%lld messages: done", received_);
    Finish(kExitOk);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
    return -1;
  }
  return 0;
}

int Cat::OnWriteable(struct lws* wsi) {
  if (closing_) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, nullptr, 0);
    return -1;
  }
  if (!outbox_.empty()) {
    std::string& line = outbox_.front();
    int n = lws_write(wsi, reinterpret_cast<unsigned char*>(&line[LWS_PRE]), line.size() - LWS_PRE,
                      LWS_WRITE_TEXT);
    if (n < static_cast<int>(line.size() - LWS_PRE)) {
      error_ = "write failed";
      return -1;
    }
    outbox_.pop_front();
    if (outbox_.size() < kMaxQueuedLines / 2) TakeLines();
  }
  if (!outbox_.empty()) {
    lws_callback_on_writable(wsi);
  } else if (stdin_eof_ && opts_.count == 0) {
    LogDebug("end of input: closing");
    closing_ = true;
    Finish(kExitOk);
    lws_callback_on_writable(wsi);
  }
  return 0;
}

int Cat::OnStdin(struct lws* wsi, enum lws_callback_reasons reason) {
  if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
    stdin_wsi_ = nullptr;
    if (!stdin_eof_) {
      reader_.Feed(ReadRestOfStdin());
      stdin_eof_ = true;
      reader_.Finish();
      TakeLines();
      if (wsi_ && connected_) lws_callback_on_writable(wsi_);
    }
    return 0;
  }
  if (stdin_eof_) return 0;
  std::string err;
  long n = ReadStdinChunk(wsi, chunk_.data(), chunk_.size(), &err);
  if (n == -1) return 0;
  if (n < 0) {
    LogError("stdin: %s", err.c_str());
    n = 0;
  }
  if (n == 0) {
    stdin_eof_ = true;
    reader_.Finish();
  } else {
    reader_.Feed(std::string_view(chunk_.data(), static_cast<size_t>(n)));
  }
  TakeLines();
  if (wsi_ && connected_ && (!outbox_.empty() || stdin_eof_)) lws_callback_on_writable(wsi_);
  return stdin_eof_ ? -1 : 0;
}

// Moves complete stdin lines into the outbox, pausing stdin while the outbox is full.
void Cat::TakeLines() {
  std::string line;
  while (outbox_.size() < kMaxQueuedLines) {
    LineReader::Status st = reader_.Next(&line);
    if (st == LineReader::Status::kNone) break;
    if (st == LineReader::Status::kTooLong) {
      LogWarning("stdin line %zu: longer than %zu bytes: not sent", reader_.line_number(),
                 opts_.max_line);
      continue;
    }
    if (!IsValidUtf8(line)) {
      LogWarning("stdin line %zu: not valid UTF-8: not sent", reader_.line_number());
      continue;
    }
    outbox_.push_back(std::string(LWS_PRE, '\0') + line);
  }
  bool pause = outbox_.size() >= kMaxQueuedLines;
  if (stdin_wsi_ && pause != stdin_paused_) {
    stdin_paused_ = pause;
    lws_rx_flow_control(stdin_wsi_, pause ? 0 : 1);
  }
}

void Cat::OnLost() {
  bool was_connected = connected_;
  connected_ = false;
  lws_sul_cancel(&timeout_timer_.sul);
  if (done_) {
    Exit();
    return;
  }
  if (StopRequested()) {
    Finish(kExitOk);
    return;
  }
  std::string why;
  if (!was_connected && (http_status_ == 401 || http_status_ == 403)) {
    LogError("%s refused the credentials (HTTP %d)", url_.c_str(), http_status_);
    Finish(kExitCredentials);
    return;
  }
  if (!was_connected) {
    why = "cannot connect to " + url_ + ": " + error_;
  } else if (timed_out_) {
    why = "connection to " + url_ + " lost: " + error_;
  } else if (close_code_ == 0) {
    why = "connection to " + url_ + " lost (no close frame)";
  } else if (close_code_ != LWS_CLOSE_STATUS_NORMAL && close_code_ != LWS_CLOSE_STATUS_GOINGAWAY) {
    why = "closed by the server with " + std::to_string(close_code_) +
          (close_reason_.empty() ? "" : " (" + close_reason_ + ")");
  }
  if (opts_.reconnect) {
    char conceal;
    unsigned ms = lws_retry_get_delay_ms(context_, &retry_, &tries_, &conceal);
    if (why.empty()) why = "closed by the server";
    LogWarning("%s; reconnecting in %u ms (attempt %u)", why.c_str(), ms, tries_);
    lws_sul_schedule(context_, 0, &retry_timer_.sul, RetryDue,
                     static_cast<lws_usec_t>(ms) * LWS_US_PER_MS);
    return;
  }
  if (why.empty()) {
    LogDebug("closed by the server (%d)", close_code_);
    Finish(kExitOk);
    return;
  }
  LogError("%s", why.c_str());
  Finish(kExitFailure);
}

void Cat::OnWake() {
  if (!StopRequested() || done_) return;
  LogDebug("signal %d: closing", StopSignal());
  if (wsi_ && connected_) {
    closing_ = true;
    lws_callback_on_writable(wsi_);
  } else if (wsi_) {
    lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  }
  Finish(kExitOk);
}

void Cat::Finish(int status) {
  if (done_) return;
  done_ = true;
  status_ = status;
  lws_sul_cancel(&retry_timer_.sul);
  if (!wsi_) Exit();  // else the loop ends when the connection has closed (OnLost)
}

void Cat::Exit() {
  exit_ = true;
  lws_cancel_service(context_);
}

int RunCat(const CatOptions& opts) {
  Cat cat(opts);
  return cat.Run();
}
