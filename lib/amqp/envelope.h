// What amqp-sub writes for one delivery: the body as it is (when it is one line of JSON), or with
// --envelope one JSON object that also carries where the message came from.
#pragma once

#include <amqp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"

/// An AMQP field table (message headers) as a JSON object: strings stay strings (bytes that are
/// not UTF-8 become null), numbers, booleans, nested tables and arrays convert naturally,
/// timestamps become integers (seconds), anything else null.
JsonPtr AmqpTableToJson(const amqp_table_t& table);

/// The delivery fields an envelope carries.
struct Delivery {
  std::string exchange;
  std::string routing_key;
  uint64_t delivery_tag = 0;
  bool redelivered = false;
};

/// Turns one message body into the line to write. Without |envelope|, the body itself when it
/// is JSON and has no raw newline. With |envelope|: {"exchange","routing_key","delivery_tag",
/// "redelivered","headers","body"}, the body embedded as JSON when it parses and as a string
/// otherwise. Returns false with |why| when the body cannot be written as one line (not JSON,
/// a raw newline, or, in an envelope, not UTF-8): the message is then rejected.
bool DeliveryToLine(const Delivery& d, const amqp_basic_properties_t& props, std::string_view body,
                    bool envelope, std::string* line, std::string* why);
