// libFuzzer target for the EventSub envelope and the notification mapping: any bytes as one
// WebSocket message and, when they are JSON, as a webhook body too, with --raw on. Invariants: no
// crash, a message that parses has what its type needs, every notification that maps gives
// events that pass the schema, and every event serialises to JSON that parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "twitch/eventsub_events.h"
#include "twitch/eventsub_message.h"

namespace {

void MapAndCheck(const json_t* notification, const EventSubDelivery& delivery) {
  std::vector<JsonPtr> out;
  std::string err;
  EventSubMapOptions opts;
  opts.raw = true;
  if (!MapEventSubNotification(notification, delivery, opts, &out, &err)) {
    if (!out.empty() || err.empty()) abort();
    return;
  }
  for (const JsonPtr& ev : out) {
    if (!ValidateEvent(ev.get(), &err)) abort();
    if (!JsonParse(JsonDump(ev.get()), &err)) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool init = [] {
    LogInit("eventsub_map_fuzz");
    LogSetLevel(LogLevel::kError);
    return true;
  }();
  (void)init;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  EventSubMessage msg;
  std::string err;
  if (ParseEventSubMessage(text, &msg, &err)) {
    if (msg.message_id.empty() || !msg.payload) abort();
    if (msg.type == EventSubMessageType::kWelcome &&
        (msg.session.id.empty() || msg.session.keepalive_timeout_seconds <= 0)) {
      abort();
    }
    if (msg.type == EventSubMessageType::kReconnect && msg.session.reconnect_url.empty()) abort();
    if (msg.type == EventSubMessageType::kNotification) {
      EventSubDelivery d;
      d.message_id = msg.message_id;
      d.message_timestamp = msg.message_timestamp;
      MapAndCheck(msg.payload, d);
    }
    return 0;
  }
  if (err.empty()) abort();
  JsonPtr body = JsonParse(text, &err);
  if (!body) return 0;
  EventSubDelivery d;
  d.source = "webhook";
  d.message_id = "fuzz";
  d.message_timestamp = "2026-03-01T18:00:00Z";
  MapAndCheck(body.get(), d);
  return 0;
}
