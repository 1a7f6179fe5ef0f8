// The project's one reconnect policy: exponential backoff with jitter. A delay starts at
// |initial_ms|, doubles with each failure up to |max_ms|, and is spread by ±|jitter_percent| so
// that many clients dropped at once do not come back in step. The caller reports failures and
// successes; when to try again is its own loop's business (an lws timer, a poll timeout).
#pragma once

#include <cstdint>
#include <random>

/// How reconnect delays grow. The defaults suit a remote service (Twitch); a local one may start
/// lower.
struct BackoffPolicy {
  int initial_ms = 1000;    ///< the delay after the first failure
  int max_ms = 60000;       ///< the longest delay, reached by doubling
  int jitter_percent = 20;  ///< each delay is drawn from base ± this percentage
};

/// The delay before the attempt after failure number |failures| (1 for the first failure):
/// initial_ms * 2^(failures-1), at most max_ms, scaled by 1 + jitter * (2 * |unit| - 1) where
/// |unit| is in [0, 1). At least 1 ms.
int BackoffDelayMs(const BackoffPolicy& policy, int failures, double unit);

/// Counts failures since the last success and draws the next delay.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {});

  /// Records a failure; returns how long to wait before the next attempt.
  int NextDelayMs();

  /// Records a success: the next failure starts from the shortest delay again.
  void Reset() { failures_ = 0; }

  /// Failures since the last success.
  int failures() const { return failures_; }

  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  int failures_ = 0;
  std::minstd_rand rng_;
};
