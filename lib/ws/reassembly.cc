// Reassembly of WebSocket messages under a size cap (see reassembly.h).
#include "ws/reassembly.h"

#include <libwebsockets.h>

void WsReassembly::Reset(size_t max_bytes) {
  max_bytes_ = max_bytes;
  rx_.clear();
  too_long_ = just_overflowed_ = receiving_ = false;
}

WsPiece WsReassembly::Feed(const void* in, size_t len, bool last, bool binary, std::string* msg) {
  receiving_ = true;
  just_overflowed_ = false;
  if (!too_long_) {
    if (rx_.size() + len > max_bytes_) {
      too_long_ = just_overflowed_ = true;
      rx_.clear();
      rx_.shrink_to_fit();
    } else {
      rx_.append(static_cast<const char*>(in), len);
    }
  }
  if (!last) return WsPiece::kPartial;
  receiving_ = false;
  if (too_long_) {
    too_long_ = false;
    msg->clear();
    return WsPiece::kTooLong;
  }
  msg->swap(rx_);
  rx_.clear();
  return binary ? WsPiece::kBinary : WsPiece::kText;
}

WsPiece WsReassembly::Feed(struct lws* wsi, const void* in, size_t len, std::string* msg) {
  bool last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
  return Feed(in, len, last, last && lws_frame_is_binary(wsi), msg);
}
