// The libcurl client (see client.h). One transfer is one request with its retries; Launch()
// builds an attempt, Collect() reads how it ended, ShouldRetry() decides what comes next. Only
// the pump differs: Perform() runs curl_multi_perform/curl_multi_poll on a multi handle of its
// own, Start() hands its multi handle's sockets and timer to the lws loop (each socket as a raw
// file in the loop: a duplicate, which lws closes, never curl's).
#include "http/client.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

#include "core/log.h"
#include "core/tls_options.h"
#include "version.h"
#include "ws/loop.h"

namespace {

constexpr const char* kProtocolName = "servitor-http";

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t n, void* userp) {
  static_cast<std::string*>(userp)->append(data, size * n);
  return size * n;
}

std::string Trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

size_t OnHeader(char* data, size_t size, size_t n, void* userp) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(userp);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new answer (after a 100 Continue, say)
  } else if (size_t colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(tolower(c)); });
    (*headers)[name] = Trim(line.substr(colon + 1));
  }
  return size * n;
}

bool FatalCode(CURLcode c) {
  switch (c) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_OUT_OF_MEMORY:
      return true;
    default:
      return false;
  }
}

// A header's whole number (digits only); -1 when it is none.
long long HeaderNumber(const std::string& v) {
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return isdigit(c) != 0; })) {
    return -1;
  }
  return v.size() > 12 ? 999999999999LL : std::stoll(v);
}

// |seconds| from now as a wait in milliseconds, 0 to a day.
long WaitMs(long long seconds) {
  return static_cast<long>(std::clamp(seconds, 0LL, 86400LL) * 1000);
}

bool Idempotent(const std::string& method) { return method != "POST" && method != "PATCH"; }

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

long HttpBackoffMs(int retry, long base_ms, long max_ms, std::mt19937* rng) {
  long cap = base_ms;
  for (int i = 1; i < retry && cap < max_ms; ++i) cap *= 2;
  cap = std::max(1L, std::min(cap, max_ms));
  std::uniform_int_distribution<long> jitter(cap / 2, cap);
  return jitter(*rng);
}

/// One request and its retries.
struct HttpTransfer {
  HttpTransfer(HttpClient* c, HttpRequest r, HttpClient::Done d)
      : client(c), req(std::move(r)), done(std::move(d)) {
    retry.owner = this;
  }
  ~HttpTransfer() {
    if (client->context_) lws_sul_cancel(&retry.sul);
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  HttpTransfer(const HttpTransfer&) = delete;
  HttpTransfer& operator=(const HttpTransfer&) = delete;

  HttpClient* client;
  HttpRequest req;
  HttpClient::Done done;  // empty: a Perform() transfer
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  HttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {};
  int64_t attempt_started_ms = 0;
  long retry_in_ms = 0;
  int64_t retry_at_ms = -1;  // Perform(): waiting for a retry until then
  bool finished = false;     // Perform(): the outcome is in |resp|
  bool refused = false;      // the loop refused a socket of this attempt: OnRefused() ends it
  LoopTimer<HttpTransfer> retry{};
};

/// One of curl's sockets in the lws loop.
struct HttpSocketWatch {
  HttpClient* client;
  curl_socket_t fd;        // curl's
  struct lws* wsi;         // our duplicate in the loop; null once lws closed it
  bool curl_gone = false;  // curl said CURL_POLL_REMOVE
  bool want_out = false;
  bool in_writeable = false;
  LoopTimer<HttpSocketWatch> out_timer{};
};

HttpClient::HttpClient(HttpClientOptions opts)
    : opts_(std::move(opts)), rng_(std::random_device{}()) {
  GlobalInit();
  blocking_ = curl_multi_init();
  timer_.owner = this;
}

HttpClient::~HttpClient() {
  if (loop_) {
    for (auto& t : transfers_) curl_multi_remove_handle(loop_, t->easy);
    transfers_.clear();
    curl_multi_setopt(loop_, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(loop_, CURLMOPT_TIMERFUNCTION, nullptr);
    curl_multi_cleanup(loop_);
    lws_sul_cancel(&timer_.sul);
    for (auto& w : watches_) {
      lws_sul_cancel(&w->out_timer.sul);
      if (w->wsi) {
        lws_set_opaque_user_data(w->wsi, nullptr);
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
      }
    }
    watches_.clear();
  }
  curl_multi_cleanup(blocking_);
}

void HttpClient::Launch(HttpTransfer* t, CURLM* multi) {
  if (!t->easy) {
    t->easy = curl_easy_init();
    if (t->req.token.size() || t->req.client_id.size() || t->req.form.size() ||
        t->req.json.size()) {
      if (!t->req.client_id.empty()) {
        t->headers = curl_slist_append(t->headers, ("Client-Id: " + t->req.client_id).c_str());
      }
      if (!t->req.token.empty()) {
        t->headers = curl_slist_append(
            t->headers, ("Authorization: " + t->req.auth_scheme + " " + t->req.token).c_str());
      }
      if (!t->req.form.empty()) {
        for (const auto& [k, v] : t->req.form) {
          char* ek = curl_easy_escape(t->easy, k.data(), static_cast<int>(k.size()));
          char* ev = curl_easy_escape(t->easy, v.data(), static_cast<int>(v.size()));
          if (!t->body.empty()) t->body += '&';
          t->body += std::string(ek) + "=" + ev;
          curl_free(ek);
          curl_free(ev);
        }
        t->headers =
            curl_slist_append(t->headers, "Content-Type: application/x-www-form-urlencoded");
      } else if (!t->req.json.empty()) {
        t->body = t->req.json;
        t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
      }
    }
    t->headers = curl_slist_append(t->headers, "Accept: application/json");
  } else {
    curl_easy_reset(t->easy);
  }
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, t->req.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // the Authorization header stays here
  curl_easy_setopt(e, CURLOPT_USERAGENT, "twitch-servitor/" SERVITOR_VERSION);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, opts_.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, opts_.timeout_ms);
  // Without --cacert not the default bundle, parsed whole into each TLS context (about 140
  // certificates, 0.6 MB of heap), but only the CA directory libcurl was built with
  // (/etc/ssl/certs on Debian: the same certificates, looked up by hash when a chain is verified).
  curl_easy_setopt(e, CURLOPT_CAINFO, opts_.cacert.empty() ? nullptr : opts_.cacert.c_str());
  curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (opts_.insecure) {
    if (t->req.url.compare(0, 8, "https://") == 0) {
      WarnInsecure(t->req.url.substr(0, t->req.url.find_first_of("/?#", 8)));  // no path, no query
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (t->req.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
  } else if (t->req.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->req.method.c_str());
  }
  if (!t->body.empty() || t->req.method == "POST") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->body.size()));
  }
  t->resp.body.clear();
  t->resp.headers.clear();
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t->resp.body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t->resp.headers);
  t->errbuf[0] = '\0';
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  ++t->resp.attempts;
  t->retry_at_ms = -1;
  t->refused = false;
  t->attempt_started_ms = SteadyMs();
  curl_multi_add_handle(multi, e);
}

void HttpReadAnswer(HttpResponse* r, const std::string& what) {
  std::string perr;
  if (!r->body.empty()) r->json = JsonParse(r->body, &perr);
  if (r->status >= 200 && r->status < 300) {
    r->failure = HttpFailure::kNone;
    r->error.clear();
    return;
  }
  r->failure = HttpFailure::kStatus;
  if (r->json && json_is_object(r->json.get())) {
    r->message = JsonString(r->json.get(), "message");
    if (r->message.empty()) r->message = JsonString(r->json.get(), "error");
  }
  r->error =
      what + ": HTTP " + std::to_string(r->status) + (r->message.empty() ? "" : ": ") + r->message;
}

bool HttpClient::ShouldRetry(HttpTransfer* t, CURLcode code) {
  HttpResponse& r = t->resp;
  const std::string what = t->req.method + " " + t->req.url;
  bool may_retry = r.attempts < opts_.max_attempts;
  r.json.reset();
  r.message.clear();
  if (code != CURLE_OK) {
    r.status = 0;
    r.failure = FatalCode(code) ? HttpFailure::kFatal : HttpFailure::kNetwork;
    r.error = what + ": " + (t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
    long sent = 0;
    curl_easy_getinfo(t->easy, CURLINFO_REQUEST_SIZE, &sent);
    // A POST that may have reached the server is not sent twice.
    may_retry =
        may_retry && r.failure == HttpFailure::kNetwork && (Idempotent(t->req.method) || sent == 0);
    t->retry_in_ms = HttpBackoffMs(r.attempts, opts_.retry_base_ms, opts_.max_retry_wait_ms, &rng_);
  } else {
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
    HttpReadAnswer(&r, what);
    if (r.ok()) return false;
    if (r.status == 429) {
      // Ratelimit-Reset: when the bucket is full again (Unix seconds); Retry-After: seconds.
      long wait = -1;
      long long reset = HeaderNumber(r.Header("ratelimit-reset"));
      long long after = HeaderNumber(r.Header("retry-after"));
      if (reset >= 0) {
        wait = WaitMs(reset - WallSeconds());
      } else if (after >= 0) {
        wait = WaitMs(after);
      }
      if (wait > opts_.max_retry_wait_ms) {
        r.error += " (rate limited for " + std::to_string((wait + 999) / 1000) + " s more)";
        may_retry = false;
      }
      t->retry_in_ms = wait >= 0 ? wait + 50
                                 : HttpBackoffMs(r.attempts, opts_.retry_base_ms,
                                                 opts_.max_retry_wait_ms, &rng_);
    } else if (r.status >= 500) {
      t->retry_in_ms =
          HttpBackoffMs(r.attempts, opts_.retry_base_ms, opts_.max_retry_wait_ms, &rng_);
    } else {
      may_retry = false;  // 4xx: asking again gets the same answer
    }
  }
  LogDebug("http: %s: attempt %d: %s (%lld ms)", what.c_str(), r.attempts,
           code != CURLE_OK ? "no answer" : std::to_string(r.status).c_str(),
           static_cast<long long>(SteadyMs() - t->attempt_started_ms));
  if (may_retry) {
    LogInfo("%s; trying again in %ld ms", r.error.c_str(), t->retry_in_ms);
    return true;
  }
  if (r.attempts > 1) r.error += " (after " + std::to_string(r.attempts) + " attempts)";
  return false;
}

void HttpClient::Collect(CURLM* multi) {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    HttpTransfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    curl_multi_remove_handle(multi, easy);
    if (!ShouldRetry(t, code)) {
      Complete(t);
    } else if (t->done) {
      lws_sul_schedule(context_, 0, &t->retry.sul, OnRetryTimer,
                       static_cast<lws_usec_t>(t->retry_in_ms) * LWS_US_PER_MS);
    } else {
      t->retry_at_ms = SteadyMs() + t->retry_in_ms;
    }
  }
}

void HttpClient::Complete(HttpTransfer* t) {
  if (!t->done) {
    t->finished = true;
    return;
  }
  auto it = std::find_if(transfers_.begin(), transfers_.end(),
                         [t](const std::unique_ptr<HttpTransfer>& p) { return p.get() == t; });
  std::unique_ptr<HttpTransfer> owned = std::move(*it);
  transfers_.erase(it);
  owned->done(std::move(owned->resp));
}

HttpResponse HttpClient::Perform(const HttpRequest& req) {
  HttpTransfer t(this, req, nullptr);
  Launch(&t, blocking_);
  while (!t.finished) {
    if (t.retry_at_ms >= 0) {
      // Nothing else is in this multi handle: curl_multi_poll() waits out the whole time.
      int64_t wait = t.retry_at_ms - SteadyMs();
      if (wait > 0) {
        curl_multi_poll(blocking_, nullptr, 0, static_cast<int>(wait), nullptr);
        continue;
      }
      Launch(&t, blocking_);
    }
    int running = 0;
    curl_multi_perform(blocking_, &running);
    Collect(blocking_);
    if (!t.finished && t.retry_at_ms < 0) curl_multi_poll(blocking_, nullptr, 0, 1000, nullptr);
  }
  return std::move(t.resp);
}

bool HttpClient::Attach(struct lws_context* context, std::string* err) {
  static const struct lws_protocols kProtocols[] = {
      {kProtocolName, &HttpClient::LwsCallback, 0, 0, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0}};
  struct lws_context_creation_info info = {};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.vhost_name = kProtocolName;
  vhost_ = lws_create_vhost(context, &info);
  if (!vhost_) {
    *err = "cannot add the HTTP client to the event loop";
    return false;
  }
  context_ = context;
  loop_ = curl_multi_init();
  curl_multi_setopt(loop_, CURLMOPT_SOCKETFUNCTION, &HttpClient::SocketCallback);
  curl_multi_setopt(loop_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(loop_, CURLMOPT_TIMERFUNCTION, &HttpClient::TimerCallback);
  curl_multi_setopt(loop_, CURLMOPT_TIMERDATA, this);
  return true;
}

void HttpClient::Start(HttpRequest req, Done done) {
  transfers_.push_back(std::make_unique<HttpTransfer>(this, std::move(req), std::move(done)));
  Launch(transfers_.back().get(), loop_);
}

size_t HttpClient::InFlight() const { return transfers_.size(); }

void HttpClient::Action(curl_socket_t s, int events) {
  int running = 0;
  curl_multi_socket_action(loop_, s, events, &running);
  Collect(loop_);
}

int HttpClient::TimerCallback(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* c = static_cast<HttpClient*>(userp);
  if (timeout_ms < 0) {
    lws_sul_cancel(&c->timer_.sul);
  } else {
    // Never curl_multi_socket_action() from inside curl's callback: the loop runs it.
    lws_sul_schedule(c->context_, 0, &c->timer_.sul, &HttpClient::OnTimer,
                     static_cast<lws_usec_t>(timeout_ms) * LWS_US_PER_MS);
  }
  return 0;
}

void HttpClient::OnTimer(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    LoopTimer<HttpClient>::OwnerOf(sul)->Action(CURL_SOCKET_TIMEOUT, 0);
    return 0;
  });
}

void HttpClient::OnRetryTimer(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    HttpTransfer* t = LoopTimer<HttpTransfer>::OwnerOf(sul);
    t->client->Launch(t, t->client->loop_);
    return 0;
  });
}

void HttpClient::OnRefused(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    HttpTransfer* t = LoopTimer<HttpTransfer>::OwnerOf(sul);
    HttpClient* c = t->client;
    curl_multi_remove_handle(c->loop_, t->easy);
    HttpResponse& r = t->resp;
    r.failure = HttpFailure::kNetwork;
    r.status = 0;
    r.error = t->req.method + " " + t->req.url +
              ": the event loop refused its socket (too many connections or open files?)";
    LogError("http: %s", r.error.c_str());
    c->Complete(t);
    return 0;
  });
}

namespace {
void RequestWritable(lws_sorted_usec_list_t* sul) noexcept {
  HttpSocketWatch* w = LoopTimer<HttpSocketWatch>::OwnerOf(sul);
  if (w->wsi && !w->curl_gone && w->want_out) lws_callback_on_writable(w->wsi);
}
}  // namespace

int HttpClient::SocketCallback(CURL* easy, curl_socket_t s, int what, void* userp,
                               void* socketp) noexcept {
  return GuardCallback([&] {
    auto* c = static_cast<HttpClient*>(userp);
    auto* w = static_cast<HttpSocketWatch*>(socketp);
    if (what == CURL_POLL_REMOVE) {
      if (w) {
        curl_multi_assign(c->loop_, s, nullptr);
        c->Unwatch(w);
      }
      return 0;
    }
    if (!w || !w->wsi) {
      int fd = dup(s);
      lws_sock_file_fd_type u;
      u.filefd = fd;
      struct lws* wsi = fd < 0 ? nullptr
                               : lws_adopt_descriptor_vhost(c->vhost_, LWS_ADOPT_RAW_FILE_DESC, u,
                                                            kProtocolName, nullptr);
      if (!wsi) {
        if (fd >= 0) close(fd);
        // Returning -1 would give up the whole multi handle (every transfer in it, and every one
        // after). This transfer alone fails, from the loop: curl's handles do not change inside
        // curl's callbacks.
        HttpTransfer* t = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
        if (t && !t->refused) {
          t->refused = true;
          lws_sul_schedule(c->context_, 0, &t->retry.sul, &HttpClient::OnRefused, 0);
        }
        return 0;
      }
      if (!w) {
        c->watches_.push_back(std::make_unique<HttpSocketWatch>());
        w = c->watches_.back().get();
      }
      w->client = c;
      w->fd = s;
      w->wsi = wsi;
      w->out_timer.owner = w;
      lws_set_opaque_user_data(wsi, w);
      curl_multi_assign(c->loop_, s, w);
    }
    w->want_out = (what & CURL_POLL_OUT) != 0;
    lws_rx_flow_control(w->wsi, (what & CURL_POLL_IN) ? 1 : 0);
    if (w->want_out) {
      // lws 4.1 drops a writable request made inside the WRITEABLE callback: ask from a timer.
      if (w->in_writeable) {
        lws_sul_schedule(c->context_, 0, &w->out_timer.sul, RequestWritable, 0);
      } else {
        lws_callback_on_writable(w->wsi);
      }
    }
    return 0;
  });
}

void HttpClient::Unwatch(HttpSocketWatch* w) {
  w->curl_gone = true;
  w->want_out = false;
  lws_sul_cancel(&w->out_timer.sul);
  if (!w->wsi) {
    ReleaseWatch(w);
    return;
  }
  lws_rx_flow_control(w->wsi, 0);
  lws_set_timeout(w->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
}

void HttpClient::ReleaseWatch(HttpSocketWatch* w) {
  auto it = std::find_if(watches_.begin(), watches_.end(),
                         [w](const std::unique_ptr<HttpSocketWatch>& p) { return p.get() == w; });
  if (it != watches_.end()) watches_.erase(it);
}

int HttpClient::LwsCallback(struct lws* wsi, enum lws_callback_reasons reason, void*, void*,
                            size_t) noexcept {
  return GuardCallback([&] {
    auto* w = static_cast<HttpSocketWatch*>(lws_get_opaque_user_data(wsi));
    if (!w) return 0;
    HttpClient* c = w->client;
    switch (reason) {
      case LWS_CALLBACK_RAW_RX_FILE:
        if (!w->curl_gone) c->Action(w->fd, CURL_CSELECT_IN);
        break;
      case LWS_CALLBACK_RAW_WRITEABLE_FILE:
        if (!w->curl_gone) {
          w->in_writeable = true;
          curl_socket_t fd = w->fd;
          c->Action(fd, CURL_CSELECT_OUT);
          // |w| may be gone: curl can end the transfer and give the socket up inside.
          for (auto& p : c->watches_) {
            if (p.get() == w) w->in_writeable = false;
          }
        }
        break;
      case LWS_CALLBACK_RAW_CLOSE_FILE:
        lws_set_opaque_user_data(wsi, nullptr);
        w->wsi = nullptr;
        if (w->curl_gone) {
          c->ReleaseWatch(w);
        } else {
          // lws closed our duplicate (a hang-up): curl finds out what happened on its socket.
          c->Action(w->fd, CURL_CSELECT_IN | CURL_CSELECT_ERR);
        }
        break;
      default:
        break;
    }
    return 0;
  });
}
