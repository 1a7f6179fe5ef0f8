// The one HTTP client every Twitch API call goes through (OAuth at id.twitch.tv, Helix), on
// libcurl: form or JSON requests, the Client-Id and Authorization headers, the response's status,
// rate-limit headers and Twitch's error message, timeouts, verified TLS, and retries (429 after
// Ratelimit-Reset; 5xx and network errors with backoff and jitter; never 4xx).
//
// Two ways to drive it, one code path: Perform() blocks (one-shot commands); after Attach() to an
// lws context, Start() runs a request on that loop (curl's multi interface on the loop's sockets
// and timers), so a long-running listener keeps servicing its WebSocket meanwhile. Building a
// request, reading its answer and deciding about a retry are the same code in both.
//
// A token given in HttpRequest::token goes into the Authorization header only: never into a log
// line, an error text or a URL. No body is ever logged.
#pragma once

#include <curl/curl.h>
#include <libwebsockets.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "ws/loop.h"

/// How the client connects and retries.
struct HttpClientOptions {
  std::string cacert;     ///< trust the CAs in this PEM file instead of the system's
  bool insecure = false;  ///< do not verify the server's certificate
  long connect_timeout_ms = 10000;
  long timeout_ms = 30000;   ///< the whole exchange of one attempt
  int max_attempts = 4;      ///< tries of a request that fails transiently (network, 5xx, 429)
  long retry_base_ms = 500;  ///< the first backoff (it doubles, with jitter)
  long max_retry_wait_ms = 60000;  ///< the longest wait before a retry; a 429 asking more fails
};

/// One request. A non-empty |form| is sent url-encoded (application/x-www-form-urlencoded);
/// otherwise a non-empty |json| is sent as application/json.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> form;
  std::string json;
  std::string client_id;               ///< sent as Client-Id when not empty
  std::string token;                   ///< secret; sent as "Authorization: <auth_scheme> <token>"
  std::string auth_scheme = "Bearer";  ///< "OAuth" for id.twitch.tv/oauth2/validate
};

/// What a failed request means for its caller.
enum class HttpFailure {
  kNone,     ///< a 2xx answer
  kStatus,   ///< the server answered with another status (see |status|, |message|)
  kNetwork,  ///< no answer (connect, TLS handshake, timeout, reset), retries used up
  kFatal,    ///< retrying is futile: bad URL, certificate not trusted, ...
};

/// The outcome of one request, after its retries.
struct HttpResponse {
  HttpFailure failure = HttpFailure::kNone;
  long status = 0;  ///< the last HTTP status; 0 when none came
  std::string body;
  std::map<std::string, std::string> headers;  ///< of the last answer, names lower-cased
  JsonPtr json;                                ///< |body| parsed, when it is JSON
  std::string message;  ///< Twitch's error "message" (or "error") from a JSON error body
  std::string error;    ///< "<METHOD> <url>: <why>" unless failure is kNone
  int attempts = 0;

  bool ok() const { return failure == HttpFailure::kNone; }
  /// The value of header |lower_name|, or "" when absent.
  std::string Header(const std::string& lower_name) const;
};

/// Reads the answer in |r| (its status and body, set): |json| parsed from a body; on a 2xx,
/// failure kNone; otherwise kStatus, with Twitch's "message" (or "error") and |error| as
/// "<what>: HTTP <status>[: <message>]". The one place an HTTP answer becomes an outcome.
void HttpReadAnswer(HttpResponse* r, const std::string& what);

/// The wait before retry number |retry| (1: the first): |base_ms| doubled per retry, capped at
/// |max_ms|, with jitter (a uniform pick in its upper half). The one place backoff is decided.
long HttpBackoffMs(int retry, long base_ms, long max_ms, std::mt19937* rng);

struct HttpTransfer;
struct HttpSocketWatch;

/// An HTTP client. Not copyable; not thread-safe (one loop per process).
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Runs |req| to its end (retries included) and returns the outcome. Blocks: for one-shot
  /// commands and start-up; a listener on a loop uses Start().
  HttpResponse Perform(const HttpRequest& req);

  /// Drives Start()'s requests from |context|'s loop from now on (a vhost of its own carries the
  /// sockets). Destroy the client before the context. Returns false with |err| on failure.
  bool Attach(struct lws_context* context, std::string* err);

  using Done = std::function<void(HttpResponse)>;

  /// Starts |req| on the attached loop; |done| runs on the loop once it ended (retries
  /// included). |done| may start other requests, not destroy the client. Requires Attach().
  void Start(HttpRequest req, Done done);

  /// Requests started and not yet done.
  size_t InFlight() const;

 private:
  friend struct HttpTransfer;
  static int SocketCallback(CURL* easy, curl_socket_t s, int what, void* userp,
                            void* socketp) noexcept;
  static int TimerCallback(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static void OnTimer(lws_sorted_usec_list_t* sul) noexcept;
  static void OnRetryTimer(lws_sorted_usec_list_t* sul) noexcept;
  // Ends a transfer whose socket the loop refused (SocketCallback()), as a network failure.
  static void OnRefused(lws_sorted_usec_list_t* sul) noexcept;
  static int LwsCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                         size_t len) noexcept;

  void Launch(HttpTransfer* t, CURLM* multi);
  // Takes every finished transfer from |multi|: retries it or ends it.
  void Collect(CURLM* multi);
  // Decides about a finished attempt of |t|: true when it is to be tried again (after
  // |t|->retry_in_ms).
  bool ShouldRetry(HttpTransfer* t, CURLcode code);
  void Complete(HttpTransfer* t);
  void Action(curl_socket_t s, int events);
  void Unwatch(HttpSocketWatch* w);
  void ReleaseWatch(HttpSocketWatch* w);

  HttpClientOptions opts_;
  std::mt19937 rng_;
  CURLM* blocking_ = nullptr;  // Perform()'s transfers
  CURLM* loop_ = nullptr;      // Start()'s transfers, once attached
  struct lws_context* context_ = nullptr;
  struct lws_vhost* vhost_ = nullptr;
  LoopTimer<HttpClient> timer_{};                         // curl's one timeout
  std::vector<std::unique_ptr<HttpTransfer>> transfers_;  // Start()'s, in flight
  std::vector<std::unique_ptr<HttpSocketWatch>> watches_;
};
