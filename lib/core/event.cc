// Schema v1: building events in schema key order, and checking any event against the schema.
#include "core/event.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "core/time.h"

const std::vector<std::string>& EventTypes() {
  static const std::vector<std::string> kTypes = {
      "follow",     "sub",       "resub",        "subgift", "giftbomb", "cheer", "raid",
      "redemption", "hypetrain", "announcement", "chat",    "host",     "gap",   "notice"};
  return kTypes;
}

bool IsEventType(std::string_view type) {
  const auto& types = EventTypes();
  return std::find(types.begin(), types.end(), type) != types.end();
}

bool IsEventSource(std::string_view source) {
  return source == "irc" || source == "eventsub" || source == "webhook" || source == "pubsub" ||
         source == "trigger";
}

void SetString(json_t* obj, const char* key, std::string_view value) {
  json_object_set_new(obj, key, json_stringn(value.data(), value.size()));
}

void SetInt(json_t* obj, const char* key, long long value) {
  json_object_set_new(obj, key, json_integer(value));
}

void SetBool(json_t* obj, const char* key, bool value) {
  json_object_set_new(obj, key, json_boolean(value));
}

JsonPtr NewEvent(std::string_view type, std::string_view source, std::string_view id,
                 std::string_view at) {
  JsonPtr ev = JsonOwn(json_object());
  SetInt(ev.get(), "v", kEventSchemaVersion);
  SetString(ev.get(), "type", type);
  SetString(ev.get(), "id", id);
  SetString(ev.get(), "source", source);
  SetString(ev.get(), "at", at.empty() ? std::string_view(NowRfc3339()) : at);
  return ev;
}

void SetIdentity(json_t* event, const char* key, const Identity& who) {
  json_t* obj = json_object();
  if (!who.id.empty()) SetString(obj, "id", who.id);
  if (!who.login.empty()) SetString(obj, "login", who.login);
  if (!who.name.empty()) SetString(obj, "name", who.name);
  json_object_set_new(event, key, obj);
}

void SetAnonymous(json_t* event) {
  json_object_del(event, "user");
  SetBool(event, "anonymous", true);
}

std::string NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // The CSPRNG failing is not expected; fall back to the clock so ids stay distinct.
    int64_t now = NowMillis();
    for (size_t i = 0; i < sizeof b; ++i) b[i] = static_cast<unsigned char>(now >> (i % 8 * 8));
  }
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  char out[37];
  snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return out;
}

namespace {

bool Fail(std::string* err, const std::string& key, const char* problem) {
  *err = key + ": " + problem;
  return false;
}

bool IsTimestamp(const json_t* v) {
  if (!json_is_string(v)) return false;
  std::string_view s(json_string_value(v), json_string_length(v));
  int64_t ms;
  // Schema form exactly: 2026-03-01T18:04:12.551Z
  return s.size() == 24 && s[19] == '.' && s[23] == 'Z' && ParseRfc3339(s, &ms);
}

bool CheckString(const json_t* obj, const std::string& key, bool required, std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (!v) return required ? Fail(err, key, "missing") : true;
  if (!json_is_string(v)) return Fail(err, key, "not a string");
  return true;
}

bool CheckInt(const json_t* obj, const std::string& key, bool required, long long min,
              std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (!v) return required ? Fail(err, key, "missing") : true;
  if (!json_is_integer(v)) return Fail(err, key, "not an integer");
  if (json_integer_value(v) < min) {
    return Fail(err, key, min == 0 ? "negative" : "below its minimum");
  }
  return true;
}

bool CheckBool(const json_t* obj, const std::string& key, std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (v && !json_is_boolean(v)) return Fail(err, key, "not a boolean");
  return true;
}

bool CheckEnum(const json_t* obj, const std::string& key, bool required,
               std::initializer_list<const char*> allowed, std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (!v) return required ? Fail(err, key, "missing") : true;
  if (!json_is_string(v)) return Fail(err, key, "not a string");
  for (const char* a : allowed) {
    if (std::string_view(json_string_value(v)) == a) return true;
  }
  return Fail(err, key, "not one of the allowed values");
}

bool CheckIdentity(const json_t* obj, const std::string& key, bool required, std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (!v) return required ? Fail(err, key, "missing") : true;
  if (!json_is_object(v)) return Fail(err, key, "not an object");
  if (json_object_size(v) == 0) return Fail(err, key, "empty");
  for (const char* k : {"id", "login", "name"}) {
    if (!CheckString(v, k, false, err)) {
      *err = key + "." + *err;
      return false;
    }
  }
  return true;
}

bool CheckTimestamp(const json_t* obj, const std::string& key, bool required, std::string* err) {
  const json_t* v = json_object_get(obj, key.c_str());
  if (!v) return required ? Fail(err, key, "missing") : true;
  if (!IsTimestamp(v)) return Fail(err, key, "not an RFC 3339 UTC time with milliseconds");
  return true;
}

bool CheckSub(const json_t* e, std::string* err) {
  return CheckEnum(e, "tier", true, {"prime", "1000", "2000", "3000"}, err) &&
         CheckInt(e, "months", false, 0, err) && CheckInt(e, "streak", false, 0, err) &&
         CheckString(e, "message", false, err) && CheckBool(e, "gifted", err) &&
         CheckInt(e, "duration", false, 2, err);
}

bool CheckTypeKeys(const std::string& type, const json_t* e, std::string* err) {
  if (type == "follow") return true;
  if (type == "sub" || type == "resub") return CheckSub(e, err);
  if (type == "subgift") {
    return CheckIdentity(e, "recipient", true, err) &&
           CheckEnum(e, "tier", true, {"prime", "1000", "2000", "3000"}, err) &&
           CheckString(e, "group", false, err) && CheckInt(e, "months", false, 1, err);
  }
  if (type == "giftbomb") {
    return CheckInt(e, "count", true, 1, err) &&
           CheckEnum(e, "tier", true, {"prime", "1000", "2000", "3000"}, err) &&
           CheckInt(e, "total", false, 0, err) && CheckString(e, "group", false, err);
  }
  if (type == "cheer")
    return CheckInt(e, "bits", true, 1, err) && CheckString(e, "message", false, err);
  if (type == "raid") return CheckInt(e, "viewers", true, 0, err);
  if (type == "redemption") {
    const json_t* reward = json_object_get(e, "reward");
    if (!reward) return Fail(err, "reward", "missing");
    if (!json_is_object(reward)) return Fail(err, "reward", "not an object");
    if (!CheckString(reward, "id", true, err) || !CheckString(reward, "title", false, err) ||
        !CheckInt(reward, "cost", false, 0, err)) {
      *err = "reward." + *err;
      return false;
    }
    return CheckString(e, "message", false, err);
  }
  if (type == "hypetrain") {
    return CheckEnum(e, "phase", true, {"begin", "progress", "end"}, err) &&
           CheckInt(e, "level", false, 0, err) && CheckInt(e, "total", false, 0, err) &&
           CheckInt(e, "goal", false, 0, err) && CheckInt(e, "progress", false, 0, err) &&
           CheckTimestamp(e, "expires", false, err);
  }
  if (type == "announcement") return CheckString(e, "message", true, err);
  if (type == "chat") return CheckString(e, "message", true, err) && CheckBool(e, "action", err);
  if (type == "host") {
    const json_t* target = json_object_get(e, "target");
    if (!target) return Fail(err, "target", "missing");
    if (!json_is_object(target)) return Fail(err, "target", "not an object");
    if (!CheckString(target, "login", true, err)) {
      *err = "target." + *err;
      return false;
    }
    return CheckInt(e, "viewers", false, 0, err);
  }
  if (type == "gap") {
    return CheckTimestamp(e, "from", true, err) && CheckTimestamp(e, "to", true, err);
  }
  if (type == "notice")
    return CheckString(e, "kind", true, err) && CheckString(e, "system", false, err);
  return Fail(err, "type", "unknown");
}

}  // namespace

bool ValidateEvent(const json_t* event, std::string* err) {
  if (!json_is_object(event)) {
    *err = "not a JSON object";
    return false;
  }
  const json_t* v = json_object_get(event, "v");
  if (!v) return Fail(err, "v", "missing");
  if (!json_is_integer(v) || json_integer_value(v) != kEventSchemaVersion) {
    return Fail(err, "v", "not 1");
  }
  if (!CheckString(event, "type", true, err)) return false;
  std::string type = json_string_value(json_object_get(event, "type"));
  if (!IsEventType(type)) return Fail(err, "type", "not a schema-v1 event type");
  if (!CheckString(event, "id", true, err)) return false;
  if (json_string_length(json_object_get(event, "id")) == 0) return Fail(err, "id", "empty");
  if (!CheckString(event, "source", true, err)) return false;
  if (!IsEventSource(json_string_value(json_object_get(event, "source")))) {
    return Fail(err, "source", "not one of irc, eventsub, webhook, pubsub, trigger");
  }
  if (!CheckTimestamp(event, "at", true, err)) return false;
  if (!CheckIdentity(event, "channel", false, err) || !CheckIdentity(event, "user", false, err) ||
      !CheckBool(event, "anonymous", err) || !CheckBool(event, "shared", err)) {
    return false;
  }
  if (json_is_true(json_object_get(event, "anonymous")) && json_object_get(event, "user")) {
    return Fail(err, "user", "present although the act is anonymous");
  }
  return CheckTypeKeys(type, event, err);
}
