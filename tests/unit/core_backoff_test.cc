// The one reconnect policy (core/backoff.h) and the monotonic clock it and every timeout use.
#include <gtest/gtest.h>

#include "core/backoff.h"
#include "core/time.h"

namespace {

TEST(Backoff, DoublesFromInitialToMax) {
  BackoffPolicy p{250, 15000, 0};
  EXPECT_EQ(BackoffDelayMs(p, 1, 0.5), 250);
  EXPECT_EQ(BackoffDelayMs(p, 2, 0.5), 500);
  EXPECT_EQ(BackoffDelayMs(p, 3, 0.5), 1000);
  EXPECT_EQ(BackoffDelayMs(p, 7, 0.5), 15000);  // 16000 capped
  EXPECT_EQ(BackoffDelayMs(p, 1000, 0.5), 15000);
}

TEST(Backoff, JitterSpreadsAroundTheBase) {
  BackoffPolicy p{1000, 60000, 20};
  EXPECT_EQ(BackoffDelayMs(p, 1, 0.0), 800);
  EXPECT_EQ(BackoffDelayMs(p, 1, 0.5), 1000);
  EXPECT_EQ(BackoffDelayMs(p, 1, 0.999999), 1199);
  EXPECT_EQ(BackoffDelayMs(p, 10, 0.0), 48000);
  EXPECT_GE(BackoffDelayMs(BackoffPolicy{0, 0, 100}, 1, 0.0), 1);
}

TEST(Backoff, CountsFailuresAndResets) {
  Backoff b(BackoffPolicy{100, 400, 25});
  int first = b.NextDelayMs();
  EXPECT_GE(first, 75);
  EXPECT_LE(first, 125);
  b.NextDelayMs();
  int third = b.NextDelayMs();
  EXPECT_GE(third, 300);
  EXPECT_LE(third, 500);
  EXPECT_EQ(b.failures(), 3);
  for (int i = 0; i < 20; ++i) EXPECT_LE(b.NextDelayMs(), 500);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_LE(b.NextDelayMs(), 125);
}

TEST(Backoff, DelaysOfClientsDroppedTogetherDiffer) {
  Backoff a, b, c;
  int da = a.NextDelayMs(), db = b.NextDelayMs(), dc = c.NextDelayMs();
  for (int d : {da, db, dc}) {
    EXPECT_GE(d, 800);
    EXPECT_LE(d, 1200);
  }
}

TEST(Time, MonotonicClockNeverGoesBack) {
  int64_t a = MonotonicMs();
  int64_t b = MonotonicMs();
  EXPECT_GE(b, a);
  EXPECT_GT(a, 0);
}

}  // namespace
