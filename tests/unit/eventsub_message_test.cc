// The EventSub WebSocket envelope (the documented examples of twitch-protocols.md §3.3) and the
// message-id window.
#include "twitch/eventsub_message.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <utility>

#include "twitch/eventsub_dedup.h"

namespace {

TEST(EventSubMessage, Welcome) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"6b1d2f6e-6a4b-4f0e-a7e3-2f7c3c1a9b10","message_type":"session_welcome","message_timestamp":"2026-03-01T18:00:00.104512377Z"},
          "payload":{"session":{"id":"AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i","status":"connected","connected_at":"2026-03-01T18:00:00.098811204Z","keepalive_timeout_seconds":30,"reconnect_url":null}}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.type, EventSubMessageType::kWelcome);
  EXPECT_STREQ(EventSubMessageTypeName(msg.type), "session_welcome");
  EXPECT_EQ(msg.message_id, "6b1d2f6e-6a4b-4f0e-a7e3-2f7c3c1a9b10");
  EXPECT_EQ(msg.message_timestamp, "2026-03-01T18:00:00.104512377Z");
  EXPECT_EQ(msg.timestamp_ms, 1772388000104);
  EXPECT_EQ(msg.session.id, "AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i");
  EXPECT_EQ(msg.session.status, "connected");
  EXPECT_EQ(msg.session.keepalive_timeout_seconds, 30);
  EXPECT_EQ(msg.session.reconnect_url, "");
}

TEST(EventSubMessage, Keepalive) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"84c1e79a-2a4b-4c13-ba0b-4312293e9308","message_type":"session_keepalive","message_timestamp":"2026-03-01T18:00:30.5Z"},"payload":{}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.type, EventSubMessageType::kKeepalive);
  EXPECT_EQ(msg.timestamp_ms, 1772388030500);
  ASSERT_NE(msg.payload, nullptr);
}

TEST(EventSubMessage, Notification) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"0e7c1d9a-31b2-4f55-9a41-6c0d2b8e7f33","message_type":"notification","message_timestamp":"2026-03-01T18:04:12.551902113Z","subscription_type":"channel.raid","subscription_version":"1"},
          "payload":{"subscription":{"id":"5c0a6d1e-8b5f-4c1a-9e2d-7f3b4a5c6d7e","status":"enabled","type":"channel.raid","version":"1","cost":0,
            "condition":{"to_broadcaster_user_id":"777000222"},
            "transport":{"method":"websocket","session_id":"AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i"},"created_at":"2026-03-01T18:00:03.771000000Z"},
           "event":{"from_broadcaster_user_id":"40040046","to_broadcaster_user_id":"777000222","viewers":342}}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.type, EventSubMessageType::kNotification);
  EXPECT_EQ(msg.subscription_type, "channel.raid");
  EXPECT_EQ(msg.subscription_version, "1");
  EXPECT_EQ(msg.subscription_id, "5c0a6d1e-8b5f-4c1a-9e2d-7f3b4a5c6d7e");
  EXPECT_EQ(msg.subscription_status, "enabled");
  ASSERT_NE(msg.payload, nullptr);
  EXPECT_NE(json_object_get(msg.payload, "event"), nullptr);
}

TEST(EventSubMessage, Reconnect) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"ad4f0c2b-9e11-4a57-8b3c-1d2e3f4a5b6c","message_type":"session_reconnect","message_timestamp":"2026-03-01T19:30:00.000102030Z"},
          "payload":{"session":{"id":"AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i","status":"reconnecting","keepalive_timeout_seconds":null,
            "reconnect_url":"wss://cell-b.eventsub.wss.twitch.tv/ws?challenge=0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0&id=AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i",
            "connected_at":"2026-03-01T18:00:00.098811204Z"}}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.type, EventSubMessageType::kReconnect);
  EXPECT_EQ(msg.session.status, "reconnecting");
  EXPECT_EQ(msg.session.keepalive_timeout_seconds, 0);
  EXPECT_EQ(msg.session.reconnect_url,
            "wss://cell-b.eventsub.wss.twitch.tv/ws?challenge=0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
            "&id=AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i");
}

TEST(EventSubMessage, Revocation) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"1f2e3d4c-5b6a-4789-8a0b-c1d2e3f4a5b6","message_type":"revocation","message_timestamp":"2026-03-02T08:00:00.5Z","subscription_type":"channel.cheer","subscription_version":"1"},
          "payload":{"subscription":{"id":"8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d","status":"authorization_revoked","type":"channel.cheer","version":"1","cost":0,
            "condition":{"broadcaster_user_id":"777000222"},"transport":{"method":"websocket","session_id":"AgoQf3Yk2xNhT9uYbQ1mZ0cD4hIGY2VsbC1i"},"created_at":"2026-03-01T18:00:03.9Z"}}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.type, EventSubMessageType::kRevocation);
  EXPECT_EQ(msg.subscription_type, "channel.cheer");
  EXPECT_EQ(msg.subscription_status, "authorization_revoked");
  EXPECT_EQ(msg.subscription_id, "8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d");
}

std::string ParseError(const std::string& text) {
  EventSubMessage msg;
  std::string err;
  EXPECT_FALSE(ParseEventSubMessage(text, &msg, &err)) << text;
  return err;
}

TEST(EventSubMessage, BadMessagesSayWhy) {
  const std::string meta =
      R"("message_id":"m","message_timestamp":"2026-03-01T18:00:00Z","message_type":)";
  EXPECT_EQ(ParseError("hello").substr(0, 9), "not JSON:");
  EXPECT_EQ(ParseError("[]"), "metadata: missing");
  EXPECT_EQ(ParseError(R"({"metadata":{},"payload":{}})"), "metadata.message_type: missing");
  EXPECT_EQ(ParseError("{\"metadata\":{" + meta + "\"hello\"},\"payload\":{}}"),
            "metadata.message_type: \"hello\" is not one Twitch documents");
  EXPECT_EQ(
      ParseError(
          R"({"metadata":{"message_type":"session_keepalive","message_timestamp":"2026-03-01T18:00:00Z"},"payload":{}})"),
      "metadata.message_id: missing");
  EXPECT_EQ(
      ParseError(
          R"({"metadata":{"message_id":"m","message_type":"session_keepalive","message_timestamp":"now"},"payload":{}})"),
      "metadata.message_timestamp: not an RFC 3339 time");
  EXPECT_EQ(ParseError("{\"metadata\":{" + meta + "\"session_keepalive\"}}"), "payload: missing");
  EXPECT_EQ(ParseError("{\"metadata\":{" + meta + "\"session_welcome\"},\"payload\":{}}"),
            "payload.session: missing");
  EXPECT_EQ(
      ParseError("{\"metadata\":{" + meta +
                 R"("session_welcome"},"payload":{"session":{"keepalive_timeout_seconds":10}}})"),
      "payload.session.id: missing");
  EXPECT_EQ(
      ParseError(
          "{\"metadata\":{" + meta +
          R"("session_welcome"},"payload":{"session":{"id":"s","keepalive_timeout_seconds":0}}})"),
      "payload.session.keepalive_timeout_seconds: missing or not 1 to 3600");
  EXPECT_EQ(
      ParseError("{\"metadata\":{" + meta +
                 R"("session_reconnect"},"payload":{"session":{"id":"s","reconnect_url":null}}})"),
      "payload.session.reconnect_url: missing");
  EXPECT_EQ(ParseError("{\"metadata\":{" + meta + R"("notification"},"payload":{"event":{}}})"),
            "payload.subscription: missing");
  EXPECT_EQ(
      ParseError("{\"metadata\":{" + meta +
                 R"("notification"},"payload":{"subscription":{"status":"enabled"},"event":{}}})"),
      "payload.subscription.type: missing");
  EXPECT_EQ(ParseError("{\"metadata\":{" + meta +
                       R"("notification"},"payload":{"subscription":{"type":"channel.cheer"}}})"),
            "payload.event: missing");
}

// The subscription type may come from the metadata alone.
TEST(EventSubMessage, SubscriptionTypeFromMetadata) {
  EventSubMessage msg;
  std::string err;
  ASSERT_TRUE(ParseEventSubMessage(
      R"({"metadata":{"message_id":"m","message_type":"revocation","message_timestamp":"2026-03-01T18:00:00Z","subscription_type":"channel.follow","subscription_version":"2"},
          "payload":{"subscription":{"status":"user_removed"}}})",
      &msg, &err))
      << err;
  EXPECT_EQ(msg.subscription_type, "channel.follow");
  EXPECT_EQ(msg.subscription_version, "2");
}

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kT0 = 1772388000000;  // 2026-03-01T18:00:00Z

TEST(EventSubDedup, DuplicatesWithinTenMinutes) {
  EventSubDedup dedup;
  EXPECT_EQ(dedup.Check("a", kT0, kT0), EventSubDedup::Verdict::kFresh);
  EXPECT_EQ(dedup.Check("b", kT0, kT0 + 1), EventSubDedup::Verdict::kFresh);
  EXPECT_EQ(dedup.Check("a", kT0, kT0 + 9 * kMinute), EventSubDedup::Verdict::kDuplicate);
  EXPECT_EQ(dedup.duplicates(), 1u);
  EXPECT_EQ(dedup.size(), 2u);
  // Ten minutes after it was first seen an id is forgotten; a message that old is stale anyway.
  EXPECT_EQ(dedup.Check("a", kT0 + 5 * kMinute, kT0 + 10 * kMinute),
            EventSubDedup::Verdict::kFresh);
  EXPECT_EQ(dedup.size(), 2u);  // "a" again, "b" still
  EXPECT_EQ(dedup.Check("c", kT0 + 11 * kMinute, kT0 + 11 * kMinute),
            EventSubDedup::Verdict::kFresh);
  EXPECT_EQ(dedup.size(), 2u);  // "b" forgotten
  EXPECT_EQ(dedup.duplicates(), 1u);
}

TEST(EventSubDedup, StaleMessagesAreDroppedAndCounted) {
  EventSubDedup dedup;
  EXPECT_EQ(dedup.Check("old", kT0 - 10 * kMinute - 1, kT0), EventSubDedup::Verdict::kStale);
  EXPECT_EQ(dedup.Check("old", kT0 - 10 * kMinute - 1, kT0), EventSubDedup::Verdict::kStale);
  EXPECT_EQ(dedup.stale(), 2u);
  EXPECT_EQ(dedup.size(), 0u);  // not remembered
  EXPECT_EQ(dedup.Check("edge", kT0 - 10 * kMinute, kT0), EventSubDedup::Verdict::kFresh);
  // A sender's clock ahead of ours is not a replay.
  EXPECT_EQ(dedup.Check("future", kT0 + 5 * kMinute, kT0), EventSubDedup::Verdict::kFresh);
  EXPECT_EQ(dedup.stale(), 2u);
  EXPECT_EQ(dedup.duplicates(), 0u);
}

TEST(EventSubDedup, BoundedInSize) {
  EventSubDedup dedup(EventSubDedup::kWindowMs, 3);
  for (const char* id : {"a", "b", "c", "d"}) {
    EXPECT_EQ(dedup.Check(id, kT0, kT0), EventSubDedup::Verdict::kFresh) << id;
  }
  EXPECT_EQ(dedup.size(), 3u);
  EXPECT_EQ(dedup.evicted(), 1u);
  EXPECT_EQ(dedup.Check("d", kT0, kT0), EventSubDedup::Verdict::kDuplicate);
  EXPECT_EQ(dedup.Check("a", kT0, kT0), EventSubDedup::Verdict::kFresh);  // the oldest went first
  // Many ids: the set and the queue stay in step.
  EventSubDedup big(EventSubDedup::kWindowMs, 1000);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(big.Check(std::to_string(i), kT0, kT0 + i), EventSubDedup::Verdict::kFresh);
  }
  EXPECT_EQ(big.size(), 1000u);
  EXPECT_EQ(big.evicted(), 4000u);
  EXPECT_EQ(big.Check("4999", kT0, kT0 + 5000), EventSubDedup::Verdict::kDuplicate);
  EXPECT_EQ(big.Check("3999", kT0, kT0 + 5000), EventSubDedup::Verdict::kFresh);
}

// Against a plain model (a set and a queue of the ids themselves), with ids coming back, ids
// expiring, the size bound and the table's growth all mixed: every verdict the same.
TEST(EventSubDedup, AgreesWithAPlainModel) {
  constexpr size_t kMax = 700;
  EventSubDedup dedup(kMinute, kMax);
  std::set<std::string> held;
  std::deque<std::pair<int64_t, std::string>> order;
  uint64_t state = 42;
  int64_t now = kT0;
  for (int i = 0; i < 60000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    now += static_cast<int64_t>((state >> 33) % 40);  // 20 ms apart on average
    std::string id = "8c1f" + std::to_string((state >> 20) % 3000) + "-uuid-like";
    while (!order.empty() && now - order.front().first >= kMinute) {
      held.erase(order.front().second);
      order.pop_front();
    }
    EventSubDedup::Verdict want = EventSubDedup::Verdict::kDuplicate;
    if (held.insert(id).second) {
      want = EventSubDedup::Verdict::kFresh;
      order.emplace_back(now, id);
      if (order.size() > kMax) {
        held.erase(order.front().second);
        order.pop_front();
      }
    }
    ASSERT_EQ(dedup.Check(id, now, now), want) << "message " << i << ": " << id;
    ASSERT_EQ(dedup.size(), order.size()) << "message " << i;
  }
  EXPECT_GT(dedup.duplicates(), 1000u);
  EXPECT_GT(dedup.evicted(), 0u);
}

}  // namespace
