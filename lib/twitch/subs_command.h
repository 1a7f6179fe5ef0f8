// twitch-subs' subcommands (list, create, delete) on top of the Helix EventSub calls and the token
// provider: subscriptions as NDJSON on stdout (one line each, as Twitch describes them), the
// totals and every error on stderr. Each returns the command's exit status (exit_status.h).
#pragma once

#include <string>
#include <vector>

#include "twitch/token_provider.h"

/// What the subcommands take beyond the Twitch auth option group.
struct SubsCommandOptions {
  TwitchAuthOptions auth;
  bool app = false;              ///< --app: the stored app token of --client-id (twitch-auth app)
  std::string status;            ///< list, delete: --status
  std::string type;              ///< list: --type; create: TYPE[@VERSION]
  std::string user_id;           ///< list: --user-id
  std::string condition;         ///< create: --condition JSON
  std::string session;           ///< create: --session ID (websocket)
  std::string webhook;           ///< create: --webhook URL
  std::string secret_file;       ///< create: --secret-file F (else TWITCH_HOOK_SECRET)
  std::string conduit;           ///< create: --conduit ID
  std::vector<std::string> ids;  ///< delete: ID...
};

/// Lists the subscriptions (every page); the totals go to stderr.
int RunSubsList(const SubsCommandOptions& o);

/// Creates one subscription; prints it.
int RunSubsCreate(const SubsCommandOptions& o);

/// Deletes the subscriptions |o.ids|, or those of status |o.status|; prints {"id","deleted"} for
/// each. Goes on after a failure; the exit status is the worst failure's.
int RunSubsDelete(const SubsCommandOptions& o);
