// The PubSub → event mapping against the golden files of tests/data/pubsub (<name>.frames →
// <name>.ndjson, see its README.md); every event written must pass the schema check, and every
// "fragments" must give back its "message".
#include "twitch/pubsub_events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/event.h"
#include "core/time.h"
#include "golden.h"

namespace {

const std::string kDir = TEST_DATA_DIR "/pubsub";
constexpr int64_t kClockStart = 1767225600000;  // 2026-01-01T00:00:00.000Z

// The parts' texts joined must be the message, and a fragments key needs a non-text part.
void ExpectFragmentsGiveMessage(const json_t* ev) {
  const json_t* parts = json_object_get(ev, "fragments");
  if (!parts) return;
  ASSERT_TRUE(json_is_array(parts));
  std::string joined;
  bool non_text = false;
  size_t i;
  const json_t* part;
  json_array_foreach(parts, i, part) {
    joined += JsonString(part, "text");
    non_text = non_text || JsonString(part, "type") != "text";
  }
  EXPECT_EQ(joined, JsonString(ev, "message"));
  EXPECT_TRUE(non_text);
}

TEST(PubSubEvents, GoldenFiles) {
  std::vector<std::string> names = GoldenNames(kDir, ".frames");
  ASSERT_GE(names.size(), 7u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    std::vector<std::string> input = ReadLines(kDir + "/" + name + ".frames");
    std::vector<std::string> expected = ReadLines(kDir + "/" + name + ".ndjson");
    PubSubMapOptions opts;
    if (!input.empty() && input[0].rfind("# options:", 0) == 0) {
      opts.raw = input[0].find("--raw") != std::string::npos;
    }
    PubSubMapper mapper(opts);
    std::vector<JsonPtr> got;
    int64_t frame = 0;
    for (const std::string& line : input) {
      if (line.empty() || line[0] == '#') continue;
      std::string err;
      if (!mapper.MapFrame(line, kClockStart + ++frame * 1000, &got, &err)) {
        JsonPtr error = JsonOwn(json_object());
        SetString(error.get(), "error", err);
        got.push_back(std::move(error));
      }
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string err;
      JsonPtr want = JsonParse(expected[i], &err);
      ASSERT_TRUE(want) << name << ".ndjson line " << i + 1 << ": " << err;
      if (!json_object_get(got[i].get(), "error")) {
        EXPECT_TRUE(ValidateEvent(got[i].get(), &err)) << JsonDump(got[i].get()) << ": " << err;
        EXPECT_EQ(JsonString(got[i].get(), "source"), "pubsub");
        ExpectFragmentsGiveMessage(got[i].get());
      }
      EXPECT_TRUE(json_equal(want.get(), got[i].get()))
          << "record " << i + 1 << "\n want: " << expected[i]
          << "\n got:  " << JsonDump(got[i].get());
    }
  }
}

std::string SubGift(const std::string& gifter, const std::string& tier) {
  return "{\"context\":\"subgift\",\"user_id\":\"" + gifter + "\",\"user_name\":\"g" + gifter +
         "\",\"sub_plan\":\"" + tier +
         "\",\"recipient_id\":\"9\",\"time\":\"2026-01-01T00:00:00Z\"}";
}

std::string Bomb(const std::string& gifter, int count, const std::string& uuid) {
  return "{\"type\":\"mystery-gift-purchase\",\"count\":" + std::to_string(count) +
         ",\"tier\":\"1000\",\"user_id\":\"" + gifter + "\",\"user_name\":\"g" + gifter +
         "\",\"uuid\":\"" + uuid + "\"}";
}

JsonPtr MapOne(PubSubMapper* mapper, const std::string& topic, const std::string& message,
               int64_t now_ms) {
  std::vector<JsonPtr> out;
  std::string err;
  EXPECT_TRUE(mapper->Map(topic, message, now_ms, &out, &err)) << err;
  return out.empty() ? nullptr : std::move(out.back());
}

TEST(PubSubEvents, GiftBombGroupEndsWithItsWindow) {
  PubSubMapper mapper;
  MapOne(&mapper, "channel-sub-gifts-v1.1", Bomb("7", 3, "u1"), 0);
  EXPECT_EQ(mapper.open_gift_bombs(), 1u);
  JsonPtr first = MapOne(&mapper, "channel-subscribe-events-v1.1", SubGift("7", "1000"), 1000);
  EXPECT_EQ(JsonString(first.get(), "group"), "u1");
  // Each gift keeps the bomb open for another window; after a silent window it is closed.
  JsonPtr late = MapOne(&mapper, "channel-subscribe-events-v1.1", SubGift("7", "1000"),
                        1000 + kPubSubGiftWindowMs);
  EXPECT_EQ(JsonString(late.get(), "group"), "u1");
  JsonPtr too_late = MapOne(&mapper, "channel-subscribe-events-v1.1", SubGift("7", "1000"),
                            1001 + 2 * kPubSubGiftWindowMs);
  EXPECT_EQ(json_object_get(too_late.get(), "group"), nullptr);
  EXPECT_EQ(mapper.open_gift_bombs(), 0u);
}

TEST(PubSubEvents, GiftBombsOfTwoGiftersStayApart) {
  PubSubMapper mapper;
  MapOne(&mapper, "channel-sub-gifts-v1.1", Bomb("7", 1, "seven"), 0);
  MapOne(&mapper, "channel-sub-gifts-v1.1", Bomb("8", 1, "eight"), 0);
  JsonPtr b = MapOne(&mapper, "channel-subscribe-events-v1.1", SubGift("8", "1000"), 1);
  JsonPtr a = MapOne(&mapper, "channel-subscribe-events-v1.1", SubGift("7", "1000"), 2);
  EXPECT_EQ(JsonString(a.get(), "group"), "seven");
  EXPECT_EQ(JsonString(b.get(), "group"), "eight");
  // A bomb that failed validation (count 0) awaits nothing.
  MapOne(&mapper, "channel-sub-gifts-v1.1", Bomb("7", 0, "zero"), 3);
  EXPECT_EQ(mapper.open_gift_bombs(), 0u);
}

TEST(PubSubEvents, OpenGiftBombsAreBounded) {
  PubSubMapper mapper;
  for (int i = 0; i < 100; ++i) {
    MapOne(&mapper, "channel-sub-gifts-v1.1", Bomb(std::to_string(i), 5, "g"), 0);
  }
  EXPECT_EQ(mapper.open_gift_bombs(), 64u);
}

TEST(PubSubEvents, MalformedInnerMessageIsAnErrorNotAnEvent) {
  PubSubMapper mapper;
  std::vector<JsonPtr> out;
  std::string err;
  EXPECT_FALSE(mapper.Map("channel-bits-events-v2.1", "{\"data\":", 0, &out, &err));
  EXPECT_NE(err.find("channel-bits-events-v2.1: message not JSON"), std::string::npos) << err;
  EXPECT_FALSE(mapper.Map("channel-bits-events-v2.1", "\"a string\"", 0, &out, &err));
  EXPECT_EQ(err, "channel-bits-events-v2.1: message not a JSON object");
  EXPECT_TRUE(out.empty());
  // The mapper goes on afterwards.
  EXPECT_TRUE(mapper.Map("channel-bits-events-v2.1", "{}", 0, &out, &err)) << err;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(JsonString(out[0].get(), "type"), "notice");
}

TEST(PubSubEvents, DigestIdIsStableAndDistinct) {
  std::string a = PubSubDigestId("t.1", "{}");
  EXPECT_EQ(a, PubSubDigestId("t.1", "{}"));
  EXPECT_NE(a, PubSubDigestId("t.2", "{}"));
  EXPECT_NE(a, PubSubDigestId("t.1", "{ }"));
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '8');  // version 8
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

TEST(PubSubEvents, EmoteRangesInCodePoints) {
  // "é" is two bytes and "😀" four; ranges count code points, as IRC's emotes tag does.
  PubSubMapper mapper;
  JsonPtr ev = MapOne(&mapper, "channel-subscribe-events-v1.1",
                      "{\"context\":\"resub\",\"user_id\":\"2\",\"sub_plan\":\"1000\","
                      "\"sub_message\":{\"message\":\"é😀 Kappa\",\"emotes\":"
                      "[{\"start\":3,\"end\":7,\"id\":\"25\"}]}}",
                      0);
  ASSERT_TRUE(ev);
  EXPECT_EQ(JsonDump(json_object_get(ev.get(), "fragments")),
            "[{\"type\":\"text\",\"text\":\"é😀 \"},{\"type\":\"emote\",\"text\":\"Kappa\","
            "\"id\":\"25\"}]");
  // Overlapping and reversed ranges are left to the text; with none left, no fragments.
  JsonPtr bad =
      MapOne(&mapper, "channel-subscribe-events-v1.1",
             "{\"context\":\"resub\",\"user_id\":\"2\",\"sub_plan\":\"1000\","
             "\"sub_message\":{\"message\":\"Kappa\",\"emotes\":"
             "[{\"start\":4,\"end\":2,\"id\":\"25\"},{\"start\":0,\"end\":5,\"id\":\"1\"},"
             "{\"start\":-1,\"end\":0,\"id\":\"1\"}]}}",
             0);
  ASSERT_TRUE(bad);
  EXPECT_EQ(json_object_get(bad.get(), "fragments"), nullptr);
  EXPECT_EQ(JsonString(bad.get(), "message"), "Kappa");
}

}  // namespace
