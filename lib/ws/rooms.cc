// Rooms of ws-serve (see rooms.h).
#include "ws/rooms.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/json.h"

namespace {

constexpr size_t kMaxRoomName = 100;

}  // namespace

std::string RoomOfLine(std::string_view line, std::string_view key_path) {
  if (line.empty() || line[0] != '{') return "";
  std::string err;
  JsonPtr j = JsonParse(line, &err);
  if (!j) return "";
  json_t* v = JsonPath(j.get(), key_path);
  if (json_is_string(v)) return json_string_value(v);
  if (json_is_integer(v)) return std::to_string(json_integer_value(v));
  return "";
}

bool IsRoomName(std::string_view room) {
  if (room.empty() || room.size() > kMaxRoomName) return false;
  for (char ch : room) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_' || ch == '~';
    if (!ok) return false;
  }
  return true;
}

bool SplitRoomPath(std::string_view path, std::string* room, std::string* rest) {
  constexpr std::string_view kPrefix = "/r/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  room->assign(path.substr(0, slash));
  rest->assign(slash == std::string_view::npos ? "/" : path.substr(slash));
  return true;
}

bool ParseRoomTokens(std::string_view text, RoomTokens* out, std::string* err) {
  RoomTokens tokens;
  std::istringstream in{std::string(text)};
  std::string line;
  for (size_t n = 1; std::getline(in, line); n++) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string room, token, extra;
    if (!(fields >> room) || room[0] == '#') continue;
    if (!(fields >> token) || (fields >> extra)) {
      *err = "line " + std::to_string(n) + ": not ROOM TOKEN";
      return false;
    }
    if (!IsRoomName(room)) {
      *err = "line " + std::to_string(n) + ": " + room +
             ": not a room name (1 to 100 of A-Z a-z 0-9 - . _ ~)";
      return false;
    }
    if (!tokens.emplace(room, token).second) {
      *err = "line " + std::to_string(n) + ": room " + room + " named twice";
      return false;
    }
  }
  out->swap(tokens);
  return true;
}

bool LoadRoomTokens(const std::string& path, RoomTokens* out, std::string* err) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << f.rdbuf();
  if (f.bad()) {
    *err = path + ": read error";
    return false;
  }
  if (!ParseRoomTokens(text.str(), out, err)) {
    *err = path + ": " + *err;
    return false;
  }
  return true;
}
