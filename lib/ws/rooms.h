// Rooms of ws-serve (--room-key): which room an event belongs to, which room a request names,
// and the tokens of the rooms (--room-tokens). Pure functions and data; the server keeps one
// broadcast buffer per room (see server.cc).
#pragma once

#include <map>
#include <string>
#include <string_view>

/// The room of |line| under --room-key |key_path| (a dotted path into a JSON object, e.g.
/// "channel.login"): the string there, or an integer there in decimal. Empty (the default room)
/// when the line is not a JSON object or has no string or integer at that path.
std::string RoomOfLine(std::string_view line, std::string_view key_path);

/// True when |room| can be named in a URL as it is: 1 to 100 of A-Z a-z 0-9 - . _ ~ (the
/// characters RFC 3986 leaves unreserved, so that no decoding is involved).
bool IsRoomName(std::string_view room);

/// When |path| is /r/ROOM or begins with /r/ROOM/, sets |room| to ROOM and |rest| to what
/// follows ROOM ("/" at least) and returns true. ROOM may be invalid: check it with IsRoomName().
bool SplitRoomPath(std::string_view path, std::string* room, std::string* rest);

/// The tokens of the rooms: room name to token.
using RoomTokens = std::map<std::string, std::string>;

/// Reads --room-tokens: one `ROOM TOKEN` per line (separated by spaces or tabs); blank lines
/// and lines starting with # are skipped. A room named twice, an invalid room name, a line
/// without exactly two fields, or an unreadable file: false, with |err| naming the line.
bool ParseRoomTokens(std::string_view text, RoomTokens* out, std::string* err);
bool LoadRoomTokens(const std::string& path, RoomTokens* out, std::string* err);
