// twitch-auth: connects a Twitch account (device code login), keeps its token in the token store
// and hands it to the other commands (see man/twitch-auth.1.scd).
#include <CLI/CLI.hpp>

#include "core/cli.h"
#include "core/exit_status.h"
#include "twitch/auth_commands.h"

namespace {

struct Options {
  LogOptions log;
  AuthCommandOptions cmd;
};

CLI::App* Subcommand(CLI::App& app, const char* name, const char* what, Options* o) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->fallthrough();  // -v and -q after the subcommand too
  if (std::string(name) != "list") AddTwitchAuthOptions(*sub, &o->cmd.auth);
  return sub;
}

void AddSecretFile(CLI::App* sub, Options* o) {
  sub->add_option("--client-secret-file", o->cmd.client_secret_file,
                  "Read the application's client secret from FILE (else TWITCH_CLIENT_SECRET)")
      ->type_name("FILE");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Connect a Twitch account: log in, keep its token fresh, hand it to the others."};
  SetupApp(app, "twitch-auth");
  Options o;
  AddLogOptions(app, &o.log);
  app.require_subcommand(1, 1);

  CLI::App* login =
      Subcommand(app, "login", "Log in with the device code flow; store the token", &o);
  login->add_option("--scopes", o.cmd.scopes, "Scopes to ask for (comma-separated)")
      ->delimiter(',')
      ->type_name("S,...");
  login->add_option("--for", o.cmd.scope_set, "Ask for the scopes these commands need")
      ->check(CLI::IsMember({"chat", "eventsub", "all"}))
      ->type_name("eventsub|chat|all");
  login->excludes(login->get_option("--scopes"));

  CLI::App* token = Subcommand(app, "token", "Print a valid access token (refreshed first)", &o);
  token->add_flag("--app", o.cmd.app, "The app token of --client-id (see twitch-auth app)");
  AddSecretFile(token, &o);

  Subcommand(app, "validate", "Ask Twitch about the token; print login, scopes, lifetime", &o);
  Subcommand(app, "revoke", "Revoke the token at Twitch and remove it from the store", &o);
  Subcommand(app, "list", "List the stored tokens (never the tokens themselves)", &o);
  CLI::App* appcmd =
      Subcommand(app, "app", "Get an app token (client credentials) and store it", &o);
  AddSecretFile(appcmd, &o);
  appcmd->add_flag("--force", o.cmd.force, "A new token even when the stored one is good");

  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  o.cmd.quiet = o.log.quiet;
  if (login->parsed()) return RunAuthLogin(o.cmd);
  if (token->parsed()) return RunAuthToken(o.cmd);
  if (app.got_subcommand("validate")) return RunAuthValidate(o.cmd);
  if (app.got_subcommand("revoke")) return RunAuthRevoke(o.cmd);
  if (app.got_subcommand("list")) return RunAuthList(o.cmd);
  return RunAuthApp(o.cmd);
}
