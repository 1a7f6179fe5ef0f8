// Unit tests of the schema-v1 event builder and validator (lib/core/event.h).
#include "core/event.h"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <string>

namespace {

JsonPtr Parse(const std::string& text) {
  std::string err;
  JsonPtr j = JsonParse(text, &err);
  EXPECT_TRUE(j) << err << " in " << text;
  return j;
}

std::string Validate(const std::string& text) {
  JsonPtr j = Parse(text);
  std::string err;
  return ValidateEvent(j.get(), &err) ? "ok" : err;
}

const char kHead[] = R"("v":1,"id":"x1","source":"irc","at":"2026-03-01T18:04:12.551Z")";

std::string Event(const std::string& type, const std::string& rest = "") {
  return std::string("{") + kHead + R"(,"type":")" + type + "\"" + (rest.empty() ? "" : ",") +
         rest + "}";
}

TEST(Event, BuilderWritesSchemaOrder) {
  JsonPtr ev = NewEvent("cheer", "trigger", "abc", "2026-03-01T18:04:12.551Z");
  SetIdentity(ev.get(), "channel", {"1", "chan", ""});
  SetIdentity(ev.get(), "user", {"2", "viewer", "Viewer"});
  SetInt(ev.get(), "bits", 100);
  SetString(ev.get(), "message", "Cheer100 hi");
  EXPECT_EQ(
      JsonDump(ev.get()),
      R"({"v":1,"type":"cheer","id":"abc","source":"trigger","at":"2026-03-01T18:04:12.551Z",)"
      R"("channel":{"id":"1","login":"chan"},"user":{"id":"2","login":"viewer","name":"Viewer"},)"
      R"("bits":100,"message":"Cheer100 hi"})");
  std::string err;
  EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err;
}

TEST(Event, DefaultTimeIsNow) {
  JsonPtr ev = NewEvent("follow", "trigger", NewUuid());
  std::string err;
  EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err;
}

TEST(Event, AnonymousRemovesUser) {
  JsonPtr ev = NewEvent("subgift", "irc", "1", "2026-03-01T18:04:12.551Z");
  SetIdentity(ev.get(), "user", {"2", "gifter", "Gifter"});
  SetIdentity(ev.get(), "recipient", {"3", "lucky", "Lucky"});
  SetString(ev.get(), "tier", "1000");
  SetAnonymous(ev.get());
  EXPECT_EQ(json_object_get(ev.get(), "user"), nullptr);
  std::string err;
  EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err;
}

TEST(Event, UuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u) << id;
    for (size_t k = 0; k < id.size(); ++k) {
      bool dash = k == 8 || k == 13 || k == 18 || k == 23;
      EXPECT_TRUE(dash ? id[k] == '-' : isxdigit(id[k]) && !isupper(id[k])) << id;
    }
    EXPECT_EQ(id[14], '4') << id;                                          // version 4
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Event, EveryTypeHasAValidExample) {
  const std::pair<const char*, const char*> examples[] = {
      {"follow", ""},
      {"sub", R"("tier":"prime","months":1,"gifted":false)"},
      {"resub", R"("tier":"1000","months":14,"streak":3,"message":"hi")"},
      {"subgift", R"("recipient":{"login":"r"},"tier":"2000","group":"g1","months":3)"},
      {"giftbomb", R"("count":5,"tier":"1000","total":50,"group":"g1")"},
      {"cheer", R"("bits":100,"message":"Cheer100")"},
      {"raid", R"("viewers":0)"},
      {"redemption", R"("reward":{"id":"r1","title":"Hydrate","cost":500},"message":"now")"},
      {"hypetrain", R"("phase":"progress","level":2,"total":1500,"goal":2000)"},
      {"announcement", R"("message":"hello")"},
      {"chat", R"("message":"waves","action":true,"shared":true)"},
      {"host", R"("target":{"login":"other"},"viewers":3)"},
      {"gap", R"("from":"2026-03-01T18:04:12.551Z","to":"2026-03-01T18:05:12.551Z")"},
      {"notice", R"("kind":"bitsbadgetier","system":"bits badge tier 1000")"},
  };
  std::set<std::string> covered;
  for (const auto& [type, rest] : examples) {
    EXPECT_EQ(Validate(Event(type, rest)), "ok") << type;
    covered.insert(type);
  }
  EXPECT_EQ(covered.size(), EventTypes().size());
}

TEST(Event, RejectsCommonKeyProblems) {
  EXPECT_EQ(Validate("[]"), "not a JSON object");
  EXPECT_EQ(Validate(R"({"type":"follow"})"), "v: missing");
  EXPECT_EQ(Validate(R"({"v":2,"type":"follow"})"), "v: not 1");
  EXPECT_EQ(Validate(R"({"v":1,"type":"party","id":"1","source":"irc","at":"x"})"),
            "type: not a schema-v1 event type");
  EXPECT_EQ(Validate(R"({"v":1,"type":"follow","id":"","source":"irc","at":"x"})"), "id: empty");
  EXPECT_EQ(Validate(R"({"v":1,"type":"follow","id":"1","source":"fax","at":"x"})"),
            "source: not one of irc, eventsub, webhook, pubsub, trigger");
  EXPECT_EQ(
      Validate(R"({"v":1,"type":"follow","id":"1","source":"irc","at":"2026-03-01T18:04:12Z"})"),
      "at: not an RFC 3339 UTC time with milliseconds");
  EXPECT_EQ(Validate(Event("follow", R"("user":"bob")")), "user: not an object");
  EXPECT_EQ(Validate(Event("follow", R"("user":{"login":7})")), "user.login: not a string");
  EXPECT_EQ(Validate(Event("follow", R"("user":{"login":"a"},"anonymous":true)")),
            "user: present although the act is anonymous");
}

TEST(Event, RejectsTypeKeyProblems) {
  EXPECT_EQ(Validate(Event("sub", R"("months":1)")), "tier: missing");
  EXPECT_EQ(Validate(Event("sub", R"("tier":"4000")")), "tier: not one of the allowed values");
  EXPECT_EQ(Validate(Event("resub", R"("tier":"1000","months":-1)")), "months: negative");
  EXPECT_EQ(Validate(Event("resub", R"("tier":"1000","months":"3")")), "months: not an integer");
  EXPECT_EQ(Validate(Event("subgift", R"("tier":"1000")")), "recipient: missing");
  EXPECT_EQ(Validate(Event("giftbomb", R"("count":0,"tier":"1000")")), "count: below its minimum");
  EXPECT_EQ(Validate(Event("cheer", R"("message":"x")")), "bits: missing");
  EXPECT_EQ(Validate(Event("raid", "")), "viewers: missing");
  EXPECT_EQ(Validate(Event("redemption", R"("reward":{"title":"x"})")), "reward.id: missing");
  EXPECT_EQ(Validate(Event("hypetrain", R"("phase":"middle")")),
            "phase: not one of the allowed values");
  EXPECT_EQ(Validate(Event("chat", "")), "message: missing");
  EXPECT_EQ(Validate(Event("host", R"("target":{})")), "target.login: missing");
  EXPECT_EQ(Validate(Event("gap", R"("from":"2026-03-01T18:04:12.551Z")")), "to: missing");
  EXPECT_EQ(Validate(Event("notice", "")), "kind: missing");
  EXPECT_EQ(Validate(Event("sub", R"("tier":"1000","gifted":"yes")")), "gifted: not a boolean");
  EXPECT_EQ(Validate(Event("follow", R"("shared":1)")), "shared: not a boolean");
  EXPECT_EQ(Validate(Event("chat", R"("message":"waves","action":"yes")")),
            "action: not a boolean");
  EXPECT_EQ(Validate(Event("notice", R"("kind":"x","system":7)")), "system: not a string");
  EXPECT_EQ(Validate(Event("subgift", R"("recipient":{"login":"r"},"tier":"1000","months":0)")),
            "months: below its minimum");
}

// Optional keys that EventSub added (twitch-events(7)): checked when present.
TEST(Event, ChecksOptionalKeysWhenPresent) {
  EXPECT_EQ(Validate(Event("resub", R"("tier":"1000","duration":6)")), "ok");
  EXPECT_EQ(Validate(Event("resub", R"("tier":"1000","duration":1)")),
            "duration: below its minimum");
  EXPECT_EQ(Validate(Event("hypetrain",
                           R"("phase":"begin","progress":5,"expires":"2026-03-01T18:11:00.500Z")")),
            "ok");
  EXPECT_EQ(Validate(Event("hypetrain", R"("phase":"begin","progress":-1)")), "progress: negative");
  EXPECT_EQ(Validate(Event("hypetrain", R"("phase":"begin","expires":"soon")")),
            "expires: not an RFC 3339 UTC time with milliseconds");
}

TEST(Event, AcceptsUnknownExtraKeys) {
  // Later schema additions within v1 must not break older validators.
  EXPECT_EQ(Validate(Event("follow", R"("shared":true,"raw":{"x":1})")), "ok");
}

}  // namespace
