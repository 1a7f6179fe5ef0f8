// Time: timestamps as the event schema writes them (RFC 3339, UTC, milliseconds, 'Z'), and the
// monotonic clock that every timeout and rate limit uses.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>

/// Milliseconds since the Unix epoch, from the real-time clock: for timestamps only.
int64_t NowMillis();

/// Milliseconds from the monotonic clock, which no clock change moves: for every timeout, rate
/// limit and delay. Async-signal-safe. (Inline so that one definition serves every module.)
inline int64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/// Formats |ms| since the epoch as "2026-03-01T18:04:12.551Z".
std::string FormatRfc3339Millis(int64_t ms);

/// Parses an RFC 3339 timestamp (any offset, any fraction digits) into milliseconds since the
/// epoch. Returns false if |s| is not one.
bool ParseRfc3339(std::string_view s, int64_t* ms);

/// NowMillis() formatted.
std::string NowRfc3339();
