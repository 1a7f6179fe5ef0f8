// libFuzzer target for the routing-key template of amqp-pub (--routing-key, --header): the bytes
// up to the first '\n' are the template, the rest an event, as JSON. Invariants: no crash; a
// template that parses renders against any object; a literal one renders as its own text, event
// or not; a path never renders as nothing (a missing one is "_").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "amqp/key_template.h"
#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string text(in.substr(0, nl));
  std::string_view json = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  KeyTemplate tmpl;
  std::string err;
  if (!tmpl.Parse(text, &err)) {
    if (err.empty()) abort();
    return 0;
  }
  JsonPtr event = JsonParse(json, &err);
  if (!event || !json_is_object(event.get())) event = JsonOwn(json_object());
  JsonPtr empty = JsonOwn(json_object());
  std::string with = tmpl.Render(event.get());
  std::string without = tmpl.Render(empty.get());
  if (tmpl.literal() && (with != text || without != text)) abort();
  if (!tmpl.literal() && without.empty()) abort();
  return 0;
}
