// What amqp-sub writes for a delivery, queue arguments, and reconnect backoff.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "amqp/connection.h"
#include "amqp/envelope.h"
#include "amqp/subscriber.h"
#include "core/exit_status.h"

namespace {

amqp_basic_properties_t NoProps() {
  amqp_basic_properties_t p;
  p._flags = 0;
  return p;
}

TEST(DeliveryToLine, BareBodyWhenItIsOneLineOfJson) {
  Delivery d;
  std::string line, why;
  amqp_basic_properties_t p = NoProps();
  ASSERT_TRUE(DeliveryToLine(d, p, R"({"a":1})", false, &line, &why));
  EXPECT_EQ(line, R"({"a":1})");
  EXPECT_FALSE(DeliveryToLine(d, p, "not json", false, &line, &why));
  EXPECT_NE(why.find("not JSON"), std::string::npos);
  EXPECT_FALSE(DeliveryToLine(d, p, "{\"a\":\n1}", false, &line, &why));
  EXPECT_NE(why.find("newline"), std::string::npos);
}

TEST(DeliveryToLine, EnvelopeCarriesTheDeliveryAndHeaders) {
  Delivery d{"twitch", "abc.cheer", 7, true};
  amqp_table_entry_t entries[3];
  entries[0].key = amqp_cstring_bytes("kind");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = amqp_cstring_bytes("cheer");
  entries[1].key = amqp_cstring_bytes("n");
  entries[1].value.kind = AMQP_FIELD_KIND_I32;
  entries[1].value.value.i32 = -3;
  entries[2].key = amqp_cstring_bytes("ok");
  entries[2].value.kind = AMQP_FIELD_KIND_BOOLEAN;
  entries[2].value.value.boolean = 1;
  amqp_basic_properties_t p = NoProps();
  p._flags = AMQP_BASIC_HEADERS_FLAG;
  p.headers.num_entries = 3;
  p.headers.entries = entries;
  std::string line, why;
  ASSERT_TRUE(DeliveryToLine(d, p, "{\"bits\":\n100}", true, &line, &why)) << why;
  EXPECT_EQ(line, R"({"exchange":"twitch","routing_key":"abc.cheer","delivery_tag":7,)"
                  R"("redelivered":true,"headers":{"kind":"cheer","n":-3,"ok":true},)"
                  R"("body":{"bits":100}})");
  ASSERT_TRUE(DeliveryToLine(d, NoProps(), "plain\ntext", true, &line, &why));
  EXPECT_NE(line.find(R"("body":"plain\ntext")"), std::string::npos);
  EXPECT_FALSE(DeliveryToLine(d, NoProps(), "\xff\xfe", true, &line, &why));
}

TEST(QueueArg, TypesItsValue) {
  QueueArg q;
  std::string err;
  ASSERT_TRUE(ParseQueueArg("x-message-ttl=60000", &q, &err));
  EXPECT_EQ(q.key, "x-message-ttl");
  EXPECT_EQ(q.kind, QueueArg::Kind::kInt);
  EXPECT_EQ(q.number, 60000);
  ASSERT_TRUE(ParseQueueArg("x-single-active-consumer=true", &q, &err));
  EXPECT_EQ(q.kind, QueueArg::Kind::kBool);
  EXPECT_TRUE(q.flag);
  ASSERT_TRUE(ParseQueueArg("x-dead-letter-exchange=", &q, &err));
  EXPECT_EQ(q.kind, QueueArg::Kind::kString);
  EXPECT_EQ(q.text, "");
  ASSERT_TRUE(ParseQueueArg("x-overflow=reject-publish", &q, &err));
  EXPECT_EQ(q.kind, QueueArg::Kind::kString);
  EXPECT_FALSE(ParseQueueArg("novalue", &q, &err));
  EXPECT_FALSE(ParseQueueArg("=1", &q, &err));
}

// The reconnect delays come from the project's one policy (core/backoff.h, tested there); what
// the Reconnector adds is the --retry-for budget, counted from the first failure.
TEST(Reconnector, RetriesAndGivesUpAfterTheBudget) {
  AmqpUrl url;
  std::string err;
  ASSERT_TRUE(ParseAmqpUrl("amqp://127.0.0.1:1/", &url, &err)) << err;
  Reconnector r(url, 0.05);
  auto fail = [](std::string* e) {
    *e = "refused";
    return AmqpFailure::kTransient;
  };
  int status = 0;
  EXPECT_EQ(r.Attempt(fail, "", &status), Reconnector::Result::kWaiting);
  EXPECT_LE(r.WaitMs(), 50);  // the first delay (75 to 125 ms) cut to what is left of 50 ms
  int64_t until = MonotonicMs() + 2000;
  Reconnector::Result res = Reconnector::Result::kWaiting;
  while (MonotonicMs() < until && res != Reconnector::Result::kExit) {
    res = r.Attempt(fail, "", &status);
  }
  EXPECT_EQ(res, Reconnector::Result::kExit);
  EXPECT_EQ(status, kExitFailure);
  auto succeed = [](std::string*) { return AmqpFailure::kNone; };
  Reconnector forever(url, 0);  // no budget: retries for ever; a success resets the delays
  for (int i = 0; i < 5; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(forever.WaitMs()));
    EXPECT_EQ(forever.Attempt(fail, "", &status), Reconnector::Result::kWaiting);
  }
  EXPECT_GT(forever.WaitMs(), 500);  // 1.6 s +-25% after five failures
  std::this_thread::sleep_for(std::chrono::milliseconds(forever.WaitMs()));
  EXPECT_EQ(forever.Attempt(succeed, "", &status), Reconnector::Result::kConnected);
  EXPECT_EQ(forever.Attempt(fail, "", &status), Reconnector::Result::kWaiting);
  EXPECT_LE(forever.WaitMs(), 125);
}

}  // namespace
