// The message-id window: a queue of fingerprints in arrival order for the expiry, and an
// open-addressing table of their sequence numbers for the lookup (linear probing, removal by
// backward shift, so no tombstones pile up as ids expire).
#include "twitch/eventsub_dedup.h"

#include <functional>

namespace {

constexpr size_t kMinSlots = 64;

// FNV-1a, then the splitmix64 finaliser: independent of std::hash (libstdc++'s murmur).
uint64_t Fnv(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

EventSubDedup::EventSubDedup(int64_t window_ms, size_t max_ids)
    : window_ms_(window_ms), max_ids_(max_ids > 0 ? max_ids : 1), slots_(kMinSlots, 0) {}

size_t EventSubDedup::Find(uint64_t lo, uint64_t hi) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = lo & mask;; i = (i + 1) & mask) {
    if (slots_[i] == 0) return i;
    const Seen& s = order_[slots_[i] - front_seq_];
    if (s.lo == lo && s.hi == hi) return i;
  }
}

void EventSubDedup::Grow() {
  std::vector<uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  for (uint64_t seq : old) {
    if (seq == 0) continue;
    const Seen& s = order_[seq - front_seq_];
    slots_[Find(s.lo, s.hi)] = seq;
  }
}

void EventSubDedup::Forget() {
  const Seen& oldest = order_.front();
  const size_t mask = slots_.size() - 1;
  size_t i = Find(oldest.lo, oldest.hi);
  // Backward shift: each later entry of the probe run whose home is not in (i, j] moves to i.
  for (size_t j = (i + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    size_t home = order_[slots_[j] - front_seq_].lo & mask;
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = 0;
  order_.pop_front();
  ++front_seq_;
}

EventSubDedup::Verdict EventSubDedup::Check(std::string_view id, int64_t message_ms,
                                            int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().at >= window_ms_) Forget();
  if (now_ms - message_ms > window_ms_) {
    ++stale_;
    return Verdict::kStale;
  }
  const uint64_t lo = std::hash<std::string_view>{}(id), hi = Fnv(id);
  size_t slot = Find(lo, hi);
  if (slots_[slot] != 0) {
    ++duplicates_;
    return Verdict::kDuplicate;
  }
  if (order_.size() >= max_ids_) {
    Forget();
    ++evicted_;
    slot = Find(lo, hi);  // the removal may have moved the free slot
  }
  order_.push_back(Seen{now_ms, lo, hi});
  slots_[slot] = front_seq_ + order_.size() - 1;
  if (order_.size() * 10 > slots_.size() * 7) Grow();  // load at most 0.7
  return Verdict::kFresh;
}
