// twitch-irc: Twitch chat notices (subs, gifts, cheers, raids, ...) as schema-v1 events on stdout,
// live from Twitch IRC over WebSocket or offline from raw IRC lines (--input).
#include <fcntl.h>
#include <unistd.h>

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

namespace {

struct Options {
  IrcClientOptions irc;  // its defaults are the options' defaults
  std::string input;
  std::string token_file;
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
  IrcClientOptions& c = o.irc;
  std::string err;
  if (!ReadSecret(o.token_file, "TWITCH_TOKEN", &c.token, &err)) {
    LogError("token: %s", err.c_str());
    return kExitUsage;
  }
  if (!c.token.empty() && c.nick.empty()) {
    LogError(
        "--nick: required with a token (TWITCH_TOKEN or --token-file): the token owner's login");
    return kExitUsage;
  }
  return RunIrcClient(c);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Twitch chat notices (subs, gifts, cheers, raids, ...) as NDJSON events"};
  SetupApp(app, "twitch-irc");
  Options o;
  IrcClientOptions& c = o.irc;
  app.add_option("channel", c.channels, "Channels to join (login, with or without '#')")
      ->type_name("CHANNEL");
  app.add_option("--input", o.input, "Read raw IRC lines from FILE ('-': stdin), do not connect")
      ->type_name("FILE");
  app.add_flag("--chat", c.map.chat, "Also emit every chat message as a \"chat\" event");
  app.add_flag("--all", c.map.all, "Also emit every IRC line as a {\"type\":\"irc\"} record");
  app.add_flag("--raw", c.map.raw, "Attach the parsed IRC line to each event as \"raw\"");
  app.add_option("--url", c.url, "Twitch IRC WebSocket URL")->type_name("URL");
  app.add_option("--token-file", o.token_file,
                 "Read the OAuth token from FILE (it wins over TWITCH_TOKEN); default: anonymous")
      ->type_name("FILE");
  app.add_option("--nick", c.nick, "Login of the token's owner (default: justinfan<digits>)")
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
  AddTlsClientOptions(app, &c.tls);
  AddLogOptions(app, &o.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  if (o.input.empty() && c.channels.empty()) {
    LogError("no CHANNEL given (or --input FILE); try 'twitch-irc --help'");
    return kExitUsage;
  }
  if (!o.input.empty() && !c.channels.empty()) {
    LogError("--input reads lines and joins no CHANNEL; give one or the other");
    return kExitUsage;
  }
  return Run(o);
}
