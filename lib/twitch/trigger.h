// Sample events for twitch-trigger: one schema-v1 event of a chosen type built from options, or a
// realistic random mix, the way a "test alert" button would fire them. Every event has
// "source":"trigger", a fresh UUID id and "at" = now; a gift bomb is the giftbomb event followed
// by its subgifts, all with one "group", as a real listener emits it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/json.h"

/// What to trigger. Unset optionals take the type's defaults (man/twitch-trigger.1); an option
/// the type does not use is a usage error, so that a typo never passes silently.
struct TriggerSpec {
  std::string type;  ///< a schema-v1 type; with random, empty means the weighted mix
  bool random = false;

  std::optional<std::string> user;     ///< display name or login of the acting user
  std::optional<std::string> channel;  ///< the broadcaster
  std::optional<std::string> recipient;
  std::optional<std::string> target;  ///< host target login
  std::optional<std::string> tier;    ///< prime, 1000, 2000, 3000 (or 1, 2, 3)
  std::optional<long long> months;
  std::optional<long long> streak;
  std::optional<long long> bits;
  std::optional<long long> viewers;
  std::optional<long long> count;
  std::optional<long long> total;
  std::optional<std::string> message;
  std::optional<std::string> reward;  ///< reward title
  std::optional<long long> cost;
  std::optional<std::string> phase;
  std::optional<long long> level;
  std::optional<long long> goal;
  std::optional<std::string> kind;
  std::optional<std::string> group;
  std::optional<std::string> from;  ///< gap start, RFC 3339
  std::optional<std::string> to;    ///< gap end, RFC 3339
  bool anonymous = false;
  bool gifted = false;
};

/// The largest gift bomb twitch-trigger makes (--count), which bounds one trigger's output.
constexpr long long kMaxGiftBombCount = 1000;

/// Checks |spec| for a usage error (unknown type, value out of range, an option the type does
/// not use, a type-specific option with random) and normalises it in place (tier "1" becomes
/// "1000", times are rewritten in schema form). Returns false with a one-line message in |err|.
bool NormalizeTriggerSpec(TriggerSpec* spec, std::string* err);

/// The Identity twitch-trigger writes for a user given as |name| (a display name or login):
/// login is |name| in lower case, and id a stable number derived from the login, so the same
/// name always gets the same id.
Identity TriggerIdentity(const std::string& name);

/// Makes the events of successive triggers. Deterministic for a given spec and seed, apart from
/// "id", "group" (fresh UUIDs) and "at" (the clock).
class TriggerGenerator {
 public:
  /// |spec| must have passed NormalizeTriggerSpec(). |seed| drives the random mode and the
  /// choice of gift recipients.
  TriggerGenerator(TriggerSpec spec, uint64_t seed);

  /// The events of the next trigger: one event, or for a gift bomb the giftbomb event followed by
  /// its count subgift events.
  std::vector<JsonPtr> Next();

 private:
  uint64_t Rand();
  long long Uniform(long long lo, long long hi);  // inclusive
  const std::string& PickType();
  std::vector<JsonPtr> Fixed(const std::string& type);
  std::vector<JsonPtr> Random(const std::string& type);

  TriggerSpec spec_;
  uint64_t state_;
  // Random hype trains run begin -> progress... -> end, like real ones.
  int train_level_ = 0;
  long long train_total_ = 0;
};
