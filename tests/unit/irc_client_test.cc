// The pieces of the live client that need no network: the JOIN rate limit and channel names.
#include "twitch/irc_client.h"

#include <gtest/gtest.h>

namespace {

TEST(IrcClient, JoinRateLimitIsASlidingWindow) {
  JoinRateLimit limit;  // 20 per 10 s
  int64_t t = 1'000'000;
  for (int i = 0; i < kJoinBurst; ++i) {
    ASSERT_EQ(limit.WaitMs(t + i), 0) << i;
    limit.Sent(t + i);
  }
  // The 21st waits until the first JOIN leaves the window.
  EXPECT_EQ(limit.WaitMs(t + 100), kJoinWindowMs - 100);
  EXPECT_EQ(limit.WaitMs(t + kJoinWindowMs - 1), 1);
  EXPECT_EQ(limit.WaitMs(t + kJoinWindowMs), 0);
  limit.Sent(t + kJoinWindowMs);
  // The second of the burst left at t + 1: one more millisecond.
  EXPECT_EQ(limit.WaitMs(t + kJoinWindowMs), 1);
  EXPECT_EQ(limit.WaitMs(t + kJoinWindowMs + 1), 0);
}

TEST(IrcClient, JoinRateLimitSmallWindow) {
  JoinRateLimit limit(2, 100);
  EXPECT_EQ(limit.WaitMs(0), 0);
  limit.Sent(0);
  limit.Sent(10);
  EXPECT_EQ(limit.WaitMs(50), 50);
  EXPECT_EQ(limit.WaitMs(100), 0);
  EXPECT_EQ(limit.WaitMs(5000), 0);
}

TEST(IrcClient, ChannelNames) {
  EXPECT_EQ(NormalizeChannel("#MapleCrate"), "maplecrate");
  EXPECT_EQ(NormalizeChannel("maple_crate"), "maple_crate");
  EXPECT_TRUE(IsTwitchLogin("maple_crate9"));
  EXPECT_TRUE(IsTwitchLogin("justinfan12345"));
  EXPECT_FALSE(IsTwitchLogin(""));
  EXPECT_FALSE(IsTwitchLogin("a,b"));
  EXPECT_FALSE(IsTwitchLogin("two words"));
  EXPECT_FALSE(IsTwitchLogin("#hash"));
  EXPECT_FALSE(IsTwitchLogin("Upper"));
  EXPECT_FALSE(IsTwitchLogin(std::string(26, 'a')));
}

}  // namespace
