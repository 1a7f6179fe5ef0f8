// Conversion of deliveries to output lines, and of AMQP field values to JSON.
#include "amqp/envelope.h"

#include "core/utf8.h"

namespace {

JsonPtr FieldToJson(const amqp_field_value_t& v);

JsonPtr BytesToJson(amqp_bytes_t b) {
  std::string_view s(static_cast<const char*>(b.bytes), b.len);
  if (!IsValidUtf8(s)) return JsonOwn(json_null());
  return JsonOwn(json_stringn(s.data(), s.size()));
}

JsonPtr ArrayToJson(const amqp_array_t& a) {
  JsonPtr out = JsonOwn(json_array());
  for (int i = 0; i < a.num_entries; ++i) {
    json_array_append_new(out.get(), FieldToJson(a.entries[i]).release());
  }
  return out;
}

JsonPtr FieldToJson(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return JsonOwn(json_boolean(v.value.boolean));
    case AMQP_FIELD_KIND_I8:
      return JsonOwn(json_integer(v.value.i8));
    case AMQP_FIELD_KIND_U8:
      return JsonOwn(json_integer(v.value.u8));
    case AMQP_FIELD_KIND_I16:
      return JsonOwn(json_integer(v.value.i16));
    case AMQP_FIELD_KIND_U16:
      return JsonOwn(json_integer(v.value.u16));
    case AMQP_FIELD_KIND_I32:
      return JsonOwn(json_integer(v.value.i32));
    case AMQP_FIELD_KIND_U32:
      return JsonOwn(json_integer(v.value.u32));
    case AMQP_FIELD_KIND_I64:
      return JsonOwn(json_integer(v.value.i64));
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return JsonOwn(json_integer(static_cast<json_int_t>(v.value.u64)));
    case AMQP_FIELD_KIND_F32:
      return JsonOwn(json_real(v.value.f32));
    case AMQP_FIELD_KIND_F64:
      return JsonOwn(json_real(v.value.f64));
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return BytesToJson(v.value.bytes);
    case AMQP_FIELD_KIND_TABLE:
      return AmqpTableToJson(v.value.table);
    case AMQP_FIELD_KIND_ARRAY:
      return ArrayToJson(v.value.array);
    default:
      return JsonOwn(json_null());
  }
}

}  // namespace

JsonPtr AmqpTableToJson(const amqp_table_t& table) {
  JsonPtr out = JsonOwn(json_object());
  for (int i = 0; i < table.num_entries; ++i) {
    const amqp_table_entry_t& e = table.entries[i];
    std::string key(static_cast<const char*>(e.key.bytes), e.key.len);
    if (!IsValidUtf8(key)) continue;
    json_object_set_new(out.get(), key.c_str(), FieldToJson(e.value).release());
  }
  return out;
}

bool DeliveryToLine(const Delivery& d, const amqp_basic_properties_t& props, std::string_view body,
                    bool envelope, std::string* line, std::string* why) {
  std::string err;
  JsonPtr parsed = JsonParse(body, &err);
  if (!envelope) {
    if (body.find('\n') != std::string_view::npos) {
      *why = "the body contains a raw newline";
      return false;
    }
    if (!parsed) {
      *why = "the body is not JSON: " + err;
      return false;
    }
    line->assign(body.data(), body.size());
    return true;
  }
  if (!parsed && !IsValidUtf8(body)) {
    *why = "the body is neither JSON nor UTF-8 text";
    return false;
  }
  JsonPtr env = JsonOwn(json_object());
  json_object_set_new(env.get(), "exchange", json_string(d.exchange.c_str()));
  json_object_set_new(env.get(), "routing_key", json_string(d.routing_key.c_str()));
  json_object_set_new(env.get(), "delivery_tag",
                      json_integer(static_cast<json_int_t>(d.delivery_tag)));
  json_object_set_new(env.get(), "redelivered", json_boolean(d.redelivered));
  if (props._flags & AMQP_BASIC_HEADERS_FLAG) {
    json_object_set_new(env.get(), "headers", AmqpTableToJson(props.headers).release());
  } else {
    json_object_set_new(env.get(), "headers", json_object());
  }
  if (parsed) {
    json_object_set_new(env.get(), "body", parsed.release());
  } else {
    json_object_set_new(env.get(), "body", json_stringn(body.data(), body.size()));
  }
  *line = JsonDump(env.get());
  return true;
}
