// twitch-irc --channels-file: the channels to join, one a line, read at start and again on
// SIGHUP. Blank lines and lines whose first word is '#' alone or starts with "##" are comments,
// and so is the rest of a line from a word after its channel that starts with '#'; a first word
// "#name" is the channel name.
#pragma once

#include <string>
#include <vector>

/// Reads |path| into |channels| (logins as NormalizeChannel() makes them, in file order, each
/// once). False with |err| ("PATH:LINE: why") when it cannot be read or a line is not one
/// Twitch login.
bool ReadChannelsFile(const std::string& path, std::vector<std::string>* channels,
                      std::string* err);
