// The live Twitch IRC connections (twitch-irc without --input): the IRC protocol on the shared
// WebSocket client (ws/ws_client.h). The channels are spread over as many connections as
// --channels-per-connection asks for (twitch/irc_shards.h: stable across reloads), each of which
// logs in, joins within the rate limit (Twitch's is per user: one for all connections), keeps its
// link alive with PING/PONG, follows RECONNECT (make before break, repeated lines written once; a
// storm of them is followed with backoff), reconnects with backoff and jitter after any drop, and
// reports the time it was away as a "gap" event per channel, for its own channels only: a
// connection that goes leaves the others alone. Records wait in a bounded queue for stdout, which
// is written without blocking the loop; over the bound, reading from Twitch pauses until the queue
// has drained to half.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/tls_options.h"
#include "twitch/irc_events.h"
#include "twitch/irc_shards.h"

class TokenProvider;

/// Everything the connection needs; twitch-irc(1) documents each.
struct IrcClientOptions {
  std::string url = "wss://irc-ws.chat.twitch.tv:443";
  std::vector<std::string> channels;  ///< logins, with or without '#', any case
  /// --channels-file (twitch/irc_channels.h): more channels, read again on SIGHUP (JOIN and PART
  /// what changed); empty: none, and SIGHUP is left alone.
  std::string channels_file;
  std::string token;  ///< OAuth token, with or without "oauth:"; empty: anonymous
  std::string nick;   ///< required with a token; default justinfan<digits>
  /// Keeps |token| valid when set (TokenProvider::Watch: validated every hour, refreshed before
  /// it expires); a refreshed token is used from the next connection on, and a login that
  /// Twitch refuses asks it for a refresh once before the command ends with 3.
  TokenProvider* tokens = nullptr;
  TlsClientOptions tls;
  int ping_interval_s = 60;      ///< our own PING every this many seconds once logged in
  int pong_timeout_s = 10;       ///< no PONG within this: the connection is dead
  size_t max_buffer = 16 << 20;  ///< bytes waiting for stdout over which reading pauses
  std::string state_file;        ///< --state-file (twitch/irc_state.h); empty: none
  /// Channels on one connection at most (twitch/irc_shards.h), and connections at most.
  size_t channels_per_connection = kIrcChannelsPerConnection;
  size_t max_connections = kIrcMaxConnections;
  IrcMapOptions map;
};

/// Joins at most this many channels per kJoinWindowMs (Twitch: 20 JOINs per 10 s).
constexpr int kJoinBurst = 20;
constexpr int kJoinWindowMs = 10000;

/// Twitch's JOIN limit as a sliding window: at most |burst| JOINs in any |window_ms|, counted
/// across reconnects and over every connection (the limit is per user, not per connection). Times
/// are monotonic ms (MonotonicMs()), which no clock change moves.
class JoinRateLimit {
 public:
  explicit JoinRateLimit(int burst = kJoinBurst, int64_t window_ms = kJoinWindowMs)
      : burst_(burst), window_ms_(window_ms) {}

  /// Milliseconds until the next JOIN may leave, at |now_ms| (0: at once).
  int64_t WaitMs(int64_t now_ms);

  /// Records a JOIN that left at |now_ms|.
  void Sent(int64_t now_ms);

 private:
  int burst_;
  int64_t window_ms_;
  std::deque<int64_t> sent_;  // when the JOINs of the current window left
};

/// How often at most --state-file is rewritten, in ms.
constexpr int kStateSaveMs = 1000;

/// Runs until a stop signal (0, once what is queued for stdout is written), stdout's reader
/// leaving (0), the credentials being rejected (3), a bad --url (2), or every channel being
/// refused, stdout failing or the state file being unreadable or unwritable at start (1). Stdout is
/// non-blocking meanwhile; its flags are put back.
int RunIrcClient(const IrcClientOptions& opts);

/// Puts the token of |tokens| (twitch-irc's auth options) into |opts|: none leaves it anonymous;
/// a bare token is used as it is and needs |opts|->nick; a stored one is refreshed if it expires
/// soon and validated, its login becomes the nick (a --nick of another login is an error), and
/// |opts|->tokens keeps it valid while the client runs. Returns kExitOk, or the exit status of
/// the failure, logged (core/exit_status.h).
int UseIrcToken(IrcClientOptions* opts, TokenProvider* tokens);

/// "#Foo" → "foo": the channel login as Twitch spells it in JOIN.
std::string NormalizeChannel(const std::string& channel);

/// True if |login| (already lower case) can be a Twitch login: 1 to 25 of [a-z0-9_].
bool IsTwitchLogin(const std::string& login);
