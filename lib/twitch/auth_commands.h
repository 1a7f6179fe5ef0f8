// The subcommands of twitch-auth (login, token, validate, revoke, list, app) on top of the token
// store, the OAuth calls and the token provider. Each returns the command's exit status; data
// (one JSON line, or the token for `token`) goes to stdout, never a token anywhere else.
#pragma once

#include <string>
#include <vector>

#include "twitch/token_provider.h"

/// What the subcommands take beyond the shared option group.
struct AuthCommandOptions {
  TwitchAuthOptions auth;
  std::vector<std::string> scopes;  ///< login --scopes
  std::string scope_set;            ///< login --for: chat, eventsub or all
  bool app = false;                 ///< token --app: the app token of --client-id
  std::string client_secret_file;   ///< app, token --app: the client secret (or env)
  bool force = false;               ///< app --force: a new token even if the stored one is good
  bool quiet = false;               ///< validate -q: only the exit status
};

/// Device code login: prompts on stderr, polls, stores the token, prints who logged in.
int RunAuthLogin(const AuthCommandOptions& o);

/// Prints a valid access token, refreshed first when it expires within five minutes.
int RunAuthToken(const AuthCommandOptions& o);

/// Asks Twitch about the token; prints login, user id, client id, scopes and seconds left.
int RunAuthValidate(const AuthCommandOptions& o);

/// Revokes the token at Twitch and removes its store file.
int RunAuthRevoke(const AuthCommandOptions& o);

/// Prints one JSON line per stored token (never the token).
int RunAuthList(const AuthCommandOptions& o);

/// Gets (or keeps, while it is good) an app token by client credentials and stores it.
int RunAuthApp(const AuthCommandOptions& o);
