// twitch-subs: EventSub subscriptions through Helix, listed, created and deleted, as NDJSON (see
// man/twitch-subs.1.scd).
#include <CLI/CLI.hpp>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "twitch/subs_command.h"

namespace {

struct Options {
  LogOptions log;
  SubsCommandOptions cmd;
};

CLI::App* Subcommand(CLI::App& app, const char* name, const char* what, Options* o) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->fallthrough();  // -v and -q after the subcommand too
  AddTwitchAuthOptions(*sub, &o->cmd.auth);
  sub->add_flag("--app", o->cmd.app,
                "Use the stored app token of --client-id (see twitch-auth app)");
  return sub;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"EventSub subscriptions through Helix: list, create and delete them as NDJSON."};
  SetupApp(app, "twitch-subs");
  Options o;
  AddLogOptions(app, &o.log);
  app.require_subcommand(1, 1);

  CLI::App* list = Subcommand(app, "list", "Print every subscription (all pages)", &o);
  list->add_option("--status", o.cmd.status, "Only those of this status (enabled, ...)");
  list->add_option("--type", o.cmd.type, "Only those of this subscription type");
  list->add_option("--user-id", o.cmd.user_id, "Only those whose condition names this user id");
  list->get_option("--status")->excludes(list->get_option("--type"));

  CLI::App* create = Subcommand(app, "create", "Create a subscription; print it", &o);
  create
      ->add_option("type", o.cmd.type,
                   "The subscription type, with its version if not the "
                   "table's (channel.follow@2)")
      ->required()
      ->type_name("TYPE[@VERSION]");
  create->add_option("--condition", o.cmd.condition, "The condition, a JSON object")
      ->required()
      ->type_name("JSON");
  auto* session = create->add_option("--session", o.cmd.session, "A WebSocket session id");
  auto* webhook = create->add_option("--webhook", o.cmd.webhook, "A webhook callback URL");
  auto* conduit = create->add_option("--conduit", o.cmd.conduit, "A conduit id");
  auto* secret = create
                     ->add_option("--secret-file", o.cmd.secret_file,
                                  "The webhook secret's file (else TWITCH_HOOK_SECRET)")
                     ->type_name("FILE");
  session->excludes(webhook)->excludes(conduit);
  webhook->excludes(conduit);
  secret->needs(webhook);

  CLI::App* del = Subcommand(app, "delete", "Delete subscriptions by id or by status", &o);
  auto* ids = del->add_option("id", o.cmd.ids, "Subscription ids")->type_name("ID...");
  auto* status = del->add_option("--status", o.cmd.status, "Every subscription of this status");
  ids->excludes(status);

  int rc = ParseCommandLine(app, argc, argv);
  if (rc >= 0) return rc;
  if (create->parsed()) {
    if (o.cmd.session.empty() && o.cmd.webhook.empty() && o.cmd.conduit.empty()) {
      LogError("create: give --session, --webhook or --conduit");
      return kExitUsage;
    }
    return RunSubsCreate(o.cmd);
  }
  if (del->parsed()) {
    if (o.cmd.ids.empty() && o.cmd.status.empty()) {
      LogError("delete: give subscription ids or --status");
      return kExitUsage;
    }
    return RunSubsDelete(o.cmd);
  }
  return RunSubsList(o.cmd);
}
