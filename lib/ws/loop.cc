// libwebsockets loop plumbing shared by ws-serve, ws-cat and twitch-irc (see loop.h).
#include "ws/loop.h"

#include <ev.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/signals.h"
#include "core/tls_options.h"
#include "ws/address.h"

StdinFlagsRestorer::StdinFlagsRestorer() : flags_(fcntl(0, F_GETFL)) {}

StdinFlagsRestorer::~StdinFlagsRestorer() {
  if (flags_ != -1) fcntl(0, F_SETFL, flags_);
}

namespace {
struct lws* AdoptDuplicate(int fd_to_dup, struct lws_vhost* vhost, const char* protocol,
                           std::string* err) {
  int fd = dup(fd_to_dup);
  if (fd < 0) {
    *err = strerror(errno);
    return nullptr;
  }
  lws_sock_file_fd_type u;
  u.filefd = fd;
  struct lws* wsi =
      lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, u, protocol, nullptr);
  if (!wsi) {
    close(fd);
    *err = "cannot add it to the event loop";
  }
  return wsi;
}
}  // namespace

struct lws* AdoptStdin(struct lws_vhost* vhost, const char* protocol, std::string* err) {
  return AdoptDuplicate(0, vhost, protocol, err);
}

EvLoop::~EvLoop() { Close(); }

bool EvLoop::Attach(struct lws_context_creation_info* info) {
  loop_ = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  if (!loop_) return false;
  foreign_[0] = loop_;
  info->options |= LWS_SERVER_OPTION_LIBEV;
  info->foreign_loops = foreign_;
  return true;
}

void EvLoop::Detach(struct lws_context_creation_info* info) {
  info->options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_LIBEV);
  info->foreign_loops = nullptr;
  Close();
}

void EvLoop::RunOnce() { ev_run(loop_, EVRUN_ONCE); }

void EvLoop::Close() {
  if (loop_) ev_loop_destroy(loop_);
  loop_ = nullptr;
  foreign_[0] = nullptr;
}

namespace {
void LwsEmit(int level, const char* line) {
  LogLevel ours = LogLevel::kTrace;
  if (level & LLL_ERR) {
    ours = LogLevel::kWarning;
  } else if (level & LLL_WARN) {
    ours = LogLevel::kDebug;
  }
  std::string text(line);
  // lws prefixes a timestamp "[2026/11/28 18:00:00:0000] E: "; keep what follows.
  size_t colon = text.find("] ");
  if (!text.empty() && text[0] == '[' && colon != std::string::npos) text = text.substr(colon + 2);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  LogLibraryLine("libwebsockets", ours, text.c_str());
}
}  // namespace

void LogRouteLibwebsockets() {
  int mask = LLL_ERR;
  if (LogGetLevel() >= LogLevel::kDebug) mask |= LLL_WARN;
  if (LogGetLevel() >= LogLevel::kTrace) mask |= LLL_NOTICE | LLL_INFO;
  lws_set_log_level(mask, LwsEmit);
}

namespace {
void WakeLoop(void* context) { lws_cancel_service(static_cast<struct lws_context*>(context)); }
}  // namespace

StopWakeup::StopWakeup(struct lws_context* context) { SetStopWakeup(WakeLoop, context); }

StopWakeup::~StopWakeup() { SetStopWakeup(nullptr, nullptr); }

long ReadStdinChunk(struct lws* wsi, char* buf, size_t size, std::string* err) {
  ssize_t n = read(lws_get_socket_fd(wsi), buf, size);
  if (n >= 0) return static_cast<long>(n);
  if (errno == EAGAIN || errno == EINTR) return -1;
  *err = strerror(errno);
  return -2;
}

std::string ReadRestOfStdin() {
  std::string rest;
  char buf[16384];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0) {
      rest.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return rest;
    }
  }
}

void LoopAlarm::After(struct lws_context* context, int64_t ms) {
  context_ = context;
  lws_sul_schedule(context, 0, &sul_.sul, &LoopAlarm::Due,
                   static_cast<lws_usec_t>(ms < 0 ? 0 : ms) * LWS_US_PER_MS);
}

void LoopAlarm::Cancel() {
  if (context_) lws_sul_cancel(&sul_.sul);
  context_ = nullptr;
}

void LoopAlarm::Due(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    LoopAlarm* self = reinterpret_cast<Sul*>(sul)->self;
    self->context_ = nullptr;
    if (self->fn_) self->fn_();
    return 0;
  });
}

namespace {
// When stdout is not in the loop: how often a blocked stdout is tried again.
constexpr int kStdoutRetryMs = 5;
}  // namespace

int LoopStdoutCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                       size_t len) noexcept {
  return GuardCallback([&]() -> int {
    auto* self = static_cast<LoopStdout*>(lws_get_opaque_user_data(wsi));
    if (!self) return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (reason == LWS_CALLBACK_RAW_WRITEABLE_FILE) self->OnWriteable();
    if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && self->OnClosed(wsi) && self->on_gone_) {
      self->on_gone_();
    }
    return 0;
  });
}

void SetListenInfo(struct lws_context_creation_info* info, bool listen, const std::string& host,
                   int port, const std::string& tls_cert, const std::string& tls_key) {
  info->port = listen ? port : CONTEXT_PORT_NO_LISTEN;
  info->iface = listen ? host.c_str() : nullptr;
  info->options |=
      IsIpv4Address(host) ? LWS_SERVER_OPTION_DISABLE_IPV6 : LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY;
  info->vhost_name = "default";
  if (!tls_cert.empty()) {
    info->ssl_cert_filepath = tls_cert.c_str();
    info->ssl_private_key_filepath = tls_key.c_str();
    info->ssl_options_set = kTlsBelow12Off;
    info->alpn = "http/1.1";
  }
}

LoopStdout::LoopStdout(size_t max_bytes, std::function<void()> on_writable,
                       std::function<void()> on_gone)
    : queue_(max_bytes), on_writable_(std::move(on_writable)), on_gone_(std::move(on_gone)) {
  retry_.owner = this;
}

void LoopStdout::Start(struct lws_context* context, struct lws_vhost* vhost, const char* protocol) {
  context_ = context;
  nonblocking_ = std::make_unique<NonBlockingFd>(1);
  std::string err;
  wsi_ = AdoptDuplicate(1, vhost, protocol, &err);
  if (wsi_) {
    lws_set_opaque_user_data(wsi_, this);
    lws_rx_flow_control(wsi_, 0);
  } else {
    LogDebug("stdout: %s: a blocked write is retried every %d ms", err.c_str(), kStdoutRetryMs);
  }
}

OutputQueue::Flush LoopStdout::Flush(std::string* err) {
  OutputQueue::Flush f = queue_.FlushTo(1, err);
  if (f == OutputQueue::Flush::kBlocked) WaitForWritable();
  return f;
}

void LoopStdout::WaitForWritable() {
  if (!context_) return;
  if (wsi_ && !in_writeable_) {
    lws_callback_on_writable(wsi_);
    return;
  }
  int delay_ms = wsi_ ? 0 : kStdoutRetryMs;
  lws_sul_schedule(context_, 0, &retry_.sul, &LoopStdout::Retry,
                   static_cast<lws_usec_t>(delay_ms) * LWS_US_PER_MS);
}

void LoopStdout::Retry(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    LoopTimer<LoopStdout>::OwnerOf(sul)->on_writable_();
    return 0;
  });
}

void LoopStdout::OnWriteable() {
  in_writeable_ = true;
  on_writable_();
  in_writeable_ = false;
}

bool LoopStdout::OnClosed(struct lws* wsi) {
  if (!wsi || wsi != wsi_) return false;
  wsi_ = nullptr;
  struct pollfd p = {1, POLLOUT, 0};
  if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) return true;
  on_writable_();
  return false;
}

void LoopStdout::Close() {
  if (context_) lws_sul_cancel(&retry_.sul);
  if (wsi_) lws_set_opaque_user_data(wsi_, nullptr);  // its callbacks change nothing now
  context_ = nullptr;
  wsi_ = nullptr;
  nonblocking_.reset();
}
