// The publisher's window of unconfirmed messages: every line published and not yet confirmed by
// the broker is kept here, in publish order, so a lost connection republishes exactly these.
// Confirms arrive as basic.ack/basic.nack with a delivery tag and a "multiple" flag, possibly
// out of order; an unroutable mandatory message comes back as basic.return (which carries no
// tag) before its ack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// One message as amqp-pub publishes it.
struct OutgoingMessage {
  size_t line_number = 0;
  std::string body;
  std::string routing_key;
  std::vector<std::pair<std::string, std::string>> headers;

  /// What the message holds in memory, for the window's byte bound: body, key and headers.
  size_t bytes() const;
};

/// A message the broker settled with something other than a plain ack.
struct FailedMessage {
  size_t line_number;
  std::string why;  ///< "nacked by the broker" or "unroutable: 312 NO_ROUTE"
};

class ConfirmWindow {
 public:
  /// |capacity| is --max-inflight and |capacity_bytes| --max-inflight-bytes: full() once that
  /// many messages, or messages of that many bytes, are held. One message always fits, so the
  /// byte bound may be passed by the last message added.
  explicit ConfirmWindow(size_t capacity, size_t capacity_bytes = SIZE_MAX)
      : capacity_(capacity), capacity_bytes_(capacity_bytes) {}

  bool full() const { return entries_.size() >= capacity_ || bytes_ >= capacity_bytes_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  /// OutgoingMessage::bytes() of the messages held (settled ones included until the oldest is
  /// settled).
  size_t bytes() const { return bytes_; }

  /// Records |msg| as published with delivery tag |tag|: tags must increase by one per call
  /// within a connection.
  void Add(uint64_t tag, OutgoingMessage msg);

  /// Applies basic.ack (|ack|) or basic.nack for |tag| (and every earlier tag when |multiple|).
  /// Messages nacked, or returned and then acked, are appended to |failed|. Returns how many
  /// messages were settled. Unknown tags are ignored.
  size_t Settle(uint64_t tag, bool multiple, bool ack, std::vector<FailedMessage>* failed);

  /// Applies basic.return: marks the earliest unsettled message not yet returned whose body is
  /// |body| (returns come in publish order). Returns its line number, or 0 if none matches.
  size_t MarkReturned(std::string_view body, const std::string& why);

  /// After a reconnect: drops what was settled out of order, forgets returns, and gives the
  /// messages to publish again, oldest first. The caller re-Add()s them with fresh tags.
  std::vector<OutgoingMessage> TakeForRepublish();

 private:
  struct Entry {
    uint64_t tag;
    bool settled = false;
    bool returned = false;
    std::string return_why;
    OutgoingMessage msg;
  };
  void SettleEntry(Entry* e, bool ack, std::vector<FailedMessage>* failed);

  void PopSettled();

  size_t capacity_;
  size_t capacity_bytes_;
  size_t bytes_ = 0;
  std::deque<Entry> entries_;  // tags contiguous and increasing, front oldest
};
