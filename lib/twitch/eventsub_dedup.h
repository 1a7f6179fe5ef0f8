// EventSub delivers at least once, and a resend keeps its message id (WebSocket metadata, or the
// webhook's Twitch-Eventsub-Message-Id): this window remembers the ids of the last 10 minutes
// and refuses a message older than that, as Twitch asks (twitch-protocols.md §1.11, §3.6, §4.3).
// Shared by the WebSocket session, which sees each event twice across a reconnect hand-over, and
// the webhook server. No clock of its own: the caller passes the time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

/// A window of message ids by age, bounded in time and in size. An id is held as a 128-bit
/// fingerprint (two independent 64-bit hashes: a false duplicate among 100,000 ids has odds
/// below 1e-28), 24 bytes an id whatever its length, and 11 to 23 for the
/// lookup table.
class EventSubDedup {
 public:
  /// Twitch's replay window: 10 minutes.
  static constexpr int64_t kWindowMs = 10 * 60 * 1000;
  /// The ids held at most (under 50 bytes each); past it the oldest are forgotten early.
  static constexpr size_t kDefaultMaxIds = 100000;

  /// What to do with a message.
  enum class Verdict {
    kFresh,      ///< not seen in the window: process it (its id is now remembered)
    kDuplicate,  ///< seen in the window: drop it
    kStale,      ///< its timestamp is older than the window: drop it (not remembered)
  };

  explicit EventSubDedup(int64_t window_ms = kWindowMs, size_t max_ids = kDefaultMaxIds);

  /// Judges the message |id| sent at |message_ms|, at |now_ms| (both real-time milliseconds
  /// since the epoch), counting duplicates and stale messages. A message from the future (a
  /// clock ahead of ours) is not stale. Ids are forgotten |window_ms| after they were first
  /// seen, or earlier, oldest first, when more than |max_ids| are held (counted in evicted()).
  Verdict Check(std::string_view id, int64_t message_ms, int64_t now_ms);

  uint64_t duplicates() const { return duplicates_; }  ///< kDuplicate verdicts so far
  uint64_t stale() const { return stale_; }            ///< kStale verdicts so far
  uint64_t evicted() const { return evicted_; }        ///< ids forgotten early for max_ids
  size_t size() const { return order_.size(); }        ///< ids held now

 private:
  void Forget();  // drops the oldest id
  struct Seen {
    int64_t at;       // when it was first seen
    uint64_t lo, hi;  // the fingerprint
  };
  size_t Find(uint64_t lo, uint64_t hi) const;  // its slot, or the empty slot where it would go
  void Grow();                                  // doubles slots_

  int64_t window_ms_;
  size_t max_ids_;
  std::deque<Seen> order_;  // oldest first; the one of sequence number front_seq_ first
  uint64_t front_seq_ = 1;  // the sequence number of order_.front()
  // Open addressing by lo, linear probing: 0 free, else the sequence number of an id.
  std::vector<uint64_t> slots_;
  uint64_t duplicates_ = 0, stale_ = 0, evicted_ = 0;
};
