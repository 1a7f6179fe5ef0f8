// The EventSub WebSocket envelope ({"metadata","payload"}, twitch-protocols.md §3.2–3.3) read
// into what a session acts on: which of the five message types it is, its id and timestamp, the
// session's id, keepalive and reconnect URL, and the notification or revoked subscription.
// No I/O: the session that reads the socket is elsewhere.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

/// metadata.message_type.
enum class EventSubMessageType {
  kWelcome,       ///< session_welcome: the session's id; subscriptions are created now
  kKeepalive,     ///< session_keepalive: nothing else was sent for keepalive_timeout_seconds
  kNotification,  ///< notification: one event of a subscription
  kReconnect,     ///< session_reconnect: connect to reconnect_url, then close this socket
  kRevocation,    ///< revocation: a subscription was revoked (subscription_status says why)
};

/// The name Twitch gives |type| ("session_welcome", ...).
const char* EventSubMessageTypeName(EventSubMessageType type);

/// payload.session of a welcome or reconnect message.
struct EventSubSession {
  std::string id;                     ///< the session id subscriptions are bound to
  std::string status;                 ///< "connected", "reconnecting"
  int keepalive_timeout_seconds = 0;  ///< welcome: 10–600; 0 when null (reconnect)
  std::string reconnect_url;          ///< reconnect: the URL to open unchanged; else empty
};

/// One WebSocket message, read.
struct EventSubMessage {
  EventSubMessageType type = EventSubMessageType::kKeepalive;
  std::string message_id;         ///< metadata.message_id: the same on a resend
  std::string message_timestamp;  ///< metadata.message_timestamp as sent
  int64_t timestamp_ms = 0;       ///< the same in milliseconds since the epoch
  EventSubSession session;        ///< welcome and reconnect only
  /// Notification and revocation: payload.subscription's type, version, id and status
  /// ("enabled"; for a revocation the reason: "authorization_revoked", "user_removed", ...).
  std::string subscription_type, subscription_version, subscription_id, subscription_status;
  JsonPtr root;               ///< the whole message, owned
  json_t* payload = nullptr;  ///< root's "payload" object (borrowed): what
                              ///< MapEventSubNotification() takes for a notification
};

/// Reads one WebSocket text message. Returns false with the reason in |err| when it is not JSON,
/// not an envelope, of an unknown message type, or lacks what its type needs: a message id and a
/// timestamp always; a session id and a keepalive timeout for a welcome; a reconnect URL for a
/// reconnect; a subscription with a type (and an event or events for a notification) otherwise.
bool ParseEventSubMessage(std::string_view text, EventSubMessage* out, std::string* err);
