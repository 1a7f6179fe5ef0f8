// The mapping table of twitch-eventsub(1) and twitch-hook(1): which EventSub subscription type
// (and which chat notice type) gives which schema-v1 event, with which keys. EventSub's field
// names and quirks (user triples with a prefix, null for anonymous, "one object per notice type,
// all null but one", Prime as a flag beside the tier) are confined to this file.
#include "twitch/eventsub_events.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include "core/event.h"
#include "core/log.h"
#include "core/time.h"

namespace {

// --- Reading EventSub's objects leniently: a field of the wrong JSON type counts as absent. ---

std::string Str(const json_t* obj, const char* key) { return JsonString(obj, key); }

const json_t* Obj(const json_t* obj, const char* key) {
  const json_t* v = json_object_get(obj, key);
  return json_is_object(v) ? v : nullptr;
}

// An integer field; a whole real or a decimal string counts too (some documented examples sent
// numbers as strings).
bool Int(const json_t* obj, const char* key, long long* out) {
  const json_t* v = json_object_get(obj, key);
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) return false;
    *out = static_cast<long long>(d);
    return true;
  }
  if (!json_is_string(v)) return false;
  const char* s = json_string_value(v);
  const char* end = s + json_string_length(v);
  auto [ptr, ec] = std::from_chars(s, end, *out);
  return s != end && ec == std::errc() && ptr == end;
}

bool True(const json_t* obj, const char* key) { return json_is_true(json_object_get(obj, key)); }

// The user triple <prefix>_id, <prefix>_login, <prefix>_name (null or missing parts left out).
Identity Who(const json_t* obj, const std::string& prefix) {
  Identity who;
  who.id = Str(obj, (prefix + "_id").c_str());
  who.login = Str(obj, (prefix + "_login").c_str());
  who.name = Str(obj, (prefix + "_name").c_str());
  return who;
}

void SetWho(json_t* ev, const char* key, const Identity& who) {
  if (!who.empty()) SetIdentity(ev, key, who);
}

// "user" from the <prefix>_* triple, or "anonymous" when |obj|'s |anonymous_flag| is true.
void SetActor(json_t* ev, const json_t* obj, const char* anonymous_flag,
              const std::string& prefix) {
  if (True(obj, anonymous_flag)) {
    SetAnonymous(ev);
  } else {
    SetWho(ev, "user", Who(obj, prefix));
  }
}

// Sets integer |key| from |obj|'s |field| when it is one and at least |min|.
void CopyInt(json_t* ev, const char* key, const json_t* obj, const char* field, long long min = 0) {
  long long n;
  if (Int(obj, field, &n) && n >= min) SetInt(ev, key, n);
}

void CopyString(json_t* ev, const char* key, const json_t* obj, const char* field) {
  std::string s = Str(obj, field);
  if (!s.empty()) SetString(ev, key, s);
}

// "at" from an EventSub time, or empty when |s| is not one.
std::string At(const std::string& s) {
  int64_t ms;
  return ParseRfc3339(s, &ms) ? FormatRfc3339Millis(ms) : std::string();
}

// The value for |key| in a table of pairs, or null.
using Table = std::pair<std::string_view, const char*>;
template <size_t N>
const char* Lookup(const Table (&table)[N], std::string_view key) {
  for (const auto& [k, value] : table) {
    if (k == key) return value;
  }
  return nullptr;
}

// The field holding the moment a notification's event happened, for the types that have one.
// Types whose events report on something ongoing (hype train progress, poll progress) have
// none: their "at" is the message timestamp.
const char* TimeField(std::string_view type) {
  static const Table kFields[] = {
      {"channel.follow", "followed_at"},
      {"channel.channel_points_custom_reward_redemption.add", "redeemed_at"},
      {"channel.channel_points_custom_reward_redemption.update", "redeemed_at"},
      {"channel.channel_points_automatic_reward_redemption.add", "redeemed_at"},
      {"channel.hype_train.begin", "started_at"},
      {"channel.hype_train.end", "ended_at"},
      {"stream.online", "started_at"},
      {"channel.ban", "banned_at"},
      {"channel.ad_break.begin", "started_at"},
      {"channel.shoutout.create", "started_at"},
      {"channel.shoutout.receive", "started_at"},
      {"channel.poll.begin", "started_at"},
      {"channel.poll.end", "ended_at"},
      {"channel.prediction.begin", "started_at"},
      {"channel.prediction.lock", "locked_at"},
      {"channel.prediction.end", "ended_at"},
      {"channel.goal.begin", "started_at"},
      {"channel.goal.end", "ended_at"},
      {"channel.charity_campaign.start", "started_at"},
      {"channel.charity_campaign.stop", "stopped_at"},
  };
  return Lookup(kFields, type);
}

// "prime", or the tier string as EventSub gives it ("1000", "2000", "3000").
void SetTier(json_t* ev, const json_t* obj, const char* field, bool prime = false) {
  std::string tier = Str(obj, field);
  if (prime || tier == "Prime" || tier == "prime") tier = "prime";
  if (!tier.empty()) SetString(ev, "tier", tier);
}

// --- The viewer's message and its fragments. ---

JsonPtr TextPart(const std::string& text) {
  JsonPtr part = JsonOwn(json_object());
  SetString(part.get(), "type", "text");
  SetString(part.get(), "text", text);
  return part;
}

// One EventSub fragment in the schema's shape; null when it is plain text (or not recognisable).
JsonPtr SpecialPart(const json_t* frag, const std::string& text) {
  std::string type = Str(frag, "type");
  JsonPtr part = JsonOwn(json_object());
  if (type == "emote") {
    const json_t* emote = Obj(frag, "emote");
    std::string id = Str(emote, "id");
    if (id.empty()) return nullptr;
    SetString(part.get(), "type", "emote");
    SetString(part.get(), "text", text);
    SetString(part.get(), "id", id);
    CopyString(part.get(), "set_id", emote, "emote_set_id");
    CopyString(part.get(), "owner_id", emote, "owner_id");
    return part;
  }
  if (type == "cheermote") {
    const json_t* cheer = Obj(frag, "cheermote");
    std::string prefix = Str(cheer, "prefix");
    long long bits;
    if (prefix.empty() || !Int(cheer, "bits", &bits)) return nullptr;
    std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    SetString(part.get(), "type", "cheermote");
    SetString(part.get(), "text", text);
    SetString(part.get(), "prefix", prefix);
    SetInt(part.get(), "bits", bits);
    CopyInt(part.get(), "tier", cheer, "tier");
    return part;
  }
  if (type == "mention") {
    Identity who = Who(Obj(frag, "mention"), "user");
    if (who.empty()) return nullptr;
    SetString(part.get(), "type", "mention");
    SetString(part.get(), "text", text);
    SetIdentity(part.get(), "user", who);
    return part;
  }
  return nullptr;
}

// Appends |text| as a text part, joined to a text part before it.
void AppendText(json_t* parts, const std::string& text) {
  size_t n = json_array_size(parts);
  json_t* last = n ? json_array_get(parts, n - 1) : nullptr;
  if (last && Str(last, "type") == "text") {
    SetString(last, "text", Str(last, "text") + text);
  } else {
    json_array_append_new(parts, TextPart(text).release());
  }
}

// The byte offset of each code point of |s|, and s.size() at the end.
std::vector<size_t> CodePointOffsets(const std::string& s) {
  std::vector<size_t> offsets;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

// Fragments from emote ranges ({"begin","end","id"}, code-point indices, end inclusive), as
// channel.subscription.message and automatic rewards v1 give them. Null unless every range is
// inside |text| and none overlaps another.
JsonPtr EmoteRangeFragments(const std::string& text, const json_t* emotes) {
  struct Range {
    long long begin, end;
    std::string id;
  };
  std::vector<Range> ranges;
  size_t i;
  json_t* e;
  json_array_foreach(emotes, i, e) {
    Range r;
    r.id = Str(e, "id");
    if (!Int(e, "begin", &r.begin) || !Int(e, "end", &r.end) || r.id.empty()) return nullptr;
    ranges.push_back(r);
  }
  if (ranges.empty()) return nullptr;
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::vector<size_t> at = CodePointOffsets(text);
  const long long count = static_cast<long long>(at.size()) - 1;
  JsonPtr parts = JsonOwn(json_array());
  long long next = 0;  // the first code point not yet in a part
  for (const Range& r : ranges) {
    if (r.begin < next || r.end < r.begin || r.end >= count) return nullptr;
    if (r.begin > next) AppendText(parts.get(), text.substr(at[next], at[r.begin] - at[next]));
    JsonPtr part = JsonOwn(json_object());
    SetString(part.get(), "type", "emote");
    SetString(part.get(), "text", text.substr(at[r.begin], at[r.end + 1] - at[r.begin]));
    SetString(part.get(), "id", r.id);
    json_array_append_new(parts.get(), part.release());
    next = r.end + 1;
  }
  if (next < count) AppendText(parts.get(), text.substr(at[next]));
  return parts;
}

// Sets "message" (when not empty) and "fragments" (when it has more than text) from an EventSub
// message: a string, or {"text","fragments"} (chat), or {"text","emotes"} (subscription message).
void SetMessage(json_t* ev, const json_t* message) {
  if (json_is_string(message)) {
    std::string text(json_string_value(message), json_string_length(message));
    if (!text.empty()) SetString(ev, "message", text);
    return;
  }
  std::string text = Str(message, "text");
  if (text.empty()) return;
  SetString(ev, "message", text);
  JsonPtr fragments = EventSubFragments(message);
  const json_t* emotes = json_object_get(message, "emotes");
  if (!fragments && json_is_array(emotes)) fragments = EmoteRangeFragments(text, emotes);
  if (fragments) json_object_set_new(ev, "fragments", fragments.release());
}

// --- The mapping proper. ---

struct Notification {
  const json_t* subscription;
  const json_t* event;
  std::string type;  // subscription type
  std::string id;    // the event id every event of this notification gets
  std::string at;    // the message timestamp as "at", or empty (now)
  const EventSubDelivery* delivery;
};

// The event with the common keys: id, source, at (from |time_field| of the event when it holds
// a time), channel (the broadcaster).
JsonPtr Base(const Notification& n, std::string_view type, const char* time_field = nullptr) {
  std::string at = time_field ? At(Str(n.event, time_field)) : std::string();
  JsonPtr ev = NewEvent(type, n.delivery->source, n.id, at.empty() ? n.at : at);
  Identity channel = Who(n.event, "broadcaster_user");
  // channel.charity_campaign.donate's documented example once said broadcaster_id/_login/_name.
  if (channel.empty()) channel = Who(n.event, "broadcaster");
  SetWho(ev.get(), "channel", channel);
  return ev;
}

// A "notice" of |kind| with the acting user and the message, when the event names them.
JsonPtr Notice(const Notification& n, std::string_view kind) {
  JsonPtr ev = Base(n, "notice", TimeField(n.type));
  SetWho(ev.get(), "user", Who(n.event, "user"));
  SetString(ev.get(), "kind", kind);
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  return ev;
}

// "amount" {"value","decimal_places","currency"} (a charity donation): money as EventSub gives it.
void SetAmount(json_t* ev, const json_t* obj) {
  const json_t* amount = Obj(obj, "amount");
  long long value, places;
  if (!Int(amount, "value", &value) || !Int(amount, "decimal_places", &places)) return;
  JsonPtr out = JsonOwn(json_object());
  SetInt(out.get(), "value", value);
  SetInt(out.get(), "decimal_places", places);
  CopyString(out.get(), "currency", amount, "currency");
  json_object_set_new(ev, "amount", out.release());
}

JsonPtr Follow(const Notification& n) {
  JsonPtr ev = Base(n, "follow", "followed_at");
  SetWho(ev.get(), "user", Who(n.event, "user"));
  return ev;
}

JsonPtr Subscribe(const Notification& n) {
  JsonPtr ev = Base(n, "sub");
  SetWho(ev.get(), "user", Who(n.event, "user"));
  SetTier(ev.get(), n.event, "tier");
  SetBool(ev.get(), "gifted", True(n.event, "is_gift"));
  return ev;
}

// "duration": months bought at once, written only for a multi-month purchase.
void SetDuration(json_t* ev, const json_t* obj) {
  CopyInt(ev, "duration", obj, "duration_months", 2);
}

JsonPtr SubscriptionMessage(const Notification& n) {
  JsonPtr ev = Base(n, "resub");
  SetWho(ev.get(), "user", Who(n.event, "user"));
  SetTier(ev.get(), n.event, "tier");
  CopyInt(ev.get(), "months", n.event, "cumulative_months");
  CopyInt(ev.get(), "streak", n.event, "streak_months");
  SetDuration(ev.get(), n.event);
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  return ev;
}

JsonPtr SubscriptionGift(const Notification& n) {
  JsonPtr ev = Base(n, "giftbomb");
  SetActor(ev.get(), n.event, "is_anonymous", "user");
  CopyInt(ev.get(), "count", n.event, "total");
  SetTier(ev.get(), n.event, "tier");
  CopyInt(ev.get(), "total", n.event, "cumulative_total", 1);
  return ev;
}

JsonPtr Cheer(const Notification& n) {
  JsonPtr ev = Base(n, "cheer");
  SetActor(ev.get(), n.event, "is_anonymous", "user");
  CopyInt(ev.get(), "bits", n.event, "bits");
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  return ev;
}

JsonPtr Raid(const Notification& n) {
  Identity from = Who(n.event, "from_broadcaster_user");
  Identity to = Who(n.event, "to_broadcaster_user");
  const json_t* condition = Obj(n.subscription, "condition");
  if (!Str(condition, "from_broadcaster_user_id").empty()) {
    // A raid by the channel into another: not an alert of this channel's, so a notice.
    JsonPtr ev = Base(n, "notice");
    SetWho(ev.get(), "channel", from);
    SetString(ev.get(), "kind", n.type);
    SetWho(ev.get(), "target", to);
    CopyInt(ev.get(), "viewers", n.event, "viewers");
    return ev;
  }
  JsonPtr ev = Base(n, "raid");
  SetWho(ev.get(), "channel", to);
  SetWho(ev.get(), "user", from);
  CopyInt(ev.get(), "viewers", n.event, "viewers");
  return ev;
}

JsonPtr CustomRedemption(const Notification& n) {
  JsonPtr ev = Base(n, "redemption", "redeemed_at");
  SetWho(ev.get(), "user", Who(n.event, "user"));
  const json_t* reward = Obj(n.event, "reward");
  JsonPtr out = JsonOwn(json_object());
  CopyString(out.get(), "id", reward, "id");
  CopyString(out.get(), "title", reward, "title");
  CopyInt(out.get(), "cost", reward, "cost");
  json_object_set_new(ev.get(), "reward", out.release());
  SetMessage(ev.get(), json_object_get(n.event, "user_input"));
  return ev;
}

// The built-in rewards have no id or title in EventSub: the type is the id, and the title is the
// name Twitch's own channel-points menu shows.
const char* AutomaticRewardTitle(std::string_view type) {
  static const Table kTitles[] = {
      {"single_message_bypass_sub_mode", "Send a Message in Sub-Only Mode"},
      {"send_highlighted_message", "Highlight My Message"},
      {"random_sub_emote_unlock", "Unlock a Random Sub Emote"},
      {"chosen_sub_emote_unlock", "Choose an Emote to Unlock"},
      {"chosen_modified_sub_emote_unlock", "Modify a Single Emote"},
      {"message_effect", "Message Effects"},
      {"gigantify_an_emote", "Gigantify an Emote"},
      {"celebration", "On-Screen Celebration"},
  };
  return Lookup(kTitles, type);
}

JsonPtr AutomaticRedemption(const Notification& n) {
  JsonPtr ev = Base(n, "redemption", "redeemed_at");
  SetWho(ev.get(), "user", Who(n.event, "user"));
  const json_t* reward = Obj(n.event, "reward");
  std::string type = Str(reward, "type");
  JsonPtr out = JsonOwn(json_object());
  if (!type.empty()) SetString(out.get(), "id", type);
  if (const char* title = AutomaticRewardTitle(type)) SetString(out.get(), "title", title);
  long long cost;
  if (Int(reward, "channel_points", &cost) || Int(reward, "cost", &cost)) {  // v2, v1
    if (cost >= 0) SetInt(out.get(), "cost", cost);
  }
  if (!type.empty()) SetString(out.get(), "type", type);
  const json_t* emote = Obj(reward, "emote");
  if (!emote) emote = Obj(reward, "unlocked_emote");  // v1
  if (emote && !Str(emote, "id").empty()) {
    JsonPtr e = JsonOwn(json_object());
    CopyString(e.get(), "id", emote, "id");
    CopyString(e.get(), "name", emote, "name");
    json_object_set_new(out.get(), "emote", e.release());
  }
  json_object_set_new(ev.get(), "reward", out.release());
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  if (!json_object_get(ev.get(), "message")) {
    SetMessage(ev.get(), json_object_get(n.event, "user_input"));  // v1
  }
  return ev;
}

JsonPtr HypeTrain(const Notification& n, std::string_view phase) {
  JsonPtr ev = Base(n, "hypetrain", TimeField(n.type));
  SetString(ev.get(), "phase", phase);
  CopyInt(ev.get(), "level", n.event, "level");
  CopyInt(ev.get(), "total", n.event, "total");
  if (phase != "end") {
    CopyInt(ev.get(), "goal", n.event, "goal");
    CopyInt(ev.get(), "progress", n.event, "progress");
    std::string expires = At(Str(n.event, "expires_at"));
    if (!expires.empty()) SetString(ev.get(), "expires", expires);
  }
  JsonPtr train = JsonOwn(json_object());
  CopyString(train.get(), "id", n.event, "id");
  CopyString(train.get(), "type", n.event, "type");
  if (True(n.event, "is_shared_train")) SetBool(train.get(), "shared", true);
  if (json_object_size(train.get()) > 0) json_object_set_new(ev.get(), "train", train.release());
  return ev;
}

// --- channel.chat.notification: the EventSub twin of IRC's USERNOTICE. ---

struct ChatNotice {
  std::string kind;       // notice_type without "shared_chat_"
  const json_t* details;  // the object named by notice_type, or null (jansson reads null as {})
};

// The acting user of a chat notice: the chatter, or nobody when anonymous (flagged, or Twitch's
// stand-in account for anonymous gifts, which twitch-irc treats as anonymous too).
void SetChatter(json_t* ev, const Notification& n) {
  if (Str(n.event, "chatter_user_login") == "ananonymousgifter") {
    SetAnonymous(ev);
    return;
  }
  SetActor(ev, n.event, "chatter_is_anonymous", "chatter_user");
}

JsonPtr ChatSub(const Notification& n, const ChatNotice& c) {
  JsonPtr ev = Base(n, c.kind);  // "sub" or "resub"
  SetChatter(ev.get(), n);
  SetTier(ev.get(), c.details, "sub_tier", True(c.details, "is_prime"));
  CopyInt(ev.get(), "months", c.details, "cumulative_months");
  CopyInt(ev.get(), "streak", c.details, "streak_months");
  SetDuration(ev.get(), c.details);
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  SetBool(ev.get(), "gifted", True(c.details, "is_gift"));
  return ev;
}

JsonPtr ChatSubGift(const Notification& n, const ChatNotice& c) {
  JsonPtr ev = Base(n, "subgift");
  SetChatter(ev.get(), n);
  SetWho(ev.get(), "recipient", Who(c.details, "recipient_user"));
  SetTier(ev.get(), c.details, "sub_tier");
  CopyInt(ev.get(), "months", c.details, "duration_months", 1);
  CopyString(ev.get(), "group", c.details, "community_gift_id");
  return ev;
}

JsonPtr ChatCommunityGift(const Notification& n, const ChatNotice& c) {
  JsonPtr ev = Base(n, "giftbomb");
  SetChatter(ev.get(), n);
  CopyInt(ev.get(), "count", c.details, "total");
  SetTier(ev.get(), c.details, "sub_tier");
  CopyInt(ev.get(), "total", c.details, "cumulative_total", 1);
  CopyString(ev.get(), "group", c.details, "id");
  return ev;
}

JsonPtr ChatRaid(const Notification& n, const ChatNotice& c) {
  JsonPtr ev = Base(n, "raid");
  Identity raider = Who(c.details, "user");
  SetWho(ev.get(), "user", raider.empty() ? Who(n.event, "chatter_user") : raider);
  CopyInt(ev.get(), "viewers", c.details, "viewer_count");
  return ev;
}

JsonPtr ChatAnnouncement(const Notification& n) {
  JsonPtr ev = Base(n, "announcement");
  SetChatter(ev.get(), n);
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  return ev;
}

// A chat notice that schema v1 has no type for, with the keys an alert for it needs.
JsonPtr ChatNoticeEvent(const Notification& n, const ChatNotice& c) {
  JsonPtr ev = Base(n, "notice");
  SetChatter(ev.get(), n);
  SetString(ev.get(), "kind", c.kind);
  CopyString(ev.get(), "system", n.event, "system_message");
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  if (c.kind == "prime_paid_upgrade") SetTier(ev.get(), c.details, "sub_tier");
  if (c.kind == "pay_it_forward") SetWho(ev.get(), "recipient", Who(c.details, "recipient_user"));
  if (c.kind == "bits_badge_tier") CopyInt(ev.get(), "badge_tier", c.details, "tier", 1);
  if (c.kind == "charity_donation") {
    CopyString(ev.get(), "charity", c.details, "charity_name");
    SetAmount(ev.get(), c.details);
  }
  if (c.kind == "watch_streak") CopyInt(ev.get(), "streak", c.details, "streak_count");
  if (c.kind == "modiversary") CopyInt(ev.get(), "months", c.details, "months");
  return ev;
}

ChatNotice ReadChatNotice(const Notification& n) {
  std::string notice_type = Str(n.event, "notice_type");
  ChatNotice c;
  c.kind = notice_type.empty() ? "unknown" : notice_type;
  constexpr std::string_view kShared = "shared_chat_";
  if (c.kind.size() > kShared.size() && c.kind.compare(0, kShared.size(), kShared) == 0) {
    c.kind.erase(0, kShared.size());
  }
  c.details = notice_type.empty() ? nullptr : Obj(n.event, notice_type.c_str());
  return c;
}

// A notice from another channel of a Shared Chat session: a shared_chat_* type, or a source
// broadcaster that is not this channel.
bool IsSharedChat(const Notification& n) {
  if (Str(n.event, "notice_type").rfind("shared_chat_", 0) == 0) return true;
  std::string source = Str(n.event, "source_broadcaster_user_id");
  return !source.empty() && source != Str(n.event, "broadcaster_user_id");
}

// channel.chat.message (not subscribed by default): chat, as twitch-irc --chat writes it.
JsonPtr ChatMessage(const Notification& n) {
  JsonPtr ev = Base(n, "chat");
  SetWho(ev.get(), "user", Who(n.event, "chatter_user"));
  SetMessage(ev.get(), json_object_get(n.event, "message"));
  if (IsSharedChat(n)) SetBool(ev.get(), "shared", true);
  return ev;
}

JsonPtr ChatNotification(const Notification& n) {
  ChatNotice c = ReadChatNotice(n);
  JsonPtr ev;
  if (c.kind == "sub" || c.kind == "resub") {
    ev = ChatSub(n, c);
  } else if (c.kind == "sub_gift") {
    ev = ChatSubGift(n, c);
  } else if (c.kind == "community_sub_gift") {
    ev = ChatCommunityGift(n, c);
  } else if (c.kind == "raid") {
    ev = ChatRaid(n, c);
  } else if (c.kind == "announcement") {
    ev = ChatAnnouncement(n);
  } else {
    ev = ChatNoticeEvent(n, c);
  }
  if (IsSharedChat(n)) SetBool(ev.get(), "shared", true);
  return ev;
}

// The notice an event falls back to when it is not valid: only the common keys and "kind".
JsonPtr FallbackNotice(const Notification& n) {
  JsonPtr ev = Base(n, "notice", TimeField(n.type));
  if (n.type != "channel.chat.notification") {
    SetString(ev.get(), "kind", n.type);
    return ev;
  }
  SetString(ev.get(), "kind", ReadChatNotice(n).kind);
  if (IsSharedChat(n)) SetBool(ev.get(), "shared", true);
  return ev;
}

JsonPtr MapEvent(const Notification& n) {
  const std::string& t = n.type;
  if (t == "channel.follow") return Follow(n);
  if (t == "channel.subscribe") return Subscribe(n);
  if (t == "channel.subscription.message") return SubscriptionMessage(n);
  if (t == "channel.subscription.gift") return SubscriptionGift(n);
  if (t == "channel.cheer") return Cheer(n);
  if (t == "channel.raid") return Raid(n);
  if (t == "channel.channel_points_custom_reward_redemption.add") return CustomRedemption(n);
  if (t == "channel.channel_points_automatic_reward_redemption.add") {
    return AutomaticRedemption(n);
  }
  if (t == "channel.hype_train.begin") return HypeTrain(n, "begin");
  if (t == "channel.hype_train.progress") return HypeTrain(n, "progress");
  if (t == "channel.hype_train.end") return HypeTrain(n, "end");
  if (t == "channel.chat.notification") return ChatNotification(n);
  if (t == "channel.chat.message") return ChatMessage(n);
  JsonPtr ev = Notice(n, t);
  if (t == "channel.charity_campaign.donate") {
    CopyString(ev.get(), "charity", n.event, "charity_name");
    SetAmount(ev.get(), n.event);
  }
  return ev;
}

// Maps one event and checks it; appends it, or the notice it falls back to.
void MapChecked(const Notification& n, const EventSubMapOptions& opts, const json_t* raw,
                std::vector<JsonPtr>* out) {
  JsonPtr ev = MapEvent(n);
  std::string err;
  if (!ValidateEvent(ev.get(), &err)) {
    LogWarning("%s %s: not a valid event, sent as a notice: %s", n.type.c_str(), n.id.c_str(),
               err.c_str());
    ev = FallbackNotice(n);
    if (!ValidateEvent(ev.get(), &err)) {
      LogWarning("%s %s: notification skipped: %s", n.type.c_str(), n.id.c_str(), err.c_str());
      return;
    }
  }
  if (opts.raw) json_object_set(ev.get(), "raw", const_cast<json_t*>(raw));
  out->push_back(std::move(ev));
}

}  // namespace

JsonPtr EventSubFragments(const json_t* message) {
  const json_t* fragments = json_object_get(message, "fragments");
  if (!json_is_array(fragments) || json_array_size(fragments) == 0) return nullptr;
  JsonPtr parts = JsonOwn(json_array());
  std::string joined;
  bool special = false;
  size_t i;
  json_t* frag;
  json_array_foreach(fragments, i, frag) {
    const json_t* text = json_object_get(frag, "text");
    if (!json_is_string(text)) return nullptr;
    std::string s(json_string_value(text), json_string_length(text));
    joined += s;
    if (JsonPtr part = SpecialPart(frag, s)) {
      json_array_append_new(parts.get(), part.release());
      special = true;
    } else if (!s.empty()) {
      AppendText(parts.get(), s);
    }
  }
  if (!special || joined != Str(message, "text")) return nullptr;
  return parts;
}

bool MapEventSubNotification(const json_t* notification, const EventSubDelivery& delivery,
                             const EventSubMapOptions& opts, std::vector<JsonPtr>* out,
                             std::string* err) {
  Notification n;
  n.subscription = Obj(notification, "subscription");
  n.type = Str(n.subscription, "type");
  if (n.type.empty()) {
    *err = "subscription.type: missing";
    return false;
  }
  n.delivery = &delivery;
  n.at = At(std::string(delivery.message_timestamp));
  n.event = Obj(notification, "event");
  if (n.event) {
    // A chat notice has the id its IRC twin carries; everything else the message's.
    n.id = n.type == "channel.chat.notification" || n.type == "channel.chat.message"
               ? Str(n.event, "message_id")
               : std::string();
    if (n.id.empty()) n.id = std::string(delivery.message_id);
    if (n.id.empty()) n.id = NewUuid();
    MapChecked(n, opts, notification, out);
    return true;
  }
  const json_t* events = json_object_get(notification, "events");
  if (!json_is_array(events)) {
    *err = "event: missing";
    return false;
  }
  std::string message_id(delivery.message_id);
  if (message_id.empty()) message_id = NewUuid();
  size_t i;
  json_t* item;
  json_array_foreach(events, i, item) {
    n.event = Obj(item, "data");
    if (!n.event) continue;
    n.id = Str(item, "id");
    if (n.id.empty()) n.id = message_id + ":" + std::to_string(i);
    MapChecked(n, opts, notification, out);
  }
  return true;
}
