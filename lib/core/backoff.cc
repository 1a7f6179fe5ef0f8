// Exponential backoff with jitter (see backoff.h).
#include "core/backoff.h"

#include <unistd.h>

#include <algorithm>

#include "core/time.h"

int BackoffDelayMs(const BackoffPolicy& policy, int failures, double unit) {
  double base = std::max(1, policy.initial_ms);
  for (int i = 1; i < failures && base < policy.max_ms; ++i) base *= 2;
  base = std::min(base, static_cast<double>(std::max(policy.max_ms, 1)));
  double jitter = std::clamp(policy.jitter_percent, 0, 100) / 100.0;
  double delay = base * (1 + jitter * (2 * std::clamp(unit, 0.0, 1.0) - 1));
  return std::max(1, static_cast<int>(delay));
}

Backoff::Backoff(BackoffPolicy policy)
    : policy_(policy),
      rng_(static_cast<unsigned>(MonotonicMs()) ^ static_cast<unsigned>(getpid()) << 8) {}

int Backoff::NextDelayMs() {
  if (failures_ < 1000) ++failures_;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return BackoffDelayMs(policy_, failures_, unit(rng_));
}
