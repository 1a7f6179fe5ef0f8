// ws-serve's rooms: the room of an event, of a request path, and the --room-tokens file.
#include <gtest/gtest.h>

#include <string>

#include "ws/rooms.h"

namespace {

TEST(WsRooms, RoomOfLineFollowsTheDottedPath) {
  EXPECT_EQ(RoomOfLine(R"({"channel":{"login":"alice"}})", "channel.login"), "alice");
  EXPECT_EQ(RoomOfLine(R"({"channel":{"id":12345}})", "channel.id"), "12345");
  EXPECT_EQ(RoomOfLine(R"({"type":"gap"})", "channel.login"), "");
  EXPECT_EQ(RoomOfLine(R"({"channel":{"login":true}})", "channel.login"), "");
  EXPECT_EQ(RoomOfLine(R"({"channel":"alice"})", "channel.login"), "");
  EXPECT_EQ(RoomOfLine("not json", "channel.login"), "");
  EXPECT_EQ(RoomOfLine("[1]", "channel.login"), "");
}

TEST(WsRooms, RoomNames) {
  EXPECT_TRUE(IsRoomName("alice_99"));
  EXPECT_TRUE(IsRoomName("a.b-c~d"));
  EXPECT_FALSE(IsRoomName(""));
  EXPECT_FALSE(IsRoomName("al ice"));
  EXPECT_FALSE(IsRoomName("al%20ice"));
  EXPECT_FALSE(IsRoomName("a/b"));
  EXPECT_TRUE(IsRoomName(std::string(100, 'a')));
  EXPECT_FALSE(IsRoomName(std::string(101, 'a')));
}

TEST(WsRooms, SplitRoomPath) {
  std::string room, rest;
  ASSERT_TRUE(SplitRoomPath("/r/alice/", &room, &rest));
  EXPECT_EQ(room, "alice");
  EXPECT_EQ(rest, "/");
  ASSERT_TRUE(SplitRoomPath("/r/alice", &room, &rest));
  EXPECT_EQ(room, "alice");
  EXPECT_EQ(rest, "/");
  ASSERT_TRUE(SplitRoomPath("/r/bob/img/x.png", &room, &rest));
  EXPECT_EQ(room, "bob");
  EXPECT_EQ(rest, "/img/x.png");
  ASSERT_TRUE(SplitRoomPath("/r/", &room, &rest));
  EXPECT_EQ(room, "");
  EXPECT_FALSE(SplitRoomPath("/", &room, &rest));
  EXPECT_FALSE(SplitRoomPath("/rooms/alice/", &room, &rest));
}

TEST(WsRooms, ParseRoomTokens) {
  RoomTokens t;
  std::string err;
  ASSERT_TRUE(ParseRoomTokens("# comment\n\nalice  sekA\r\n\tbob\tsekB\n", &t, &err)) << err;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t["alice"], "sekA");
  EXPECT_EQ(t["bob"], "sekB");
}

TEST(WsRooms, ParseRoomTokensRefusesBadLinesAndKeepsWhatItHad) {
  RoomTokens t = {{"old", "x"}};
  std::string err;
  EXPECT_FALSE(ParseRoomTokens("alice\n", &t, &err));
  EXPECT_EQ(err, "line 1: not ROOM TOKEN");
  EXPECT_FALSE(ParseRoomTokens("alice a b\n", &t, &err));
  EXPECT_FALSE(ParseRoomTokens("ok t\nal%20ice t\n", &t, &err));
  EXPECT_EQ(err.rfind("line 2: al%20ice: not a room name", 0), 0u) << err;
  EXPECT_FALSE(ParseRoomTokens("a t\na u\n", &t, &err));
  EXPECT_EQ(err, "line 2: room a named twice");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t["old"], "x");
}

}  // namespace
