// jansson helpers: parsing one value, compact dumps, dotted-path lookups.
#include "core/json.h"

#include <cstdlib>

namespace {

int AppendTo(const char* buffer, size_t size, void* data) {
  static_cast<std::string*>(data)->append(buffer, size);
  return 0;
}

}  // namespace

JsonPtr JsonParse(std::string_view text, std::string* err) {
  json_error_t error;
  json_t* j = json_loadb(text.data(), text.size(), JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
  if (!j) {
    *err = "line " + std::to_string(error.line) + " column " + std::to_string(error.column) + ": " +
           error.text;
  }
  return JsonOwn(j);
}

std::string JsonDump(const json_t* j) {
  std::string out;
  JsonAppend(j, &out);
  return out;
}

void JsonAppend(const json_t* j, std::string* out) {
  size_t before = out->size();
  if (!j || json_dump_callback(j, AppendTo, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
    out->resize(before);
    out->append("null");
  }
}

json_t* JsonPath(json_t* root, std::string_view dotted) {
  json_t* cur = root;
  while (cur) {
    size_t dot = dotted.find('.');
    std::string key(dotted.substr(0, dot));
    if (!json_is_object(cur)) return nullptr;
    cur = json_object_get(cur, key.c_str());
    if (dot == std::string_view::npos) return cur;
    dotted.remove_prefix(dot + 1);
  }
  return nullptr;
}

std::string JsonString(const json_t* obj, const char* key, const std::string& fallback) {
  const json_t* v = json_object_get(obj, key);
  return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : fallback;
}
