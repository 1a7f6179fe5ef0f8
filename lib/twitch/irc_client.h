// The live Twitch IRC connection (twitch-irc without --input): one libwebsockets client on one
// event loop that logs in, joins within the rate limit, keeps the link alive with PING/PONG,
// follows RECONNECT, reconnects with backoff and jitter after any drop, and reports the time it
// was away as a "gap" event per channel.
#pragma once

#include <string>
#include <vector>

#include "core/cli.h"
#include "twitch/irc_events.h"

/// Everything the connection needs; twitch-irc(1) documents each.
struct IrcClientOptions {
  std::string url = "wss://irc-ws.chat.twitch.tv:443";
  std::vector<std::string> channels;  ///< logins, with or without '#', any case
  std::string token;                  ///< OAuth token, with or without "oauth:"; empty: anonymous
  std::string nick;                   ///< required with a token; default justinfan<digits>
  TlsClientOptions tls;
  int ping_interval_s = 60;  ///< our own PING every this many seconds once logged in
  int pong_timeout_s = 10;   ///< no PONG within this: the connection is dead
  IrcMapOptions map;
};

/// Joins at most this many channels per kJoinWindowMs (Twitch: 20 JOINs per 10 s).
constexpr int kJoinBurst = 20;
constexpr int kJoinWindowMs = 10000;

/// Runs until a stop signal (0), stdout's reader leaving (0), the credentials being rejected (3),
/// a bad --url (2), or every channel being refused or stdout failing (1).
int RunIrcClient(const IrcClientOptions& opts);

/// "#Foo" → "foo": the channel login as Twitch spells it in JOIN.
std::string NormalizeChannel(const std::string& channel);

/// True if |login| (already lower case) can be a Twitch login: 1 to 25 of [a-z0-9_].
bool IsTwitchLogin(const std::string& login);
