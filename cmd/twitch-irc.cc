// twitch-irc: Twitch chat notices (subs, gifts, cheers, raids, ...) as schema-v1 events on stdout,
// live from Twitch IRC over WebSocket (one or more connections) or offline from raw IRC lines.
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
#include "twitch/irc_client.h"
#include "twitch/irc_output.h"
#include "twitch/token_provider.h"

namespace {

struct Options {
  IrcClientOptions irc;  // its defaults are the options' defaults
  TwitchAuthOptions auth;
  std::string input;
  LogOptions log;
};

int RunInput(const Options& o) {
  if (o.input == "-") return RunIrcInput(0, "-", o.irc.map);
  int fd = open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    LogError("%s: cannot open: %s", o.input.c_str(), strerror(errno));
    return kExitFailure;
  }
  int status = RunIrcInput(fd, o.input, o.irc.map);
  close(fd);
  return status;
}

int Run(Options& o) {
  InstallStopSignals();
  if (!o.input.empty()) return RunInput(o);
  o.auth.tls = o.irc.tls;
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TokenProvider tokens(o.auth, &http);
  int status = UseIrcToken(&o.irc, &tokens);
  if (status != kExitOk) return status;
  return RunIrcClient(o.irc);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Twitch chat notices (subs, gifts, cheers, raids, ...) as NDJSON events"};
  SetupApp(app, "twitch-irc");
  Options o;
  IrcClientOptions& c = o.irc;
  app.add_option("channel", c.channels, "Channels to join (login, with or without '#')")
      ->type_name("CHANNEL");
  app.add_option("--channels-file", c.channels_file,
                 "Also join the channels in FILE (one a line, '# ' comments); read again on SIGHUP")
      ->type_name("FILE");
  app.add_option("--input", o.input, "Read raw IRC lines from FILE ('-': stdin), do not connect")
      ->type_name("FILE");
  app.add_flag("--chat", c.map.chat, "Also emit every chat message as a \"chat\" event");
  app.add_flag("--all", c.map.all, "Also emit every IRC line as a {\"type\":\"irc\"} record");
  app.add_flag("--raw", c.map.raw, "Attach the parsed IRC line to each event as \"raw\"");
  app.add_option("--url", c.url, "Twitch IRC WebSocket URL")->type_name("URL");
  app.add_option("--nick", c.nick,
                 "Login of a bare token's owner (a stored token names its own; default without "
                 "a token: justinfan<digits>)")
      ->type_name("LOGIN");
  app.add_option("--ping-interval", c.ping_interval_s, "Send a PING every SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 3600));
  app.add_option("--pong-timeout", c.pong_timeout_s, "Reconnect when no PONG came within SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 600));
  app.add_option("--max-buffer", c.max_buffer,
                 "Stop reading Twitch while more than BYTES wait for stdout")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  app.add_option("--state-file", c.state_file,
                 "Keep in FILE what a restart needs to report the time it was down as a gap")
      ->type_name("FILE");
  app.add_option("--channels-per-connection", c.channels_per_connection,
                 "Read at most N channels on one connection; more open more connections")
      ->type_name("N")
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  app.add_option("--max-connections", c.max_connections, "Open at most N connections to Twitch")
      ->type_name("N")
      ->check(CLI::Range(size_t{1}, size_t{100}));
  AddTlsClientOptions(app, &c.tls);
  AddTwitchAuthOptions(app, &o.auth, false);
  app.get_option("--api-url")->group("");  // chat needs no Helix
  AddLogOptions(app, &o.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  if (o.input.empty() && c.channels.empty() && c.channels_file.empty()) {
    LogError("no CHANNEL given (or --input FILE); try 'twitch-irc --help'");
    return kExitUsage;
  }
  if (!o.input.empty() && (!c.channels.empty() || !c.channels_file.empty())) {
    LogError("--input reads lines and joins no CHANNEL; give one or the other");
    return kExitUsage;
  }
  return Run(o);
}
