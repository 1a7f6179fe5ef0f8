// Reassembly of WebSocket messages under a size cap (lib/ws/reassembly.h).
#include <gtest/gtest.h>

#include <string>

#include "ws/reassembly.h"

namespace {

TEST(WsReassembly, JoinsPiecesIntoOneMessage) {
  WsReassembly r(10);
  std::string msg = "stale";
  EXPECT_EQ(r.Feed("abc", 3, false, false, &msg), WsPiece::kPartial);
  EXPECT_TRUE(r.receiving());
  EXPECT_EQ(r.Feed("def", 3, true, false, &msg), WsPiece::kText);
  EXPECT_EQ(msg, "abcdef");
  EXPECT_FALSE(r.receiving());
  EXPECT_EQ(r.Feed("x", 1, true, true, &msg), WsPiece::kBinary);
  EXPECT_EQ(msg, "x");
}

TEST(WsReassembly, AMessageAtTheCapIsKept) {
  WsReassembly r(4);
  std::string msg;
  EXPECT_EQ(r.Feed("ab", 2, false, false, &msg), WsPiece::kPartial);
  EXPECT_EQ(r.Feed("cd", 2, true, false, &msg), WsPiece::kText);
  EXPECT_EQ(msg, "abcd");
  EXPECT_FALSE(r.just_overflowed());
}

TEST(WsReassembly, OverTheCapIsSaidOnceAndReportedAtTheEnd) {
  WsReassembly r(4);
  std::string msg;
  EXPECT_EQ(r.Feed("abc", 3, false, false, &msg), WsPiece::kPartial);
  EXPECT_FALSE(r.just_overflowed());
  EXPECT_EQ(r.Feed("de", 2, false, false, &msg), WsPiece::kPartial);
  EXPECT_TRUE(r.just_overflowed());
  EXPECT_EQ(r.Feed("fg", 2, false, false, &msg), WsPiece::kPartial);
  EXPECT_FALSE(r.just_overflowed());
  EXPECT_EQ(r.Feed("h", 1, true, false, &msg), WsPiece::kTooLong);
  EXPECT_TRUE(msg.empty());
  // The next message starts afresh.
  EXPECT_EQ(r.Feed("ok", 2, true, false, &msg), WsPiece::kText);
  EXPECT_EQ(msg, "ok");
}

TEST(WsReassembly, OneLongPieceEndingTheMessage) {
  WsReassembly r(2);
  std::string msg;
  EXPECT_EQ(r.Feed("abc", 3, true, false, &msg), WsPiece::kTooLong);
  EXPECT_TRUE(r.just_overflowed());
}

TEST(WsReassembly, ResetForgetsTheMessageAndTakesTheNewCap) {
  WsReassembly r(2);
  std::string msg;
  EXPECT_EQ(r.Feed("abc", 3, false, false, &msg), WsPiece::kPartial);
  r.Reset(8);
  EXPECT_FALSE(r.receiving());
  EXPECT_EQ(r.Feed("abcdefgh", 8, true, false, &msg), WsPiece::kText);
  EXPECT_EQ(msg, "abcdefgh");
  EXPECT_EQ(r.max_bytes(), 8u);
}

}  // namespace
