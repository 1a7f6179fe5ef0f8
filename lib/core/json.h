// RAII around jansson, and the compact one-line serialisation every stage writes.
#pragma once

#include <jansson.h>

#include <memory>
#include <string>
#include <string_view>

struct JsonDecref {
  void operator()(json_t* j) const { json_decref(j); }
};

/// Owns one jansson reference.
using JsonPtr = std::unique_ptr<json_t, JsonDecref>;

/// Takes ownership of a new reference (as returned by json_object(), json_loads(), ...).
inline JsonPtr JsonOwn(json_t* j) { return JsonPtr(j); }

/// Adds a reference to a borrowed |j| and owns it.
inline JsonPtr JsonRef(json_t* j) { return JsonPtr(json_incref(j)); }

/// Parses exactly one JSON value from |text| (surrounding whitespace allowed, nothing else).
/// Returns null and fills |err| ("line 1 column 5: ...") when |text| is not JSON.
JsonPtr JsonParse(std::string_view text, std::string* err);

/// Serialises |j| compactly on one line, keys in insertion order, UTF-8 kept as it is.
std::string JsonDump(const json_t* j);

/// The same serialisation appended to |out| (no intermediate copy).
void JsonAppend(const json_t* j, std::string* out);

/// Borrowed lookup of a dotted path ("channel.login") through nested objects; null when absent.
json_t* JsonPath(json_t* root, std::string_view dotted);

/// The string at |key| of object |obj|, or |fallback| when absent or not a string.
std::string JsonString(const json_t* obj, const char* key, const std::string& fallback = "");
