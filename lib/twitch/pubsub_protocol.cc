// PubSub frames built and parsed with jansson; the token is written into the one frame that goes
// on the wire and into no other string.
#include "twitch/pubsub_protocol.h"

#include <openssl/rand.h>

#include <algorithm>
#include <unordered_set>

#include "core/event.h"
#include "core/json.h"

namespace {

JsonPtr TopicArray(const std::vector<std::string>& topics) {
  JsonPtr arr = JsonOwn(json_array());
  for (const std::string& t : topics) {
    json_array_append_new(arr.get(), json_stringn(t.data(), t.size()));
  }
  return arr;
}

PubSubRequest Request(std::string_view type, std::string_view nonce,
                      const std::vector<std::string>& topics, const std::string_view* token) {
  PubSubRequest req;
  req.type = std::string(type);
  req.nonce = std::string(nonce);
  req.topics = topics;
  JsonPtr frame = JsonOwn(json_object());
  SetString(frame.get(), "type", type);
  SetString(frame.get(), "nonce", nonce);
  JsonPtr data = JsonOwn(json_object());
  json_object_set_new(data.get(), "topics", TopicArray(topics).release());
  if (token) SetString(data.get(), "auth_token", *token);
  json_object_set(frame.get(), "data", data.get());
  req.frame = JsonDump(frame.get());
  return req;
}

}  // namespace

bool ParsePubSubFrame(std::string_view text, PubSubFrame* out, std::string* err) {
  *out = PubSubFrame();
  JsonPtr root = JsonParse(text, err);
  if (!root) {
    *err = "not JSON: " + *err;
    return false;
  }
  if (!json_is_object(root.get())) {
    *err = "not a JSON object";
    return false;
  }
  const json_t* type = json_object_get(root.get(), "type");
  if (!json_is_string(type)) {
    *err = "no \"type\" string";
    return false;
  }
  out->type = json_string_value(type);
  if (out->type == "PONG") {
    out->kind = PubSubFrameType::kPong;
  } else if (out->type == "RECONNECT") {
    out->kind = PubSubFrameType::kReconnect;
  } else if (out->type == "AUTH_REVOKED") {
    // Not in the archived guide, but sent (twitch4j handles it): the token no longer serves.
    out->kind = PubSubFrameType::kAuthRevoked;
    size_t i;
    const json_t* t;
    json_array_foreach(JsonPath(root.get(), "data.topics"), i, t) {
      if (json_is_string(t)) out->topics.emplace_back(json_string_value(t), json_string_length(t));
    }
  } else if (out->type == "RESPONSE") {
    out->kind = PubSubFrameType::kResponse;
    out->nonce = JsonString(root.get(), "nonce");
    out->error = JsonString(root.get(), "error");
  } else if (out->type == "MESSAGE") {
    out->kind = PubSubFrameType::kMessage;
    const json_t* data = json_object_get(root.get(), "data");
    if (!json_is_object(data)) {
      *err = "MESSAGE without a \"data\" object";
      return false;
    }
    const json_t* topic = json_object_get(data, "topic");
    if (!json_is_string(topic)) {
      *err = "MESSAGE without a \"topic\" string";
      return false;
    }
    out->topic.assign(json_string_value(topic), json_string_length(topic));
    const json_t* message = json_object_get(data, "message");
    if (json_is_string(message)) {
      out->message.assign(json_string_value(message), json_string_length(message));
    } else if (json_is_object(message)) {
      out->message = JsonDump(message);
    } else {
      *err = "MESSAGE of " + out->topic + " without a \"message\"";
      return false;
    }
  }
  return true;
}

PubSubResponseOutcome ClassifyPubSubError(std::string_view error) {
  if (error.empty()) return PubSubResponseOutcome::kOk;
  if (error == "ERR_BADAUTH") return PubSubResponseOutcome::kBadAuth;
  if (error == "ERR_BADTOPIC") return PubSubResponseOutcome::kBadTopic;
  if (error == "ERR_SERVER") return PubSubResponseOutcome::kServer;
  if (error == "ERR_BADMESSAGE") return PubSubResponseOutcome::kBadMessage;
  return PubSubResponseOutcome::kUnknown;
}

std::string PubSubRequest::ForLog() const {
  const std::string_view redacted = "[redacted]";
  return Request(type, nonce, topics, type == "LISTEN" ? &redacted : nullptr).frame;
}

PubSubRequest PubSubListen(std::string_view nonce, const std::vector<std::string>& topics,
                           std::string_view token) {
  return Request("LISTEN", nonce, topics, &token);
}

PubSubRequest PubSubUnlisten(std::string_view nonce, const std::vector<std::string>& topics) {
  return Request("UNLISTEN", nonce, topics, nullptr);
}

std::string PubSubPingFrame() { return "{\"type\":\"PING\"}"; }

std::string NewPubSubNonce() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Not expected; a nonce needs to be distinct, not secret, and a UUID is.
    std::string id = NewUuid();
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    return id;
  }
  std::string nonce;
  for (unsigned char b : bytes) nonce.push_back(kAlphabet[b % (sizeof kAlphabet - 1)]);
  return nonce;
}

void PubSubPendingRequests::Add(PubSubRequest request) { pending_.push_back(std::move(request)); }

bool PubSubPendingRequests::Take(const PubSubFrame& response, PubSubRequest* out) {
  if (response.kind != PubSubFrameType::kResponse || response.nonce.empty()) return false;
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const PubSubRequest& r) { return r.nonce == response.nonce; });
  if (it == pending_.end()) return false;
  *out = std::move(*it);
  pending_.erase(it);
  return true;
}

std::vector<std::vector<std::string>> SplitPubSubTopics(const std::vector<std::string>& topics,
                                                        size_t per_connection) {
  if (per_connection == 0) per_connection = 1;
  std::vector<std::vector<std::string>> groups;
  std::unordered_set<std::string> seen;
  for (const std::string& t : topics) {
    if (!seen.insert(t).second) continue;
    if (groups.empty() || groups.back().size() == per_connection) groups.emplace_back();
    groups.back().push_back(t);
  }
  return groups;
}

namespace {

struct TopicName {
  const char* type;
  const char* topic;
};

constexpr TopicName kTopics[] = {
    {"sub", "channel-subscribe-events-v1"},  {"subgifts", "channel-sub-gifts-v1"},
    {"bits", "channel-bits-events-v2"},      {"bitsbadge", "channel-bits-badge-unlocks"},
    {"points", "channel-points-channel-v1"},
};

}  // namespace

const std::vector<std::string>& PubSubTypes() {
  static const std::vector<std::string> kTypes = [] {
    std::vector<std::string> v;
    for (const TopicName& t : kTopics) v.push_back(t.type);
    return v;
  }();
  return kTypes;
}

bool PubSubTopicFor(std::string_view type, std::string_view channel_id, std::string* topic,
                    std::string* err) {
  if (channel_id.empty() || !std::all_of(channel_id.begin(), channel_id.end(),
                                         [](char c) { return c >= '0' && c <= '9'; })) {
    *err = "channel id \"" + std::string(channel_id) + "\": not a number";
    return false;
  }
  for (const TopicName& t : kTopics) {
    if (type == t.type) {
      *topic = std::string(t.topic) + "." + std::string(channel_id);
      return true;
    }
  }
  std::string known;
  for (const std::string& t : PubSubTypes()) known += (known.empty() ? "" : ", ") + t;
  *err = "type \"" + std::string(type) + "\": not one of " + known;
  return false;
}

int64_t PubSubPingDelayMs(uint32_t random) {
  constexpr int64_t kMin = 3 * 60 * 1000;
  constexpr int64_t kSpread = kPubSubMaxPingIntervalMs - kMin;
  return kMin + static_cast<int64_t>(random % (kSpread + 1));
}
