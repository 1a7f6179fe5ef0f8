// The shared broadcast buffer of ws-serve (see broadcast.h).
#include "ws/broadcast.h"

Broadcast::Broadcast(size_t history, size_t max_messages, size_t max_bytes, size_t headroom)
    : history_(history), max_messages_(max_messages), max_bytes_(max_bytes), headroom_(headroom) {}

void Broadcast::SetRetention(size_t retain, int64_t retain_for_ms) {
  retain_ = retain;
  retain_for_ms_ = retain_for_ms;
}

uint64_t Broadcast::Push(std::string_view payload, std::string_view id, int64_t now_ms) {
  if (now_ms > now_ms_) now_ms_ = now_ms;
  Message m;
  if (retain_ > 0) m.id.assign(id);
  m.at_ms = now_ms;
  m.buf.reserve(headroom_ + payload.size());
  m.buf.assign(headroom_, '\0');
  m.buf.append(payload);
  m.start = pushed_bytes_;
  m.pending = attached_;
  pushed_bytes_ += payload.size();
  held_bytes_ += payload.size();
  messages_.push_back(std::move(m));
  uint64_t seq = end() - 1;
  Trim();
  return seq;
}

void Broadcast::Attach(Cursor* c) {
  size_t replay = messages_.size() < history_ ? messages_.size() : history_;
  AttachFrom(c, end() - replay);
}

void Broadcast::AttachFrom(Cursor* c, uint64_t seq) {
  if (c->attached) return;
  c->next = seq;
  c->attached = true;
  attached_++;
  for (uint64_t s = c->next; s < end(); s++) At(s).pending++;
}

uint64_t Broadcast::FirstRetained(int64_t now_ms) const {
  if (retain_ == 0) return end();
  uint64_t first = messages_.size() > retain_ ? end() - retain_ : base_;
  while (first < end() && Expired(At(first), now_ms)) first++;
  return first;
}

Broadcast::Resume Broadcast::AttachAfter(Cursor* c, std::string_view id, int64_t now_ms) {
  Resume r;
  uint64_t first = FirstRetained(now_ms);
  uint64_t from = first;
  if (!id.empty()) {
    for (uint64_t s = end(); s > first; s--) {
      if (At(s - 1).id == id) {
        from = s;
        r.found = true;
        break;
      }
    }
  }
  r.replayed = static_cast<size_t>(end() - from);
  AttachFrom(c, from);
  return r;
}

void Broadcast::Expire(int64_t now_ms) {
  if (now_ms > now_ms_) now_ms_ = now_ms;
  Trim();
}

void Broadcast::Detach(Cursor* c) {
  if (!c->attached) return;
  for (uint64_t s = c->next; s < end(); s++) At(s).pending--;
  c->attached = false;
  c->next = end();
  attached_--;
  Trim();
}

size_t Broadcast::Backlog(const Cursor& c) const {
  return c.attached ? static_cast<size_t>(end() - c.next) : 0;
}

uint64_t Broadcast::BacklogBytes(const Cursor& c) const {
  if (!c.attached || c.next >= end()) return 0;
  return pushed_bytes_ - At(c.next).start;
}

bool Broadcast::HasRoom(const Cursor& c, size_t len) const {
  return Backlog(c) + 1 <= max_messages_ / 2 && BacklogBytes(c) + len <= max_bytes_ / 2;
}

bool Broadcast::OverLimit(const Cursor& c) const {
  return Backlog(c) > max_messages_ || BacklogBytes(c) > max_bytes_;
}

size_t Broadcast::DropToFit(Cursor* c) {
  size_t dropped = 0;
  while (c->attached && OverLimit(*c)) {
    At(c->next).pending--;
    c->next++;
    dropped++;
  }
  Trim();
  return dropped;
}

bool Broadcast::Peek(const Cursor& c, unsigned char** data, size_t* len) {
  if (!c.attached || c.next >= end()) return false;
  Message& m = At(c.next);
  *data = reinterpret_cast<unsigned char*>(&m.buf[headroom_]);
  *len = m.buf.size() - headroom_;
  return true;
}

void Broadcast::Advance(Cursor* c) {
  if (!c->attached || c->next >= end()) return;
  At(c->next).pending--;
  c->next++;
  Trim();
}

// The front goes once every client has sent it, unless the history or the retention keeps it.
void Broadcast::Trim() {
  while (!messages_.empty() && messages_.front().pending == 0 && messages_.size() > history_ &&
         (messages_.size() > retain_ || Expired(messages_.front(), now_ms_))) {
    held_bytes_ -= messages_.front().buf.size() - headroom_;
    messages_.pop_front();
    base_++;
  }
}
