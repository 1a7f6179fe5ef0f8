// The mapping table of twitch-pubsub(1): which PubSub payload gives which schema-v1 event, with
// which keys. PubSub's field names and quirks ("Prime" plans, ids as numbers or strings, the gifter
// in user_* and the subscriber in recipient_* of a gifted resub) are confined to this file.
#include "twitch/pubsub_events.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>

#include "core/event.h"
#include "core/log.h"
#include "core/time.h"
#include "twitch/fragments.h"
#include "twitch/pubsub_protocol.h"

namespace {

constexpr std::string_view kSource = "pubsub";
constexpr size_t kMaxOpenGiftBombs = 64;

// A string field; ids that PubSub sends as numbers are written as strings.
std::string Str(const json_t* obj, const char* key) {
  const json_t* v = json_object_get(obj, key);
  if (json_is_string(v)) return std::string(json_string_value(v), json_string_length(v));
  if (json_is_integer(v)) return std::to_string(json_integer_value(v));
  return {};
}

bool Int(const json_t* obj, const char* key, long long* out) {
  const json_t* v = json_object_get(obj, key);
  if (!json_is_integer(v)) return false;
  *out = json_integer_value(v);
  return true;
}

bool True(const json_t* obj, const char* key) { return json_is_true(json_object_get(obj, key)); }

void SetPositive(json_t* ev, const char* key, const json_t* obj, const char* field) {
  long long n;
  if (Int(obj, field, &n) && n > 0) SetInt(ev, key, n);
}

void SetNonEmpty(json_t* ev, const char* key, const std::string& value) {
  if (!value.empty()) SetString(ev, key, value);
}

// "at" from an RFC 3339 field (any offset, any fraction), else the time the message arrived.
std::string At(const json_t* obj, const char* key, int64_t now_ms) {
  int64_t ms;
  std::string s = Str(obj, key);
  return FormatRfc3339Millis(!s.empty() && ParseRfc3339(s, &ms) ? ms : now_ms);
}

Identity Who(const json_t* obj, const char* id, const char* login, const char* name) {
  Identity who;
  who.id = Str(obj, id);
  who.login = Str(obj, login);
  who.name = Str(obj, name);
  return who;
}

void SetWho(json_t* ev, const char* key, const Identity& who) {
  if (!who.empty()) SetIdentity(ev, key, who);
}

void SetUserOrAnonymous(json_t* ev, bool anonymous, const Identity& user) {
  if (anonymous) {
    SetAnonymous(ev);
  } else {
    SetWho(ev, "user", user);
  }
}

// A required count: 0 when missing, which validation then refuses.
void SetCount(json_t* ev, const char* key, const json_t* obj, const char* field) {
  long long n = 0;
  Int(obj, field, &n);
  SetInt(ev, key, n);
}

// The channel a payload names by its "channel_id" (and |login_key|), else the topic's.
Identity ChannelOf(const json_t* obj, const char* login_key, const Identity& topic_channel) {
  Identity channel = Who(obj, "channel_id", login_key, "");
  if (channel.id.empty()) channel.id = topic_channel.id;
  return channel;
}

// Schema tiers: "Prime" → "prime"; an unknown plan is kept, so validation turns it into a notice.
std::string Tier(std::string plan) {
  if (plan == "Prime" || plan == "prime") return "prime";
  return plan;
}

JsonPtr Base(std::string_view type, const std::string& id, const std::string& at,
             const Identity& channel) {
  JsonPtr ev = NewEvent(type, kSource, id, at);
  SetWho(ev.get(), "channel", channel);
  return ev;
}

JsonPtr Notice(std::string_view kind, const std::string& id, const std::string& at,
               const Identity& channel) {
  JsonPtr ev = Base("notice", id, at, channel);
  SetString(ev.get(), "kind", kind.empty() ? std::string_view("unknown") : kind);
  return ev;
}

// "fragments" (twitch-events(7)) from sub_message.emotes: ranges of code points, end inclusive, as
// IRC's emotes tag. Twitch has sent ranges past the end and ends before starts (its own
// documentation's example does), so a range that does not fit, or overlaps the one before, is
// left to the text around it.
void SetFragments(json_t* ev, const std::string& text, const json_t* emotes) {
  std::vector<EmoteRange> ranges;
  size_t i;
  const json_t* e;
  json_array_foreach(emotes, i, e) {
    EmoteRange r;
    r.id = Str(e, "id");
    if (Int(e, "start", &r.first) && Int(e, "end", &r.last)) ranges.push_back(r);
  }
  JsonPtr parts = FragmentsJson(text, WithoutOverlaps(EmoteParts(CodePointOffsets(text), ranges)));
  if (parts) json_object_set(ev, "fragments", parts.get());
}

// The viewer's sub_message: "message" when not empty, with its fragments.
void SetSubMessage(json_t* ev, const json_t* msg) {
  const json_t* sub = json_object_get(msg, "sub_message");
  std::string text = Str(sub, "message");
  if (text.empty()) return;
  SetString(ev, "message", text);
  const json_t* emotes = json_object_get(sub, "emotes");
  if (json_is_array(emotes)) SetFragments(ev, text, emotes);
}

// The months of a sub or resub: cumulative_months, or the deprecated months of old payloads.
void SetMonths(json_t* ev, const json_t* msg) {
  long long n;
  if (Int(msg, "cumulative_months", &n) && n >= 0) {
    SetInt(ev, "months", n);
  } else {
    SetPositive(ev, "months", msg, "months");
  }
}

bool IsAnonymousGifter(const json_t* msg, std::string_view context) {
  return context.substr(0, 4) == "anon" || Str(msg, "user_name") == "ananonymousgifter";
}

std::string GifterKey(const json_t* ev) {
  if (json_is_true(json_object_get(ev, "anonymous"))) return {};
  const json_t* user = json_object_get(ev, "user");
  std::string id = JsonString(user, "id");
  return id.empty() ? "login:" + JsonString(user, "login") : "id:" + id;
}

JsonPtr Cheer(json_t* msg, const std::string& digest, int64_t now_ms,
              const Identity& topic_channel) {
  // v2 wraps the cheer in "data" beside message_type and message_id; v1 did too.
  std::string kind = Str(msg, "message_type");
  json_t* data = json_object_get(msg, "data");
  std::string id = Str(msg, "message_id");
  if (id.empty()) id = digest;
  Identity channel = ChannelOf(data, "channel_name", topic_channel);
  std::string at = At(data, "time", now_ms);
  if (kind != "bits_event" || !json_is_object(data)) return Notice(kind, digest, at, channel);
  JsonPtr ev = Base("cheer", id, at, channel);
  SetUserOrAnonymous(ev.get(), True(data, "is_anonymous") || True(msg, "is_anonymous"),
                     Who(data, "user_id", "user_name", ""));
  SetCount(ev.get(), "bits", data, "bits_used");
  const json_t* text = json_object_get(data, "chat_message");
  if (json_is_string(text)) SetString(ev.get(), "message", Str(data, "chat_message"));
  SetPositive(ev.get(), "total", data, "total_bits_used");
  return ev;
}

JsonPtr BitsBadge(json_t* msg, const std::string& digest, int64_t now_ms,
                  const Identity& topic_channel) {
  Identity channel = ChannelOf(msg, "channel_name", topic_channel);
  // IRC's name for the same notice, so that consumers see one kind whichever the source.
  JsonPtr ev = Notice("bitsbadgetier", digest, At(msg, "time", now_ms), channel);
  SetWho(ev.get(), "user", Who(msg, "user_id", "user_name", ""));
  SetPositive(ev.get(), "badge_tier", msg, "badge_tier");
  SetNonEmpty(ev.get(), "message", Str(msg, "chat_message"));
  return ev;
}

JsonPtr Points(json_t* msg, const std::string& digest, int64_t now_ms,
               const Identity& topic_channel) {
  std::string kind = Str(msg, "type");
  json_t* data = json_object_get(msg, "data");
  json_t* redemption = json_object_get(data, "redemption");
  Identity channel = ChannelOf(redemption, "", topic_channel);
  std::string at = At(data, "timestamp", now_ms);
  Identity user = Who(json_object_get(redemption, "user"), "id", "login", "display_name");
  if (kind != "reward-redeemed" || !json_is_object(redemption)) {
    // Status updates name the same redemption: they keep the digest as their id.
    JsonPtr ev = Notice(kind, digest, at, channel);
    SetWho(ev.get(), "user", user);
    return ev;
  }
  std::string id = Str(redemption, "id");
  if (id.empty()) id = digest;
  if (json_object_get(redemption, "redeemed_at")) at = At(redemption, "redeemed_at", now_ms);
  JsonPtr ev = Base("redemption", id, at, channel);
  SetWho(ev.get(), "user", user);
  const json_t* reward = json_object_get(redemption, "reward");
  JsonPtr r = JsonOwn(json_object());
  SetNonEmpty(r.get(), "id", Str(reward, "id"));
  SetNonEmpty(r.get(), "title", Str(reward, "title"));
  long long cost;
  if (Int(reward, "cost", &cost)) SetInt(r.get(), "cost", cost);
  json_object_set(ev.get(), "reward", r.get());
  SetNonEmpty(ev.get(), "message", Str(redemption, "user_input"));
  return ev;
}

// A "mystery-gift-purchase": the gift bomb, which carries no time of its own.
JsonPtr MysteryGift(json_t* msg, const std::string& digest, const std::string& at,
                    const Identity& topic_channel) {
  std::string kind = Str(msg, "type");
  Identity channel = ChannelOf(msg, "", topic_channel);
  if (kind != "mystery-gift-purchase") return Notice(kind, digest, at, channel);
  JsonPtr ev = Base("giftbomb", digest, at, channel);
  SetUserOrAnonymous(ev.get(), IsAnonymousGifter(msg, "") || Str(msg, "user_id").empty(),
                     Who(msg, "user_id", "user_name", "display_name"));
  SetCount(ev.get(), "count", msg, "count");
  SetNonEmpty(ev.get(), "tier", Tier(Str(msg, "tier")));
  std::string group = Str(msg, "uuid");
  SetString(ev.get(), "group", group.empty() ? digest : group);
  return ev;
}

}  // namespace

std::string PubSubDigestId(std::string_view topic, std::string_view message) {
  std::string input;
  input.reserve(topic.size() + 1 + message.size());
  input.append(topic).push_back('\n');
  input.append(message);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr) != 1 || len < 16) {
    return NewUuid();  // not expected; an id must exist even if it cannot be stable
  }
  md[6] = (md[6] & 0x0F) | 0x80;  // version 8
  md[8] = (md[8] & 0x3F) | 0x80;  // RFC 9562 variant
  char out[37];
  snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
           md[12], md[13], md[14], md[15]);
  return out;
}

JsonPtr PubSubMapper::SubEvent(json_t* msg, std::string_view channel_id, const std::string& id,
                               int64_t now_ms) {
  std::string context = Str(msg, "context");
  Identity topic_channel;
  topic_channel.id = std::string(channel_id);
  Identity channel = ChannelOf(msg, "channel_name", topic_channel);
  std::string at = At(msg, "time", now_ms);
  Identity user = Who(msg, "user_id", "user_name", "display_name");
  Identity recipient = Who(msg, "recipient_id", "recipient_user_name", "recipient_display_name");
  std::string tier = Tier(Str(msg, "sub_plan"));
  if (context == "sub" || context == "resub" || context == "resubgift" ||
      context == "anonresubgift") {
    // In a gifted resub the subscriber sharing it is the recipient, and user_* is the gifter.
    bool gifted_resub = context == "resubgift" || context == "anonresubgift";
    JsonPtr ev = Base(gifted_resub ? "resub" : context, id, at, channel);
    SetWho(ev.get(), "user", gifted_resub ? recipient : user);
    SetNonEmpty(ev.get(), "tier", tier);
    SetMonths(ev.get(), msg);
    SetPositive(ev.get(), "streak", msg, "streak_months");
    SetSubMessage(ev.get(), msg);
    SetBool(ev.get(), "gifted", gifted_resub || True(msg, "is_gift"));
    if (context == "resubgift") SetWho(ev.get(), "gifter", user);
    SetPositive(ev.get(), "duration", msg, "multi_month_duration");
    return ev;
  }
  if (context == "subgift" || context == "anonsubgift") {
    JsonPtr ev = Base("subgift", id, at, channel);
    SetUserOrAnonymous(ev.get(), IsAnonymousGifter(msg, context), user);
    SetIdentity(ev.get(), "recipient", recipient);
    SetNonEmpty(ev.get(), "tier", tier);
    SetPositive(ev.get(), "months", msg, "multi_month_duration");
    GroupGift(ev.get(), now_ms);
    return ev;
  }
  JsonPtr ev = Notice(context, id, at, channel);
  SetWho(ev.get(), "user", user);
  SetSubMessage(ev.get(), msg);
  return ev;
}

void PubSubMapper::GroupGift(json_t* gift, int64_t now_ms) {
  bombs_.erase(std::remove_if(bombs_.begin(), bombs_.end(),
                              [&](const GiftBomb& b) { return b.until_ms < now_ms; }),
               bombs_.end());
  std::string gifter = GifterKey(gift);
  std::string tier = JsonString(gift, "tier");
  for (auto it = bombs_.begin(); it != bombs_.end(); ++it) {
    if (it->gifter != gifter || it->tier != tier) continue;
    SetString(gift, "group", it->group);
    it->until_ms = now_ms + kPubSubGiftWindowMs;
    if (--it->remaining <= 0) bombs_.erase(it);
    return;
  }
}

void PubSubMapper::OpenBomb(const json_t* bomb, int64_t now_ms) {
  if (bombs_.size() >= kMaxOpenGiftBombs) bombs_.erase(bombs_.begin());
  GiftBomb b;
  b.gifter = GifterKey(bomb);
  b.tier = JsonString(bomb, "tier");
  b.group = JsonString(bomb, "group");
  b.remaining = json_integer_value(json_object_get(bomb, "count"));
  b.until_ms = now_ms + kPubSubGiftWindowMs;
  bombs_.push_back(std::move(b));
}

JsonPtr PubSubMapper::MapOne(std::string_view name, std::string_view channel_id, json_t* msg,
                             const std::string& digest, int64_t now_ms) {
  Identity topic_channel;
  topic_channel.id = std::string(channel_id);
  if (name == "channel-subscribe-events-v1") return SubEvent(msg, channel_id, digest, now_ms);
  if (name == "channel-bits-events-v2" || name == "channel-bits-events-v1") {
    return Cheer(msg, digest, now_ms, topic_channel);
  }
  if (name == "channel-bits-badge-unlocks") return BitsBadge(msg, digest, now_ms, topic_channel);
  if (name == "channel-points-channel-v1" || name == "community-points-channel-v1") {
    return Points(msg, digest, now_ms, topic_channel);
  }
  std::string at = FormatRfc3339Millis(now_ms);
  if (name == "channel-sub-gifts-v1") return MysteryGift(msg, digest, at, topic_channel);
  // A topic this mapper does not know: its name is the kind.
  return Notice(name, digest, at, topic_channel);
}

bool PubSubMapper::Map(std::string_view topic, std::string_view message, int64_t now_ms,
                       std::vector<JsonPtr>* out, std::string* err) {
  JsonPtr msg = JsonParse(message, err);
  if (!msg) {
    *err = topic.empty() ? "message: not JSON: " + *err
                         : std::string(topic) + ": message not JSON: " + *err;
    return false;
  }
  if (!json_is_object(msg.get())) {
    *err = std::string(topic) + ": message not a JSON object";
    return false;
  }
  // "channel-bits-events-v2.777000222": the name, and the channel id that ends the topic.
  std::string_view name = topic.substr(0, topic.find('.'));
  std::string_view channel_id;
  size_t dot = topic.rfind('.');
  if (dot != std::string_view::npos) {
    channel_id = topic.substr(dot + 1);
    if (!std::all_of(channel_id.begin(), channel_id.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      channel_id = {};
    }
  }
  std::string digest = PubSubDigestId(topic, message);
  JsonPtr ev = MapOne(name, channel_id, msg.get(), digest, now_ms);
  std::string problem;
  if (ValidateEvent(ev.get(), &problem)) {
    if (JsonString(ev.get(), "type") == "giftbomb") OpenBomb(ev.get(), now_ms);
  } else {
    std::string type = JsonString(ev.get(), "type");
    LogWarning("%s %s: not a valid event, sent as a notice: %s", type.c_str(),
               JsonString(ev.get(), "id").c_str(), problem.c_str());
    // The notice keeps who and when: those keys are built valid, the type's own keys are not.
    JsonPtr notice = Base("notice", digest, JsonString(ev.get(), "at"), Identity());
    for (const char* key : {"channel", "user", "anonymous"}) {
      if (json_t* v = json_object_get(ev.get(), key)) json_object_set(notice.get(), key, v);
    }
    SetString(notice.get(), "kind", type);
    ev = std::move(notice);
  }
  if (opts_.raw) {
    JsonPtr raw = JsonOwn(json_object());
    SetString(raw.get(), "topic", topic);
    json_object_set(raw.get(), "message", msg.get());
    json_object_set(ev.get(), "raw", raw.get());
  }
  out->push_back(std::move(ev));
  return true;
}

bool PubSubMapper::MapFrame(std::string_view text, int64_t now_ms, std::vector<JsonPtr>* out,
                            std::string* err) {
  PubSubFrame frame;
  if (!ParsePubSubFrame(text, &frame, err)) return false;
  if (frame.kind != PubSubFrameType::kMessage) return true;
  return Map(frame.topic, frame.message, now_ms, out, err);
}
