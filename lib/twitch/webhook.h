// EventSub webhooks (twitch-protocols.md §4) without I/O: the secret's rule, the signature, and
// what one signed POST comes to (its status, its body, the event lines to write), so that the
// HTTP server around it only moves bytes. Used by twitch-hook.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "twitch/eventsub_dedup.h"

/// Twitch's bound on the body of a webhook request that twitch-hook reads: 1 MiB.
constexpr size_t kWebhookMaxBody = 1u << 20;

/// True when |secret| is what Twitch accepts: 10 to 100 printable ASCII characters. Otherwise
/// false with the reason in |err|.
bool ValidWebhookSecret(std::string_view secret, std::string* err);

/// "sha256=" and the lowercase hex HMAC-SHA256 of |id| + |timestamp| + |body| under |secret|:
/// the Twitch-Eventsub-Message-Signature Twitch sends.
std::string WebhookSignature(std::string_view secret, std::string_view id,
                             std::string_view timestamp, std::string_view body);

/// True when |signature| (the header, "sha256=" in any case and 64 hex digits) is the signature
/// of the message. The digests are compared with CRYPTO_memcmp, in constant time.
bool WebhookSignatureValid(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signature);

/// The Twitch-Eventsub-Message-* headers of a request; a header that was not sent is empty.
struct WebhookHeaders {
  std::string id, timestamp, type, signature;
};

/// Why a request was refused: the keys of /healthz's "refused" object.
enum class WebhookRefusal {
  kNone,
  kSignature,  ///< 403: missing or wrong signature
  kTimestamp,  ///< 403: more than 10 minutes old or ahead
  kMalformed,  ///< 400: a missing header, or a body that is not the JSON its type needs
  kTooLarge,   ///< 413: a body over kWebhookMaxBody
  kMethod,     ///< 405
  kPath,       ///< 404
  kBusy,       ///< 503: the output queue is over its bound; Twitch delivers again
  kCount
};

/// The key of |r| in /healthz ("signature", "timestamp", ...).
const char* WebhookRefusalName(WebhookRefusal r);

/// What to answer one request with.
struct WebhookResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  WebhookRefusal refusal = WebhookRefusal::kNone;
  std::string why;                 ///< for the log line of a refusal, or what was done
  std::vector<std::string> lines;  ///< event lines to queue, '\n' ended (a fresh notification)
  std::string fresh_id;            ///< the message id now remembered (to keep in --state-file)
};

/// Judges signed webhook requests: signature first (before the body is parsed), then the
/// timestamp window, then the message type. Holds the message-id window.
class WebhookHandler {
 public:
  /// Twitch's replay bound, both ways: 10 minutes.
  static constexpr int64_t kSkewMs = 10 * 60 * 1000;

  WebhookHandler(std::string secret, bool raw) : secret_(std::move(secret)), raw_(raw) {}

  /// Answers the POST with headers |h| and body |body| at |now_ms|. |queue_full|: the output
  /// queue is over its bound, so a fresh notification is answered 503 and not remembered, for
  /// Twitch to deliver it again. A notification is answered 204 once its lines are returned
  /// (the caller queues them before answering); a duplicate message id gets 204 and no lines.
  WebhookResponse Handle(const WebhookHeaders& h, std::string_view body, int64_t now_ms,
                         bool queue_full);

  /// Remembers |id| as seen at |seen_ms| (from --state-file); false when it is too old.
  bool Remember(std::string_view id, int64_t seen_ms, int64_t now_ms);

  uint64_t duplicates() const { return dedup_.duplicates(); }

 private:
  std::string secret_;
  bool raw_;
  EventSubDedup dedup_;
};

/// --state-file: the message ids answered, "MILLISECONDS ID" a line, appended as they come and
/// rewritten with only the last 10 minutes' at Open().
class WebhookStateFile {
 public:
  WebhookStateFile() = default;
  ~WebhookStateFile();
  WebhookStateFile(const WebhookStateFile&) = delete;
  WebhookStateFile& operator=(const WebhookStateFile&) = delete;

  /// Reads |path| (a missing file is empty) into |handler|, rewrites it with what is still in
  /// the window, and keeps it open for Append(). False with |err| when it cannot be read or
  /// written.
  bool Open(const std::string& path, WebhookHandler* handler, int64_t now_ms, std::string* err);
  /// Appends one id and flushes it (an id with white space or over 256 bytes, which Twitch's
  /// UUIDs never are, is not kept). False with |err| on a write error.
  bool Append(std::string_view id, int64_t now_ms, std::string* err);
  bool is_open() const { return file_ != nullptr; }

 private:
  std::string path_;
  FILE* file_ = nullptr;
};
