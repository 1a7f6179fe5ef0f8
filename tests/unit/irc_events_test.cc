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
