// IRCv3 line parsing (twitch-protocols.md §2.5): a single forward scan with string_views.
#include "twitch/irc_message.h"

namespace {

// Splits off the next space-delimited token of |rest|, skipping runs of spaces first.
std::string_view NextToken(std::string_view* rest) {
  size_t start = rest->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *rest = {};
    return {};
  }
  rest->remove_prefix(start);
  size_t end = rest->find(' ');
  std::string_view token = rest->substr(0, end);
  rest->remove_prefix(end == std::string_view::npos ? rest->size() : end);
  return token;
}

// IRCv3 keys are ASCII ("+vendor/name"); a key with other bytes is no tag anyone can ask for.
bool IsTagKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

void ParseTags(std::string_view block, std::vector<IrcTag>* tags) {
  while (!block.empty()) {
    size_t semi = block.find(';');
    std::string_view item = block.substr(0, semi);
    block.remove_prefix(semi == std::string_view::npos ? block.size() : semi + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    IrcTag tag;
    tag.key = item.substr(0, eq);
    if (eq != std::string_view::npos) tag.value = item.substr(eq + 1);
    if (IsTagKey(tag.key)) tags->push_back(tag);
  }
}

}  // namespace

const std::string_view* IrcMessage::FindTag(std::string_view key) const {
  for (size_t i = tags.size(); i-- > 0;) {
    if (tags[i].key == key) return &tags[i].value;
  }
  return nullptr;
}

std::string IrcMessage::Tag(std::string_view key) const {
  const std::string_view* v = FindTag(key);
  return v ? UnescapeTagValue(*v) : std::string();
}

void IrcMessage::Clear() {
  tags.clear();
  has_source = false;
  source = {};
  command = {};
  params.clear();
  has_trailing = false;
}

std::string UnescapeTagValue(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == escaped.size()) break;  // dangling backslash: dropped
    switch (escaped[i]) {
      case ':':
        out.push_back(';');
        break;
      case 's':
        out.push_back(' ');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'n':
        out.push_back('\n');
        break;
      default:
        out.push_back(escaped[i]);
        break;  // "\\" and any other "\x"
    }
  }
  return out;
}

bool ParseIrcLine(std::string_view line, IrcMessage* msg, std::string* err) {
  msg->Clear();
  std::string_view rest = line;
  size_t lead = rest.find_first_not_of(' ');
  if (lead == std::string_view::npos) {
    *err = "empty line";
    return false;
  }
  if (line.find('\0') != std::string_view::npos) {
    *err = "NUL byte in line";  // RFC 1459 forbids it, and JSON readers reject \u0000
    return false;
  }
  rest.remove_prefix(lead);
  if (rest[0] == '@') {
    std::string_view block = NextToken(&rest);
    ParseTags(block.substr(1), &msg->tags);
  }
  size_t next = rest.find_first_not_of(' ');
  if (next != std::string_view::npos && rest[next] == ':') {
    msg->has_source = true;
    msg->source = NextToken(&rest).substr(1);
  }
  msg->command = NextToken(&rest);
  if (msg->command.empty()) {
    *err = "no command";
    return false;
  }
  for (;;) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    if (rest[0] == ':') {
      msg->params.push_back(rest.substr(1));
      msg->has_trailing = true;
      break;
    }
    msg->params.push_back(NextToken(&rest));
  }
  return true;
}
