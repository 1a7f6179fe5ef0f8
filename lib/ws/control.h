// The control channel of ws-serve: the messages that the desk (overlay/desk) and the overlays
// exchange through the server beside the events: replay, skip, pause, resume, mute and test from
// a desk, status from an overlay, and hello and refused from ws-serve itself. See "CONTROL
// MESSAGES" in twitch-events(7) for the shape this checks.
//
// A control message is a JSON object with "v": 1 and a string "control", and never a "type":
// that is what keeps every stage (the overlay's event path, jq, amqp-pub) from taking one for an
// event. Commands need the control token, which is not the read token; a status needs none (an
// overlay holds the read token only). Each client has a rate limit; a message that breaks a rule
// is refused with the reason, to the sender alone, and never relayed. One that passes goes, as
// ws-serve re-serialised it, to every other client that joined the channel (?control=TOKEN or
// ?controls=1); clients that did not (ws-cat, scripts) never see one.
//
// Nothing here touches sockets: the server gives each client a ControlPeer and calls these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

/// The longest control message accepted, in bytes (a replay carries its event).
constexpr size_t kMaxControlBytes = 16 * 1024;

/// Control messages waiting for one client; beyond this, the oldest are dropped.
constexpr size_t kMaxControlOutbox = 256;

/// A token bucket: |burst| messages at once, refilled at |per_second|.
class ControlRateLimit {
 public:
  ControlRateLimit(double per_second = 10, double burst = 30)
      : per_second_(per_second), burst_(burst), tokens_(burst) {}

  /// Takes one token at monotonic time |now_ms|; false when none is left.
  bool Take(int64_t now_ms);

 private:
  double per_second_;
  double burst_;
  double tokens_;
  int64_t last_ms_ = -1;
};

/// One client's side of the channel. Plain data owned by the server's client.
struct ControlPeer {
  bool joined = false;       ///< receives the control messages of others
  bool may_command = false;  ///< presented the control token
  ControlRateLimit limit;
  std::deque<std::string> outbox;  ///< control messages to write before its events
  unsigned long long dropped = 0;  ///< outbox messages dropped for want of room

  /// Queues |msg| (one JSON text); drops the oldest beyond kMaxControlOutbox.
  void Queue(std::string msg);
};

/// How a client joins, from what its URL presented: |presented| is the value of ?control= (null
/// when absent), |subscribe| says ?controls=1. |control_token| is the server's (empty: no
/// commands at all). Sets |peer| and returns the hello to send it first, or "" when it did not
/// join. The token is compared in constant time (core/secret.h).
std::string JoinControl(ControlPeer* peer, const char* presented, bool subscribe,
                        const std::string& control_token);

/// True when |text| is a control message by its shape: a JSON object with a "control" key.
/// Cheap for an event: without the text "control" in it, no parsing.
bool LooksLikeControl(std::string_view text);

/// What became of a control message from a client.
struct ControlVerdict {
  bool ok = false;
  std::string name;    ///< its "control", when it had one
  std::string reason;  ///< why it was refused (!ok)
  std::string relay;   ///< what the other clients get (ok): the message, re-serialised
  std::string answer;  ///< what the sender gets (!ok): a "refused" control message
};

/// Checks |text| from |peer| at monotonic time |now_ms| (the rate limit counts every message,
/// refused ones included).
ControlVerdict CheckControl(ControlPeer* peer, std::string_view text, int64_t now_ms);

/// The "refused" control message for a message named |name| (may be empty), with |reason|.
std::string ControlRefusal(const std::string& name, const std::string& reason);
