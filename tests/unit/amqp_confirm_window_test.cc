// ConfirmWindow: publisher-confirm bookkeeping (acks, nacks, multiple, returns, republish).
#include <gtest/gtest.h>

#include "amqp/confirm_window.h"

namespace {

OutgoingMessage Msg(size_t line, const std::string& body) {
  OutgoingMessage m;
  m.line_number = line;
  m.body = body;
  return m;
}

ConfirmWindow Filled(size_t n, size_t capacity = 100) {
  ConfirmWindow w(capacity);
  for (size_t i = 1; i <= n; ++i) w.Add(i, Msg(i, "b" + std::to_string(i)));
  return w;
}

TEST(ConfirmWindow, MultipleAckSettlesEverythingUpToTheTag) {
  ConfirmWindow w = Filled(5);
  std::vector<FailedMessage> failed;
  EXPECT_EQ(w.Settle(3, true, true, &failed), 3u);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_TRUE(failed.empty());
  EXPECT_EQ(w.Settle(5, true, true, &failed), 2u);
  EXPECT_TRUE(w.empty());
}

TEST(ConfirmWindow, SingleAcksOutOfOrderKeepTheOldestUntilItIsAcked) {
  ConfirmWindow w = Filled(3);
  std::vector<FailedMessage> failed;
  EXPECT_EQ(w.Settle(2, false, true, &failed), 1u);
  EXPECT_EQ(w.size(), 3u);                           // 1 still unconfirmed at the front
  EXPECT_EQ(w.Settle(2, false, true, &failed), 0u);  // a repeated tag is ignored
  EXPECT_EQ(w.Settle(1, false, true, &failed), 1u);
  EXPECT_EQ(w.size(), 1u);
  std::vector<OutgoingMessage> again = w.TakeForRepublish();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].line_number, 3u);
}

TEST(ConfirmWindow, NackReportsTheLines) {
  ConfirmWindow w = Filled(4);
  std::vector<FailedMessage> failed;
  EXPECT_EQ(w.Settle(2, true, false, &failed), 2u);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].line_number, 1u);
  EXPECT_EQ(failed[1].line_number, 2u);
  EXPECT_EQ(failed[0].why, "nacked by the broker");
}

TEST(ConfirmWindow, ReturnedThenAckedIsAFailureOfTheMatchingLine) {
  ConfirmWindow w(10);
  w.Add(1, Msg(1, "same"));
  w.Add(2, Msg(2, "other"));
  w.Add(3, Msg(3, "same"));
  EXPECT_EQ(w.MarkReturned("same", "unroutable"), 1u);
  EXPECT_EQ(w.MarkReturned("same", "unroutable"), 3u);  // returns come in publish order
  EXPECT_EQ(w.MarkReturned("same", "unroutable"), 0u);
  std::vector<FailedMessage> failed;
  w.Settle(3, true, true, &failed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0].line_number, 1u);
  EXPECT_EQ(failed[1].line_number, 3u);
  EXPECT_EQ(failed[1].why, "unroutable");
}

TEST(ConfirmWindow, FullAtCapacity) {
  ConfirmWindow w = Filled(2, 2);
  EXPECT_TRUE(w.full());
  std::vector<FailedMessage> failed;
  w.Settle(1, false, true, &failed);
  EXPECT_FALSE(w.full());
}

TEST(ConfirmWindow, FullAtTheByteBoundAndOneMessageAlwaysFits) {
  ConfirmWindow w(100, 10);
  OutgoingMessage big = Msg(1, std::string(25, 'x'));
  big.routing_key = "k";
  big.headers.emplace_back("h", "vv");
  EXPECT_EQ(big.bytes(), 25u + 1 + 1 + 2);
  EXPECT_FALSE(w.full());
  w.Add(1, std::move(big));  // over the bound on its own, but the window was empty
  EXPECT_EQ(w.bytes(), 29u);
  EXPECT_TRUE(w.full());
  w.Add(2, Msg(2, "abc"));
  std::vector<FailedMessage> failed;
  w.Settle(2, false, true, &failed);  // out of order: held until 1 is settled
  EXPECT_EQ(w.bytes(), 32u);
  w.Settle(1, false, true, &failed);
  EXPECT_EQ(w.bytes(), 0u);
  EXPECT_FALSE(w.full());
  w.Add(3, Msg(3, "0123456789"));
  EXPECT_TRUE(w.full());
  EXPECT_EQ(w.TakeForRepublish().size(), 1u);
  EXPECT_EQ(w.bytes(), 0u);
}

TEST(ConfirmWindow, UnknownTagsAreIgnored) {
  ConfirmWindow w = Filled(2);
  std::vector<FailedMessage> failed;
  EXPECT_EQ(w.Settle(9, false, true, &failed), 0u);
  EXPECT_EQ(w.Settle(0, false, true, &failed), 0u);
  EXPECT_EQ(w.size(), 2u);
}

TEST(ConfirmWindow, RepublishKeepsOrderAndAcceptsFreshTags) {
  ConfirmWindow w = Filled(4);
  std::vector<FailedMessage> failed;
  w.Settle(3, false, true, &failed);
  std::vector<OutgoingMessage> again = w.TakeForRepublish();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].line_number, 1u);
  EXPECT_EQ(again[1].line_number, 2u);
  EXPECT_EQ(again[2].line_number, 4u);
  EXPECT_TRUE(w.empty());
  uint64_t tag = 1;
  for (OutgoingMessage& m : again) w.Add(tag++, std::move(m));
  EXPECT_EQ(w.Settle(3, true, true, &failed), 3u);
  EXPECT_TRUE(w.empty());
}

}  // namespace
