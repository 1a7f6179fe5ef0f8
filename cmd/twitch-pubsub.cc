// twitch-pubsub: subs, gift bombs, cheers and channel points redemptions from Twitch's legacy
// PubSub (retired for third parties on 2025-04-14) as schema-v1 events on stdout, live from a
// PubSub-compatible server or offline from captured frames (--input).
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "http/client.h"
#include "twitch/pubsub_client.h"
#include "twitch/pubsub_protocol.h"
#include "twitch/token_provider.h"

namespace {

struct Options {
  PubSubClientOptions ps;  // its defaults are the options' defaults
  std::string channel_id;
  std::vector<std::string> types;
  std::vector<std::string> topics;
  std::string input;
  TwitchAuthOptions auth;
  LogOptions log;
};

int RunInput(const Options& o) {
  if (o.input == "-") return RunPubSubInput(0, "-", o.ps.map);
  int fd = open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    LogError("%s: cannot open: %s", o.input.c_str(), strerror(errno));
    return kExitFailure;
  }
  int status = RunPubSubInput(fd, o.input, o.ps.map);
  close(fd);
  return status;
}

// The topics of --channel-id and --types, then those of --topic.
bool CollectTopics(Options& o) {
  std::string err;
  if (!o.channel_id.empty()) {
    for (const std::string& type : o.types.empty() ? PubSubTypes() : o.types) {
      std::string topic;
      if (!PubSubTopicFor(type, o.channel_id, &topic, &err)) {
        LogError("--channel-id/--types: %s", err.c_str());
        return false;
      }
      o.ps.topics.push_back(topic);
    }
  }
  for (const std::string& t : o.topics) {
    size_t dot = t.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == t.size() ||
        t.find_first_of(" \t\"") != std::string::npos) {
      LogError("--topic '%s': not a PubSub topic (NAME.ID, as channel-bits-events-v2.123)",
               t.c_str());
      return false;
    }
    o.ps.topics.push_back(t);
  }
  return true;
}

int Run(Options& o) {
  InstallStopSignals();
  if (!o.input.empty()) return RunInput(o);
  if (!CollectTopics(o)) return kExitUsage;
  o.auth.tls = o.ps.tls;
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TokenProvider tokens(o.auth, &http);
  std::string err;
  if (!tokens.Resolve(true, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  if (tokens.source() == TokenProvider::Source::kNone) {
    LogError("no token: give --login, --token-file or TWITCH_TOKEN (PubSub topics need one)");
    return kExitUsage;
  }
  AuthFailure f = tokens.Start(TokenProvider::kRefreshWithinS, true, &err);
  if (f != AuthFailure::kNone) {
    LogError("%s", err.c_str());
    return AuthExitStatus(f);
  }
  return RunPubSubClient(o.ps, &tokens);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Twitch PubSub (legacy) subs, gifts, cheers and redemptions as NDJSON events"};
  SetupApp(app, "twitch-pubsub");
  Options o;
  PubSubClientOptions& c = o.ps;
  std::string types;
  for (const std::string& t : PubSubTypes()) types += (types.empty() ? "" : ",") + t;
  app.add_option("--channel-id", o.channel_id, "Listen to the topics of this channel (user id)")
      ->type_name("ID");
  app.add_option("--types", o.types, "With --channel-id: these topics only (" + types + ")")
      ->type_name("LIST")
      ->delimiter(',');
  app.add_option("--topic", o.topics, "Listen to TOPIC (NAME.ID); repeatable")->type_name("TOPIC");
  app.add_option("--input", o.input, "Map captured frames from FILE ('-': stdin), do not connect")
      ->type_name("FILE");
  app.add_flag("--raw", c.map.raw, "Attach the topic and inner message to each event as \"raw\"");
  app.add_option("--url", c.url, "PubSub WebSocket URL")->type_name("URL");
  app.add_option("--ping-interval", c.ping_interval_s,
                 "Send a PING every SECONDS (default: every 3 to 4 minutes, at random)")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 240));
  app.add_option("--pong-timeout", c.pong_timeout_s,
                 "Reconnect when no PONG (or RESPONSE) came within SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 600));
  app.add_option("--max-buffer", c.max_buffer,
                 "Stop reading PubSub while more than BYTES wait for stdout")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  AddTlsClientOptions(app, &c.tls);
  AddTwitchAuthOptions(app, &o.auth, false);
  AddLogOptions(app, &o.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  bool listens = !o.channel_id.empty() || !o.topics.empty();
  if (o.input.empty() && !listens) {
    LogError("no --channel-id or --topic given (or --input FILE); try 'twitch-pubsub --help'");
    return kExitUsage;
  }
  if (!o.input.empty() && listens) {
    LogError("--input maps captured frames and listens to no topic; give one or the other");
    return kExitUsage;
  }
  if (!o.types.empty() && o.channel_id.empty()) {
    LogError("--types: needs --channel-id");
    return kExitUsage;
  }
  return Run(o);
}
