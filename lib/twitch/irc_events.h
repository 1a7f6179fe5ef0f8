// Twitch IRC lines → schema-v1 events (DESIGN.md): USERNOTICE subs, gifts, gift bombs, raids,
// announcements and shared-chat copies; PRIVMSG cheers, redemptions with text and (on request)
// chat; legacy HOSTTARGET. Stateless: a gift bomb's subgifts carry the bomb's id as "group"
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

/// "maplecrate" from "#maplecrate": the channel login a param names.
std::string_view ChannelLogin(std::string_view param);

/// Replaces every ill-formed UTF-8 sequence of |s| by U+FFFD, so that jansson accepts it.
std::string ToValidUtf8(std::string_view s);
