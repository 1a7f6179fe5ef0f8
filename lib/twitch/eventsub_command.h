// twitch-eventsub's wiring: the token (loaded, validated, its scopes checked against what the
// --types and --subscribe need before connecting, then kept valid on the loop), the channel's
// user id, the wanted subscriptions with their conditions, Helix on the loop, and the session
// (eventsub_session.h). With --conduit: the app token, the conduit (created, or found with room
// for --shard), and the subscriptions of every channel of --channel and --channels-file. The
// command file only parses options into EventSubCommandOptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "twitch/token_provider.h"

/// The options of twitch-eventsub(1).
struct EventSubCommandOptions {
  std::string channel;                 ///< --channel: a login; "": the token's own
  std::vector<std::string> types;      ///< --types names; empty: the default set
  std::vector<std::string> subscribe;  ///< --subscribe TYPE[@VERSION][:CONDITION-JSON]
  TwitchAuthOptions auth;
  std::string url = "wss://eventsub.wss.twitch.tv/ws";
  size_t max_buffer = 16u << 20;
  bool raw = false;
  std::string conduit;        ///< --conduit ID|new: a shard of a conduit, with an app token
  int shard = 0;              ///< --shard N
  int64_t shard_count = 0;    ///< --shard-count N (with --conduit new; 0: --shard + 1)
  std::string channels_file;  ///< --channels-file: the channels (conduit mode)
};

/// Runs twitch-eventsub; returns its exit status (see EventSubClient::Run(); 2 for a bad
/// --types, --subscribe, --channels-file or --shard, 3 for a missing scope or a refused token,
/// a user token with --conduit included; 1 for an unknown --conduit ID).
int RunEventSubCommand(const EventSubCommandOptions& opts);
