// The stable assignment of channels to connections (see irc_shards.h).
#include "twitch/irc_shards.h"

#include <algorithm>

bool IrcShardPlan::Assign(const std::vector<std::string>& wanted, std::string* err) {
  if (wanted.size() > per_ * max_) {
    *err = std::to_string(wanted.size()) + " channels: more than " + std::to_string(max_) +
           " connections of " + std::to_string(per_) + " hold";
    return false;
  }
  std::map<std::string, int> next;
  std::vector<size_t> count(max_, 0);
  for (const std::string& login : wanted) {
    auto it = of_.find(login);
    if (it == of_.end()) continue;
    next[login] = it->second;
    ++count[static_cast<size_t>(it->second)];
  }
  size_t conn = 0;
  for (const std::string& login : wanted) {
    if (next.count(login)) continue;
    while (count[conn] >= per_) ++conn;  // fits: the total was checked
    next[login] = static_cast<int>(conn);
    ++count[conn];
  }
  of_ = std::move(next);
  return true;
}

int IrcShardPlan::ConnectionOf(const std::string& login) const {
  auto it = of_.find(login);
  return it == of_.end() ? -1 : it->second;
}

std::vector<std::string> IrcShardPlan::ChannelsOf(int conn) const {
  std::vector<std::string> out;
  for (const auto& [login, c] : of_) {
    if (c == conn) out.push_back(login);
  }
  return out;
}

size_t IrcShardPlan::connections() const {
  int top = -1;
  for (const auto& entry : of_) top = std::max(top, entry.second);
  return static_cast<size_t>(top + 1);
}
