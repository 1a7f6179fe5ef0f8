// The IRCv3 message parser for Twitch chat (TMI): tags with their escapes, source, command,
// middle and trailing parameters. Parsing never copies: the message holds views into the line,
// and tag values are unescaped only when asked for, so the hot path of a busy channel does not
// allocate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

/// One tag as it appears on the wire: |value| is still escaped (see UnescapeTagValue).
struct IrcTag {
  std::string_view key;
  std::string_view value;
};

/// A parsed IRC line. Every view points into the line given to ParseIrcLine(), which must
/// outlive the message.
struct IrcMessage {
  std::vector<IrcTag> tags;  ///< in wire order; a repeated key is looked up as its last value;
                             ///< tags with an empty key or one outside printable ASCII are dropped
  bool has_source = false;
  std::string_view source;               ///< without the leading ':'
  std::string_view command;              ///< "PRIVMSG", "USERNOTICE", "001", ...
  std::vector<std::string_view> params;  ///< middles, then the trailing one (without its ':')
  bool has_trailing = false;             ///< the last param was given after " :"

  /// The raw (escaped) value of the last tag named |key|, or nullptr when absent.
  const std::string_view* FindTag(std::string_view key) const;

  /// True if a tag |key| is present (with or without a value).
  bool HasTag(std::string_view key) const { return FindTag(key) != nullptr; }

  /// The unescaped value of tag |key|; empty when absent or empty.
  std::string Tag(std::string_view key) const;

  /// The |i|th param, or an empty view when there are fewer.
  std::string_view Param(size_t i) const {
    return i < params.size() ? params[i] : std::string_view();
  }

  void Clear();
};

/// Resolves IRCv3 tag-value escapes in one left-to-right pass: "\:" ';', "\s" ' ', "\\" '\',
/// "\r" CR, "\n" LF, any other "\x" 'x', and a dangling final '\' is dropped.
std::string UnescapeTagValue(std::string_view escaped);

/// Parses one line (without its CR LF) into |msg|, reusing its storage. Returns false with a
/// reason in |err| when the line has no command (empty, tags or source only) or holds a NUL
/// byte. Lines are not
/// limited to 512 bytes: Twitch's tag blocks are long.
bool ParseIrcLine(std::string_view line, IrcMessage* msg, std::string* err);
