// The webhook's verification and dispatch, without a server (twitch/webhook.h).
#include <gtest/gtest.h>

#include <string>

#include "core/time.h"
#include "twitch/webhook.h"

namespace {

constexpr const char* kSecret = "0123456789abcdef";
constexpr const char* kStamp = "2026-03-01T18:10:44.020317762Z";
const std::string kFollow =
    R"({"subscription":{"id":"s1","type":"channel.follow","version":"2"},)"
    R"("event":{"user_id":"1","user_login":"ann","user_name":"Ann","broadcaster_user_id":"7",)"
    R"("broadcaster_user_login":"maple","broadcaster_user_name":"Maple"}})";

int64_t StampMs() {
  int64_t ms = 0;
  ParseRfc3339(kStamp, &ms);
  return ms;
}

WebhookHeaders Signed(const std::string& id, const std::string& type, const std::string& body) {
  WebhookHeaders h{id, kStamp, type, WebhookSignature(kSecret, id, kStamp, body)};
  return h;
}

}  // namespace

TEST(TwitchWebhook, SignatureIsTheHexHmacOfIdTimestampAndBody) {
  // Computed independently (Python's hmac module).
  EXPECT_EQ(WebhookSignature(kSecret, "id-1", kStamp, R"({"a":1})"),
            "sha256=22fd0acef08ef65ea2f8ba50b2543ceae66ce16b89c05a0a1a77ebd2abecdf31");
  std::string sig = WebhookSignature(kSecret, "id-1", kStamp, "body");
  EXPECT_TRUE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", sig));
  std::string upper = "SHA256=" + sig.substr(7);
  EXPECT_TRUE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", upper));
  EXPECT_FALSE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body!", sig));
  EXPECT_FALSE(WebhookSignatureValid("another-secret", "id-1", kStamp, "body", sig));
  EXPECT_FALSE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", sig.substr(0, 70)));
  EXPECT_FALSE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", "sha1=" + sig.substr(7)));
  std::string bad_hex = sig;
  bad_hex[10] = 'g';
  EXPECT_FALSE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", bad_hex));
  EXPECT_FALSE(WebhookSignatureValid(kSecret, "id-1", kStamp, "body", ""));
}

TEST(TwitchWebhook, SecretIsTenToOneHundredPrintableAscii) {
  std::string err;
  EXPECT_TRUE(ValidWebhookSecret("0123456789", &err));
  EXPECT_TRUE(ValidWebhookSecret(std::string(100, 'x'), &err));
  EXPECT_FALSE(ValidWebhookSecret("012345678", &err));
  EXPECT_FALSE(ValidWebhookSecret(std::string(101, 'x'), &err));
  EXPECT_FALSE(ValidWebhookSecret("0123456789 with space", &err));
  EXPECT_FALSE(ValidWebhookSecret("0123456789\xc3\xa9", &err));
}

TEST(TwitchWebhook, NotificationOnceThenDuplicate) {
  WebhookHandler handler(kSecret, false);
  WebhookResponse r =
      handler.Handle(Signed("m1", "notification", kFollow), kFollow, StampMs(), false);
  EXPECT_EQ(r.status, 204u);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find(R"("source":"webhook")"), std::string::npos);
  EXPECT_EQ(r.lines[0].back(), '\n');
  EXPECT_EQ(r.fresh_id, "m1");
  r = handler.Handle(Signed("m1", "notification", kFollow), kFollow, StampMs() + 1000, false);
  EXPECT_EQ(r.status, 204u);
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(handler.duplicates(), 1u);
}

TEST(TwitchWebhook, QueueFullIs503AndNotRemembered) {
  WebhookHandler handler(kSecret, false);
  WebhookResponse r =
      handler.Handle(Signed("m2", "notification", kFollow), kFollow, StampMs(), true);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.refusal, WebhookRefusal::kBusy);
  r = handler.Handle(Signed("m2", "notification", kFollow), kFollow, StampMs(), false);
  EXPECT_EQ(r.status, 204u);
  EXPECT_EQ(r.lines.size(), 1u);
}

TEST(TwitchWebhook, RefusalsInOrder) {
  WebhookHandler handler(kSecret, false);
  WebhookHeaders h = Signed("m3", "notification", kFollow);
  WebhookHeaders no_id = h;
  no_id.id.clear();
  EXPECT_EQ(handler.Handle(no_id, kFollow, StampMs(), false).status, 400u);
  WebhookHeaders forged = h;
  forged.signature = WebhookSignature("not-the-secret", "m3", kStamp, kFollow);
  EXPECT_EQ(handler.Handle(forged, kFollow, StampMs(), false).refusal, WebhookRefusal::kSignature);
  // The signature is checked before the body is parsed: a forged garbage body is a 403.
  EXPECT_EQ(handler.Handle(forged, "{{{", StampMs(), false).status, 403u);
  int64_t eleven_min = 11 * 60 * 1000;
  EXPECT_EQ(handler.Handle(h, kFollow, StampMs() + eleven_min, false).refusal,
            WebhookRefusal::kTimestamp);
  EXPECT_EQ(handler.Handle(h, kFollow, StampMs() - eleven_min, false).refusal,
            WebhookRefusal::kTimestamp);
  WebhookHeaders garbage = Signed("m4", "notification", "{{{");
  EXPECT_EQ(handler.Handle(garbage, "{{{", StampMs(), false).refusal, WebhookRefusal::kMalformed);
}

TEST(TwitchWebhook, ChallengeAndRevocation) {
  WebhookHandler handler(kSecret, false);
  std::string body =
      R"({"challenge":"abc-123","subscription":{"id":"s1","type":"channel.follow"}})";
  WebhookResponse r =
      handler.Handle(Signed("v1", "webhook_callback_verification", body), body, StampMs(), false);
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "abc-123");
  body = R"({"subscription":{"id":"s1","type":"channel.follow","status":"user_removed"}})";
  r = handler.Handle(Signed("r1", "revocation", body), body, StampMs(), false);
  EXPECT_EQ(r.status, 204u);
  EXPECT_NE(r.why.find("user_removed"), std::string::npos);
  EXPECT_TRUE(r.lines.empty());
}
