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
  std::vector<std::string> channels;
  std::string input;
  std::string url = "wss://irc-ws.chat.twitch.tv:443";
  std::string token_file;
  std::string nick;
  int ping_interval = 60;
  int pong_timeout = 10;
  size_t max_buffer = 16 << 20;
  IrcMapOptions map;
  TlsClientOptions tls;
  LogOptions log;
};

int RunInput(const Options& o) {
  if (o.input == "-") return RunIrcInput(0, "-", o.map);
  int fd = open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    LogError("%s: cannot open: %s", o.input.c_str(), strerror(errno));
    return kExitFailure;
  }
  int status = RunIrcInput(fd, o.input, o.map);
  close(fd);
  return status;
}

int Run(const Options& o) {
  InstallStopSignals();
  if (!o.input.empty()) return RunInput(o);
  IrcClientOptions c;
  c.url = o.url;
  c.channels = o.channels;
  c.nick = o.nick;
  c.tls = o.tls;
  c.ping_interval_s = o.ping_interval;
  c.pong_timeout_s = o.pong_timeout;
  c.max_buffer = o.max_buffer;
  c.map = o.map;
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
  app.add_option("channel", o.channels, "Channels to join (login, with or without '#')")
      ->type_name("CHANNEL");
  app.add_option("--input", o.input, "Read raw IRC lines from FILE ('-': stdin), do not connect")
      ->type_name("FILE");
  app.add_flag("--chat", o.map.chat, "Also emit every chat message as a \"chat\" event");
  app.add_flag("--all", o.map.all, "Also emit every IRC line as a {\"type\":\"irc\"} record");
  app.add_flag("--raw", o.map.raw, "Attach the parsed IRC line to each event as \"raw\"");
  app.add_option("--url", o.url, "Twitch IRC WebSocket URL")->type_name("URL");
  app.add_option("--token-file", o.token_file,
                 "Read the OAuth token from FILE (it wins over TWITCH_TOKEN); default: anonymous")
      ->type_name("FILE");
  app.add_option("--nick", o.nick, "Login of the token's owner (default: justinfan<digits>)")
      ->type_name("LOGIN");
  app.add_option("--ping-interval", o.ping_interval, "Send a PING every SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 3600));
  app.add_option("--pong-timeout", o.pong_timeout, "Reconnect when no PONG came within SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 600));
  app.add_option("--max-buffer", o.max_buffer,
                 "Stop reading Twitch while more than BYTES wait for stdout")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40));
  AddTlsClientOptions(app, &o.tls);
  AddLogOptions(app, &o.log);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  if (o.input.empty() && o.channels.empty()) {
    LogError("no CHANNEL given (or --input FILE); try 'twitch-irc --help'");
    return kExitUsage;
  }
  if (!o.input.empty() && !o.channels.empty()) {
    LogError("--input reads lines and joins no CHANNEL; give one or the other");
    return kExitUsage;
  }
  return Run(o);
}
