// Webhook verification and dispatch (see webhook.h).
#include "twitch/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/atomic_file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "twitch/eventsub_events.h"

namespace {

constexpr std::string_view kPrefix = "sha256=";

bool Mac(std::string_view secret, std::string_view id, std::string_view timestamp,
         std::string_view body, unsigned char out[32]) {
  std::string msg;
  msg.reserve(id.size() + timestamp.size() + body.size());
  msg.append(id).append(timestamp).append(body);
  unsigned int len = 0;
  return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len) &&
         len == 32;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

WebhookResponse Refuse(unsigned status, WebhookRefusal r, std::string why) {
  WebhookResponse resp;
  resp.status = status;
  resp.refusal = r;
  resp.why = std::move(why);
  resp.body = resp.why + "\n";
  return resp;
}

}  // namespace

bool ValidWebhookSecret(std::string_view secret, std::string* err) {
  if (secret.size() < 10 || secret.size() > 100) {
    *err = "must be 10 to 100 characters, not " + std::to_string(secret.size());
    return false;
  }
  for (char c : secret) {
    if (c < 0x21 || c > 0x7e) {
      *err = "must be printable ASCII characters only";
      return false;
    }
  }
  return true;
}

std::string WebhookSignature(std::string_view secret, std::string_view id,
                             std::string_view timestamp, std::string_view body) {
  unsigned char mac[32];
  if (!Mac(secret, id, timestamp, body, mac)) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string out(kPrefix);
  for (unsigned char b : mac) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

bool WebhookSignatureValid(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signature) {
  if (signature.size() != kPrefix.size() + 64 ||
      strncasecmp(signature.data(), kPrefix.data(), kPrefix.size()) != 0) {
    return false;
  }
  unsigned char given[32];
  int bad = 0;
  for (size_t i = 0; i < 32; i++) {
    int hi = HexDigit(signature[kPrefix.size() + 2 * i]);
    int lo = HexDigit(signature[kPrefix.size() + 2 * i + 1]);
    bad |= (hi | lo) < 0;
    given[i] = static_cast<unsigned char>(((hi & 15) << 4) | (lo & 15));
  }
  unsigned char mac[32];
  if (!Mac(secret, id, timestamp, body, mac)) return false;
  return (CRYPTO_memcmp(mac, given, sizeof mac) == 0) & !bad;
}

const char* WebhookRefusalName(WebhookRefusal r) {
  switch (r) {
    case WebhookRefusal::kSignature:
      return "signature";
    case WebhookRefusal::kTimestamp:
      return "timestamp";
    case WebhookRefusal::kMalformed:
      return "malformed";
    case WebhookRefusal::kTooLarge:
      return "too_large";
    case WebhookRefusal::kMethod:
      return "method";
    case WebhookRefusal::kPath:
      return "path";
    case WebhookRefusal::kBusy:
      return "busy";
    case WebhookRefusal::kNone:
    case WebhookRefusal::kCount:
      break;
  }
  return "none";
}

WebhookResponse WebhookHandler::Handle(const WebhookHeaders& h, std::string_view body,
                                       int64_t now_ms, bool queue_full) {
  const char* missing = h.id.empty()          ? "Twitch-Eventsub-Message-Id"
                        : h.timestamp.empty() ? "Twitch-Eventsub-Message-Timestamp"
                        : h.type.empty()      ? "Twitch-Eventsub-Message-Type"
                                              : nullptr;
  if (missing) return Refuse(400, WebhookRefusal::kMalformed, std::string("no ") + missing);
  if (h.signature.empty()) {
    return Refuse(403, WebhookRefusal::kSignature, "no Twitch-Eventsub-Message-Signature");
  }
  if (!WebhookSignatureValid(secret_, h.id, h.timestamp, body, h.signature)) {
    return Refuse(403, WebhookRefusal::kSignature, "message " + h.id + ": wrong signature");
  }
  int64_t sent_ms = 0;
  if (!ParseRfc3339(h.timestamp, &sent_ms)) {
    return Refuse(400, WebhookRefusal::kMalformed,
                  "message " + h.id + ": timestamp is not RFC 3339: " + h.timestamp);
  }
  if (sent_ms < now_ms - kSkewMs || sent_ms > now_ms + kSkewMs) {
    return Refuse(
        403, WebhookRefusal::kTimestamp,
        "message " + h.id + ": timestamp " + h.timestamp +
            (sent_ms < now_ms ? " is more than 10 minutes old" : " is more than 10 minutes ahead"));
  }
  std::string err;
  JsonPtr root = JsonParse(body, &err);
  if (!root || !json_is_object(root.get())) {
    return Refuse(400, WebhookRefusal::kMalformed,
                  "message " + h.id + ": body is not a JSON object" + (root ? "" : ": " + err));
  }
  json_t* sub = json_object_get(root.get(), "subscription");
  std::string sub_type = JsonString(sub, "type"), sub_id = JsonString(sub, "id");
  if (!json_is_object(sub)) {
    return Refuse(400, WebhookRefusal::kMalformed, "message " + h.id + ": no subscription");
  }
  WebhookResponse resp;
  if (h.type == "webhook_callback_verification") {
    json_t* challenge = json_object_get(root.get(), "challenge");
    if (!json_is_string(challenge) || json_string_length(challenge) == 0) {
      return Refuse(400, WebhookRefusal::kMalformed, "verification " + h.id + ": no challenge");
    }
    resp.body.assign(json_string_value(challenge), json_string_length(challenge));
    resp.why = "subscription " + sub_id + " (" + sub_type + "): verification answered";
    return resp;
  }
  if (h.type == "revocation") {
    resp.status = 204;
    resp.why = "subscription " + sub_id + " (" + sub_type +
               ") revoked: " + JsonString(sub, "status", "no reason given");
    return resp;
  }
  if (h.type != "notification") {
    return Refuse(400, WebhookRefusal::kMalformed,
                  "message " + h.id + ": unknown message type " + h.type);
  }
  if (queue_full) {
    return Refuse(503, WebhookRefusal::kBusy,
                  "message " + h.id + ": standard output is behind; Twitch delivers it again");
  }
  EventSubDelivery delivery;
  delivery.source = "webhook";
  delivery.message_id = h.id;
  delivery.message_timestamp = h.timestamp;
  EventSubMapOptions opts;
  opts.raw = raw_;
  std::vector<JsonPtr> events;
  if (!MapEventSubNotification(root.get(), delivery, opts, &events, &err)) {
    return Refuse(400, WebhookRefusal::kMalformed, "message " + h.id + ": " + err);
  }
  resp.status = 204;
  if (dedup_.Check(h.id, sent_ms, now_ms) == EventSubDedup::Verdict::kDuplicate) {
    resp.why = "message " + h.id + ": duplicate, not written again";
    return resp;
  }
  for (const JsonPtr& e : events) resp.lines.push_back(JsonDump(e.get()) + "\n");
  resp.fresh_id = h.id;
  resp.why =
      "message " + h.id + " (" + sub_type + "): " + std::to_string(events.size()) + " events";
  return resp;
}

bool WebhookHandler::Remember(std::string_view id, int64_t seen_ms, int64_t now_ms) {
  if (now_ms - seen_ms >= EventSubDedup::kWindowMs) return false;
  dedup_.Check(id, seen_ms, now_ms);
  return true;
}

WebhookStateFile::~WebhookStateFile() {
  if (file_) fclose(file_);
}

bool WebhookStateFile::Open(const std::string& path, WebhookHandler* handler, int64_t now_ms,
                            std::string* err) {
  path_ = path;
  std::vector<std::pair<long long, std::string>> kept;
  if (FILE* in = fopen(path.c_str(), "r")) {
    char line[512];
    while (fgets(line, sizeof line, in)) {
      long long ms = 0;
      char id[400];
      if (sscanf(line, "%lld %399s", &ms, id) != 2) continue;
      if (handler->Remember(id, ms, now_ms)) kept.emplace_back(ms, id);
    }
    bool bad = ferror(in);
    fclose(in);
    if (bad) {
      *err = path + ": cannot read it";
      return false;
    }
  } else if (errno != ENOENT) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  std::string text;
  for (const auto& [ms, id] : kept) text += std::to_string(ms) + ' ' + id + '\n';
  if (!WriteFileAtomically(path, text, 0600, err)) return false;
  if (!(file_ = fopen(path.c_str(), "a"))) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  LogDebug("--state-file %s: %zu message ids of the last 10 minutes", path.c_str(), kept.size());
  return true;
}

bool WebhookStateFile::Append(std::string_view id, int64_t now_ms, std::string* err) {
  if (!file_) return true;
  // One id a line, read back with "%399s": Twitch's ids are UUIDs; anything else stays in memory.
  if (id.empty() || id.size() > 256 || id.find_first_of(" \t\r\n") != std::string_view::npos) {
    return true;
  }
  if (fprintf(file_, "%lld %.*s\n", static_cast<long long>(now_ms), static_cast<int>(id.size()),
              id.data()) < 0 ||
      fflush(file_) != 0) {
    *err = path_ + ": " + strerror(errno);
    return false;
  }
  return true;
}
