// PubSub MESSAGE payloads → schema-v1 events with "source":"pubsub" (DESIGN.md,
// twitch-events(7)): channel-subscribe-events-v1 (subs, resubs, gifts, multi-month subs),
// channel-sub-gifts-v1 (gift bombs), channel-bits-events-v1/v2 (cheers),
// channel-bits-badge-unlocks and channel-points-channel-v1 (redemptions; the undocumented
// community-points-channel-v1 alike). Anything else becomes a "notice" whose "kind" names it;
// nothing is dropped.
//
// Unlike IRC, PubSub names no link between a gift bomb and its gifts: the bomb
// ("mystery-gift-purchase" on channel-sub-gifts-v1) carries a uuid and a count, and the gifts
// that follow on channel-subscribe-events-v1 are plain "subgift" messages of the same gifter and
// tier. So the mapper is stateful: it remembers each bomb for a while and gives its "group" to the
// next |count| matching gifts. A gift that arrives before its bomb stays a single gift.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

/// What to attach besides the event.
struct PubSubMapOptions {
  bool raw = false;  ///< attach {"topic","message"} (the inner message parsed) as "raw"
};

/// How long after a gift bomb (or after its latest gift) its remaining gifts are still awaited.
constexpr int64_t kPubSubGiftWindowMs = 60 * 1000;

/// Maps PubSub messages to events, keeping the gift bombs that still await their gifts.
class PubSubMapper {
 public:
  explicit PubSubMapper(PubSubMapOptions opts = {}) : opts_(opts) {}

  /// Appends the events of one MESSAGE: its |topic| ("channel-bits-events-v2.777000222") and its
  /// inner |message| (the JSON text inside the frame's string). |now_ms| is the time it arrived:
  /// the "at" of payloads without a time of their own, and the clock of the gift-bomb window.
  /// Returns false with |err| (and appends nothing) when |message| is not a JSON object: the
  /// caller logs and counts it. Every event appended passes ValidateEvent(); a payload of a known
  /// kind that would not is logged and becomes a "notice".
  bool Map(std::string_view topic, std::string_view message, int64_t now_ms,
           std::vector<JsonPtr>* out, std::string* err);

  /// Parses one server frame (pubsub_protocol.h) and maps it when it is a MESSAGE; other frames
  /// (RESPONSE, PONG, ...) append nothing and return true. Returns false with |err| when the
  /// frame or its inner message is malformed.
  bool MapFrame(std::string_view frame, int64_t now_ms, std::vector<JsonPtr>* out,
                std::string* err);

  /// The gift bombs still awaiting gifts (bounded: the oldest is forgotten past 64).
  size_t open_gift_bombs() const { return bombs_.size(); }

 private:
  struct GiftBomb {
    std::string gifter;  ///< user id, or "" for an anonymous gifter
    std::string tier;
    std::string group;
    long long remaining;
    int64_t until_ms;
  };

  JsonPtr MapOne(std::string_view topic_name, std::string_view channel_id, json_t* message,
                 const std::string& digest, int64_t now_ms);
  JsonPtr SubEvent(json_t* message, std::string_view channel_id, const std::string& id,
                   int64_t now_ms);
  void OpenBomb(const json_t* bomb_event, int64_t now_ms);
  void GroupGift(json_t* gift_event, int64_t now_ms);

  PubSubMapOptions opts_;
  std::vector<GiftBomb> bombs_;
};

/// The id of an event whose payload has none: a name-based UUID (version 8, RFC 9562) from the
/// SHA-256 of |topic|, a newline and |message|, so the same message delivered twice, or replayed
/// from a capture, gets the same id.
std::string PubSubDigestId(std::string_view topic, std::string_view message);
