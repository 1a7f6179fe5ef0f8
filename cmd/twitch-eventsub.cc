// twitch-eventsub: follows, subs, gifts, cheers, raids, redemptions, hype trains and the rest of
// a channel's alerts as schema-v1 events on stdout, from EventSub over WebSocket; with --conduit,
// those of many channels, as one shard of a conduit.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "twitch/eventsub_command.h"
#include "twitch/eventsub_types.h"

namespace {

struct Options {
  EventSubCommandOptions run;
  std::string types;
  LogOptions log;
};

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "A Twitch channel's alerts (follows, subs, cheers, raids, redemptions, hype "
      "trains, ...) as NDJSON events, from EventSub over WebSocket"};
  SetupApp(app, "twitch-eventsub");
  Options o;
  EventSubCommandOptions& r = o.run;
  app.add_option("--channel", r.channel, "The channel (its login); default: the token's owner")
      ->type_name("LOGIN");
  app.add_option("--types", o.types,
                 "What to subscribe to, comma-separated (default: " + EventSubDefaultTypes() +
                     "; 'none': only --subscribe)")
      ->type_name("LIST");
  app.add_option("--subscribe", r.subscribe,
                 "Also subscribe to TYPE (repeatable), e.g. stream.online@1:"
                 "'{\"broadcaster_user_id\":\"123\"}'")
      ->type_name("TYPE[@VERSION][:CONDITION-JSON]");
  app.add_option("--url", r.url, "EventSub WebSocket URL")->type_name("URL");
  app.add_flag("--raw", r.raw, "Attach the notification to each event as \"raw\"");
  app.add_option("--max-buffer", r.max_buffer,
                 "Stop reading Twitch while more than BYTES wait for stdout")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  auto* conduit = app.add_option_group("Conduit", "A shard of an EventSub conduit (app token)");
  conduit
      ->add_option("--conduit", r.conduit,
                   "Be a shard of this conduit ('new': create one); subscriptions live on it")
      ->type_name("ID|new");
  conduit->add_option("--shard", r.shard, "This process's shard id (default 0)")
      ->type_name("N")
      ->check(CLI::Range(0, 19999));
  conduit
      ->add_option("--shard-count", r.shard_count,
                   "Shards of a --conduit new (default: --shard + 1)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{20000}));
  conduit
      ->add_option("--channels-file", r.channels_file,
                   "Subscribe the --types for every channel of FILE (one login a line)")
      ->type_name("FILE");
  AddTwitchAuthOptions(app, &r.auth);
  AddLogOptions(app, &o.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  if (!o.types.empty()) {
    r.types = SplitCommas(o.types);
    if (r.types.empty()) {
      LogError("--types: empty; give type names, or 'none' with --subscribe");
      return kExitUsage;
    }
  }
  return RunEventSubCommand(r);
}
