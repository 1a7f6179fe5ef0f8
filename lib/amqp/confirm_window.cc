// ConfirmWindow: bookkeeping of publisher confirms (see the header for the broker's rules).
#include "amqp/confirm_window.h"

size_t OutgoingMessage::bytes() const {
  size_t n = body.size() + routing_key.size();
  for (const auto& [key, value] : headers) n += key.size() + value.size();
  return n;
}

void ConfirmWindow::Add(uint64_t tag, OutgoingMessage msg) {
  bytes_ += msg.bytes();
  Entry e;
  e.tag = tag;
  e.msg = std::move(msg);
  entries_.push_back(std::move(e));
}

void ConfirmWindow::SettleEntry(Entry* e, bool ack, std::vector<FailedMessage>* failed) {
  e->settled = true;
  if (!ack) {
    failed->push_back({e->msg.line_number, "nacked by the broker"});
  } else if (e->returned) {
    failed->push_back({e->msg.line_number, e->return_why});
  }
}

size_t ConfirmWindow::Settle(uint64_t tag, bool multiple, bool ack,
                             std::vector<FailedMessage>* failed) {
  if (entries_.empty() || tag < entries_.front().tag) return 0;
  size_t count = 0;
  uint64_t first = entries_.front().tag;
  if (multiple) {
    for (Entry& e : entries_) {
      if (e.tag > tag) break;
      if (!e.settled) {
        SettleEntry(&e, ack, failed);
        ++count;
      }
    }
  } else if (tag - first < entries_.size()) {
    Entry& e = entries_[tag - first];
    if (!e.settled) {
      SettleEntry(&e, ack, failed);
      ++count;
    }
  }
  PopSettled();
  return count;
}

void ConfirmWindow::PopSettled() {
  while (!entries_.empty() && entries_.front().settled) {
    bytes_ -= entries_.front().msg.bytes();
    entries_.pop_front();
  }
}

size_t ConfirmWindow::MarkReturned(std::string_view body, const std::string& why) {
  for (Entry& e : entries_) {
    if (e.settled || e.returned) continue;
    if (e.msg.body == body) {
      e.returned = true;
      e.return_why = why;
      return e.msg.line_number;
    }
  }
  return 0;
}

std::vector<OutgoingMessage> ConfirmWindow::TakeForRepublish() {
  std::vector<OutgoingMessage> out;
  out.reserve(entries_.size());
  for (Entry& e : entries_) {
    if (!e.settled) out.push_back(std::move(e.msg));
  }
  entries_.clear();
  bytes_ = 0;
  return out;
}
