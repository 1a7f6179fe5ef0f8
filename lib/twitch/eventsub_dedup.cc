// The message-id window: a hash set for the lookup, a queue in arrival order for the expiry.
#include "twitch/eventsub_dedup.h"

EventSubDedup::EventSubDedup(int64_t window_ms, size_t max_ids)
    : window_ms_(window_ms), max_ids_(max_ids > 0 ? max_ids : 1) {}

void EventSubDedup::Forget() {
  ids_.erase(ids_.find(*order_.front().id));
  order_.pop_front();
}

EventSubDedup::Verdict EventSubDedup::Check(std::string_view id, int64_t message_ms,
                                            int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().at >= window_ms_) Forget();
  if (now_ms - message_ms > window_ms_) {
    ++stale_;
    return Verdict::kStale;
  }
  auto [it, inserted] = ids_.emplace(id);
  if (!inserted) {
    ++duplicates_;
    return Verdict::kDuplicate;
  }
  order_.push_back(Seen{now_ms, &*it});
  while (ids_.size() > max_ids_) {
    Forget();
    ++evicted_;
  }
  return Verdict::kFresh;
}
