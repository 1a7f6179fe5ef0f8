// Timestamps as the event schema writes them: RFC 3339, UTC, milliseconds, 'Z'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

/// Milliseconds since the Unix epoch, from the real-time clock.
int64_t NowMillis();

/// Formats |ms| since the epoch as "2026-03-01T18:04:12.551Z".
std::string FormatRfc3339Millis(int64_t ms);

/// Parses an RFC 3339 timestamp (any offset, any fraction digits) into milliseconds since the
/// epoch. Returns false if |s| is not one.
bool ParseRfc3339(std::string_view s, int64_t* ms);

/// NowMillis() formatted.
std::string NowRfc3339();
