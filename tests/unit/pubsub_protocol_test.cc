// The PubSub protocol pieces: frames built and parsed, RESPONSE errors classified and matched to
// their nonce, topics named and split into connections, the PING interval.
#include "twitch/pubsub_protocol.h"

#include <gtest/gtest.h>

#include <set>

#include "core/json.h"

namespace {

TEST(PubSubProtocol, ListenFrameCarriesNonceTopicsAndToken) {
  PubSubRequest req =
      PubSubListen("n1", {"channel-bits-events-v2.7", "channel-points-channel-v1.7"}, "s3cr3t");
  EXPECT_EQ(
      req.frame,
      "{\"type\":\"LISTEN\",\"nonce\":\"n1\",\"data\":{\"topics\":[\"channel-bits-events-v2.7\","
      "\"channel-points-channel-v1.7\"],\"auth_token\":\"s3cr3t\"}}");
  EXPECT_EQ(req.type, "LISTEN");
  EXPECT_EQ(req.nonce, "n1");
  EXPECT_EQ(req.topics.size(), 2u);
}

TEST(PubSubProtocol, TokenNeverInTheLoggedForm) {
  // A token that JSON escapes must not leak either, in neither form.
  for (const char* token : {"s3cr3t", "a\"b\\c", ""}) {
    PubSubRequest req = PubSubListen("n", {"t.1"}, token);
    std::string logged = req.ForLog();
    if (*token) {
      EXPECT_EQ(logged.find(token), std::string::npos) << logged;
    }
    EXPECT_NE(logged.find("\"auth_token\":\"[redacted]\""), std::string::npos) << logged;
    EXPECT_NE(logged.find("\"nonce\":\"n\""), std::string::npos);
    EXPECT_NE(logged.find("\"t.1\""), std::string::npos);
  }
  EXPECT_NE(PubSubListen("n", {"t.1"}, "a\"b\\c").frame.find("a\\\"b\\\\c"), std::string::npos);
  EXPECT_EQ(PubSubListen("n", {"t.1"}, "a\"b\\c").ForLog().find("a\\\"b\\\\c"), std::string::npos);
  PubSubRequest unlisten = PubSubUnlisten("n2", {"t.1"});
  EXPECT_EQ(unlisten.frame,
            "{\"type\":\"UNLISTEN\",\"nonce\":\"n2\",\"data\":{\"topics\":[\"t.1\"]}}");
  EXPECT_EQ(unlisten.ForLog(), unlisten.frame);
}

TEST(PubSubProtocol, ParsesEachServerFrame) {
  PubSubFrame f;
  std::string err;
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"PONG\"}", &f, &err)) << err;
  EXPECT_EQ(f.kind, PubSubFrameType::kPong);
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"RECONNECT\"}", &f, &err)) << err;
  EXPECT_EQ(f.kind, PubSubFrameType::kReconnect);
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"RESPONSE\",\"error\":\"ERR_BADAUTH\",\"nonce\":\"x\"}",
                               &f, &err));
  EXPECT_EQ(f.kind, PubSubFrameType::kResponse);
  EXPECT_EQ(f.nonce, "x");
  EXPECT_EQ(f.error, "ERR_BADAUTH");
  ASSERT_TRUE(ParsePubSubFrame(
      "{\"type\":\"MESSAGE\",\"data\":{\"topic\":\"t.1\",\"message\":\"{\\\"a\\\":1}\"}}", &f,
      &err));
  EXPECT_EQ(f.kind, PubSubFrameType::kMessage);
  EXPECT_EQ(f.topic, "t.1");
  EXPECT_EQ(f.message, "{\"a\":1}");
  // The documentation's examples hold the inner message as an object.
  ASSERT_TRUE(ParsePubSubFrame(
      "{\"type\":\"MESSAGE\",\"data\":{\"topic\":\"t.1\",\"message\":{\"a\":1}}}", &f, &err));
  EXPECT_EQ(f.message, "{\"a\":1}");
  ASSERT_TRUE(ParsePubSubFrame(
      "{\"type\":\"AUTH_REVOKED\",\"data\":{\"topics\":[\"t.1\",7,\"t.2\"]}}", &f, &err));
  EXPECT_EQ(f.kind, PubSubFrameType::kAuthRevoked);
  EXPECT_EQ(f.topics, (std::vector<std::string>{"t.1", "t.2"}));
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"AUTH_REVOKED\"}", &f, &err));
  EXPECT_EQ(f.kind, PubSubFrameType::kAuthRevoked);
  EXPECT_TRUE(f.topics.empty());
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"WHISPER\"}", &f, &err));
  EXPECT_EQ(f.kind, PubSubFrameType::kUnknown);
  EXPECT_EQ(f.type, "WHISPER");
}

TEST(PubSubProtocol, RejectsMalformedFrames) {
  PubSubFrame f;
  std::string err;
  EXPECT_FALSE(ParsePubSubFrame("PONG", &f, &err));
  EXPECT_EQ(err.rfind("not JSON: ", 0), 0u) << err;
  EXPECT_FALSE(ParsePubSubFrame("[]", &f, &err));
  EXPECT_EQ(err, "not a JSON object");
  EXPECT_FALSE(ParsePubSubFrame("{\"type\":1}", &f, &err));
  EXPECT_EQ(err, "no \"type\" string");
  EXPECT_FALSE(ParsePubSubFrame("{\"type\":\"MESSAGE\"}", &f, &err));
  EXPECT_EQ(err, "MESSAGE without a \"data\" object");
  EXPECT_FALSE(ParsePubSubFrame("{\"type\":\"MESSAGE\",\"data\":{\"message\":\"{}\"}}", &f, &err));
  EXPECT_EQ(err, "MESSAGE without a \"topic\" string");
  EXPECT_FALSE(ParsePubSubFrame("{\"type\":\"MESSAGE\",\"data\":{\"topic\":\"t\",\"message\":5}}",
                                &f, &err));
  EXPECT_EQ(err, "MESSAGE of t without a \"message\"");
}

TEST(PubSubProtocol, ClassifiesResponseErrors) {
  EXPECT_EQ(ClassifyPubSubError(""), PubSubResponseOutcome::kOk);
  EXPECT_EQ(ClassifyPubSubError("ERR_BADAUTH"), PubSubResponseOutcome::kBadAuth);
  EXPECT_EQ(ClassifyPubSubError("ERR_BADTOPIC"), PubSubResponseOutcome::kBadTopic);
  EXPECT_EQ(ClassifyPubSubError("ERR_SERVER"), PubSubResponseOutcome::kServer);
  EXPECT_EQ(ClassifyPubSubError("ERR_BADMESSAGE"), PubSubResponseOutcome::kBadMessage);
  EXPECT_EQ(ClassifyPubSubError("err_badauth"), PubSubResponseOutcome::kUnknown);
}

TEST(PubSubProtocol, ResponseMatchesItsNonce) {
  PubSubPendingRequests pending;
  pending.Add(PubSubListen("a", {"t.1"}, "tok"));
  pending.Add(PubSubListen("b", {"t.2", "t.3"}, "tok"));
  PubSubFrame response;
  std::string err;
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"RESPONSE\",\"error\":\"ERR_BADTOPIC\",\"nonce\":\"b\"}",
                               &response, &err));
  PubSubRequest matched;
  ASSERT_TRUE(pending.Take(response, &matched));
  // ERR_BADTOPIC does not say which topic: the request it answers does.
  EXPECT_EQ(matched.topics, (std::vector<std::string>{"t.2", "t.3"}));
  EXPECT_EQ(pending.pending().size(), 1u);
  EXPECT_FALSE(pending.Take(response, &matched)) << "a RESPONSE is matched once";
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"RESPONSE\",\"error\":\"\"}", &response, &err));
  EXPECT_FALSE(pending.Take(response, &matched)) << "no nonce, no match";
  ASSERT_TRUE(ParsePubSubFrame("{\"type\":\"PONG\",\"nonce\":\"a\"}", &response, &err));
  EXPECT_FALSE(pending.Take(response, &matched)) << "only a RESPONSE answers";
  ASSERT_TRUE(
      ParsePubSubFrame("{\"type\":\"RESPONSE\",\"error\":\"\",\"nonce\":\"a\"}", &response, &err));
  ASSERT_TRUE(pending.Take(response, &matched));
  EXPECT_EQ(matched.topics, std::vector<std::string>{"t.1"});
  EXPECT_TRUE(pending.pending().empty());
}

TEST(PubSubProtocol, TopicsSplitIntoConnectionsOfFifty) {
  std::vector<std::string> topics;
  for (int i = 0; i < 120; ++i) topics.push_back("channel-bits-events-v2." + std::to_string(i));
  topics.push_back("channel-bits-events-v2.3");  // repeated: listened to once
  auto groups = SplitPubSubTopics(topics);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].size(), 50u);
  EXPECT_EQ(groups[1].size(), 50u);
  EXPECT_EQ(groups[2].size(), 20u);
  EXPECT_EQ(groups[0][0], "channel-bits-events-v2.0");
  EXPECT_EQ(groups[2].back(), "channel-bits-events-v2.119");
  EXPECT_EQ(SplitPubSubTopics(std::vector<std::string>(topics.begin(), topics.begin() + 50)).size(),
            1u);
  EXPECT_EQ(SplitPubSubTopics(std::vector<std::string>(topics.begin(), topics.begin() + 51)).size(),
            2u);
  EXPECT_TRUE(SplitPubSubTopics({}).empty());
}

TEST(PubSubProtocol, TopicForEachType) {
  std::string topic, err;
  ASSERT_TRUE(PubSubTopicFor("sub", "777000222", &topic, &err)) << err;
  EXPECT_EQ(topic, "channel-subscribe-events-v1.777000222");
  ASSERT_TRUE(PubSubTopicFor("subgifts", "1", &topic, &err));
  EXPECT_EQ(topic, "channel-sub-gifts-v1.1");
  ASSERT_TRUE(PubSubTopicFor("bits", "1", &topic, &err));
  EXPECT_EQ(topic, "channel-bits-events-v2.1");
  ASSERT_TRUE(PubSubTopicFor("bitsbadge", "1", &topic, &err));
  EXPECT_EQ(topic, "channel-bits-badge-unlocks.1");
  ASSERT_TRUE(PubSubTopicFor("points", "1", &topic, &err));
  EXPECT_EQ(topic, "channel-points-channel-v1.1");
  EXPECT_FALSE(PubSubTopicFor("follows", "1", &topic, &err));
  EXPECT_EQ(err, "type \"follows\": not one of sub, subgifts, bits, bitsbadge, points");
  EXPECT_FALSE(PubSubTopicFor("sub", "maplecrate", &topic, &err));
  EXPECT_EQ(err, "channel id \"maplecrate\": not a number");
  EXPECT_FALSE(PubSubTopicFor("sub", "", &topic, &err));
}

TEST(PubSubProtocol, PingIntervalHasJitterAndStaysUnderFourMinutes) {
  std::set<int64_t> seen;
  for (uint32_t r : {0u, 1u, 59999u, 60000u, 60001u, 123456789u, 0xFFFFFFFFu}) {
    int64_t d = PubSubPingDelayMs(r);
    EXPECT_GE(d, 3 * 60 * 1000);
    EXPECT_LE(d, kPubSubMaxPingIntervalMs);
    seen.insert(d);
  }
  EXPECT_GE(seen.size(), 4u) << "the delay depends on the random input";
  EXPECT_EQ(PubSubPingDelayMs(0), 3 * 60 * 1000);
  EXPECT_EQ(PubSubPingDelayMs(60000), kPubSubMaxPingIntervalMs);
  EXPECT_EQ(kPubSubMaxPingIntervalMs, 240000);
  EXPECT_EQ(kPubSubPongTimeoutMs, 10000);
  EXPECT_EQ(PubSubPingFrame(), "{\"type\":\"PING\"}");
}

TEST(PubSubProtocol, NoncesAreFreshAndPlain) {
  std::string a = NewPubSubNonce(), b = NewPubSubNonce();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c))) << a;
}

}  // namespace
