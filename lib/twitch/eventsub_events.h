// EventSub notifications → schema-v1 events (DESIGN.md, man/twitch-events.7): one mapping for
// the WebSocket transport (twitch-eventsub) and webhooks (twitch-hook). A notification is its
// `subscription` and `event` objects, which a WebSocket message carries as `payload` and a
// webhook as its body, plus the message id and timestamp of its envelope. Stateless: gift bombs
// are grouped, as twitch-irc groups them, by the community gift id the chat notifications carry.
#pragma once

#include <jansson.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

/// Where a notification came from: the envelope's facts, from a WebSocket message's metadata
/// or a webhook's Twitch-Eventsub-Message-* headers.
struct EventSubDelivery {
  std::string_view source = "eventsub";  ///< "eventsub" (WebSocket) or "webhook"
  std::string_view message_id;           ///< metadata.message_id / Twitch-Eventsub-Message-Id
  std::string_view message_timestamp;    ///< RFC 3339 as sent (any fraction digits)
};

/// What to write besides the events.
struct EventSubMapOptions {
  bool raw = false;  ///< attach the notification ({"subscription","event"}) to each event as "raw"
};

/// Appends the schema-v1 events of one notification to |out|. |notification| is an object with
/// "subscription" (whose "type" names the kind) and "event" (or, for the batching types,
/// "events": [{"id","data"}], each mapped on its own with that id). Every subscription type and
/// chat notice type that schema v1 has no type for becomes a "notice" with "kind"; nothing is
/// dropped. The event "id" is the chat message id for channel.chat.notification (the IRC "id" of
/// the same notice), else |delivery.message_id|; "at" is the event's own time where it has one,
/// else the message timestamp, else now. Every event appended passes ValidateEvent(); one that
/// would not is logged and written as a "notice" instead. Returns false, appending nothing and
/// saying why in |err|, when |notification| has no subscription type or no event object.
bool MapEventSubNotification(const json_t* notification, const EventSubDelivery& delivery,
                             const EventSubMapOptions& opts, std::vector<JsonPtr>* out,
                             std::string* err);

/// The "fragments" of an EventSub chat message ({"text","fragments":[...]}) in the schema's
/// shape (text, emote, cheermote, mention parts); null when every part is text, when there are
/// none, or when the parts' texts do not join to "text" exactly.
JsonPtr EventSubFragments(const json_t* message);
