// libFuzzer target for the IRC parser and the event mapping: any bytes as one line, every mapping
// option on. Invariants: no crash, the hand-written --all record equals jansson's, every event
// written passes the schema, and every record serialises to JSON that parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/json.h"
#include "core/log.h"
#include "twitch/irc_events.h"
#include "twitch/irc_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool init = [] {
    LogInit("irc_parse_fuzz");
    LogSetLevel(LogLevel::kError);
    return true;
  }();
  (void)init;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  IrcMessage msg;
  std::string err;
  if (!ParseIrcLine(line, &msg, &err)) return 0;
  for (const IrcTag& tag : msg.tags) (void)UnescapeTagValue(tag.value);
  // The --all record is written by hand: it must be exactly jansson's text for the same tree.
  std::string record;
  AppendIrcRecordJson(msg, &record);
  JsonPtr tree = JsonOwn(json_object());
  SetString(tree.get(), "type", "irc");
  json_object_update(tree.get(), IrcMessageToJson(msg).get());
  if (record != JsonDump(tree.get())) abort();
  std::vector<JsonPtr> out;
  MapIrcMessage(msg, IrcMapOptions{true, true, true}, &out);
  for (const JsonPtr& record : out) {
    if (JsonString(record.get(), "type") != "irc" && !ValidateEvent(record.get(), &err)) abort();
    std::string text = JsonDump(record.get());
    if (!JsonParse(text, &err)) abort();
  }
  return 0;
}
