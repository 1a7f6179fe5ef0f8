// Unit tests of the sample-event generator behind twitch-trigger (lib/twitch/trigger.h).
#include "twitch/trigger.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/json.h"
#include "core/time.h"

namespace {

std::vector<JsonPtr> Fire(TriggerSpec spec, uint64_t seed = 1) {
  std::string err;
  EXPECT_TRUE(NormalizeTriggerSpec(&spec, &err)) << err;
  TriggerGenerator gen(spec, seed);
  return gen.Next();
}

JsonPtr FireOne(const TriggerSpec& spec) {
  std::vector<JsonPtr> events = Fire(spec);
  EXPECT_EQ(events.size(), 1u);
  return std::move(events.front());
}

TriggerSpec Spec(const std::string& type) {
  TriggerSpec spec;
  spec.type = type;
  return spec;
}

// A generator for |type| (empty: the weighted mix), in random or fixed mode.
TriggerGenerator Generator(const std::string& type, bool random, uint64_t seed) {
  TriggerSpec spec = Spec(type);
  spec.random = random;
  std::string err;
  EXPECT_TRUE(NormalizeTriggerSpec(&spec, &err)) << err;
  return TriggerGenerator(spec, seed);
}

std::string Str(json_t* ev, const char* path) {
  json_t* v = JsonPath(ev, path);
  return json_is_string(v) ? json_string_value(v) : "<absent>";
}

long long Int(json_t* ev, const char* path) {
  json_t* v = JsonPath(ev, path);
  return json_is_integer(v) ? json_integer_value(v) : -999;
}

std::string UsageError(TriggerSpec spec) {
  std::string err;
  EXPECT_FALSE(NormalizeTriggerSpec(&spec, &err));
  return err;
}

// The event without the keys that differ on every run (fresh UUIDs, the clock).
std::string Stable(json_t* ev) {
  JsonPtr copy = JsonOwn(json_deep_copy(ev));
  for (const char* key : {"id", "at", "group", "from", "to"}) json_object_del(copy.get(), key);
  return JsonDump(copy.get());
}

TEST(Trigger, EveryTypeValidatesWithDefaults) {
  for (const std::string& type : EventTypes()) {
    std::vector<JsonPtr> events = Fire(Spec(type));
    ASSERT_FALSE(events.empty()) << type;
    EXPECT_EQ(Str(events[0].get(), "type"), type);
    for (const JsonPtr& ev : events) {
      std::string err;
      EXPECT_TRUE(ValidateEvent(ev.get(), &err))
          << type << ": " << err << ": " << JsonDump(ev.get());
      EXPECT_EQ(Str(ev.get(), "source"), "trigger");
      EXPECT_EQ(Str(ev.get(), "channel.login"), "testchannel");
    }
  }
}

TEST(Trigger, EveryTypeValidatesInRandomMode) {
  for (const std::string& type : EventTypes()) {
    TriggerGenerator gen = Generator(type, true, 7);
    std::string err;
    for (int i = 0; i < 50; ++i) {
      for (const JsonPtr& ev : gen.Next()) {
        EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err << ": " << JsonDump(ev.get());
      }
    }
  }
}

TEST(Trigger, RandomMixHasEveryAlertType) {
  TriggerGenerator gen = Generator("", true, 42);
  std::string err;
  std::set<std::string> seen;
  for (int i = 0; i < 3000; ++i) {
    for (const JsonPtr& ev : gen.Next()) {
      ASSERT_TRUE(ValidateEvent(ev.get(), &err)) << err << ": " << JsonDump(ev.get());
      seen.insert(Str(ev.get(), "type"));
    }
  }
  for (const char* type : {"follow", "sub", "resub", "subgift", "giftbomb", "cheer", "raid",
                           "redemption", "hypetrain", "announcement", "chat", "notice"}) {
    EXPECT_EQ(seen.count(type), 1u) << type;
  }
  // Not alerts: only when asked for by name.
  EXPECT_EQ(seen.count("gap"), 0u);
  EXPECT_EQ(seen.count("host"), 0u);
}

TEST(Trigger, SameSeedSameEvents) {
  TriggerGenerator a = Generator("", true, 1234), b = Generator("", true, 1234),
                   c = Generator("", true, 4321);
  std::string seq_a, seq_b, seq_c;
  for (int i = 0; i < 200; ++i) {
    for (const JsonPtr& ev : a.Next()) seq_a += Stable(ev.get()) + "\n";
    for (const JsonPtr& ev : b.Next()) seq_b += Stable(ev.get()) + "\n";
    for (const JsonPtr& ev : c.Next()) seq_c += Stable(ev.get()) + "\n";
  }
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_NE(seq_a, seq_c);
}

TEST(Trigger, FreshIdAndCurrentTimeForEveryEvent) {
  TriggerGenerator gen = Generator("follow", false, 1);
  std::set<std::string> ids;
  const int64_t before = NowMillis();
  for (int i = 0; i < 100; ++i) {
    JsonPtr ev = std::move(gen.Next().front());
    ids.insert(Str(ev.get(), "id"));
    int64_t at = 0;
    ASSERT_TRUE(ParseRfc3339(Str(ev.get(), "at"), &at));
    EXPECT_GE(at, before);
    EXPECT_LE(at, NowMillis());
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(Trigger, UserAndChannelBecomeIdentities) {
  TriggerSpec spec = Spec("follow");
  spec.user = "CoolViewer";
  spec.channel = "Maple_Crate";
  JsonPtr ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "user.login"), "coolviewer");
  EXPECT_EQ(Str(ev.get(), "user.name"), "CoolViewer");
  EXPECT_EQ(Str(ev.get(), "user.id"), TriggerIdentity("coolviewer").id);
  EXPECT_EQ(Str(ev.get(), "channel.login"), "maple_crate");
  EXPECT_EQ(Str(ev.get(), "channel.name"), "Maple_Crate");
  EXPECT_NE(TriggerIdentity("a").id, TriggerIdentity("b").id);
  EXPECT_EQ(TriggerIdentity("x").id.size(), 9u);
}

TEST(Trigger, SubOptionsMapToKeys) {
  TriggerSpec spec = Spec("resub");
  spec.tier = "2";
  spec.months = 18;
  spec.streak = 9;
  spec.message = "year and a half! Kappa";
  spec.gifted = true;
  JsonPtr ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "tier"), "2000");
  EXPECT_EQ(Int(ev.get(), "months"), 18);
  EXPECT_EQ(Int(ev.get(), "streak"), 9);
  EXPECT_EQ(Str(ev.get(), "message"), "year and a half! Kappa");
  EXPECT_TRUE(json_is_true(json_object_get(ev.get(), "gifted")));

  JsonPtr sub = FireOne(Spec("sub"));
  EXPECT_EQ(Str(sub.get(), "tier"), "1000");
  EXPECT_EQ(Int(sub.get(), "months"), 1);
  EXPECT_EQ(json_object_get(sub.get(), "streak"), nullptr);
  EXPECT_EQ(json_object_get(sub.get(), "message"), nullptr);
  EXPECT_TRUE(json_is_false(json_object_get(sub.get(), "gifted")));

  spec = Spec("sub");
  spec.tier = "Prime";
  EXPECT_EQ(Str(FireOne(spec).get(), "tier"), "prime");
}

TEST(Trigger, OtherOptionsMapToKeys) {
  TriggerSpec spec = Spec("cheer");
  spec.bits = 250;
  spec.message = "Cheer250 go go";
  JsonPtr ev = FireOne(spec);
  EXPECT_EQ(Int(ev.get(), "bits"), 250);
  EXPECT_EQ(Str(ev.get(), "message"), "Cheer250 go go");

  spec = Spec("raid");
  spec.viewers = 342;
  EXPECT_EQ(Int(FireOne(spec).get(), "viewers"), 342);

  spec = Spec("redemption");
  spec.reward = "Song request";
  spec.cost = 1000;
  spec.message = "darude sandstorm";
  ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "reward.title"), "Song request");
  EXPECT_EQ(Int(ev.get(), "reward.cost"), 1000);
  EXPECT_EQ(Str(ev.get(), "reward.id").size(), 36u);
  EXPECT_EQ(Str(ev.get(), "reward.id"), Str(FireOne(spec).get(), "reward.id"));  // stable
  EXPECT_EQ(Str(ev.get(), "message"), "darude sandstorm");

  spec = Spec("hypetrain");
  spec.phase = "progress";
  spec.level = 3;
  spec.total = 4200;
  spec.goal = 6000;
  ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "phase"), "progress");
  EXPECT_EQ(Int(ev.get(), "level"), 3);
  EXPECT_EQ(Int(ev.get(), "total"), 4200);
  EXPECT_EQ(Int(ev.get(), "goal"), 6000);
  EXPECT_EQ(json_object_get(ev.get(), "user"), nullptr);

  spec = Spec("host");
  spec.target = "HarborLights";
  spec.viewers = 57;
  ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "target.login"), "harborlights");
  EXPECT_EQ(Int(ev.get(), "viewers"), 57);

  spec = Spec("gap");
  spec.from = "2026-03-01T19:04:12+01:00";
  spec.to = "2026-03-01T18:05:00.5Z";
  ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "from"), "2026-03-01T18:04:12.000Z");
  EXPECT_EQ(Str(ev.get(), "to"), "2026-03-01T18:05:00.500Z");

  ev = FireOne(Spec("gap"));  // by default the last 30 s up to the report
  EXPECT_EQ(Str(ev.get(), "to"), Str(ev.get(), "at"));

  spec = Spec("notice");
  spec.kind = "viewermilestone";
  EXPECT_EQ(Str(FireOne(spec).get(), "kind"), "viewermilestone");

  spec = Spec("subgift");
  spec.recipient = "TinyKettle";
  spec.tier = "3000";
  spec.group = "g-1";
  ev = FireOne(spec);
  EXPECT_EQ(Str(ev.get(), "recipient.login"), "tinykettle");
  EXPECT_EQ(Str(ev.get(), "tier"), "3000");
  EXPECT_EQ(Str(ev.get(), "group"), "g-1");

  for (const char* type : {"announcement", "chat"}) {
    spec = Spec(type);
    spec.message = "héllo ✨";
    EXPECT_EQ(Str(FireOne(spec).get(), "message"), "héllo ✨");
  }
}

TEST(Trigger, AnonymousLeavesOutUser) {
  for (const char* type : {"cheer", "subgift", "giftbomb"}) {
    TriggerSpec spec = Spec(type);
    spec.anonymous = true;
    for (const JsonPtr& ev : Fire(spec)) {
      EXPECT_EQ(json_object_get(ev.get(), "user"), nullptr) << type;
      EXPECT_TRUE(json_is_true(json_object_get(ev.get(), "anonymous"))) << type;
    }
  }
  JsonPtr ev = FireOne(Spec("cheer"));
  EXPECT_EQ(Str(ev.get(), "user.login"), "testviewer");
  EXPECT_EQ(json_object_get(ev.get(), "anonymous"), nullptr);
}

TEST(Trigger, GiftBombIsOneGroupOfSubgifts) {
  TriggerSpec spec = Spec("giftbomb");
  spec.count = 30;  // more than the name pool: recipients stay distinct
  spec.user = "PebbleWhisk";
  spec.tier = "2000";
  spec.total = 55;
  std::vector<JsonPtr> events = Fire(spec);
  ASSERT_EQ(events.size(), 31u);
  EXPECT_EQ(Str(events[0].get(), "type"), "giftbomb");
  EXPECT_EQ(Int(events[0].get(), "count"), 30);
  EXPECT_EQ(Int(events[0].get(), "total"), 55);
  const std::string group = Str(events[0].get(), "group");
  EXPECT_EQ(group.size(), 36u);
  std::set<std::string> recipients;
  for (size_t i = 1; i < events.size(); ++i) {
    json_t* ev = events[i].get();
    EXPECT_EQ(Str(ev, "type"), "subgift");
    EXPECT_EQ(Str(ev, "group"), group);
    EXPECT_EQ(Str(ev, "tier"), "2000");
    EXPECT_EQ(Str(ev, "user.login"), "pebblewhisk");
    EXPECT_NE(Str(ev, "recipient.login"), "pebblewhisk");
    recipients.insert(Str(ev, "recipient.login"));
  }
  EXPECT_EQ(recipients.size(), 30u);

  spec.group = "my-bomb";
  EXPECT_EQ(Str(Fire(spec).back().get(), "group"), "my-bomb");
  EXPECT_EQ(Fire(Spec("giftbomb")).size(), 6u);  // default --count 5
}

TEST(Trigger, RandomGiftBombCarriesItsSubgifts) {
  TriggerGenerator gen = Generator("giftbomb", true, 99);
  for (int i = 0; i < 20; ++i) {
    std::vector<JsonPtr> events = gen.Next();
    const long long count = Int(events[0].get(), "count");
    ASSERT_EQ(events.size(), static_cast<size_t>(count) + 1);
    for (const JsonPtr& ev : events) {
      EXPECT_EQ(Str(ev.get(), "group"), Str(events[0].get(), "group"));
    }
  }
}

TEST(Trigger, RandomHypeTrainRunsInOrder) {
  TriggerGenerator gen = Generator("hypetrain", true, 5);
  std::string last = "end";
  for (int i = 0; i < 100; ++i) {
    const std::string phase = Str(gen.Next()[0].get(), "phase");
    if (last == "end") {
      EXPECT_EQ(phase, "begin");
    } else {
      EXPECT_NE(phase, "begin");
    }
    last = phase;
  }
}

TEST(Trigger, UsageErrors) {
  struct Case {
    const char* type;
    std::function<void(TriggerSpec*)> set;
    const char* message;  // the start of the expected message
  };
  const Case cases[] = {
      {"", [](TriggerSpec*) {}, "missing TYPE (or --random)"},
      {"bomb", [](TriggerSpec*) {}, "unknown event type 'bomb' (one of: follow, sub, resub,"},
      {"sub", [](TriggerSpec* s) { s->tier = "5"; }, "--tier: '5' is not one of prime, 1, 2,"},
      {"sub", [](TriggerSpec* s) { s->months = -1; }, "--months: -1 is out of range (1 to 1200)"},
      {"sub",
       [](TriggerSpec* s) {
         s->months = 3;
         s->streak = 4;
       },
       "--streak: longer than --months"},
      {"follow", [](TriggerSpec* s) { s->bits = 100; }, "--bits does not apply to follow events"},
      {"follow", [](TriggerSpec* s) { s->anonymous = true; }, "--anonymous does not apply to"},
      {"cheer",
       [](TriggerSpec* s) {
         s->random = true;
         s->bits = 5;
       },
       "--bits cannot be used with --random"},
      {"giftbomb", [](TriggerSpec* s) { s->count = kMaxGiftBombCount + 1; },
       "--count: 1001 is out of range"},
      {"giftbomb",
       [](TriggerSpec* s) {
         s->count = 10;
         s->total = 3;
       },
       "--total: smaller than --count"},
      {"subgift", [](TriggerSpec* s) { s->tier = "prime"; }, "--tier: a Prime sub cannot be"},
      {"follow", [](TriggerSpec* s) { s->user = "two words"; },
       "--user: 'two words' is not a Twitch login"},
      {"chat", [](TriggerSpec* s) { s->message = "\xff"; }, "--message: not valid UTF-8"},
      {"hypetrain", [](TriggerSpec* s) { s->phase = "middle"; }, "--phase: 'middle' is not one"},
      {"gap", [](TriggerSpec* s) { s->from = "yesterday"; },
       "--from: 'yesterday' is not an RFC 3339 time"},
      {"gap",
       [](TriggerSpec* s) {
         s->from = "2026-03-01T18:10:00Z";
         s->to = "2026-03-01T18:00:00Z";
       },
       "--from: later than --to"},
  };
  for (const Case& c : cases) {
    TriggerSpec spec = Spec(c.type);
    c.set(&spec);
    const std::string err = UsageError(spec);
    EXPECT_EQ(err.rfind(c.message, 0), 0u) << c.type << ": " << err;
  }
}

}  // namespace

// man/twitch-events.7 documents the schema with an example per type; every example must pass the
// validator, so that the page and the code cannot drift apart.
TEST(EventsPage, EveryTypeHasAnExampleThatValidates) {
  std::ifstream page(TEST_DATA_DIR "/../../man/twitch-events.7.scd");
  ASSERT_TRUE(page) << "man/twitch-events.7.scd not found";
  std::set<std::string> examples, headings;
  std::string line;
  while (std::getline(page, line)) {
    if (line.rfind("## ", 0) == 0) headings.insert(line.substr(3));
    if (line.rfind("{\"v\":1", 0) != 0) continue;
    std::string err;
    JsonPtr ev = JsonParse(line, &err);
    ASSERT_TRUE(ev) << err << ": " << line;
    EXPECT_TRUE(ValidateEvent(ev.get(), &err)) << err << ": " << line;
    examples.insert(JsonString(ev.get(), "type"));
  }
  for (const std::string& type : EventTypes()) {
    EXPECT_EQ(examples.count(type), 1u) << "no example of " << type;
    EXPECT_EQ(headings.count(type), 1u) << "no section for " << type;
  }
  EXPECT_EQ(examples.size(), EventTypes().size());
}
