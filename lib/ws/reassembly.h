// Reassembly of WebSocket messages from the pieces libwebsockets delivers (LWS_CALLBACK_RECEIVE
// and LWS_CALLBACK_CLIENT_RECEIVE hand over fragments, and a long frame in several pieces), with a
// cap on the message size: the bytes of a message over the cap are not kept, and the message is
// reported as too long when it ends. Shared by the server (ws-serve --relay) and the client
// (lib/ws/ws_client). Knows no sockets beyond reading the frame state of the lws at hand.
#pragma once

#include <cstddef>
#include <string>

struct lws;

/// What one piece did to the message being reassembled.
enum class WsPiece {
  kPartial,  ///< the message goes on
  kText,     ///< a text message ended within the cap: it is in *msg
  kBinary,   ///< a binary message ended within the cap: it is in *msg
  kTooLong,  ///< a message ended that went over the cap: nothing in *msg
};

/// One message being reassembled. Plain data: one per connection.
class WsReassembly {
 public:
  /// |max_bytes|: the longest message kept.
  explicit WsReassembly(size_t max_bytes = 1u << 20) : max_bytes_(max_bytes) {}

  /// Forgets any message begun, and takes |max_bytes| as the cap from now on.
  void Reset(size_t max_bytes);

  /// Appends one piece of |len| bytes. |last|: the piece ends the message (the final fragment,
  /// with no payload left of its frame); |binary|: the message is binary. At a message's end,
  /// returns what it was and moves it into |msg| (when kept); kPartial before.
  WsPiece Feed(const void* in, size_t len, bool last, bool binary, std::string* msg);

  /// The same, with |last| and |binary| read from |wsi| in its receive callback.
  WsPiece Feed(struct lws* wsi, const void* in, size_t len, std::string* msg);

  /// True right after the Feed() whose piece took the message over the cap (once per message),
  /// so that it can be said at once, not at the message's end, which may never come.
  bool just_overflowed() const { return just_overflowed_; }

  /// True while a message has begun and not ended.
  bool receiving() const { return receiving_; }

  size_t max_bytes() const { return max_bytes_; }

 private:
  size_t max_bytes_;
  std::string rx_;
  bool too_long_ = false;
  bool just_overflowed_ = false;
  bool receiving_ = false;
};
