// Reading the EventSub WebSocket envelope: strict about what a session needs, lenient about
// everything else (unknown keys, nulls where Twitch sends nulls).
#include "twitch/eventsub_message.h"

#include "core/time.h"

namespace {

bool Fail(std::string* err, const std::string& what) {
  *err = what;
  return false;
}

bool ParseType(const std::string& name, EventSubMessageType* type) {
  for (EventSubMessageType t : {EventSubMessageType::kWelcome, EventSubMessageType::kKeepalive,
                                EventSubMessageType::kNotification, EventSubMessageType::kReconnect,
                                EventSubMessageType::kRevocation}) {
    if (name == EventSubMessageTypeName(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

bool ReadSession(const json_t* payload, EventSubMessage* out, std::string* err) {
  const json_t* session = json_object_get(payload, "session");
  if (!json_is_object(session)) return Fail(err, "payload.session: missing");
  EventSubSession& s = out->session;
  s.id = JsonString(session, "id");
  s.status = JsonString(session, "status");
  s.reconnect_url = JsonString(session, "reconnect_url");
  const json_t* keepalive = json_object_get(session, "keepalive_timeout_seconds");
  if (json_is_integer(keepalive) && json_integer_value(keepalive) > 0 &&
      json_integer_value(keepalive) <= 3600) {
    s.keepalive_timeout_seconds = static_cast<int>(json_integer_value(keepalive));
  }
  if (out->type == EventSubMessageType::kWelcome) {
    if (s.id.empty()) return Fail(err, "payload.session.id: missing");
    if (s.keepalive_timeout_seconds == 0) {
      return Fail(err, "payload.session.keepalive_timeout_seconds: missing or not 1 to 3600");
    }
  } else if (s.reconnect_url.empty()) {
    return Fail(err, "payload.session.reconnect_url: missing");
  }
  return true;
}

bool ReadSubscription(const json_t* payload, const json_t* metadata, EventSubMessage* out,
                      std::string* err) {
  const json_t* sub = json_object_get(payload, "subscription");
  if (!json_is_object(sub)) return Fail(err, "payload.subscription: missing");
  out->subscription_type = JsonString(sub, "type", JsonString(metadata, "subscription_type"));
  out->subscription_version =
      JsonString(sub, "version", JsonString(metadata, "subscription_version"));
  out->subscription_id = JsonString(sub, "id");
  out->subscription_status = JsonString(sub, "status");
  if (out->subscription_type.empty()) return Fail(err, "payload.subscription.type: missing");
  if (out->type == EventSubMessageType::kNotification &&
      !json_is_object(json_object_get(payload, "event")) &&
      !json_is_array(json_object_get(payload, "events"))) {
    return Fail(err, "payload.event: missing");
  }
  return true;
}

}  // namespace

const char* EventSubMessageTypeName(EventSubMessageType type) {
  switch (type) {
    case EventSubMessageType::kWelcome:
      return "session_welcome";
    case EventSubMessageType::kKeepalive:
      return "session_keepalive";
    case EventSubMessageType::kNotification:
      return "notification";
    case EventSubMessageType::kReconnect:
      return "session_reconnect";
    case EventSubMessageType::kRevocation:
      return "revocation";
  }
  return "unknown";
}

bool ParseEventSubMessage(std::string_view text, EventSubMessage* out, std::string* err) {
  *out = EventSubMessage();
  std::string why;
  out->root = JsonParse(text, &why);
  if (!out->root) return Fail(err, "not JSON: " + why);
  const json_t* metadata = json_object_get(out->root.get(), "metadata");
  if (!json_is_object(metadata)) return Fail(err, "metadata: missing");
  std::string type = JsonString(metadata, "message_type");
  if (type.empty()) return Fail(err, "metadata.message_type: missing");
  if (!ParseType(type, &out->type)) {
    return Fail(err, "metadata.message_type: \"" + type + "\" is not one Twitch documents");
  }
  out->message_id = JsonString(metadata, "message_id");
  if (out->message_id.empty()) return Fail(err, "metadata.message_id: missing");
  out->message_timestamp = JsonString(metadata, "message_timestamp");
  if (!ParseRfc3339(out->message_timestamp, &out->timestamp_ms)) {
    return Fail(err, "metadata.message_timestamp: not an RFC 3339 time");
  }
  out->payload = json_object_get(out->root.get(), "payload");
  if (!json_is_object(out->payload)) {
    out->payload = nullptr;
    return Fail(err, "payload: missing");
  }
  switch (out->type) {
    case EventSubMessageType::kKeepalive:
      return true;
    case EventSubMessageType::kWelcome:
    case EventSubMessageType::kReconnect:
      return ReadSession(out->payload, out, err);
    case EventSubMessageType::kNotification:
    case EventSubMessageType::kRevocation:
      return ReadSubscription(out->payload, metadata, out, err);
  }
  return true;
}
