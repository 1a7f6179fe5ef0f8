// The mapping table of twitch-irc(1): which IRC line gives which schema-v1 event, and with which
// keys. Twitch's tag names and quirks (camelCase raid params, "Prime" plans, true/false vs 0/1)
// are confined to this file.
#include "twitch/irc_events.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/log.h"
#include "core/time.h"
#include "core/utf8.h"
#include "twitch/fragments.h"

namespace {

constexpr std::string_view kSource = "irc";

// Tag value, unescaped and made valid UTF-8.
std::string Str(const IrcMessage& msg, std::string_view key) {
  const std::string_view* v = msg.FindTag(key);
  if (!v) return {};
  std::string s = UnescapeTagValue(*v);
  return IsValidUtf8(s) ? s : ToValidUtf8(s);
}

std::string Text(std::string_view s) { return IsValidUtf8(s) ? std::string(s) : ToValidUtf8(s); }

bool ParseInt(std::string_view s, long long* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Sets integer |key| from tag |tag| when it holds a number; returns whether it did.
bool SetIntTag(json_t* ev, const char* key, const IrcMessage& msg, std::string_view tag,
               bool positive_only = false) {
  long long n;
  if (!ParseInt(Str(msg, tag), &n) || (positive_only && n <= 0)) return false;
  SetInt(ev, key, n);
  return true;
}

// "at" from tmi-sent-ts (ms since the epoch); empty (meaning now) when absent.
std::string At(const IrcMessage& msg) {
  long long ms;
  if (!ParseInt(Str(msg, "tmi-sent-ts"), &ms) || ms < 0) return {};
  return FormatRfc3339Millis(ms);
}

json_t* StringValue(const std::string& s) { return json_stringn(s.data(), s.size()); }

std::string_view Nick(std::string_view source) { return source.substr(0, source.find('!')); }

bool IsAnonymousGifter(const IrcMessage& msg, std::string_view msg_id) {
  return msg_id.substr(0, 4) == "anon" || Str(msg, "login") == "ananonymousgifter";
}

// The event with the common keys: id, source, at, channel, user (or anonymous).
JsonPtr Base(const IrcMessage& msg, std::string_view type, bool anonymous) {
  std::string id = Str(msg, "id");
  if (id.empty()) id = NewUuid();
  JsonPtr ev = NewEvent(type, kSource, id, At(msg));
  Identity channel;
  channel.id = Str(msg, "room-id");
  channel.login = Text(ChannelLogin(msg.Param(0)));
  if (!channel.empty()) SetIdentity(ev.get(), "channel", channel);
  if (anonymous) {
    SetAnonymous(ev.get());
    return ev;
  }
  Identity user;
  user.id = Str(msg, "user-id");
  user.login = Str(msg, "login");
  if (user.login.empty() && msg.has_source && msg.source.find('!') != std::string_view::npos) {
    user.login = Text(Nick(msg.source));
  }
  user.name = Str(msg, "display-name");
  if (!user.empty()) SetIdentity(ev.get(), "user", user);
  return ev;
}

void SetTier(json_t* ev, const IrcMessage& msg) {
  std::string plan = Str(msg, "msg-param-sub-plan");
  if (plan.empty()) return;
  if (plan == "Prime") plan = "prime";
  SetString(ev, "tier", plan);
}

// "message" and, when it has emotes or cheermotes (|bits| >= 0 for a cheer), "fragments".
void SetMessageText(json_t* ev, const IrcMessage& msg, const std::string& text, long long bits) {
  SetString(ev, "message", text);
  JsonPtr fragments = IrcFragments(text, Str(msg, "emotes"), bits);
  if (fragments) json_object_set(ev, "fragments", fragments.get());
}

// The user's own text, the trailing param of a USERNOTICE or PRIVMSG, when there is one.
void SetMessage(json_t* ev, const IrcMessage& msg) {
  if (msg.params.size() >= 2 && msg.has_trailing) {
    SetMessageText(ev, msg, Text(msg.params.back()), -1);
  }
}

// The gift bomb a subgift or giftbomb belongs to (twitch-protocols.md §1.14).
void SetGroup(json_t* ev, const IrcMessage& msg) {
  std::string group = Str(msg, "msg-param-community-gift-id");
  if (group.empty()) group = Str(msg, "msg-param-origin-id");
  if (!group.empty()) SetString(ev, "group", group);
}

JsonPtr Sub(const IrcMessage& msg, std::string_view type) {
  JsonPtr ev = Base(msg, type, false);
  SetTier(ev.get(), msg);
  SetIntTag(ev.get(), "months", msg, "msg-param-cumulative-months");
  if (Str(msg, "msg-param-should-share-streak") == "1") {
    SetIntTag(ev.get(), "streak", msg, "msg-param-streak-months");
  }
  SetMessage(ev.get(), msg);
  SetBool(ev.get(), "gifted", Str(msg, "msg-param-was-gifted") == "true");
  return ev;
}

JsonPtr SubGift(const IrcMessage& msg, std::string_view msg_id) {
  JsonPtr ev = Base(msg, "subgift", IsAnonymousGifter(msg, msg_id));
  Identity recipient;
  recipient.id = Str(msg, "msg-param-recipient-id");
  recipient.login = Str(msg, "msg-param-recipient-user-name");
  recipient.name = Str(msg, "msg-param-recipient-display-name");
  SetIdentity(ev.get(), "recipient", recipient);
  SetTier(ev.get(), msg);
  SetIntTag(ev.get(), "months", msg, "msg-param-gift-months", true);
  SetGroup(ev.get(), msg);
  return ev;
}

JsonPtr GiftBomb(const IrcMessage& msg, std::string_view msg_id) {
  JsonPtr ev = Base(msg, "giftbomb", IsAnonymousGifter(msg, msg_id));
  SetIntTag(ev.get(), "count", msg, "msg-param-mass-gift-count");
  SetTier(ev.get(), msg);
  // sender-count is 0 when the gifter hides it, and missing during promotions.
  SetIntTag(ev.get(), "total", msg, "msg-param-sender-count", true);
  SetGroup(ev.get(), msg);
  return ev;
}

JsonPtr Notice(const IrcMessage& msg, std::string_view kind) {
  JsonPtr ev = Base(msg, "notice", false);
  SetString(ev.get(), "kind", Text(kind));
  SetMessage(ev.get(), msg);
  std::string system = Str(msg, "system-msg");
  if (!system.empty()) SetString(ev.get(), "system", system);
  return ev;
}

JsonPtr UserNotice(const IrcMessage& msg, std::string_view msg_id) {
  if (msg_id == "sub" || msg_id == "resub") return Sub(msg, msg_id);
  if (msg_id == "subgift" || msg_id == "anonsubgift") return SubGift(msg, msg_id);
  if (msg_id == "submysterygift" || msg_id == "anonsubmysterygift") return GiftBomb(msg, msg_id);
  if (msg_id == "raid") {
    JsonPtr ev = Base(msg, "raid", false);
    SetIntTag(ev.get(), "viewers", msg, "msg-param-viewerCount");
    return ev;
  }
  if (msg_id == "announcement") {
    JsonPtr ev = Base(msg, "announcement", false);
    SetMessage(ev.get(), msg);
    return ev;
  }
  return Notice(msg, msg_id);
}

// "\x01ACTION waves\x01" (a /me message) → "waves".
bool StripAction(std::string_view* text) {
  constexpr std::string_view kAction = "\001ACTION ";
  if (text->substr(0, kAction.size()) != kAction) return false;
  text->remove_prefix(kAction.size());
  if (!text->empty() && text->back() == '\x01') text->remove_suffix(1);
  return true;
}

JsonPtr PrivMsg(const IrcMessage& msg, bool chat) {
  std::string_view text = msg.Param(1);
  bool action = StripAction(&text);
  JsonPtr ev;
  long long bits = -1;
  if (ParseInt(Str(msg, "bits"), &bits)) {
    ev = Base(msg, "cheer", false);
    SetInt(ev.get(), "bits", bits);
  } else if (msg.HasTag("custom-reward-id")) {
    ev = Base(msg, "redemption", false);
    JsonPtr reward = JsonOwn(json_object());
    SetString(reward.get(), "id", Str(msg, "custom-reward-id"));
    json_object_set(ev.get(), "reward", reward.get());
  } else if (chat) {
    ev = Base(msg, "chat", false);
  } else {
    return nullptr;
  }
  if (JsonString(ev.get(), "type") != "cheer") bits = -1;
  SetMessageText(ev.get(), msg, Text(text), bits);
  if (action) SetBool(ev.get(), "action", true);
  std::string source_room = Str(msg, "source-room-id");
  if (!source_room.empty() && source_room != Str(msg, "room-id")) SetBool(ev.get(), "shared", true);
  return ev;
}

JsonPtr HostTarget(const IrcMessage& msg) {
  // ":tmi.twitch.tv HOSTTARGET #host :target viewers", or ":- 0" when hosting stops.
  std::string_view rest = msg.Param(1);
  std::string_view target = rest.substr(0, rest.find(' '));
  if (target.empty() || target == "-") return Notice(msg, "unhost");
  JsonPtr ev = Base(msg, "host", false);
  JsonPtr who = JsonOwn(json_object());
  SetString(who.get(), "login", Text(target));
  json_object_set(ev.get(), "target", who.get());
  long long viewers;
  size_t space = rest.find(' ');
  if (space != std::string_view::npos && ParseInt(rest.substr(space + 1), &viewers)) {
    SetInt(ev.get(), "viewers", viewers);
  }
  return ev;
}

JsonPtr MapEvent(const IrcMessage& msg, const IrcMapOptions& opts) {
  if (msg.command == "PRIVMSG") return PrivMsg(msg, opts.chat);
  if (msg.command == "HOSTTARGET") return HostTarget(msg);
  if (msg.command != "USERNOTICE") return nullptr;
  std::string msg_id = Str(msg, "msg-id");
  if (msg_id == "sharedchatnotice") {
    // A notice from another channel of a shared-chat session: the real kind is source-msg-id.
    std::string kind = Str(msg, "source-msg-id");
    JsonPtr ev =
        kind.empty() || kind == "sharedchatnotice" ? Notice(msg, msg_id) : UserNotice(msg, kind);
    SetBool(ev.get(), "shared", true);
    return ev;
  }
  return UserNotice(msg, msg_id.empty() ? std::string("unknown") : msg_id);
}

}  // namespace

namespace {

// Calls |f| with each piece of |s| between separators |sep|.
template <typename F>
void ForEachPiece(std::string_view s, char sep, F f) {
  while (!s.empty()) {
    size_t cut = s.find(sep);
    f(s.substr(0, cut));
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
}

// The emote parts of the emotes tag ("id:first-last,first-last/id:..."), in code points. An
// emote whose ranges do not all cover the same text is dropped whole: its ranges are off.
void IrcEmoteParts(std::string_view text, std::string_view tag, std::vector<MessagePart>* out) {
  if (tag.empty()) return;  // most chat: no offsets to count
  const std::vector<size_t> cp = CodePointOffsets(text);
  ForEachPiece(tag, '/', [&](std::string_view emote) {
    size_t colon = emote.find(':');
    if (colon == 0 || colon == std::string_view::npos) return;
    std::vector<EmoteRange> ranges;
    ForEachPiece(emote.substr(colon + 1), ',', [&](std::string_view range) {
      size_t dash = range.find('-');
      EmoteRange r;
      if (dash == std::string_view::npos || !ParseInt(range.substr(0, dash), &r.first) ||
          !ParseInt(range.substr(dash + 1), &r.last)) {
        return;
      }
      r.id = std::string(emote.substr(0, colon));
      ranges.push_back(std::move(r));
    });
    std::vector<MessagePart> mine = EmoteParts(cp, ranges);
    for (const MessagePart& p : mine) {
      if (text.substr(p.begin, p.end - p.begin) !=
          text.substr(mine[0].begin, mine[0].end - mine[0].begin)) {
        return;
      }
    }
    out->insert(out->end(), mine.begin(), mine.end());
  });
}

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The words of |text| outside |taken| that read "<prefix><amount>", when their amounts add up
// to |bits|.
void CheermoteParts(std::string_view text, long long bits, const std::vector<MessagePart>& taken,
                    std::vector<MessagePart>* out) {
  std::vector<MessagePart> found;
  long long sum = 0;
  size_t pos = 0;
  ForEachPiece(text, ' ', [&](std::string_view word) {
    size_t begin = pos;
    pos += word.size() + 1;
    size_t digits = word.size();
    while (digits > 0 && IsAsciiDigit(word[digits - 1])) --digits;
    if (digits == 0 || digits == word.size() || word[digits] == '0' ||
        !IsAsciiLetter(word[digits - 1])) {
      return;
    }
    for (size_t i = 0; i < digits; ++i) {
      if (!IsAsciiLetter(word[i]) && !IsAsciiDigit(word[i])) return;
    }
    for (const MessagePart& t : taken) {
      if (begin < t.end && t.begin < begin + word.size()) return;
    }
    long long amount;
    if (!ParseInt(word.substr(digits), &amount) || amount > bits) return;
    MessagePart p;
    p.begin = begin;
    p.end = begin + word.size();
    for (size_t i = 0; i < digits; ++i) {
      p.prefix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(word[i]))));
    }
    p.bits = amount;
    sum += amount;
    found.push_back(std::move(p));
  });
  if (!found.empty() && sum == bits) out->insert(out->end(), found.begin(), found.end());
}

}  // namespace

JsonPtr IrcFragments(std::string_view text, std::string_view emotes, long long bits) {
  std::vector<MessagePart> parts;
  IrcEmoteParts(text, emotes, &parts);
  std::vector<MessagePart> kept = WithoutOverlaps(std::move(parts));
  if (bits >= 0) {
    CheermoteParts(text, bits, kept, &kept);
    kept = WithoutOverlaps(std::move(kept));
  }
  return FragmentsJson(text, kept);
}

std::string_view ChannelLogin(std::string_view param) {
  if (!param.empty() && param[0] == '#') param.remove_prefix(1);
  return param;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // Longest valid sequence starting at i, checked with the project's validator.
    size_t len = 0;
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t want = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xE  ? 3
                  : (c >> 3) == 0x1E ? 4
                                     : 0;
    if (want && i + want <= s.size() && IsValidUtf8(s.substr(i, want))) len = want;
    if (len) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

JsonPtr IrcMessageToJson(const IrcMessage& msg) {
  JsonPtr obj = JsonOwn(json_object());
  JsonPtr tags = JsonOwn(json_object());
  for (const IrcTag& tag : msg.tags) {
    std::string key = Text(tag.key);
    std::string value = UnescapeTagValue(tag.value);
    json_object_setn_new(tags.get(), key.data(), key.size(), StringValue(Text(value)));
  }
  json_object_set(obj.get(), "tags", tags.get());
  if (msg.has_source) SetString(obj.get(), "source", Text(msg.source));
  SetString(obj.get(), "command", Text(msg.command));
  JsonPtr params = JsonOwn(json_array());
  for (std::string_view p : msg.params) json_array_append_new(params.get(), StringValue(Text(p)));
  json_object_set(obj.get(), "params", params.get());
  return obj;
}

namespace {

// Appends |s| as a JSON string the way jansson's compact dump writes it.
void AppendJsonString(std::string_view s, std::string* out) {
  std::string fixed;
  if (!IsValidUtf8(s)) {
    fixed = ToValidUtf8(s);
    s = fixed;
  }
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04X", c);
        out->append(esc);
      }
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

}  // namespace

void AppendIrcRecordJson(const IrcMessage& msg, std::string* out) {
  out->append("{\"type\":\"irc\",\"tags\":{");
  bool first = true;
  std::string value;
  for (size_t i = 0; i < msg.tags.size(); ++i) {
    std::string_view key = msg.tags[i].key;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = msg.tags[j].key == key;
    if (seen) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    const std::string_view raw = *msg.FindTag(key);  // the last value of a repeated key
    if (raw.find('\\') == std::string_view::npos) {
      AppendJsonString(raw, out);
    } else {
      value = UnescapeTagValue(raw);
      AppendJsonString(value, out);
    }
  }
  out->push_back('}');
  if (msg.has_source) {
    out->append(",\"source\":");
    AppendJsonString(msg.source, out);
  }
  out->append(",\"command\":");
  AppendJsonString(msg.command, out);
  out->append(",\"params\":[");
  for (size_t i = 0; i < msg.params.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(msg.params[i], out);
  }
  out->append("]}");
}

void MapIrcMessage(const IrcMessage& msg, const IrcMapOptions& opts, std::vector<JsonPtr>* out) {
  JsonPtr ev = MapEvent(msg, opts);
  if (!ev) return;
  std::string err;
  if (!ValidateEvent(ev.get(), &err)) {
    std::string type = JsonString(ev.get(), "type");
    LogWarning("%s %s: not a valid event, sent as a notice: %s", type.c_str(),
               JsonString(ev.get(), "id").c_str(), err.c_str());
    ev = Notice(msg, type);
    if (!ValidateEvent(ev.get(), &err)) {
      LogWarning("%s: line skipped: %s", type.c_str(), err.c_str());
      return;
    }
  }
  if (opts.raw) json_object_set_new(ev.get(), "raw", IrcMessageToJson(msg).release());
  out->push_back(std::move(ev));
}
