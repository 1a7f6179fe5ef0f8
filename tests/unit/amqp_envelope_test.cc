// What amqp-sub writes for a delivery, queue arguments, and reconnect backoff.
#include <gtest/gtest.h>

#include "amqp/connection.h"
#include "amqp/envelope.h"
#include "amqp/subscriber.h"

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

TEST(Backoff, GrowsAndGivesUpAfterTheBudget) {
  Backoff b(0);  // no budget: for ever
  int d1 = 0, d2 = 0, d3 = 0;
  ASSERT_TRUE(b.Failed(&d1));
  ASSERT_TRUE(b.Failed(&d2));
  ASSERT_TRUE(b.Failed(&d3));
  EXPECT_GE(d1, 75);
  EXPECT_LE(d1, 125);
  EXPECT_GT(d3, d1);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.Failed(&d1));
  EXPECT_LE(d1, 6250);
  b.Succeeded();
  EXPECT_EQ(b.attempts(), 0);

  Backoff limited(0.05);
  ASSERT_TRUE(limited.Failed(&d1));
  EXPECT_LE(d1, 50);
  int64_t until = MonotonicMs() + 200;
  bool gave_up = false;
  while (MonotonicMs() < until && !gave_up) gave_up = !limited.Failed(&d1);
  EXPECT_TRUE(gave_up);
}

}  // namespace
