// twitch-hook's server (see webhook_server.h). One lws context, one vhost, two protocols:
// "twitch-hook" for HTTP on the listening socket and "twitch-hook-stdout" for the duplicate of
// fd 1 that LoopStdout writes from.
//
// A request, precisely: its headers arrive within --request-timeout (lws's idle bound on a
// header table), then its body within --request-timeout more (PENDING_TIMEOUT_HTTP_CONTENT). A
// Content-Length over 1 MiB is answered 413 before any of the body is read, a body that grows
// past its bound is answered 413 as soon as it does, and a body without a Content-Length
// (chunked) 411; the connection is then closed rather than read to its end. The whole body is then
// judged by WebhookHandler, and the events of a fresh notification are pushed to the output queue
// before the 2xx is written.
#include "twitch/webhook_server.h"

#include <libwebsockets.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/time.h"
#include "core/tls_options.h"
#include "http/responder.h"
#include "twitch/webhook.h"
#include "ws/address.h"
#include "ws/loop.h"

namespace {

constexpr const char* kStdoutProtocol = "twitch-hook-stdout";
constexpr size_t kMaxHeader = 512;

// One HTTP connection: ours, reached from lws's per-session data.
struct Conn {
  explicit Conn(struct lws* w) : wsi(w), body(kWebhookMaxBody) {}
  struct lws* wsi;
  WebhookHeaders headers;
  HttpBody body;
  bool in_flight = false;        // a POST to the hook whose body is being read
  lws_usec_t started = 0;        // when its headers were in
  bool kept = false;             // an answer has kept the connection open (keep-alive)
  unsigned long long taken = 0;  // bytes taken from the socket when it was written
};

// A custom header's value; empty when absent or too long to be one of Twitch's.
std::string Header(struct lws* wsi, const char* name) {
  char buf[kMaxHeader];
  int n = lws_hdr_custom_copy(wsi, buf, sizeof buf, name, static_cast<int>(strlen(name)));
  return n > 0 ? std::string(buf, n) : std::string();
}

// Answers and closes, saying so (Connection: close): every refusal.
int Reply(struct lws* wsi, unsigned status, const char* type, const std::string& body,
          const char* allow = nullptr) {
  HttpWriteResponse(wsi, status, type, body, HttpThen::kClose, allow);
  return -1;
}

bool IsLoopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "::1"; }

class HookServer {
 public:
  explicit HookServer(const HookOptions& opts)
      : opts_(opts),
        handler_(opts.secret, opts.raw),
        out_(
            opts.max_queue, [this] { Flush(); }, [this] { OnStdoutGone(); }) {}

  int Run();
  struct lws_vhost* Open(bool listen);
  struct lws_context* context() const {
    return context_;
  }
  ~HookServer() {
    out_.Close();
    context_owner_.reset();  // runs the callbacks of the connections left, which reach conns_
  }

  int OnAccept();
  void OnConnected(struct lws* wsi);
  int OnHttp(struct lws* wsi, const char* uri);
  int OnBody(struct lws* wsi, const void* in, size_t len);
  int OnBodyComplete(struct lws* wsi);
  void OnClosed(struct lws* wsi);
  void OnStdoutGone();
  void Flush();

 private:
  int Refuse(struct lws* wsi, WebhookRefusal r, unsigned status, const std::string& why);
  int ReplyOk(struct lws* wsi, unsigned status, const char* type, const std::string& body);
  bool Pipelined(Conn* c);
  int Answer(Conn* c, const WebhookResponse& resp);
  std::string HealthJson();
  void EndRequest(Conn* c);
  void StartStop();
  bool Finished();

  HookOptions opts_;
  WebhookHandler handler_;
  WebhookStateFile state_;
  LoopStdout out_;
  LwsContextPtr context_owner_;
  struct lws_context* context_ = nullptr;
  Conn* ConnOf(struct lws* wsi) {
    auto it = conns_.find(wsi);
    return it == conns_.end() ? nullptr : it->second.get();
  }

  std::unordered_map<struct lws*, std::unique_ptr<Conn>> conns_;  // every accepted connection
  size_t in_flight_ = 0;
  bool stopping_ = false;
  bool stdout_gone_ = false;
  int status_ = kExitOk;
  lws_usec_t last_refusal_log_ = 0;
  // Counters for /healthz.
  unsigned long long slow_closed_ = 0, accepted_ = 0, verifications_ = 0, revocations_ = 0,
                     connections_refused_ = 0, pipelined_ = 0;
  unsigned long long refused_[static_cast<int>(WebhookRefusal::kCount)] = {};
};

HookServer* ServerOf(struct lws* wsi) {
  return static_cast<HookServer*>(lws_context_user(lws_get_context(wsi)));
}

int CallbackHook(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                 size_t len) noexcept {
  return GuardCallback([&]() -> int {
    HookServer* s = ServerOf(wsi);
    switch (reason) {
      case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return s->OnAccept();
      case LWS_CALLBACK_HTTP:
        return s->OnHttp(wsi, static_cast<const char*>(in));
      case LWS_CALLBACK_HTTP_BODY:
        return s->OnBody(wsi, in, len);
      case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return s->OnBodyComplete(wsi);
      case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        s->OnConnected(wsi);
        return 0;
      case LWS_CALLBACK_WSI_DESTROY:
        if (s) s->OnClosed(wsi);
        return 0;
      case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        return 0;
      default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
  });
}

const struct lws_protocols kProtocols[] = {
    {"twitch-hook", CallbackHook, 0, 0, 0, nullptr, 0},
    LoopStdoutProtocol(kStdoutProtocol),
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

}  // namespace

// Makes the context and the vhost: listening on --host/--port, or (for the fuzz harness) on no
// socket at all. Null, logged, when either cannot be made.
struct lws_vhost* HookServer::Open(bool listen) {
  LogRouteLibwebsockets();
  std::string err;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (!opts_.tls_cert.empty()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.user = this;
  info.port = CONTEXT_PORT_NO_LISTEN;
  unsigned timeout = static_cast<unsigned>(opts_.request_timeout + 0.999);
  info.timeout_secs = timeout;
  context_owner_.reset(lws_create_context(&info));
  if (!context_owner_) {
    LogError("cannot create the libwebsockets context");
    return nullptr;
  }
  context_ = context_owner_.get();
  if (listen && !IsLocalAddress(opts_.host, &err)) {
    LogError("listen %s: cannot listen there: %s", FormatHostPort(opts_.host, opts_.port).c_str(),
             err.c_str());
    return nullptr;
  }
  SetListenInfo(&info, listen, opts_.host, opts_.port, opts_.tls_cert, opts_.tls_key);
  info.protocols = kProtocols;
  info.timeout_secs_ah_idle = timeout;
  info.keepalive_timeout = static_cast<int>(timeout);
  struct lws_vhost* vhost = lws_create_vhost(context_, &info);
  if (!vhost) {
    LogError("listen %s: cannot listen there (in use, or not a local address?)",
             FormatHostPort(opts_.host, opts_.port).c_str());
    return nullptr;
  }
  out_.Start(context_, vhost, kStdoutProtocol);
  return vhost;
}

int HookServer::Run() {
  std::string err;
  if (!opts_.state_file.empty() && !state_.Open(opts_.state_file, &handler_, NowMillis(), &err)) {
    LogError("--state-file %s", err.c_str());
    return kExitFailure;
  }
  struct lws_vhost* vhost = Open(true);
  if (!vhost) return kExitFailure;
  int port = lws_get_vhost_listen_port(vhost);
  if (port <= 0) {
    LogError("listen %s: cannot listen there (in use, or not a local address?)",
             FormatHostPort(opts_.host, opts_.port).c_str());
    return kExitFailure;
  }
  bool wildcard = false;
  if (!CheckListeningAddress(opts_.host, opts_.port, port, &wildcard)) return kExitFailure;
  if (!wildcard && !IsLoopback(opts_.host)) {
    LogInfo(
        "%s is not a loopback address: whoever reaches it may post to %s, which takes only "
        "requests signed with the secret",
        opts_.host.c_str(), opts_.path.c_str());
  }
  if (opts_.on_listening) opts_.on_listening(context_);
  {
    StopWakeup wakeup(context_);
    while (!Finished()) {
      if (StopRequested() && !stopping_) {
        // Finished() may hold at once, and the signal's wake-up may have been taken by the
        // lws_service() before: waiting again would wait for the next connection.
        StartStop();
        continue;
      }
      if (lws_service(context_, 0) < 0) break;
    }
  }
  if (opts_.on_closing) opts_.on_closing();
  out_.Close();
  const OutputQueue& unwritten = out_.queue();
  if (!unwritten.empty()) {
    LogError("stdout: %zu event lines not written", unwritten.records());
    status_ = kExitFailure;
  }
  context_owner_.reset();
  conns_.clear();
  context_ = nullptr;
  return status_;
}

bool HookServer::Finished() {
  if (stdout_gone_) return in_flight_ == 0;
  return stopping_ && in_flight_ == 0 && out_.queue().empty();
}

void HookServer::StartStop() {
  stopping_ = true;
  LogInfo("signal %d: stopping: %zu requests in flight, %zu event lines to write", StopSignal(),
          in_flight_, out_.queue().records());
  Flush();
}

int HookServer::OnAccept() {
  const char* why = stopping_ || stdout_gone_                ? "stopping"
                    : conns_.size() >= opts_.max_connections ? "--max-connections reached"
                                                             : nullptr;
  if (!why) return 0;
  connections_refused_++;
  lws_usec_t now = lws_now_usecs();
  if (now - last_refusal_log_ >= LWS_US_PER_SEC) {
    LogWarning("connection refused: %s (%llu so far)", why, connections_refused_);
    last_refusal_log_ = now;
  }
  return 1;
}

std::string HookServer::HealthJson() {
  std::string refused = "{";
  for (int r = 1; r < static_cast<int>(WebhookRefusal::kCount); r++) {
    if (r > 1) refused += ",";
    refused += std::string("\"") + WebhookRefusalName(static_cast<WebhookRefusal>(r)) +
               "\":" + std::to_string(refused_[r]);
  }
  refused += ",\"connections\":" + std::to_string(connections_refused_) +
             ",\"slow\":" + std::to_string(slow_closed_) + "}";
  char buf[512];
  snprintf(buf, sizeof buf,
           "{\"status\":\"%s\",\"accepted\":%llu,\"duplicates\":%llu,\"verifications\":%llu,"
           "\"revocations\":%llu,\"pipelined_closed\":%llu,\"queued\":%zu,\"queued_bytes\":%zu,"
           "\"connections\":%zu,\"in_flight\":%zu,\"refused\":",
           stopping_ ? "stopping" : "ok", accepted_,
           static_cast<unsigned long long>(handler_.duplicates()), verifications_, revocations_,
           pipelined_, out_.queue().records(), out_.queue().bytes(), conns_.size(), in_flight_);
  return buf + refused + "}\n";
}

int HookServer::Refuse(struct lws* wsi, WebhookRefusal r, unsigned status, const std::string& why) {
  refused_[static_cast<int>(r)]++;
  char peer[64] = "";
  lws_get_peer_simple(wsi, peer, sizeof peer);
  LogWarning("%s: refused (%u): %s", peer, status, why.c_str());
  return Reply(wsi, status, "text/plain; charset=utf-8", why + "\n",
               status == 405 ? "POST" : nullptr);
}

void HookServer::OnConnected(struct lws* wsi) { conns_[wsi] = std::make_unique<Conn>(wsi); }

// A 2xx answer keeps the connection open (keep-alive) when the number of bytes taken from the
// socket can be told (TCP, no FIN from the peer yet) and the server is not stopping; it is noted,
// so that Pipelined() can tell the next request. Otherwise it closes as a refusal does.
int HookServer::ReplyOk(struct lws* wsi, unsigned status, const char* type,
                        const std::string& body) {
  Conn* c = ConnOf(wsi);
  unsigned long long taken = 0;
  if (!c || stopping_ || stdout_gone_ || !HttpBytesTaken(wsi, &taken)) {
    return Reply(wsi, status, type, body);
  }
  if (!HttpWriteResponse(wsi, status, type, body, HttpThen::kKeepAlive)) return -1;
  c->kept = true;
  c->taken = taken;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

// libwebsockets 4.1.6 spins for ever (100% CPU, inside lws_http_action()) on a request with a
// body whose headers it parses from the bytes it had read before the previous answer on the
// connection (pipelined: webhook_fuzz's corpus/webhook/pipelined-healthz-body): it feeds that
// request's own header bytes back in as its body and then loops on its buffer in a state that
// reads nothing. It only reads the socket once that buffer is empty, so the next request on a
// kept connection is pipelined exactly when no byte has been taken from the socket since the
// previous answer. Such a request is not answered: the connection is closed (HTTP lets a client
// that pipelines expect that, and retry). Twitch sends one request at a time.
bool HookServer::Pipelined(Conn* c) {
  if (!c->kept) return false;
  unsigned long long taken = 0;
  if (HttpBytesTaken(c->wsi, &taken) && taken != c->taken) return false;
  pipelined_++;
  char peer[64] = "";
  lws_get_peer_simple(c->wsi, peer, sizeof peer);
  LogDebug("%s: closed: a request pipelined behind the one answered (%llu so far)", peer,
           pipelined_);
  return true;
}

int HookServer::OnHttp(struct lws* wsi, const char* uri) {
  std::string path = uri ? uri : "/";
  HttpMethod method = RequestMethod(wsi);
  Conn* c = ConnOf(wsi);
  if (!c) {
    OnConnected(wsi);
    c = ConnOf(wsi);
  }
  if (Pipelined(c)) return -1;
  if (path == "/healthz" && (method == HttpMethod::kGet || method == HttpMethod::kHead)) {
    return ReplyOk(wsi, 200, "application/json", HealthJson());
  }
  if (path != opts_.path) {
    return Refuse(wsi, WebhookRefusal::kPath, 404,
                  MethodName(method) + (" " + path) + ": not found");
  }
  if (method != HttpMethod::kPost) {
    return Refuse(wsi, WebhookRefusal::kMethod, 405,
                  std::string(MethodName(method)) + " " + path + ": only POST");
  }
  // lws 4.1 passes no chunked request body on: one without a length would only time out.
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 &&
      lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
    return Refuse(wsi, WebhookRefusal::kMalformed, 411, "a body without Content-Length");
  }
  char len[32] = "";
  if (lws_hdr_copy(wsi, len, sizeof len, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
      strtoull(len, nullptr, 10) > kWebhookMaxBody) {
    return Refuse(wsi, WebhookRefusal::kTooLarge, 413,
                  std::string("body of ") + len + " bytes: more than 1 MiB");
  }
  c->started = lws_now_usecs();
  c->headers.id = Header(wsi, "twitch-eventsub-message-id:");
  c->headers.timestamp = Header(wsi, "twitch-eventsub-message-timestamp:");
  c->headers.type = Header(wsi, "twitch-eventsub-message-type:");
  c->headers.signature = Header(wsi, "twitch-eventsub-message-signature:");
  c->body.Clear();
  if (!c->in_flight) in_flight_++;
  c->in_flight = true;
  lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
                  static_cast<int>(opts_.request_timeout + 0.999));
  return 0;
}

int HookServer::OnBody(struct lws* wsi, const void* in, size_t len) {
  Conn* c = ConnOf(wsi);
  if (!c || !c->in_flight) return -1;
  // lws restarts its body timeout at every chunk: a body sent a byte at a time is bounded here.
  if (lws_now_usecs() - c->started > static_cast<lws_usec_t>(opts_.request_timeout * 1e6)) {
    EndRequest(c);
    slow_closed_++;
    char peer[64] = "";
    lws_get_peer_simple(wsi, peer, sizeof peer);
    LogWarning("%s: closed: the body took more than --request-timeout (%gs)", peer,
               opts_.request_timeout);
    return -1;
  }
  if (c->body.Append(in, len)) return 0;
  EndRequest(c);
  return Refuse(c->wsi, WebhookRefusal::kTooLarge, 413, "body over 1 MiB");
}

int HookServer::OnBodyComplete(struct lws* wsi) {
  Conn* c = ConnOf(wsi);
  if (!c || !c->in_flight) return -1;
  lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
  bool full = stdout_gone_ || out_.queue().Full();
  WebhookResponse resp = handler_.Handle(c->headers, c->body.data(), NowMillis(), full);
  EndRequest(c);
  return Answer(c, resp);
}

int HookServer::Answer(Conn* c, const WebhookResponse& resp) {
  if (resp.refusal != WebhookRefusal::kNone) {
    return Refuse(c->wsi, resp.refusal, resp.status, resp.why);
  }
  if (!resp.lines.empty() || !resp.fresh_id.empty()) {
    for (const std::string& line : resp.lines) out_.queue().Push(line);
    accepted_++;
    std::string err;
    if (!state_.Append(resp.fresh_id, NowMillis(), &err)) {
      LogWarning("--state-file %s", err.c_str());
    }
    Flush();
    LogDebug("%s", resp.why.c_str());
  } else if (resp.status == 200) {
    verifications_++;
    LogInfo("%s", resp.why.c_str());
  } else if (resp.why.find("revoked") != std::string::npos) {
    revocations_++;
    LogWarning("%s", resp.why.c_str());
  } else {
    LogDebug("%s", resp.why.c_str());
  }
  const char* type = resp.status == 200 ? "text/plain" : "text/plain; charset=utf-8";
  if (resp.status / 100 == 2) return ReplyOk(c->wsi, resp.status, type, resp.body);
  return Reply(c->wsi, resp.status, type, resp.body);
}

void HookServer::EndRequest(Conn* c) {
  if (c->in_flight) in_flight_--;
  c->in_flight = false;
  c->body.Clear();
}

void HookServer::OnClosed(struct lws* wsi) {
  Conn* c = ConnOf(wsi);
  if (!c) return;
  if (c->in_flight &&
      lws_now_usecs() - c->started >= static_cast<lws_usec_t>(opts_.request_timeout * 1e6)) {
    slow_closed_++;
  }
  EndRequest(c);
  conns_.erase(wsi);
}

void HookServer::Flush() {
  std::string err;
  switch (out_.Flush(&err)) {
    case OutputQueue::Flush::kOk:
    case OutputQueue::Flush::kBlocked:
      return;
    case OutputQueue::Flush::kClosed:
      LogWarning("stdout: the reader went away: stopping");
      break;
    case OutputQueue::Flush::kError:
      LogError("stdout: %s", err.c_str());
      break;
  }
  stdout_gone_ = true;
  status_ = kExitFailure;
}

void HookServer::OnStdoutGone() {
  LogWarning("stdout: the reader went away: stopping");
  stdout_gone_ = true;
  status_ = kExitFailure;
}

int RunWebhookServer(const HookOptions& opts) {
  HookServer server(opts);
  return server.Run();
}

std::unique_ptr<ServerHarness> MakeWebhookHarness(const HookOptions& opts) {
  auto server = std::make_shared<HookServer>(opts);
  struct lws_vhost* vhost = server->Open(false);
  if (!vhost) return nullptr;
  return std::make_unique<ServerHarness>(server, server->context(), vhost);
}
