// KeyTemplate: "{a.b}" paths resolved through core's JsonPath, literal text kept.
#include "amqp/key_template.h"

#include <cstdio>

#include "core/json.h"

bool KeyTemplate::Parse(const std::string& text, std::string* err) {
  parts_.clear();
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '}') {
      *err = "unmatched '}' at offset " + std::to_string(i);
      return false;
    }
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    size_t close = text.find('}', i + 1);
    if (close == std::string::npos) {
      *err = "unmatched '{' at offset " + std::to_string(i);
      return false;
    }
    std::string path = text.substr(i + 1, close - i - 1);
    if (path.empty() || path.find('{') != std::string::npos) {
      *err = "bad path '{" + path + "}'";
      return false;
    }
    if (!literal.empty()) parts_.push_back({false, literal});
    literal.clear();
    parts_.push_back({true, path});
    i = close + 1;
  }
  if (!literal.empty()) parts_.push_back({false, literal});
  return true;
}

std::string KeyTemplate::Render(json_t* event) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.is_path) {
      out += part.text;
      continue;
    }
    json_t* v = JsonPath(event, part.text);
    if (json_is_string(v) && json_string_length(v) > 0) {
      out.append(json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
      out += std::to_string(json_integer_value(v));
    } else if (json_is_real(v)) {
      char buf[32];
      snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
      out += buf;
    } else if (json_is_boolean(v)) {
      out += json_is_true(v) ? "true" : "false";
    } else {
      out += '_';
    }
  }
  return out;
}

bool KeyTemplate::literal() const {
  for (const Part& part : parts_) {
    if (part.is_path) return false;
  }
  return true;
}
