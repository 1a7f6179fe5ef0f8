// The schema-v1 event (DESIGN.md, man/twitch-events.7): the contract between every stage.
// Listeners build events here; any stage can validate one.
#pragma once

#include <jansson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

/// The schema version written in every event's "v".
constexpr int kEventSchemaVersion = 1;

/// Every event type of schema v1, in the order of the schema table.
const std::vector<std::string>& EventTypes();

/// True if |type| is a schema-v1 type.
bool IsEventType(std::string_view type);

/// The sources an event may name in "source".
bool IsEventSource(std::string_view source);

/// A Twitch user or channel: keys that are empty are left out of the JSON.
struct Identity {
  std::string id;
  std::string login;
  std::string name;
  bool empty() const { return id.empty() && login.empty() && name.empty(); }
};

/// Returns a new event object {"v":1,"type","id","source","at"} with keys in schema order.
/// |at| is RFC 3339 UTC with milliseconds (time.h); empty means now.
JsonPtr NewEvent(std::string_view type, std::string_view source, std::string_view id,
                 std::string_view at = {});

/// A "gap" event: |source| may have missed events of |channel| between |from_ms| and |to_ms|
/// (milliseconds since the epoch), as after a lost connection. Its "at" is |to_ms|.
JsonPtr NewGapEvent(std::string_view source, const Identity& channel, int64_t from_ms,
                    int64_t to_ms);

/// Sets |key| (e.g. "channel", "user", "recipient") to {"id","login","name"} without empty keys.
void SetIdentity(json_t* event, const char* key, const Identity& who);

/// Marks the act anonymous: removes "user" and sets "anonymous": true.
void SetAnonymous(json_t* event);

/// Convenience setters that keep call sites short.
void SetString(json_t* obj, const char* key, std::string_view value);
void SetInt(json_t* obj, const char* key, long long value);
void SetBool(json_t* obj, const char* key, bool value);

/// A fresh random UUID (version 4), for events that have no id at their source.
std::string NewUuid();

/// Checks |event| against schema v1: common keys, the type's required keys and the JSON types of
/// every known key. Returns false with the first problem in |err| ("months: not an integer").
bool ValidateEvent(const json_t* event, std::string* err);
