// The channels file (see irc_channels.h).
#include "twitch/irc_channels.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "twitch/irc_client.h"

bool ReadChannelsFile(const std::string& path, std::vector<std::string>* channels,
                      std::string* err) {
  channels->clear();
  std::ifstream in(path);
  if (!in) {
    *err = path + ": cannot be read: " + strerror(errno);
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string word, extra;
    if (!(words >> word) || word == "#" || word.rfind("##", 0) == 0) continue;
    if (words >> extra && extra != "#" && extra.rfind("#", 0) != 0) {
      *err = path + ":" + std::to_string(n) + ": one channel a line ('# ' starts a comment)";
      return false;
    }
    std::string login = NormalizeChannel(word);
    if (!IsTwitchLogin(login)) {
      *err = path + ":" + std::to_string(n) + ": '" + word +
             "': not a Twitch login (letters, digits, '_')";
      return false;
    }
    if (std::find(channels->begin(), channels->end(), login) == channels->end()) {
      channels->push_back(login);
    }
  }
  return true;
}
