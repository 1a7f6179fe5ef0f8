// twitch-irc's assignment of channels to connections (twitch/irc_shards.h): within the limit per
// connection, and stable when the channel set changes.
#include "twitch/irc_shards.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

std::vector<std::string> Names(const char* prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST(IrcShardPlan, FillsConnectionsInOrderUpToTheLimit) {
  IrcShardPlan plan(4, 10);
  std::string err;
  ASSERT_TRUE(plan.Assign(Names("c", 1, 10), &err)) << err;
  EXPECT_EQ(plan.connections(), 3u);
  EXPECT_EQ(plan.ChannelsOf(0), (std::vector<std::string>{"c1", "c2", "c3", "c4"}));
  EXPECT_EQ(plan.ChannelsOf(1), (std::vector<std::string>{"c5", "c6", "c7", "c8"}));
  EXPECT_EQ(plan.ChannelsOf(2), (std::vector<std::string>{"c10", "c9"}));
  EXPECT_EQ(plan.ConnectionOf("c9"), 2);
  EXPECT_EQ(plan.ConnectionOf("nope"), -1);
}

TEST(IrcShardPlan, AddingMovesNoChannelAndFillsTheHolesFirst) {
  IrcShardPlan plan(4, 10);
  std::string err;
  std::vector<std::string> first = Names("c", 1, 10);
  ASSERT_TRUE(plan.Assign(first, &err));
  std::vector<int> before;
  for (const std::string& c : first) before.push_back(plan.ConnectionOf(c));
  // c2 and c6 go; four come: two take their places, two go to connection 2, which has room.
  std::vector<std::string> next = {"new1", "c1", "c3",  "c4",   "c5",   "c7",
                                   "c8",   "c9", "c10", "new2", "new3", "new4"};
  ASSERT_TRUE(plan.Assign(next, &err)) << err;
  for (size_t i = 0; i < first.size(); ++i) {
    if (first[i] == "c2" || first[i] == "c6") {
      EXPECT_EQ(plan.ConnectionOf(first[i]), -1);
    } else {
      EXPECT_EQ(plan.ConnectionOf(first[i]), before[i]) << first[i];
    }
  }
  EXPECT_EQ(plan.ConnectionOf("new1"), 0);
  EXPECT_EQ(plan.ConnectionOf("new2"), 1);
  EXPECT_EQ(plan.ConnectionOf("new3"), 2);
  EXPECT_EQ(plan.ConnectionOf("new4"), 2);
  EXPECT_EQ(plan.connections(), 3u);
  for (int c = 0; c < 3; ++c) EXPECT_LE(plan.ChannelsOf(c).size(), 4u) << c;
}

TEST(IrcShardPlan, ReorderingTheFileMovesNothing) {
  IrcShardPlan plan(2, 10);
  std::string err;
  ASSERT_TRUE(plan.Assign({"a", "b", "c", "d"}, &err));
  ASSERT_TRUE(plan.Assign({"d", "c", "b", "a"}, &err));
  EXPECT_EQ(plan.ConnectionOf("a"), 0);
  EXPECT_EQ(plan.ConnectionOf("b"), 0);
  EXPECT_EQ(plan.ConnectionOf("c"), 1);
  EXPECT_EQ(plan.ConnectionOf("d"), 1);
}

TEST(IrcShardPlan, AConnectionEmptiedIsNotCountedAtTheEnd) {
  IrcShardPlan plan(2, 10);
  std::string err;
  ASSERT_TRUE(plan.Assign({"a", "b", "c"}, &err));
  EXPECT_EQ(plan.connections(), 2u);
  ASSERT_TRUE(plan.Assign({"a", "b"}, &err));
  EXPECT_EQ(plan.connections(), 1u);
  EXPECT_TRUE(plan.ChannelsOf(1).empty());
}

TEST(IrcShardPlan, MoreThanFitsIsRefusedAndChangesNothing) {
  IrcShardPlan plan(3, 2);
  std::string err;
  ASSERT_TRUE(plan.Assign(Names("c", 1, 6), &err));
  EXPECT_FALSE(plan.Assign(Names("c", 1, 7), &err));
  EXPECT_NE(err.find("7 channels"), std::string::npos) << err;
  EXPECT_EQ(plan.ConnectionOf("c7"), -1);
  EXPECT_EQ(plan.ConnectionOf("c6"), 1);
  EXPECT_EQ(plan.connections(), 2u);
}

}  // namespace
