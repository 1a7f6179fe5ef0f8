// The alert types' EventSub subscriptions (see eventsub_types.h; twitch-protocols.md section 6).
#include "twitch/eventsub_types.h"

#include <algorithm>

namespace {

const std::vector<std::string> kBroadcaster = {"broadcaster_user_id"};
const std::vector<std::string> kSubs = {"channel:read:subscriptions"};
const std::vector<std::string> kRedemptions = {"channel:read:redemptions",
                                               "channel:manage:redemptions"};

EventSubTypeSpec Spec(std::string type, std::string version, std::vector<std::string> keys,
                      std::vector<std::string> scopes) {
  return EventSubTypeSpec{std::move(type), std::move(version), std::move(keys), std::move(scopes)};
}

std::vector<EventSubAlertType> MakeTable() {
  return {
      {"follow",
       {Spec("channel.follow", "2", {"broadcaster_user_id", "moderator_user_id"},
             {"moderator:read:followers"})},
       true},
      {"notification",
       {Spec("channel.chat.notification", "1", {"broadcaster_user_id", "user_id"},
             {"user:read:chat"})},
       true},
      {"cheer", {Spec("channel.cheer", "1", kBroadcaster, {"bits:read"})}, true},
      {"redemption",
       {Spec("channel.channel_points_custom_reward_redemption.add", "1", kBroadcaster,
             kRedemptions),
        Spec("channel.channel_points_automatic_reward_redemption.add", "2", kBroadcaster,
             kRedemptions)},
       true},
      {"hypetrain",
       {Spec("channel.hype_train.begin", "2", kBroadcaster, {"channel:read:hype_train"}),
        Spec("channel.hype_train.progress", "2", kBroadcaster, {"channel:read:hype_train"}),
        Spec("channel.hype_train.end", "2", kBroadcaster, {"channel:read:hype_train"})},
       true},
      // The same alerts as "notification" tells (sub, resub, sub_gift, community_sub_gift):
      // for a box that does not read chat notifications.
      {"sub",
       {Spec("channel.subscribe", "1", kBroadcaster, kSubs),
        Spec("channel.subscription.message", "1", kBroadcaster, kSubs),
        Spec("channel.subscription.gift", "1", kBroadcaster, kSubs)},
       false},
      {"raid", {Spec("channel.raid", "1", {"to_broadcaster_user_id"}, {})}, false},
      // Every chat message (the "chat" events of twitch-irc --chat).
      {"message",
       {Spec("channel.chat.message", "1", {"broadcaster_user_id", "user_id"}, {"user:read:chat"})},
       false},
      {"bits", {Spec("channel.bits.use", "1", kBroadcaster, {"bits:read"})}, false},
      {"charity",
       {Spec("channel.charity_campaign.donate", "1", kBroadcaster, {"channel:read:charity"})},
       false},
      {"goal",
       {Spec("channel.goal.begin", "1", kBroadcaster, {"channel:read:goals"}),
        Spec("channel.goal.progress", "1", kBroadcaster, {"channel:read:goals"}),
        Spec("channel.goal.end", "1", kBroadcaster, {"channel:read:goals"})},
       false},
      {"poll",
       {Spec("channel.poll.begin", "1", kBroadcaster,
             {"channel:read:polls", "channel:manage:polls"}),
        Spec("channel.poll.end", "1", kBroadcaster,
             {"channel:read:polls", "channel:manage:polls"})},
       false},
      {"prediction",
       {Spec("channel.prediction.begin", "1", kBroadcaster,
             {"channel:read:predictions", "channel:manage:predictions"}),
        Spec("channel.prediction.end", "1", kBroadcaster,
             {"channel:read:predictions", "channel:manage:predictions"})},
       false},
      {"shoutout",
       {Spec("channel.shoutout.receive", "1", {"broadcaster_user_id", "moderator_user_id"},
             {"moderator:read:shoutouts", "moderator:manage:shoutouts"})},
       false},
      {"adbreak",
       {Spec("channel.ad_break.begin", "1", kBroadcaster,
             {"channel:read:ads", "channel:manage:ads"})},
       false},
      {"stream",
       {Spec("stream.online", "1", kBroadcaster, {}),
        Spec("stream.offline", "1", kBroadcaster, {})},
       false},
  };
}

bool AllOf(const std::string& s, const char* extra) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              std::string_view(extra).find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return !s.empty();
}

}  // namespace

const std::vector<EventSubAlertType>& EventSubAlertTypes() {
  static const std::vector<EventSubAlertType> table = MakeTable();
  return table;
}

std::string EventSubDefaultTypes() {
  std::string out;
  for (const auto& a : EventSubAlertTypes()) {
    if (!a.in_default) continue;
    if (!out.empty()) out += ',';
    out += a.name;
  }
  return out;
}

const EventSubTypeSpec* FindEventSubType(const std::string& type) {
  for (const auto& a : EventSubAlertTypes()) {
    for (const auto& s : a.subscriptions) {
      if (s.type == type) return &s;
    }
  }
  return nullptr;
}

bool ResolveAlertTypes(const std::string& names, std::vector<EventSubTypeSpec>* out,
                       std::string* err) {
  std::vector<std::string> wanted;
  size_t start = 0;
  while (start <= names.size()) {
    size_t comma = names.find(',', start);
    if (comma == std::string::npos) comma = names.size();
    std::string name = names.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    const auto& table = EventSubAlertTypes();
    auto it = std::find_if(table.begin(), table.end(),
                           [&](const EventSubAlertType& a) { return a.name == name; });
    if (it == table.end()) {
      std::string known;
      for (const auto& a : table) known += (known.empty() ? "" : ", ") + a.name;
      *err = "unknown type \"" + name + "\" (known: " + known + ")";
      return false;
    }
    wanted.push_back(name);
  }
  out->clear();
  for (const auto& a : EventSubAlertTypes()) {
    if (std::find(wanted.begin(), wanted.end(), a.name) == wanted.end()) continue;
    for (const auto& s : a.subscriptions) out->push_back(s);
  }
  return true;
}

std::string DescribeScopes(const EventSubTypeSpec& spec) {
  if (spec.scopes.empty()) return "no scope";
  std::string out;
  for (size_t i = 0; i < spec.scopes.size(); ++i) {
    if (i > 0) out += " or ";
    out += spec.scopes[i];
  }
  return out;
}

JsonPtr BuildCondition(const EventSubTypeSpec& spec, const std::string& broadcaster_id,
                       const std::string& reader_id) {
  JsonPtr c = JsonOwn(json_object());
  for (const auto& k : spec.condition_keys) {
    bool reader = k == "moderator_user_id" || k == "user_id";
    json_object_set_new(c.get(), k.c_str(),
                        json_string((reader ? reader_id : broadcaster_id).c_str()));
  }
  return c;
}

bool ParseSubscribeArg(const std::string& text, SubscribeArg* out, std::string* err) {
  size_t colon = text.find(':');
  std::string head = text.substr(0, colon);
  size_t at = head.find('@');
  out->type = head.substr(0, at);
  out->version.clear();
  out->condition.reset();
  if (!AllOf(out->type, "._")) {
    *err = "\"" + text + "\": the type is not of a-z, 0-9, '.' and '_' (TYPE[@VERSION][:JSON])";
    return false;
  }
  if (at != std::string::npos) {
    out->version = head.substr(at + 1);
    if (!AllOf(out->version, "")) {
      *err = "\"" + text + "\": the version after '@' is empty or not of a-z, 0-9";
      return false;
    }
  } else {
    const EventSubTypeSpec* spec = FindEventSubType(out->type);
    out->version = spec ? spec->version : "1";
  }
  if (colon == std::string::npos) return true;
  std::string why;
  JsonPtr c = JsonParse(text.substr(colon + 1), &why);
  if (!c) {
    *err = "\"" + text + "\": the condition is not JSON: " + why;
    return false;
  }
  if (!json_is_object(c.get())) {
    *err = "\"" + text + "\": the condition is not a JSON object";
    return false;
  }
  const char* key;
  json_t* v;
  json_object_foreach(c.get(), key, v) {
    if (!json_is_string(v)) {
      *err = "\"" + text + "\": the condition's \"" + key + "\" is not a string (ids are strings)";
      return false;
    }
  }
  out->condition = std::move(c);
  return true;
}
