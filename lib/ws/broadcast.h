// The broadcast buffer of ws-serve: one shared queue of messages with a read position (a tail)
// per client, instead of a copy of every message per client. Each message counts the clients
// that have not sent it yet; it is freed once that count is zero and it is older than the
// history to keep. Every client's backlog is bounded (messages and bytes), so the buffer is
// bounded too: by the largest backlog any client may have, or the history, whichever is larger.
//
// Beside the history, the buffer retains the recent messages for clients that resume: the last
// |retain| of them that are younger than |retain_for_ms|, each findable by its id, so a client
// that comes back with the id of the last message it has starts right after it.
//
// The buffer knows nothing about sockets: the server decides what to do with a client whose
// backlog is over the limit (disconnect it, or drop its oldest messages with DropToFit()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

class Broadcast {
 public:
  /// The position of one client in the stream. Owned by the client; plain data.
  struct Cursor {
    uint64_t next = 0;  ///< sequence number of the next message to send
    bool attached = false;
  };

  /// |history|: the last messages kept for new clients. |max_messages|, |max_bytes|: the
  /// largest backlog a client may have. |headroom|: bytes reserved in front of every payload
  /// (LWS_PRE), so that a message can be written without copying it.
  Broadcast(size_t history, size_t max_messages, size_t max_bytes, size_t headroom);

  /// Also keeps, for resuming clients, the last |retain| messages (0: none) that are younger
  /// than |retain_for_ms|. Call before the first Push().
  void SetRetention(size_t retain, int64_t retain_for_ms);

  /// Appends |payload| for every attached client and returns its sequence number. |id| (may be
  /// empty) is what a resuming client names it by; |now_ms| is a monotonic time, for the age.
  uint64_t Push(std::string_view payload, std::string_view id = {}, int64_t now_ms = 0);

  /// Starts |c| at the oldest kept history message (at the end when there is no history).
  void Attach(Cursor* c);

  /// Where a resuming client starts.
  struct Resume {
    bool found = false;   ///< the id is retained: |c| starts right after it
    size_t replayed = 0;  ///< messages |c| has to catch up on
  };

  /// Starts |c| right after the retained message whose id is |id|; when there is none (unknown,
  /// or older than what is retained), at the oldest retained message younger than the
  /// retention time, found = false. |now_ms| as for Push().
  Resume AttachAfter(Cursor* c, std::string_view id, int64_t now_ms);

  /// Retained messages younger than the retention time, oldest first, for --retain-file: calls
  /// |f|(payload) for each.
  template <typename F>
  void ForEachRetained(int64_t now_ms, F f) const {
    for (uint64_t s = FirstRetained(now_ms); s < end(); s++) {
      const Message& m = At(s);
      f(std::string_view(m.buf).substr(headroom_));
    }
  }

  /// Releases everything |c| has not sent yet. Safe to call twice.
  void Detach(Cursor* c);

  /// Messages and payload bytes that |c| has not sent yet.
  size_t Backlog(const Cursor& c) const;
  uint64_t BacklogBytes(const Cursor& c) const;

  /// True when |c| could take one more message of |len| bytes and stay within half the limits:
  /// the mark below which input is taken. The other half is slack, so that clients a turn of
  /// the loop behind the fastest one are not taken for slow ones.
  bool HasRoom(const Cursor& c, size_t len) const;

  /// True when |c| holds more than the limits allow.
  bool OverLimit(const Cursor& c) const;

  /// Skips the oldest messages of |c| until it is within the limits; returns how many.
  size_t DropToFit(Cursor* c);

  /// The next message of |c|: |data| points at the payload, preceded by |headroom| writable
  /// bytes that belong to the buffer. Returns false when |c| has sent everything.
  bool Peek(const Cursor& c, unsigned char** data, size_t* len);

  /// Marks the next message of |c| as sent.
  void Advance(Cursor* c);

  /// Drops what is held only for retention and has grown older than the retention time.
  void Expire(int64_t now_ms);

  /// Messages and payload bytes held now (for tests and statistics).
  size_t size() const { return messages_.size(); }
  uint64_t bytes() const { return held_bytes_; }
  uint64_t end() const { return base_ + messages_.size(); }

 private:
  struct Message {
    std::string buf;       // headroom + payload
    std::string id;        // for resuming clients; may be empty
    int64_t at_ms = 0;     // when it was pushed (monotonic)
    uint64_t start = 0;    // bytes pushed before this message (for backlog bytes)
    uint32_t pending = 0;  // attached clients that have not sent it
  };
  uint64_t FirstRetained(int64_t now_ms) const;
  bool Expired(const Message& m, int64_t now_ms) const { return now_ms - m.at_ms > retain_for_ms_; }
  const Message& At(uint64_t seq) const { return messages_[seq - base_]; }
  Message& At(uint64_t seq) { return messages_[seq - base_]; }
  void Trim();
  void AttachFrom(Cursor* c, uint64_t seq);

  size_t history_;
  size_t retain_ = 0;
  int64_t retain_for_ms_ = 0;
  int64_t now_ms_ = 0;  // the latest time given
  size_t max_messages_;
  size_t max_bytes_;
  size_t headroom_;
  std::deque<Message> messages_;
  uint64_t base_ = 0;          // sequence number of messages_.front()
  uint64_t pushed_bytes_ = 0;  // payload bytes ever pushed
  uint64_t held_bytes_ = 0;
  uint32_t attached_ = 0;
};
