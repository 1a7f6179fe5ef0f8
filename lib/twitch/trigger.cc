// Sample events for twitch-trigger. Fixed mode builds exactly what the options say, with defaults
// that look like a real alert; random mode draws types by weight and values from plausible
// ranges with a small seeded generator of our own (splitmix64), so that a seed gives the same
// sequence on every platform, unlike the distributions of <random>.
#include "twitch/trigger.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <utility>

#include "core/time.h"
#include "core/utf8.h"

namespace {

const char kSource[] = "trigger";
const char kDefaultChannel[] = "TestChannel";
const char kDefaultUser[] = "TestViewer";
const char kDefaultRecipient[] = "LuckyViewer";
const char kDefaultTarget[] = "TestTarget";

// Each type: its weight in the random mix (0: only when asked for by name; a gap is not an
// alert, and Twitch stopped sending host notices in 2022) and the options it uses besides
// --channel.
struct TypeInfo {
  const char* type;
  int weight;
  const char* options;
};
const TypeInfo kTypeInfo[] = {
    {"follow", 25, " user "},
    {"sub", 10, " user tier months streak message gifted "},
    {"resub", 12, " user tier months streak message gifted "},
    {"subgift", 5, " user anonymous recipient tier group "},
    {"giftbomb", 3, " user anonymous count tier total group "},
    {"cheer", 12, " user anonymous bits message "},
    {"raid", 3, " user viewers "},
    {"redemption", 12, " user reward cost message "},
    {"hypetrain", 2, " phase level total goal "},
    {"announcement", 2, " user message "},
    {"chat", 20, " user message "},
    {"host", 0, " target viewers "},
    {"gap", 0, " from to "},
    {"notice", 1, " user kind "},
};

const TypeInfo* FindType(const std::string& type) {
  for (const TypeInfo& t : kTypeInfo) {
    if (type == t.type) return &t;
  }
  return nullptr;
}

const char* const kNames[] = {
    "PebbleWhisk",  "Otterbyte",      "GiftGoblin",     "TinyKettle",   "HarborLights",
    "Quillfeather", "ModMarigold",    "FarShore",       "NightOwl_42",  "pixelpanda",
    "LunaLatte",    "CaptainCrumble", "sir_snacks",     "VelvetVortex", "Frostbyte77",
    "MossyBoots",   "EchoFalcon",     "BananaBard",     "ZestyZebra",   "quietcomet",
    "GlitterGoose", "ByteSizedBen",   "teacup_tornado", "Wobblewick",
};
const char* const kChat[] = {
    "hello chat!",
    "LUL",
    "that was clean",
    "first time here, love the vibe",
    "GG",
    "PogChamp",
    "what game is next?",
    "hydrate!",
    "KEKW that jump",
    "can we get some hype in chat",
};
const char* const kSubMessages[] = {
    "love this stream",   "another month!",           "year and a half! Kappa",
    "here since day one", "best community on Twitch", "<3",
};
const char* const kCheerText[] = {
    "great stream!", "good luck on the boss!", "for the snacks fund", "take my bits", "GG",
};
const char* const kAnnouncements[] = {
    "Giveaway starts in 5 minutes",
    "Be kind in chat, mods are watching",
    "New video is up, link in the panels",
    "Subathon goal at 500 subs!",
};
const char* const kNoticeKinds[] = {
    "bitsbadgetier", "viewermilestone", "charitydonation", "ritual", "unraid",
};
struct Reward {
  const char* title;
  long long cost;
  bool input;  // asks the viewer for text
};
const Reward kRewards[] = {
    {"Hydrate", 500, false},
    {"Posture check", 300, false},
    {"Song request", 1000, true},
    {"Say something nice", 100, true},
    {"Choose the next game", 10000, false},
    {"Highlight my message", 200, true},
};
const long long kBitsAmounts[] = {1, 10, 50, 100, 100, 100, 250, 500, 1000, 5000, 10000};
const long long kBombSizes[] = {1, 5, 5, 5, 10, 10, 20, 50, 100};

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool IsLogin(const std::string& s) {
  if (s.empty() || s.size() > 25) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// A UUID-shaped id that stays the same for the same reward title, as a real reward's does.
std::string StableUuid(const std::string& seed) {
  uint64_t a = Fnv1a(seed), b = Fnv1a(seed + "#");
  char out[37];
  snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
           static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
           static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
           static_cast<unsigned long long>(b & 0xffffffffffffull));
  return out;
}

bool Usage(std::string* err, const std::string& message) {
  *err = message;
  return false;
}

bool CheckRange(const char* name, const std::optional<long long>& v, long long lo, long long hi,
                std::string* err) {
  if (!v || (*v >= lo && *v <= hi)) return true;
  return Usage(err, std::string("--") + name + ": " + std::to_string(*v) + " is out of range (" +
                        std::to_string(lo) + " to " + std::to_string(hi) + ")");
}

bool CheckLogin(const char* name, const std::optional<std::string>& v, std::string* err) {
  if (!v || IsLogin(*v)) return true;
  return Usage(err, std::string("--") + name + ": '" + *v +
                        "' is not a Twitch login (1 to 25 letters, digits or _)");
}

bool CheckText(const char* name, const std::optional<std::string>& v, bool allow_empty,
               std::string* err) {
  if (!v) return true;
  if (!IsValidUtf8(*v)) return Usage(err, std::string("--") + name + ": not valid UTF-8");
  if (!allow_empty && v->empty()) return Usage(err, std::string("--") + name + ": empty");
  return true;
}

bool NormalizeTier(std::optional<std::string>* tier, std::string* err) {
  if (!*tier) return true;
  std::string t = **tier;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "1" || t == "2" || t == "3") t += "000";
  if (t != "prime" && t != "1000" && t != "2000" && t != "3000") {
    return Usage(err, "--tier: '" + **tier + "' is not one of prime, 1, 2, 3, 1000, 2000, 3000");
  }
  *tier = t;
  return true;
}

bool NormalizeTime(const char* name, std::optional<std::string>* v, int64_t* ms, std::string* err) {
  if (!*v) return true;
  if (!ParseRfc3339(**v, ms)) {
    return Usage(err, std::string("--") + name + ": '" + **v + "' is not an RFC 3339 time");
  }
  *v = FormatRfc3339Millis(*ms);
  return true;
}

// The options of |spec| that were given, by name, for the per-type check.
std::vector<std::pair<const char*, bool>> GivenOptions(const TriggerSpec& s) {
  return {{"user", s.user.has_value()},       {"recipient", s.recipient.has_value()},
          {"target", s.target.has_value()},   {"tier", s.tier.has_value()},
          {"months", s.months.has_value()},   {"streak", s.streak.has_value()},
          {"bits", s.bits.has_value()},       {"viewers", s.viewers.has_value()},
          {"count", s.count.has_value()},     {"total", s.total.has_value()},
          {"message", s.message.has_value()}, {"reward", s.reward.has_value()},
          {"cost", s.cost.has_value()},       {"phase", s.phase.has_value()},
          {"level", s.level.has_value()},     {"goal", s.goal.has_value()},
          {"kind", s.kind.has_value()},       {"group", s.group.has_value()},
          {"from", s.from.has_value()},       {"to", s.to.has_value()},
          {"anonymous", s.anonymous},         {"gifted", s.gifted}};
}

bool CheckOptionsApply(const TriggerSpec& spec, std::string* err) {
  const TypeInfo* info = FindType(spec.type);
  for (const auto& [name, given] : GivenOptions(spec)) {
    if (!given) continue;
    if (spec.random) return Usage(err, std::string("--") + name + " cannot be used with --random");
    if (std::string(info->options).find(std::string(" ") + name + " ") == std::string::npos) {
      return Usage(err, std::string("--") + name + " does not apply to " + spec.type + " events");
    }
  }
  return true;
}

bool CheckValues(TriggerSpec* s, std::string* err) {
  int64_t from_ms = 0, to_ms = 0;
  if (!CheckLogin("user", s->user, err) || !CheckLogin("channel", s->channel, err) ||
      !CheckLogin("recipient", s->recipient, err) || !CheckLogin("target", s->target, err) ||
      !NormalizeTier(&s->tier, err) || !CheckRange("months", s->months, 1, 1200, err) ||
      !CheckRange("streak", s->streak, 1, 1200, err) ||
      !CheckRange("bits", s->bits, 1, 10000000, err) ||
      !CheckRange("viewers", s->viewers, 0, 10000000, err) ||
      !CheckRange("count", s->count, 1, kMaxGiftBombCount, err) ||
      !CheckRange("total", s->total, 0, 1000000000, err) ||
      !CheckRange("cost", s->cost, 1, 1000000000, err) ||
      !CheckRange("level", s->level, 1, 100, err) ||
      !CheckRange("goal", s->goal, 1, 1000000000, err) ||
      !CheckText("message", s->message, true, err) || !CheckText("reward", s->reward, false, err) ||
      !CheckText("kind", s->kind, false, err) || !CheckText("group", s->group, false, err) ||
      !NormalizeTime("from", &s->from, &from_ms, err) ||
      !NormalizeTime("to", &s->to, &to_ms, err)) {
    return false;
  }
  if (s->phase && *s->phase != "begin" && *s->phase != "progress" && *s->phase != "end") {
    return Usage(err, "--phase: '" + *s->phase + "' is not one of begin, progress, end");
  }
  if (s->tier == "prime" && (s->type == "subgift" || s->type == "giftbomb")) {
    return Usage(err, "--tier: a Prime sub cannot be gifted");
  }
  if (s->streak && s->months && *s->streak > *s->months) {
    return Usage(err, "--streak: longer than --months");
  }
  if (s->total && *s->total < s->count.value_or(1) && s->type == "giftbomb") {
    return Usage(err, "--total: smaller than --count (the total includes this gift bomb)");
  }
  if (s->from && s->to && from_ms > to_ms) return Usage(err, "--from: later than --to");
  return true;
}

std::string Pick(const char* const* items, size_t n, uint64_t r) { return items[r % n]; }

}  // namespace

bool NormalizeTriggerSpec(TriggerSpec* spec, std::string* err) {
  if (spec->type.empty() && !spec->random) return Usage(err, "missing TYPE (or --random)");
  if (!spec->type.empty() && !FindType(spec->type)) {
    std::string all;
    for (const TypeInfo& t : kTypeInfo) all += std::string(all.empty() ? "" : ", ") + t.type;
    return Usage(err, "unknown event type '" + spec->type + "' (one of: " + all + ")");
  }
  return CheckOptionsApply(*spec, err) && CheckValues(spec, err);
}

Identity TriggerIdentity(const std::string& name) {
  Identity who;
  who.login = name;
  std::transform(who.login.begin(), who.login.end(), who.login.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  who.name = name;
  who.id = std::to_string(100000000 + Fnv1a(who.login) % 900000000);
  return who;
}

TriggerGenerator::TriggerGenerator(TriggerSpec spec, uint64_t seed)
    : spec_(std::move(spec)), state_(seed) {}

uint64_t TriggerGenerator::Rand() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

long long TriggerGenerator::Uniform(long long lo, long long hi) {
  return lo + static_cast<long long>(Rand() % static_cast<uint64_t>(hi - lo + 1));
}

const std::string& TriggerGenerator::PickType() {
  static const std::vector<std::string>& types = EventTypes();
  int sum = 0;
  for (const TypeInfo& t : kTypeInfo) sum += t.weight;
  long long r = Uniform(0, sum - 1);
  for (const TypeInfo& t : kTypeInfo) {
    if (r < t.weight) return *std::find(types.begin(), types.end(), t.type);
    r -= t.weight;
  }
  return types.front();
}

std::vector<JsonPtr> TriggerGenerator::Next() {
  if (!spec_.random) return Fixed(spec_.type);
  return Random(spec_.type.empty() ? PickType() : spec_.type);
}

namespace {

JsonPtr Start(const std::string& type, const std::string& channel) {
  JsonPtr ev = NewEvent(type, kSource, NewUuid());
  SetIdentity(ev.get(), "channel", TriggerIdentity(channel));
  return ev;
}

// The event's "at" in milliseconds: a gap ends when it is reported.
int64_t EventMillis(json_t* ev) {
  int64_t ms = NowMillis();
  ParseRfc3339(JsonString(ev, "at"), &ms);
  return ms;
}

void SetUser(json_t* ev, const std::string& user, bool anonymous) {
  if (anonymous) {
    SetAnonymous(ev);
  } else {
    SetIdentity(ev, "user", TriggerIdentity(user));
  }
}

// |count| distinct gift recipients: the name pool from |start| on, round and round with a number
// appended, skipping the gifter.
std::vector<std::string> Recipients(size_t start, long long count, const std::string& gifter) {
  const size_t n = std::size(kNames);
  const std::string gifter_login = TriggerIdentity(gifter).login;
  std::vector<std::string> out;
  for (size_t i = 0; static_cast<long long>(out.size()) < count; ++i) {
    std::string name = kNames[(start + i) % n];
    if (i >= n) name += std::to_string(i / n + 1);
    if (TriggerIdentity(name).login != gifter_login) out.push_back(name);
  }
  return out;
}

// A gift bomb: the giftbomb event, then one subgift per recipient, all with the same group.
std::vector<JsonPtr> GiftBomb(const std::string& channel, const std::string& gifter, bool anonymous,
                              const std::string& tier, const std::optional<long long>& total,
                              const std::string& group,
                              const std::vector<std::string>& recipients) {
  std::vector<JsonPtr> out;
  JsonPtr bomb = Start("giftbomb", channel);
  SetUser(bomb.get(), gifter, anonymous);
  SetInt(bomb.get(), "count", static_cast<long long>(recipients.size()));
  SetString(bomb.get(), "tier", tier);
  if (total) SetInt(bomb.get(), "total", *total);
  SetString(bomb.get(), "group", group);
  out.push_back(std::move(bomb));
  for (const std::string& r : recipients) {
    JsonPtr gift = Start("subgift", channel);
    SetUser(gift.get(), gifter, anonymous);
    SetIdentity(gift.get(), "recipient", TriggerIdentity(r));
    SetString(gift.get(), "tier", tier);
    SetString(gift.get(), "group", group);
    out.push_back(std::move(gift));
  }
  return out;
}

void SetSub(json_t* ev, const std::string& tier, long long months,
            const std::optional<long long>& streak, const std::optional<std::string>& message,
            bool gifted) {
  SetString(ev, "tier", tier);
  SetInt(ev, "months", months);
  if (streak) SetInt(ev, "streak", *streak);
  if (message) SetString(ev, "message", *message);
  SetBool(ev, "gifted", gifted);
}

void SetReward(json_t* ev, const std::string& title, long long cost) {
  json_t* reward = json_object();
  SetString(reward, "id", StableUuid(title));
  SetString(reward, "title", title);
  SetInt(reward, "cost", cost);
  json_object_set_new(ev, "reward", reward);
}

void SetTarget(json_t* ev, const std::string& login) {
  json_t* target = json_object();
  SetString(target, "login", TriggerIdentity(login).login);
  json_object_set_new(ev, "target", target);
}

}  // namespace

std::vector<JsonPtr> TriggerGenerator::Fixed(const std::string& type) {
  const TriggerSpec& s = spec_;
  const std::string channel = s.channel.value_or(kDefaultChannel);
  const std::string user = s.user.value_or(kDefaultUser);
  const std::string tier = s.tier.value_or("1000");
  if (type == "giftbomb") {
    return GiftBomb(channel, user, s.anonymous, tier, s.total, s.group.value_or(NewUuid()),
                    Recipients(0, s.count.value_or(5), user));
  }
  JsonPtr ev = Start(type, channel);
  json_t* e = ev.get();
  if (std::string(FindType(type)->options).find(" user ") != std::string::npos) {
    SetUser(e, user, s.anonymous);
  }
  if (type == "sub" || type == "resub") {
    const bool re = type == "resub";
    SetSub(e, tier, s.months.value_or(re ? 12 : 1), s.streak,
           re && !s.message ? std::optional<std::string>("another month!") : s.message, s.gifted);
  } else if (type == "subgift") {
    SetIdentity(e, "recipient", TriggerIdentity(s.recipient.value_or(kDefaultRecipient)));
    SetString(e, "tier", tier);
    if (s.group) SetString(e, "group", *s.group);
  } else if (type == "cheer") {
    const long long bits = s.bits.value_or(100);
    SetInt(e, "bits", bits);
    SetString(e, "message", s.message.value_or("Cheer" + std::to_string(bits) + " great stream!"));
  } else if (type == "raid") {
    SetInt(e, "viewers", s.viewers.value_or(25));
  } else if (type == "redemption") {
    SetReward(e, s.reward.value_or("Hydrate"), s.cost.value_or(500));
    if (s.message) SetString(e, "message", *s.message);
  } else if (type == "hypetrain") {
    const std::string phase = s.phase.value_or("begin");
    SetString(e, "phase", phase);
    SetInt(e, "level", s.level.value_or(1));
    SetInt(e, "total", s.total.value_or(500));
    // A train that ended has no goal left (EventSub's hype_train.end has none).
    if (s.goal || phase != "end") SetInt(e, "goal", s.goal.value_or(1800));
  } else if (type == "announcement") {
    SetString(e, "message", s.message.value_or("Welcome to the stream!"));
  } else if (type == "chat") {
    SetString(e, "message", s.message.value_or("hello chat!"));
  } else if (type == "host") {
    SetTarget(e, s.target.value_or(kDefaultTarget));
    SetInt(e, "viewers", s.viewers.value_or(12));
  } else if (type == "gap") {
    const int64_t at = EventMillis(e);
    SetString(e, "from", s.from.value_or(FormatRfc3339Millis(at - 30000)));
    SetString(e, "to", s.to.value_or(FormatRfc3339Millis(at)));
  } else if (type == "notice") {
    SetString(e, "kind", s.kind.value_or("bitsbadgetier"));
  }
  std::vector<JsonPtr> out;
  out.push_back(std::move(ev));
  return out;
}

std::vector<JsonPtr> TriggerGenerator::Random(const std::string& type) {
  const std::string channel = spec_.channel.value_or(kDefaultChannel);
  const std::string user = Pick(kNames, std::size(kNames), Rand());
  const long long tier_roll = Uniform(0, 99);
  const std::string tier = tier_roll < 70   ? "1000"
                           : tier_roll < 85 ? "prime"
                           : tier_roll < 95 ? "2000"
                                            : "3000";
  const std::string gift_tier = tier == "prime" ? "1000" : tier;
  const bool anonymous = Uniform(0, 99) < 10;
  if (type == "giftbomb") {
    const long long count = kBombSizes[Rand() % std::size(kBombSizes)];
    const size_t start = Rand() % std::size(kNames);
    std::optional<long long> total;
    if (!anonymous && Uniform(0, 9) < 6) total = count + Uniform(0, 200);
    return GiftBomb(channel, user, anonymous, gift_tier, total, NewUuid(),
                    Recipients(start, count, user));
  }
  JsonPtr ev = Start(type, channel);
  json_t* e = ev.get();
  if (std::string(FindType(type)->options).find(" user ") != std::string::npos) {
    SetUser(e, user, anonymous && (type == "subgift" || (type == "cheer" && Uniform(0, 2) == 0)));
  }
  if (type == "sub") {
    SetSub(e, tier, 1, std::nullopt, std::nullopt, Uniform(0, 9) == 0);
  } else if (type == "resub") {
    const long long months = Uniform(0, 3) == 0 ? Uniform(13, 84) : Uniform(2, 12);
    std::optional<long long> streak;
    if (Uniform(0, 1) == 0) streak = Uniform(1, months);
    std::optional<std::string> message;
    if (Uniform(0, 9) < 7) message = Pick(kSubMessages, std::size(kSubMessages), Rand());
    SetSub(e, tier, months, streak, message, false);
  } else if (type == "subgift") {
    SetIdentity(e, "recipient",
                TriggerIdentity(Recipients(Rand() % std::size(kNames), 1, user)[0]));
    SetString(e, "tier", gift_tier);
  } else if (type == "cheer") {
    const long long bits = kBitsAmounts[Rand() % std::size(kBitsAmounts)];
    SetInt(e, "bits", bits);
    SetString(
        e, "message",
        "Cheer" + std::to_string(bits) + " " + Pick(kCheerText, std::size(kCheerText), Rand()));
  } else if (type == "raid") {
    const long long r = Uniform(0, 99);
    SetInt(e, "viewers", r < 50 ? Uniform(1, 10) : r < 85 ? Uniform(11, 100) : Uniform(101, 2000));
  } else if (type == "redemption") {
    const Reward& reward = kRewards[Rand() % std::size(kRewards)];
    SetReward(e, reward.title, reward.cost);
    if (reward.input) SetString(e, "message", Pick(kChat, std::size(kChat), Rand()));
  } else if (type == "hypetrain") {
    // begin, then progress with a level now and then, then end after level 5 or by chance.
    std::string phase = "progress";
    if (train_level_ == 0) {
      phase = "begin";
      train_level_ = 1;
      train_total_ = Uniform(300, 900);
    } else if (train_level_ >= 5 || Uniform(0, 3) == 0) {
      phase = "end";
    } else {
      train_total_ += Uniform(100, 1500);
      train_level_ = static_cast<int>(1 + train_total_ / 2000);
    }
    SetString(e, "phase", phase);
    SetInt(e, "level", train_level_);
    SetInt(e, "total", train_total_);
    if (phase != "end") SetInt(e, "goal", train_level_ * 2000LL);
    if (phase == "end") train_level_ = 0;
  } else if (type == "announcement") {
    SetString(e, "message", Pick(kAnnouncements, std::size(kAnnouncements), Rand()));
  } else if (type == "chat") {
    SetString(e, "message", Pick(kChat, std::size(kChat), Rand()));
  } else if (type == "host") {
    SetTarget(e, Pick(kNames, std::size(kNames), Rand()));
    SetInt(e, "viewers", Uniform(0, 300));
  } else if (type == "gap") {
    const int64_t at = EventMillis(e);
    SetString(e, "from", FormatRfc3339Millis(at - Uniform(1000, 120000)));
    SetString(e, "to", FormatRfc3339Millis(at));
  } else if (type == "notice") {
    SetString(e, "kind", Pick(kNoticeKinds, std::size(kNoticeKinds), Rand()));
  }
  std::vector<JsonPtr> out;
  out.push_back(std::move(ev));
  return out;
}
