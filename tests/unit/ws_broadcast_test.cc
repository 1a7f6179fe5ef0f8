// The shared broadcast buffer of ws-serve: order, history, limits, memory release.
#include <gtest/gtest.h>

#include <string>

#include "ws/broadcast.h"

namespace {

std::string Next(Broadcast& b, Broadcast::Cursor* c) {
  unsigned char* data;
  size_t len;
  if (!b.Peek(*c, &data, &len)) return "<none>";
  std::string s(reinterpret_cast<char*>(data), len);
  b.Advance(c);
  return s;
}

TEST(WsBroadcast, EveryClientGetsEveryLineInOrder) {
  Broadcast b(0, 100, 1 << 20, 16);
  Broadcast::Cursor x, y;
  b.Attach(&x);
  b.Attach(&y);
  b.Push("one");
  b.Push("two");
  EXPECT_EQ(Next(b, &x), "one");
  EXPECT_EQ(Next(b, &x), "two");
  EXPECT_EQ(Next(b, &x), "<none>");
  EXPECT_EQ(b.size(), 2u);  // y still needs both
  EXPECT_EQ(Next(b, &y), "one");
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(Next(b, &y), "two");
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.bytes(), 0u);
}

TEST(WsBroadcast, WithoutClientsNothingIsKept) {
  Broadcast b(0, 100, 1 << 20, 16);
  b.Push("lost");
  EXPECT_EQ(b.size(), 0u);
  Broadcast::Cursor c;
  b.Attach(&c);
  EXPECT_EQ(Next(b, &c), "<none>");
}

TEST(WsBroadcast, HistoryReplaysTheLastLines) {
  Broadcast b(2, 100, 1 << 20, 16);
  b.Push("a");
  b.Push("b");
  b.Push("c");
  EXPECT_EQ(b.size(), 2u);
  Broadcast::Cursor c;
  b.Attach(&c);
  EXPECT_EQ(b.Backlog(c), 2u);
  EXPECT_EQ(Next(b, &c), "b");
  EXPECT_EQ(Next(b, &c), "c");
  EXPECT_EQ(b.size(), 2u);  // kept for the next client
}

TEST(WsBroadcast, LimitsInMessagesAndBytes) {
  Broadcast b(0, 3, 10, 16);
  Broadcast::Cursor c;
  b.Attach(&c);
  EXPECT_TRUE(b.HasRoom(c, 5));  // room means within half the limits
  EXPECT_FALSE(b.HasRoom(c, 6));
  b.Push("1234");
  EXPECT_FALSE(b.HasRoom(c, 0));  // 2 messages > 3 / 2
  b.Push("5678");
  EXPECT_EQ(b.BacklogBytes(c), 8u);
  EXPECT_FALSE(b.OverLimit(c));
  b.Push("90");
  EXPECT_FALSE(b.OverLimit(c));  // 3 messages, 10 bytes: at the limits
  b.Push("x");
  EXPECT_TRUE(b.OverLimit(c));
  EXPECT_EQ(b.DropToFit(&c), 1u);
  EXPECT_FALSE(b.OverLimit(c));
  EXPECT_EQ(Next(b, &c), "5678");
}

TEST(WsBroadcast, DetachReleasesWhatTheClientHeld) {
  Broadcast b(0, 100, 1 << 20, 16);
  Broadcast::Cursor fast, slow;
  b.Attach(&fast);
  b.Attach(&slow);
  for (int i = 0; i < 50; i++) b.Push(std::to_string(i));
  for (int i = 0; i < 50; i++) Next(b, &fast);
  EXPECT_EQ(b.size(), 50u);
  b.Detach(&slow);
  b.Detach(&slow);  // twice is harmless
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.Backlog(slow), 0u);
}

TEST(WsBroadcast, HeadroomPrecedesThePayload) {
  Broadcast b(0, 10, 100, 16);
  Broadcast::Cursor c;
  b.Attach(&c);
  b.Push("");
  unsigned char* data;
  size_t len;
  ASSERT_TRUE(b.Peek(c, &data, &len));
  EXPECT_EQ(len, 0u);
  data[-16] = 'x';  // writable headroom
  b.Advance(&c);
  EXPECT_EQ(b.size(), 0u);
}

}  // namespace
