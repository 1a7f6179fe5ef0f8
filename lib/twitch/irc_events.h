// Twitch IRC lines → schema-v1 events (DESIGN.md): USERNOTICE subs, gifts, gift bombs, raids,
// announcements and shared-chat copies; PRIVMSG cheers, redemptions with text and (on request)
// chat; legacy HOSTTARGET; the viewer's message also as `fragments` (emotes, cheermotes) when it
// has any. Stateless: a gift bomb's subgifts carry the bomb's id as "group"
// straight from their own tags, so they need no buffering even when they arrive first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "twitch/irc_message.h"

/// What to emit besides the notices.
struct IrcMapOptions {
  bool chat = false;  ///< every plain PRIVMSG also becomes a "chat" event
  bool all = false;   ///< every line also becomes {"type":"irc","tags","source","command","params"}
  bool raw = false;   ///< attach the parsed line to each event as "raw"
};

/// The parsed line as {"tags":{unescaped values},"source","command","params":[...]};
/// "source" is left out when the line has none. Invalid UTF-8 becomes U+FFFD.
JsonPtr IrcMessageToJson(const IrcMessage& msg);

/// Appends the --all record of |msg| to |out| as compact JSON without a newline: the text that
/// JsonDump() gives for {"type":"irc"} followed by IrcMessageToJson(msg), written straight from
/// the views since --all writes one per line. A repeated tag keeps its first place, last value.
void AppendIrcRecordJson(const IrcMessage& msg, std::string* out);

/// Appends the events for |msg| to |out| (|opts.all| is not looked at: see
/// AppendIrcRecordJson). Every event appended passes ValidateEvent(); one that would not is
/// logged and replaced by a "notice". Lines that are no event (chat without --chat, CLEARCHAT,
/// ROOMSTATE, ...) append nothing.
void MapIrcMessage(const IrcMessage& msg, const IrcMapOptions& opts, std::vector<JsonPtr>* out);

/// The `fragments` of a viewer's message |text| (valid UTF-8), as twitch-events(7) describes:
/// emote parts from the IRC `emotes` tag value |emotes| ("25:0-4,12-16/emotesv2_1a:6-10": code
/// point ranges, inclusive), and, when |bits| >= 0 (a cheer), cheermote parts: the words
/// "<prefix><amount>" (the prefix ending in a letter, Cheer100, 4Head5) when their amounts add up
/// to |bits|, since IRC does not say which words are cheermotes. A range outside |text|, one that
/// overlaps an earlier range, and an emote whose ranges do not all cover the same text are left
/// out. Null when no part would be other than text; otherwise the parts' texts give |text|.
JsonPtr IrcFragments(std::string_view text, std::string_view emotes, long long bits);

/// "maplecrate" from "#maplecrate": the channel login a param names.
std::string_view ChannelLogin(std::string_view param);

/// Replaces every ill-formed UTF-8 sequence of |s| by U+FFFD, so that jansson accepts it.
std::string ToValidUtf8(std::string_view s);
