// libFuzzer target for what amqp-sub makes of a delivery: the first byte picks --envelope and the
// redelivered flag, the next two give the length of a basic-class content header's property
// bytes, decoded by rabbitmq-c as they come off the wire (headers table included), and the rest
// is the body. Invariants: no crash; a line written has no raw newline and is JSON that parses
// back; without --envelope it is the body itself; a message refused says why.
#include <amqp.h>
#include <amqp_framing.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "amqp/envelope.h"
#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const bool envelope = data[0] & 1;
  size_t props_len = (size_t(data[1]) << 8) | data[2];
  data += 3;
  size -= 3;
  if (props_len > size) props_len = size;
  amqp_pool_t pool;
  init_amqp_pool(&pool, 4096);
  amqp_basic_properties_t props{};
  amqp_bytes_t encoded{props_len, const_cast<uint8_t*>(data)};
  void* decoded = nullptr;
  if (amqp_decode_properties(AMQP_BASIC_CLASS, &pool, encoded, &decoded) == AMQP_STATUS_OK &&
      decoded) {
    props = *static_cast<amqp_basic_properties_t*>(decoded);
  }
  std::string_view body(reinterpret_cast<const char*>(data + props_len), size - props_len);
  Delivery d{"amq.topic", "twitch.alerts", 42, (data[-3] & 2) != 0};
  std::string line, why, err;
  if (DeliveryToLine(d, props, body, envelope, &line, &why)) {
    if (line.find('\n') != std::string::npos) abort();
    if (!JsonParse(line, &err)) abort();
    if (!envelope && line != body) abort();
  } else if (why.empty()) {
    abort();
  }
  empty_amqp_pool(&pool);
  return 0;
}
