// The control channel's rules (see control.h and twitch-events(7), CONTROL MESSAGES).
#include "ws/control.h"

#include <jansson.h>

#include <cstring>
#include <initializer_list>

#include "core/json.h"
#include "core/secret.h"

namespace {

constexpr size_t kMaxName = 64;  // "overlay", "from", "name"
constexpr size_t kMaxId = 256;

// Every control message may carry these; each name adds its own.
constexpr const char* kCommonKeys[] = {"v", "control", "overlay", "from"};

// The types a test button may send: those an overlay shows (not gap or notice).
constexpr const char* kTestTypes[] = {"follow",    "sub",          "resub", "subgift",
                                      "giftbomb",  "cheer",        "raid",  "redemption",
                                      "hypetrain", "announcement", "host",  "chat"};

struct Rule {
  const char* name;
  bool command;                              // needs the control token
  std::initializer_list<const char*> extra;  // keys beyond kCommonKeys
};

const Rule kRules[] = {
    {"replay", true, {"id", "event"}},
    {"skip", true, {}},
    {"pause", true, {}},
    {"resume", true, {}},
    {"mute", true, {"muted"}},
    {"test", true, {"event"}},
    {"status", false, {"name", "queue", "paused", "muted", "current", "shown"}},
};

// Names that only ws-serve itself sends.
constexpr const char* kServerNames[] = {"hello", "refused", "catchup"};

template <typename List>
bool Contains(const List& list, const char* s) {
  for (const char* k : list) {
    if (strcmp(k, s) == 0) return true;
  }
  return false;
}

bool ShortString(const json_t* j, size_t most) {
  return json_is_string(j) && json_string_length(j) > 0 && json_string_length(j) <= most;
}

// An event carried by replay or test: an object with a string type, and no "control".
bool CheckEvent(const json_t* ev, bool test, std::string* why) {
  if (!json_is_object(ev)) return *why = "\"event\" is not an object", false;
  const json_t* type = json_object_get(ev, "type");
  if (!json_is_string(type)) return *why = "\"event\" has no string \"type\"", false;
  if (json_object_get(ev, "control")) return *why = "\"event\" is a control message", false;
  if (!ShortString(json_object_get(ev, "id"), kMaxId)) {
    return *why = "\"event\" has no string \"id\"", false;
  }
  if (test && !Contains(kTestTypes, json_string_value(type))) {
    return *why = std::string("\"event\": no test for type \"") + json_string_value(type) + "\"",
           false;
  }
  return true;
}

// The keys and values of a message whose name passed: "" when all is well, else why not.
std::string CheckBody(const Rule& rule, json_t* msg) {
  const char* key;
  json_t* value;
  json_object_foreach(msg, key, value) {
    if (!Contains(kCommonKeys, key) && !Contains(rule.extra, key)) {
      return std::string("unknown key \"") + key + "\" in " + rule.name;
    }
  }
  for (const char* k : {"overlay", "from"}) {
    json_t* v = json_object_get(msg, k);
    if (v && !ShortString(v, kMaxName)) {
      return std::string("\"") + k + "\" is not a string of 1 to 64 bytes";
    }
  }
  std::string why;
  const std::string name = rule.name;
  if (name == "replay") {
    json_t* id = json_object_get(msg, "id");
    if (!ShortString(id, kMaxId)) return "replay without a string \"id\"";
    json_t* ev = json_object_get(msg, "event");
    if (ev && !CheckEvent(ev, false, &why)) return why;
    if (ev && strcmp(json_string_value(json_object_get(ev, "id")), json_string_value(id)) != 0) {
      return "\"event\" is not the event \"id\" names";
    }
  } else if (name == "mute") {
    if (!json_is_boolean(json_object_get(msg, "muted"))) {
      return "mute without \"muted\": true|false";
    }
  } else if (name == "test") {
    json_t* ev = json_object_get(msg, "event");
    if (!ev) return "test without an \"event\"";
    if (!CheckEvent(ev, true, &why)) return why;
  } else if (name == "status") {
    if (!json_object_get(msg, "overlay")) return "status without \"overlay\"";
    json_t* v;
    if ((v = json_object_get(msg, "name")) && !ShortString(v, kMaxName)) {
      return "\"name\" is not a string of 1 to 64 bytes";
    }
    for (const char* k : {"queue", "shown"}) {
      if ((v = json_object_get(msg, k)) && !(json_is_integer(v) && json_integer_value(v) >= 0)) {
        return std::string("\"") + k + "\" is not a count";
      }
    }
    for (const char* k : {"paused", "muted"}) {
      if ((v = json_object_get(msg, k)) && !json_is_boolean(v)) {
        return std::string("\"") + k + "\" is not true or false";
      }
    }
    if ((v = json_object_get(msg, "current")) && !json_is_null(v) && !json_is_object(v)) {
      return "\"current\" is neither an object nor null";
    }
  }
  return "";
}

std::string Refuse(ControlVerdict* v, const std::string& reason) {
  v->ok = false;
  v->reason = reason;
  v->answer = ControlRefusal(v->name, reason);
  return reason;
}

}  // namespace

bool ControlRateLimit::Take(int64_t now_ms) {
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ += static_cast<double>(now_ms - last_ms_) * per_second_ / 1000.0;
    if (tokens_ > burst_) tokens_ = burst_;
  }
  if (last_ms_ < 0 || now_ms > last_ms_) last_ms_ = now_ms;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void ControlPeer::Queue(std::string msg) {
  outbox.push_back(std::move(msg));
  while (outbox.size() > kMaxControlOutbox) {
    outbox.pop_front();
    dropped++;
  }
}

std::string JoinControl(ControlPeer* peer, const char* presented, bool subscribe,
                        const std::string& control_token) {
  peer->joined = presented != nullptr || subscribe;
  peer->may_command = false;
  if (!peer->joined) return "";
  std::string reason;
  if (presented == nullptr) {
    reason = "read-only: no control token presented (?control=TOKEN)";
  } else if (control_token.empty()) {
    reason = "read-only: ws-serve has no control token (--control-token-file)";
  } else if (!SecretEquals(presented, control_token)) {
    reason = "read-only: wrong control token";
  } else {
    peer->may_command = true;
  }
  JsonPtr hello = JsonOwn(json_object());
  json_object_set_new(hello.get(), "v", json_integer(1));
  json_object_set_new(hello.get(), "control", json_string("hello"));
  json_object_set_new(hello.get(), "allowed", json_boolean(peer->may_command));
  if (!reason.empty()) json_object_set_new(hello.get(), "reason", json_string(reason.c_str()));
  return JsonDump(hello.get());
}

bool LooksLikeControl(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos || text[start] != '{') return false;
  if (text.find("\"control\"") == std::string_view::npos) return false;
  json_error_t error;
  JsonPtr j = JsonOwn(json_loadb(text.data(), text.size(), 0, &error));
  return j && json_is_object(j.get()) && json_object_get(j.get(), "control") != nullptr;
}

ControlVerdict CheckControl(ControlPeer* peer, std::string_view text, int64_t now_ms) {
  ControlVerdict v;
  if (!peer->limit.Take(now_ms)) {
    Refuse(&v, "too many control messages: at most 10 a second (30 at once)");
    return v;
  }
  if (text.size() > kMaxControlBytes) {
    Refuse(&v, "too large: " + std::to_string(text.size()) + " bytes, at most " +
                   std::to_string(kMaxControlBytes));
    return v;
  }
  json_error_t error;
  JsonPtr j = JsonOwn(json_loadb(text.data(), text.size(), JSON_REJECT_DUPLICATES, &error));
  if (!j) {
    Refuse(&v, std::string("not JSON: ") + error.text);
    return v;
  }
  json_t* msg = j.get();
  if (!json_is_object(msg) || !json_is_string(json_object_get(msg, "control"))) {
    Refuse(&v, "not a control message: no string \"control\"");
    return v;
  }
  v.name = json_string_value(json_object_get(msg, "control"));
  if (v.name.size() > kMaxName) v.name.clear();  // named in no answer
  if (json_object_get(msg, "type")) {
    Refuse(&v, "has a \"type\": a control message must not look like an event");
    return v;
  }
  json_t* version = json_object_get(msg, "v");
  if (!json_is_integer(version) || json_integer_value(version) != 1) {
    Refuse(&v, "no \"v\": 1");
    return v;
  }
  if (Contains(kServerNames, v.name.c_str())) {
    Refuse(&v, "\"" + v.name + "\" is sent by ws-serve, not by clients");
    return v;
  }
  const Rule* rule = nullptr;
  for (const Rule& r : kRules) {
    if (v.name == r.name) rule = &r;
  }
  if (!rule) {
    Refuse(&v, "unknown control message \"" + v.name + "\"");
    return v;
  }
  if (rule->command && !peer->may_command) {
    Refuse(&v, "read-only: " + v.name + " needs the control token (?control=TOKEN)");
    return v;
  }
  std::string why = CheckBody(*rule, msg);
  if (!why.empty()) {
    Refuse(&v, why);
    return v;
  }
  v.ok = true;
  v.relay = JsonDump(msg);
  return v;
}

std::string ControlRefusal(const std::string& name, const std::string& reason) {
  JsonPtr r = JsonOwn(json_object());
  json_object_set_new(r.get(), "v", json_integer(1));
  json_object_set_new(r.get(), "control", json_string("refused"));
  if (!name.empty()) {
    json_object_set_new(r.get(), "refused", json_stringn(name.data(), name.size()));
  }
  json_object_set_new(r.get(), "reason", json_stringn(reason.data(), reason.size()));
  return JsonDump(r.get());
}
