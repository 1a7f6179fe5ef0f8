// The EventSub → event mapping against the golden files of tests/data/eventsub (<name>.json →
// <name>.ndjson, see the README there); every event written must pass the schema check. Also:
// the gift bomb of tests/data/irc/giftbomb.txt seen through EventSub gives the same events.
#include "twitch/eventsub_events.h"

#include <gtest/gtest.h>
#include <strings.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "core/event.h"
#include "golden.h"
#include "twitch/eventsub_message.h"
#include "twitch/irc_events.h"
#include "twitch/irc_message.h"

namespace {

const std::string kDir = TEST_DATA_DIR "/eventsub";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The JSON values of |text|, one after another (each may span lines).
std::vector<JsonPtr> ReadValues(const std::string& text, std::string* err) {
  std::vector<JsonPtr> values;
  size_t pos = 0;
  while (text.find_first_not_of(" \t\r\n", pos) != std::string::npos) {
    json_error_t error;
    json_t* v = json_loadb(text.data() + pos, text.size() - pos, JSON_DISABLE_EOF_CHECK, &error);
    if (!v) {
      *err = "at byte " + std::to_string(pos + error.position) + ": " + error.text;
      return {};
    }
    values.push_back(JsonOwn(v));
    pos += error.position;
  }
  return values;
}

// A header of a golden webhook request, by case-insensitive name.
std::string Header(const json_t* headers, const char* name) {
  const char* key;
  json_t* value;
  json_object_foreach(const_cast<json_t*>(headers), key, value) {
    if (strcasecmp(key, name) == 0 && json_is_string(value)) return json_string_value(value);
  }
  return {};
}

// Maps one golden input: a WebSocket message ({"metadata","payload"}), read by
// ParseEventSubMessage as the session will, or a webhook request ({"headers","body"}).
void MapInput(const json_t* input, const EventSubMapOptions& opts, std::vector<JsonPtr>* out) {
  std::string err;
  if (json_object_get(input, "metadata")) {
    EventSubMessage msg;
    ASSERT_TRUE(ParseEventSubMessage(JsonDump(input), &msg, &err)) << err;
    ASSERT_EQ(msg.type, EventSubMessageType::kNotification);
    EventSubDelivery d;
    d.message_id = msg.message_id;
    d.message_timestamp = msg.message_timestamp;
    ASSERT_TRUE(MapEventSubNotification(msg.payload, d, opts, out, &err)) << err;
    return;
  }
  const json_t* headers = json_object_get(input, "headers");
  ASSERT_TRUE(json_is_object(headers)) << "neither a WebSocket message nor a webhook request";
  std::string id = Header(headers, "Twitch-Eventsub-Message-Id");
  std::string timestamp = Header(headers, "Twitch-Eventsub-Message-Timestamp");
  EventSubDelivery d;
  d.source = "webhook";
  d.message_id = id;
  d.message_timestamp = timestamp;
  ASSERT_TRUE(MapEventSubNotification(json_object_get(input, "body"), d, opts, out, &err)) << err;
}

std::vector<JsonPtr> MapFile(const std::string& name) {
  std::string err;
  std::vector<JsonPtr> inputs = ReadValues(ReadFile(kDir + "/" + name + ".json"), &err);
  EXPECT_FALSE(inputs.empty()) << name << ".json: " << err;
  std::vector<JsonPtr> got;
  for (const JsonPtr& input : inputs) MapInput(input.get(), EventSubMapOptions(), &got);
  return got;
}

TEST(EventSubEvents, GoldenFiles) {
  std::vector<std::string> names = GoldenNames(kDir, ".json");
  ASSERT_GE(names.size(), 30u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    std::vector<JsonPtr> got = MapFile(name);
    std::vector<std::string> expected = ReadLines(kDir + "/" + name + ".ndjson");
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string err;
      JsonPtr want = JsonParse(expected[i], &err);
      ASSERT_TRUE(want) << name << ".ndjson line " << i + 1 << ": " << err;
      EXPECT_TRUE(ValidateEvent(got[i].get(), &err)) << JsonDump(got[i].get()) << ": " << err;
      EXPECT_TRUE(json_equal(want.get(), got[i].get()))
          << "event " << i + 1 << "\n want: " << expected[i]
          << "\n got:  " << JsonDump(got[i].get());
    }
  }
}

// Every subscription type and chat notice type of issue 20 has its golden file.
TEST(EventSubEvents, GoldenFilesCoverEveryType) {
  std::vector<std::string> names = GoldenNames(kDir, ".json");
  for (const char* want : {"channel.follow",
                           "channel.subscribe",
                           "channel.subscription.message",
                           "channel.subscription.gift",
                           "channel.cheer",
                           "channel.raid",
                           "channel.channel_points_custom_reward_redemption.add",
                           "channel.channel_points_automatic_reward_redemption.add",
                           "channel.hype_train.begin",
                           "channel.hype_train.progress",
                           "channel.hype_train.end",
                           "chat.sub",
                           "chat.resub",
                           "chat.sub_gift",
                           "chat.community_sub_gift",
                           "chat.gift_paid_upgrade",
                           "chat.prime_paid_upgrade",
                           "chat.pay_it_forward",
                           "chat.raid",
                           "chat.announcement",
                           "chat.bits_badge_tier",
                           "chat.charity_donation",
                           "chat.shared_chat_sub",
                           "chat.shared_chat_resub",
                           "chat.shared_chat_sub_gift",
                           "chat.shared_chat_community_sub_gift",
                           "chat.shared_chat_gift_paid_upgrade",
                           "chat.shared_chat_prime_paid_upgrade",
                           "chat.shared_chat_pay_it_forward",
                           "chat.shared_chat_raid",
                           "chat.shared_chat_announcement"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

// The gift bomb of tests/data/irc/giftbomb.txt, sent as EventSub chat notifications, gives the
// events twitch-irc gives, but for "source" and the channel's display name (IRC has none): the
// same ids, so an overlay shows it once, and the same group, so it is folded into one alert.
TEST(EventSubEvents, GiftBombMatchesIrc) {
  std::vector<JsonPtr> irc;
  for (const std::string& line : ReadLines(TEST_DATA_DIR "/irc/giftbomb.txt")) {
    IrcMessage msg;
    std::string err;
    ASSERT_TRUE(ParseIrcLine(line, &msg, &err)) << err;
    MapIrcMessage(msg, IrcMapOptions(), &irc);
  }
  std::vector<JsonPtr> eventsub = MapFile("chat.community_sub_gift");
  ASSERT_GE(irc.size(), 3u);
  ASSERT_GE(eventsub.size(), 3u);
  // The named bomb: two subgifts before their giftbomb, as Twitch sometimes sends them.
  for (size_t i = 0; i < 3; ++i) {
    JsonPtr ev = JsonOwn(json_deep_copy(eventsub[i].get()));
    EXPECT_EQ(JsonString(ev.get(), "source"), "eventsub");
    SetString(ev.get(), "source", "irc");
    json_object_del(json_object_get(ev.get(), "channel"), "name");
    EXPECT_TRUE(json_equal(ev.get(), irc[i].get()))
        << "event " << i + 1 << "\n irc:      " << JsonDump(irc[i].get())
        << "\n eventsub: " << JsonDump(eventsub[i].get());
  }
}

JsonPtr Notification(const std::string& type, const std::string& event_json) {
  std::string err;
  JsonPtr n = JsonParse("{\"subscription\":{\"type\":\"" + type +
                            "\",\"version\":\"1\"},\"event\":" + event_json + "}",
                        &err);
  EXPECT_TRUE(n) << err;
  return n;
}

std::vector<JsonPtr> Map(const json_t* notification, const EventSubMapOptions& opts = {}) {
  EventSubDelivery d;
  d.message_id = "m-1";
  d.message_timestamp = "2026-03-01T18:00:00.123456789Z";
  std::vector<JsonPtr> out;
  std::string err;
  EXPECT_TRUE(MapEventSubNotification(notification, d, opts, &out, &err)) << err;
  for (const JsonPtr& ev : out) EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err;
  return out;
}

TEST(EventSubEvents, MalformedNotificationsAreRefused) {
  EventSubDelivery d;
  d.message_id = "m-1";
  std::vector<JsonPtr> out;
  std::string err;
  JsonPtr no_type = JsonParse(R"({"subscription":{},"event":{}})", &err);
  EXPECT_FALSE(MapEventSubNotification(no_type.get(), d, {}, &out, &err));
  EXPECT_EQ(err, "subscription.type: missing");
  JsonPtr no_event = JsonParse(R"({"subscription":{"type":"channel.cheer"},"event":null})", &err);
  EXPECT_FALSE(MapEventSubNotification(no_event.get(), d, {}, &out, &err));
  EXPECT_EQ(err, "event: missing");
  JsonPtr not_object = JsonParse("[1,2]", &err);
  EXPECT_FALSE(MapEventSubNotification(not_object.get(), d, {}, &out, &err));
  EXPECT_TRUE(out.empty());
}

// An event that would not pass the schema is a notice of the same kind, not a lost alert.
TEST(EventSubEvents, InvalidEventBecomesNotice) {
  JsonPtr n = Notification("channel.cheer", R"({"broadcaster_user_id":"1","user_id":"2"})");
  std::vector<JsonPtr> out = Map(n.get());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "type"), "notice");
  EXPECT_EQ(JsonString(out[0].get(), "kind"), "channel.cheer");
  EXPECT_EQ(JsonString(out[0].get(), "id"), "m-1");
  JsonPtr gift = Notification("channel.chat.notification",
                              R"({"notice_type":"shared_chat_community_sub_gift","message_id":"c-9",
                                  "shared_chat_community_sub_gift":{"id":"g","sub_tier":"1000"}})");
  out = Map(gift.get());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "type"), "notice");  // no count
  EXPECT_EQ(JsonString(out[0].get(), "kind"), "community_sub_gift");
  EXPECT_EQ(JsonString(out[0].get(), "id"), "c-9");
  EXPECT_TRUE(json_is_true(json_object_get(out[0].get(), "shared")));
}

// Twitch's stand-in account for anonymous gifts is anonymous, as twitch-irc has it.
TEST(EventSubEvents, AnAnonymousGifterIsAnonymous) {
  JsonPtr n = Notification("channel.chat.notification",
                           R"({"notice_type":"sub_gift","chatter_is_anonymous":false,
                               "chatter_user_id":"274598607","chatter_user_login":"ananonymousgifter",
                               "sub_gift":{"recipient_user_id":"9","sub_tier":"1000"}})");
  std::vector<JsonPtr> out = Map(n.get());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "type"), "subgift");
  EXPECT_TRUE(json_is_true(json_object_get(out[0].get(), "anonymous")));
  EXPECT_EQ(json_object_get(out[0].get(), "user"), nullptr);
}

TEST(EventSubEvents, AtFallsBackToTheMessageTimestampThenNow) {
  JsonPtr follow = Notification("channel.follow", R"({"user_id":"2","followed_at":"yesterday"})");
  std::vector<JsonPtr> out = Map(follow.get());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "at"), "2026-03-01T18:00:00.123Z");
  EventSubDelivery d;  // no id, no timestamp: a fresh UUID and now
  std::string err;
  out.clear();
  ASSERT_TRUE(MapEventSubNotification(follow.get(), d, {}, &out, &err)) << err;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(ValidateEvent(out[0].get(), &err)) << err;
  EXPECT_EQ(JsonString(out[0].get(), "id").size(), 36u);
}

TEST(EventSubEvents, RawAttachesTheNotification) {
  JsonPtr n = Notification("channel.follow", R"({"user_id":"2"})");
  EventSubMapOptions opts;
  opts.raw = true;
  std::vector<JsonPtr> out = Map(n.get(), opts);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(json_equal(json_object_get(out[0].get(), "raw"), n.get()));
  out = Map(n.get());
  EXPECT_EQ(json_object_get(out[0].get(), "raw"), nullptr);
}

// Types that batch ({"events":[{"id","data"}]}) give one event per item, with the item's id.
TEST(EventSubEvents, BatchedEventsEachGetAnEvent) {
  std::string err;
  JsonPtr n = JsonParse(R"({"subscription":{"type":"drop.entitlement.grant"},"events":[
      {"id":"e-1","data":{"user_id":"7","user_login":"a"}},{"data":{"user_id":"8"}},7]})",
                        &err);
  std::vector<JsonPtr> out = Map(n.get());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(JsonString(out[0].get(), "id"), "e-1");
  EXPECT_EQ(JsonString(out[0].get(), "kind"), "drop.entitlement.grant");
  EXPECT_EQ(JsonString(out[1].get(), "id"), "m-1:1");
  EventSubDelivery d;  // no message id either: still an id of its own each
  out.clear();
  ASSERT_TRUE(MapEventSubNotification(n.get(), d, {}, &out, &err)) << err;
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(JsonString(out[1].get(), "id").size(), 38u);  // a UUID and ":1"
}

TEST(EventSubEvents, ChatMessageIsChatWithTheChatMessageId) {
  JsonPtr n = Notification("channel.chat.message",
                           R"({"broadcaster_user_id":"1","chatter_user_id":"2",
                               "chatter_user_login":"b","message_id":"c-1",
                               "message":{"text":"hi","fragments":[{"type":"text","text":"hi"}]}})");
  std::vector<JsonPtr> out = Map(n.get());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "type"), "chat");
  EXPECT_EQ(JsonString(out[0].get(), "id"), "c-1");
  EXPECT_EQ(JsonString(out[0].get(), "message"), "hi");
  EXPECT_EQ(json_object_get(out[0].get(), "fragments"), nullptr);  // text only
}

JsonPtr Fragments(const std::string& message_json) {
  std::string err;
  JsonPtr message = JsonParse(message_json, &err);
  EXPECT_TRUE(message) << err;
  return EventSubFragments(message.get());
}

TEST(EventSubEvents, FragmentsJoinToTheMessage) {
  JsonPtr parts = Fragments(R"({"text":"a Kappa b","fragments":[
      {"type":"text","text":"a "},{"type":"emote","text":"Kappa","emote":{"id":"25"}},
      {"type":"sparkle","text":" b"}]})");
  ASSERT_TRUE(parts);
  EXPECT_EQ(JsonDump(parts.get()),
            R"([{"type":"text","text":"a "},{"type":"emote","text":"Kappa","id":"25"},)"
            R"({"type":"text","text":" b"}])");
  // Text only, none at all, or parts that do not join to the text: no fragments.
  EXPECT_FALSE(Fragments(R"({"text":"ab","fragments":[{"type":"text","text":"ab"}]})"));
  EXPECT_FALSE(Fragments(R"({"text":"","fragments":[]})"));
  EXPECT_FALSE(Fragments(R"({"text":"a Kappa","fragments":[
      {"type":"emote","text":"Kappa","emote":{"id":"25"}}]})"));
  EXPECT_FALSE(Fragments(R"({"text":"x","fragments":[{"type":"emote","emote":{"id":"25"}}]})"));
  // An emote without an id, a cheermote without bits, a mention of nobody: plain text.
  EXPECT_FALSE(Fragments(R"({"text":"K C1 @x","fragments":[
      {"type":"emote","text":"K","emote":null},{"type":"text","text":" "},
      {"type":"cheermote","text":"C1","cheermote":{"prefix":"c"}},{"type":"text","text":" "},
      {"type":"mention","text":"@x","mention":{}}]})"));
}

// channel.subscription.message gives emote ranges in code points, end inclusive.
TEST(EventSubEvents, EmoteRangesBecomeFragments) {
  auto map = [](const std::string& message_json) {
    JsonPtr n = Notification("channel.subscription.message",
                             R"({"user_id":"2","tier":"1000","message":)" + message_json + "}");
    std::vector<JsonPtr> out = Map(n.get());
    return out.empty() ? JsonPtr() : std::move(out[0]);
  };
  JsonPtr ev = map(R"({"text":"😀 Kappa Kappa","emotes":[{"begin":8,"end":12,"id":"25"},
                                                          {"begin":2,"end":6,"id":"25"}]})");
  ASSERT_TRUE(ev);
  EXPECT_EQ(JsonDump(json_object_get(ev.get(), "fragments")),
            R"([{"type":"text","text":"😀 "},{"type":"emote","text":"Kappa","id":"25"},)"
            R"({"type":"text","text":" "},{"type":"emote","text":"Kappa","id":"25"}])");
  // Out of range, overlapping or reversed ranges: the message without fragments.
  for (const char* bad : {R"([{"begin":8,"end":13,"id":"25"}])",
                          R"([{"begin":2,"end":6,"id":"25"},{"begin":6,"end":8,"id":"1"}])",
                          R"([{"begin":6,"end":2,"id":"25"}])",
                          R"([{"begin":-1,"end":0,"id":"1"}])", R"([{"begin":0,"end":0}])"}) {
    ev = map(std::string(R"({"text":"😀 Kappa Kappa","emotes":)") + bad + "}");
    ASSERT_TRUE(ev) << bad;
    EXPECT_EQ(JsonString(ev.get(), "message"), "😀 Kappa Kappa") << bad;
    EXPECT_EQ(json_object_get(ev.get(), "fragments"), nullptr) << bad;
  }
}

}  // namespace
