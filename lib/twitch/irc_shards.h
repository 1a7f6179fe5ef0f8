// twitch-irc over several connections: which connection reads which channel. Twitch limits the
// channels a connection should hold (twitch-protocols.md §2.3: a chatting user sits in at most
// 100 channels), so a larger channel set is spread over several connections, each of at most
// --channels-per-connection. The assignment is stable: a channel keeps its connection for as
// long as it is wanted, so a reload of --channels-file that adds channels moves none of the
// others (and disturbs no connection but the ones that get the new channels); a new channel goes
// to the lowest-numbered connection with room, which fills the places that parted channels left.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

/// Channels per connection by default (§2.3's 100 concurrent channels).
constexpr size_t kIrcChannelsPerConnection = 100;
/// Connections at most by default. The reference gives no figure for chat; 10 per IP address is
/// what Twitch advised for PubSub (twitch-protocols.md, PubSub limits), and 10 of 100 channels
/// hold 1,000 channels.
constexpr size_t kIrcMaxConnections = 10;

/// Channel login → connection number (0, 1, ...), kept stable across changes of the channel set.
class IrcShardPlan {
 public:
  /// |per_connection| and |max_connections| at least 1.
  IrcShardPlan(size_t per_connection, size_t max_connections)
      : per_(per_connection), max_(max_connections) {}

  /// Makes |wanted| (logins, each once) the channel set: a channel still wanted keeps its
  /// connection, one no longer wanted leaves its place, and each new one, in the order of
  /// |wanted|, goes to the lowest-numbered connection with room. False, with |err| and nothing
  /// changed, when they do not fit in max_connections × per_connection.
  bool Assign(const std::vector<std::string>& wanted, std::string* err);

  /// The connection of |login|; -1 when it is not in the set.
  int ConnectionOf(const std::string& login) const;
  /// The channels of connection |conn|, in login order.
  std::vector<std::string> ChannelsOf(int conn) const;
  /// Connections that hold a channel now, counted up to the highest-numbered one.
  size_t connections() const;
  size_t per_connection() const { return per_; }
  size_t max_connections() const { return max_; }

 private:
  size_t per_, max_;
  std::map<std::string, int> of_;
};
