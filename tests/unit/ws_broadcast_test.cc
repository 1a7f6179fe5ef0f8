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

namespace {

std::string Drain(Broadcast& b, Broadcast::Cursor* c) {
  std::string all;
  for (std::string s = Next(b, c); s != "<none>"; s = Next(b, c)) all += s + " ";
  return all;
}

}  // namespace

TEST(WsBroadcastRetain, AResumingClientStartsRightAfterItsLastId) {
  Broadcast b(0, 100, 1 << 20, 16);
  b.SetRetention(3, 60000);
  b.Push("a", "1", 0);
  b.Push("b", "2", 0);
  b.Push("c", "3", 0);
  b.Push("d", "4", 0);
  EXPECT_EQ(b.size(), 3u);  // nobody attached: the retention alone keeps them
  Broadcast::Cursor c;
  Broadcast::Resume r = b.AttachAfter(&c, "2", 0);
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.replayed, 2u);
  b.Push("e", "5", 0);  // the live stream goes on at the seam
  EXPECT_EQ(Drain(b, &c), "c d e ");
}

TEST(WsBroadcastRetain, AnUnknownOrTooOldIdGetsWhatIsRetained) {
  Broadcast b(0, 100, 1 << 20, 16);
  b.SetRetention(2, 60000);
  b.Push("a", "1", 0);
  b.Push("b", "2", 0);
  b.Push("c", "3", 0);
  Broadcast::Cursor c;
  Broadcast::Resume r = b.AttachAfter(&c, "1", 0);  // pushed out of the ring
  EXPECT_FALSE(r.found);
  EXPECT_EQ(r.replayed, 2u);
  EXPECT_EQ(Drain(b, &c), "b c ");
  Broadcast::Cursor d;
  r = b.AttachAfter(&d, "3", 0);  // the newest: nothing to catch up on
  EXPECT_TRUE(r.found);
  EXPECT_EQ(r.replayed, 0u);
}

TEST(WsBroadcastRetain, MessagesOlderThanTheRetentionTimeGo) {
  Broadcast b(0, 100, 1 << 20, 16);
  b.SetRetention(10, 1000);
  b.Push("old", "1", 0);
  b.Push("new", "2", 900);
  b.Expire(1500);
  EXPECT_EQ(b.size(), 1u);
  Broadcast::Cursor c;
  Broadcast::Resume r = b.AttachAfter(&c, "1", 1500);
  EXPECT_FALSE(r.found);
  EXPECT_EQ(Drain(b, &c), "new ");
  std::string kept;
  b.ForEachRetained(1500, [&](std::string_view p) { kept += std::string(p) + " "; });
  EXPECT_EQ(kept, "new ");
  b.Expire(2000);
  EXPECT_EQ(b.size(), 0u);
}

TEST(WsBroadcastRetain, HistoryAndRetentionAreIndependent) {
  Broadcast b(1, 100, 1 << 20, 16);
  b.SetRetention(3, 60000);
  for (const char* s : {"a", "b", "c", "d"}) b.Push(s, s, 0);
  Broadcast::Cursor plain;
  b.Attach(&plain);  // not resuming: the history alone
  EXPECT_EQ(Drain(b, &plain), "d ");
  Broadcast::Cursor resumed;
  b.AttachAfter(&resumed, "b", 0);
  EXPECT_EQ(Drain(b, &resumed), "c d ");
}
