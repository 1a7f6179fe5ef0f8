// The IRC → event mapping against the golden files of tests/data/irc (<name>.txt → <name>.ndjson);
// every event written must pass the schema check.
#include "twitch/irc_events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/event.h"
#include "golden.h"
#include "twitch/irc_message.h"

namespace {

const std::string kDir = TEST_DATA_DIR "/irc";

// The joined texts of |fragments| (a JSON array), which must give the message back.
std::string Joined(const json_t* fragments) {
  std::string out;
  size_t i;
  json_t* part;
  json_array_foreach(fragments, i, part) out += JsonString(part, "text");
  return out;
}

// "*" in the expected id or at matches whatever the mapper produced.
void ApplyWildcards(const json_t* want, json_t* got) {
  for (const char* key : {"id", "at"}) {
    if (JsonString(want, key) == "*" && json_object_get(got, key)) SetString(got, key, "*");
  }
}

TEST(IrcEvents, GoldenFiles) {
  std::vector<std::string> names = GoldenNames(kDir, ".txt");
  ASSERT_GE(names.size(), 10u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    std::vector<std::string> input = ReadLines(kDir + "/" + name + ".txt");
    std::vector<std::string> expected = ReadLines(kDir + "/" + name + ".ndjson");
    IrcMapOptions opts;
    if (!input.empty() && input[0].rfind("# options:", 0) == 0) {
      opts.chat = input[0].find("--chat") != std::string::npos;
      opts.all = input[0].find("--all") != std::string::npos;
      opts.raw = input[0].find("--raw") != std::string::npos;
      input.erase(input.begin());
    }
    std::vector<JsonPtr> got;
    for (const std::string& line : input) {
      IrcMessage msg;
      std::string err;
      ASSERT_TRUE(ParseIrcLine(line, &msg, &err)) << line << ": " << err;
      if (opts.all) {
        std::string text;
        AppendIrcRecordJson(msg, &text);
        got.push_back(JsonParse(text, &err));
        ASSERT_TRUE(got.back()) << text << ": " << err;
      }
      MapIrcMessage(msg, opts, &got);
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string err;
      JsonPtr want = JsonParse(expected[i], &err);
      ASSERT_TRUE(want) << name << ".ndjson line " << i + 1 << ": " << err;
      if (JsonString(got[i].get(), "type") != "irc") {
        EXPECT_TRUE(ValidateEvent(got[i].get(), &err)) << JsonDump(got[i].get()) << ": " << err;
      }
      if (const json_t* f = json_object_get(got[i].get(), "fragments")) {
        EXPECT_EQ(Joined(f), JsonString(got[i].get(), "message")) << "record " << i + 1;
      }
      ApplyWildcards(want.get(), got[i].get());
      EXPECT_TRUE(json_equal(want.get(), got[i].get()))
          << "record " << i + 1 << "\n want: " << expected[i]
          << "\n got:  " << JsonDump(got[i].get());
    }
  }
}

JsonPtr MapOne(const std::string& line, const IrcMapOptions& opts = {}) {
  IrcMessage msg;
  std::string err;
  std::vector<JsonPtr> out;
  if (ParseIrcLine(line, &msg, &err)) MapIrcMessage(msg, opts, &out);
  return out.empty() ? nullptr : std::move(out.back());
}

TEST(IrcEvents, GiftBombGroupNeedsNoOrder) {
  // The subgift names its bomb by community-gift-id, so it is grouped before the bomb arrives.
  JsonPtr gift = MapOne(
      "@id=g1;login=a;msg-id=subgift;msg-param-community-gift-id=42;msg-param-origin-id=x;"
      "msg-param-recipient-id=9;msg-param-sub-plan=1000;room-id=1;tmi-sent-ts=1;user-id=2 "
      ":tmi.twitch.tv USERNOTICE #c");
  JsonPtr bomb = MapOne(
      "@id=b1;login=a;msg-id=submysterygift;msg-param-community-gift-id=42;"
      "msg-param-mass-gift-count=1;msg-param-sub-plan=1000;room-id=1;tmi-sent-ts=2;user-id=2 "
      ":tmi.twitch.tv USERNOTICE #c");
  ASSERT_TRUE(gift && bomb);
  EXPECT_EQ(JsonString(gift.get(), "group"), "42");
  EXPECT_EQ(JsonString(bomb.get(), "group"), "42");
  // Without a community-gift-id the origin-id links them.
  JsonPtr old = MapOne(
      "@id=g2;login=a;msg-id=subgift;msg-param-origin-id=o\\s1;msg-param-recipient-id=9;"
      "msg-param-sub-plan=Prime;room-id=1;tmi-sent-ts=1;user-id=2 :tmi.twitch.tv USERNOTICE #c");
  ASSERT_TRUE(old);
  EXPECT_EQ(JsonString(old.get(), "group"), "o 1");
  EXPECT_EQ(JsonString(old.get(), "tier"), "prime");
}

TEST(IrcEvents, InvalidUtf8IsReplacedNotDropped) {
  JsonPtr ev = MapOne(
      "@id=x1;room-id=1;tmi-sent-ts=5;user-id=2;display-name=A\xff "
      ":a!a@a PRIVMSG #c :bad \xc3 byte",
      IrcMapOptions{true, false, false});
  ASSERT_TRUE(ev);
  std::string err;
  EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err;
  EXPECT_EQ(JsonString(ev.get(), "message"), "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(JsonString(json_object_get(ev.get(), "user"), "name"), "A\xEF\xBF\xBD");
}

TEST(IrcEvents, UnknownUsernoticeIsANotice) {
  JsonPtr ev =
      MapOne("@id=n1;msg-id=midnightsquid;room-id=1;tmi-sent-ts=5 :tmi.twitch.tv USERNOTICE #c");
  ASSERT_TRUE(ev);
  EXPECT_EQ(JsonString(ev.get(), "type"), "notice");
  EXPECT_EQ(JsonString(ev.get(), "kind"), "midnightsquid");
  JsonPtr bare = MapOne(":tmi.twitch.tv USERNOTICE #c");
  ASSERT_TRUE(bare);
  std::string err;
  EXPECT_TRUE(ValidateEvent(bare.get(), &err)) << err;
}

// The --all record written by hand must be the very text jansson writes for the same tree.
TEST(IrcEvents, RecordJsonMatchesJansson) {
  for (const char* line : {
           "PING :tmi.twitch.tv",
           "@a=1;b;c=x\\sy\\:z\\\\;a=2;d=\\n\\r\\t\\ :src CMD p1 p2 :trail \"q\" \\ end",
           "@k=\x01\x1f\x7f\xc3\xa9\xff;e= CMD :\t\"\\/\xf0\x9f\x8e\x89\xed\xa0\x80",
           "@dup=1;dup=2;dup=3 CMD",
       }) {
    SCOPED_TRACE(line);
    IrcMessage msg;
    std::string err, text;
    ASSERT_TRUE(ParseIrcLine(line, &msg, &err));
    AppendIrcRecordJson(msg, &text);
    JsonPtr tree = JsonOwn(json_object());
    SetString(tree.get(), "type", "irc");
    json_object_update(tree.get(), IrcMessageToJson(msg).get());
    EXPECT_EQ(text, JsonDump(tree.get()));
  }
}

TEST(IrcEvents, ToValidUtf8) {
  EXPECT_EQ(ToValidUtf8("ok é 🎉"), "ok é 🎉");
  EXPECT_EQ(ToValidUtf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(ToValidUtf8("a\xf0\x9f"), "a\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace

TEST(IrcFragments, EmotesByCodePointWithAstralCharactersBefore) {
  // "🎉 Kappa ok Kappa": the emoji is one code point (four bytes), so Kappa is at 2-6.
  std::string text = "\xF0\x9F\x8E\x89 Kappa ok Kappa";
  JsonPtr f = IrcFragments(text, "25:2-6,11-15", -1);
  ASSERT_TRUE(f);
  EXPECT_EQ(Joined(f.get()), text);
  EXPECT_EQ(JsonDump(f.get()),
            "[{\"type\":\"text\",\"text\":\"\xF0\x9F\x8E\x89 \"},"
            "{\"type\":\"emote\",\"text\":\"Kappa\",\"id\":\"25\"},"
            "{\"type\":\"text\",\"text\":\" ok \"},"
            "{\"type\":\"emote\",\"text\":\"Kappa\",\"id\":\"25\"}]");
}

TEST(IrcFragments, BadRangesAreLeftOut) {
  // Out of range, reversed, overlapping, not numbers, and one id over two different texts.
  EXPECT_FALSE(IrcFragments("hi", "25:0-9", -1));
  EXPECT_FALSE(IrcFragments("hello", "25:3-1/26:x-y/27:-1-2/28", -1));
  EXPECT_FALSE(IrcFragments("abc abd", "30:0-2,4-6", -1));
  JsonPtr f = IrcFragments("LUL LUL", "1:0-2/2:1-4", -1);
  ASSERT_TRUE(f);
  EXPECT_EQ(Joined(f.get()), "LUL LUL");
  EXPECT_EQ(json_array_size(f.get()), 2u);  // 2:1-4 overlaps 1:0-2 and is left out
  EXPECT_FALSE(IrcFragments("", "", -1));
  EXPECT_FALSE(IrcFragments("plain text", "", 100));
}

TEST(IrcFragments, CheermotesOnlyWhenTheyAddUpToTheBits) {
  JsonPtr f = IrcFragments("Cheer200 4Head50 good luck", "", 250);
  ASSERT_TRUE(f);
  EXPECT_EQ(JsonDump(f.get()),
            "[{\"type\":\"cheermote\",\"text\":\"Cheer200\",\"prefix\":\"cheer\",\"bits\":200},"
            "{\"type\":\"text\",\"text\":\" \"},"
            "{\"type\":\"cheermote\",\"text\":\"4Head50\",\"prefix\":\"4head\",\"bits\":50},"
            "{\"type\":\"text\",\"text\":\" good luck\"}]");
  // The words that could be cheermotes add up to 166, not 100: nothing is guessed.
  EXPECT_FALSE(IrcFragments("Cheer100 on Route66", "", 100));
  EXPECT_FALSE(IrcFragments("Cheer0100 100 Cheer-5", "", 100));
  // Not a cheer: no cheermotes, whatever the words.
  EXPECT_FALSE(IrcFragments("Cheer100", "", -1));
}

TEST(IrcFragments, WrittenOnEventsWithAMessage) {
  JsonPtr ev = MapOne(
      "@badge-info=;badges=;bits=100;display-name=A;emotes=25:9-13;id=f1;room-id=1;"
      "tmi-sent-ts=1767225600123;user-id=2 :a!a@a.tmi.twitch.tv PRIVMSG #c :Cheer100 Kappa");
  ASSERT_TRUE(ev);
  const json_t* f = json_object_get(ev.get(), "fragments");
  ASSERT_TRUE(f);
  EXPECT_EQ(Joined(f), "Cheer100 Kappa");
  EXPECT_EQ(json_array_size(f), 3u);
  // No emote, no cheermote: no key.
  JsonPtr plain = MapOne(
      "@badge-info=;badges=;custom-reward-id=r;display-name=A;emotes=;id=f2;room-id=1;"
      "user-id=2 :a!a@a.tmi.twitch.tv PRIVMSG #c :Cheer100 please");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(json_object_get(plain.get(), "fragments"));
}
