// libFuzzer target for the PubSub frame parser and the event mapping: any bytes as one server
// frame, and the same bytes as the inner message of each topic the mapper knows, with and without
// --raw. Invariants: no crash, every event appended passes the schema, its "fragments" give back
// its "message", and every record serialises to JSON that parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "twitch/pubsub_events.h"
#include "twitch/pubsub_protocol.h"

namespace {

void Check(const std::vector<JsonPtr>& out) {
  std::string err;
  for (const JsonPtr& ev : out) {
    if (!ValidateEvent(ev.get(), &err)) abort();
    if (const json_t* parts = json_object_get(ev.get(), "fragments")) {
      std::string joined;
      size_t i;
      const json_t* part;
      json_array_foreach(parts, i, part) joined += JsonString(part, "text");
      if (joined != JsonString(ev.get(), "message")) abort();
    }
    if (!JsonParse(JsonDump(ev.get()), &err)) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool init = [] {
    LogInit("pubsub_map_fuzz");
    LogSetLevel(LogLevel::kError);
    return true;
  }();
  (void)init;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  PubSubFrame frame;
  std::string err;
  if (ParsePubSubFrame(text, &frame, &err)) {
    PubSubRequest matched;
    PubSubPendingRequests pending;
    pending.Add(PubSubListen(frame.nonce, {frame.topic}, "token"));
    (void)ClassifyPubSubError(frame.error);
    (void)pending.Take(frame, &matched);
  }
  for (bool raw : {false, true}) {
    PubSubMapper mapper(PubSubMapOptions{raw});
    std::vector<JsonPtr> out;
    (void)mapper.MapFrame(text, 1767225600000, &out, &err);
    for (const char* topic :
         {"channel-subscribe-events-v1.1", "channel-sub-gifts-v1.1", "channel-bits-events-v2.1",
          "channel-bits-badge-unlocks.1", "channel-points-channel-v1.1", "other"}) {
      // Twice, so that a gift bomb in the input meets its own gifts.
      (void)mapper.Map(topic, text, 1767225600000, &out, &err);
      (void)mapper.Map(topic, text, 1767225600001, &out, &err);
    }
    Check(out);
  }
  return 0;
}
