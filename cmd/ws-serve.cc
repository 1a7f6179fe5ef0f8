// ws-serve: broadcasts every line of stdin as one WebSocket text frame to every connected client,
// and serves the overlay page and /healthz on the same port.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "http/static_files.h"
#include "ws/address.h"
#include "ws/server.h"

namespace {

struct Options {
  LogOptions log;
  std::string listen = "127.0.0.1:8080";
  std::string slow_client = "disconnect";
  std::string root;
  std::string token_file;
  std::string control_token_file;
  ServeOptions serve;
};

int Run(Options& o) {
  std::string err;
  std::string host;
  if (!ParseListenAddress(o.listen, &host, &o.serve.port, &err) ||
      !ResolveListenHost(host, &o.serve.host, &err)) {
    LogError("--listen: %s", err.c_str());
    return kExitUsage;
  }
  o.serve.slow_client =
      o.slow_client == "drop" ? SlowClientPolicy::kDrop : SlowClientPolicy::kDisconnect;
  if (!CheckServeOptions(o.serve, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  if (!o.root.empty()) {
    if (!RealDirectory(o.root, &o.serve.root)) {
      LogError("--root %s: not a directory", o.root.c_str());
      return kExitUsage;
    }
  } else {
    o.serve.root = DefaultOverlayRoot();
    if (o.serve.root.empty()) {
      LogWarning(
          "no overlay beside the executable (../share/twitch-servitor/overlay): serving "
          "no files (--root DIR serves a directory)");
    }
  }
  if (o.serve.token.empty() && !ReadSecret(o.token_file, "WS_SERVE_TOKEN", &o.serve.token, &err)) {
    LogError("--token-file %s", err.c_str());
    return kExitUsage;
  }
  if (!ReadSecret(o.control_token_file, "WS_SERVE_CONTROL_TOKEN", &o.serve.control_token, &err)) {
    LogError("--control-token-file %s", err.c_str());
    return kExitUsage;
  }
  if (!o.serve.control_token.empty() && o.serve.control_token == o.serve.token) {
    LogError("the control token is the read token: every reader could send commands");
    return kExitUsage;
  }
  InstallStopSignals();
  return RunServer(o.serve);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Broadcast lines of stdin to WebSocket clients; serve the overlay page"};
  SetupApp(app, "ws-serve");
  Options o;
  ServeOptions& s = o.serve;
  AddLogOptions(app, &o.log);
  app.add_option("--listen", o.listen, "Address to listen on (port 0: any free port)")
      ->type_name("HOST:PORT");
  app.add_option("--history", s.history, "Replay the last N lines to each new client")
      ->type_name("N");
  app.add_option("--retain", s.retain,
                 "Keep the last N lines for clients that resume with ?after=ID (0: none)")
      ->type_name("N");
  app.add_option("--retain-for", s.retain_for, "Keep a retained line this long")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--retain-file", s.retain_file,
                 "Keep the retained lines in FILE too, so they survive a restart")
      ->type_name("FILE");
  app.add_option("--max-queue", s.max_queue, "Most messages queued for one client")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-queue-bytes", s.max_queue_bytes, "Most bytes queued for one client")
      ->type_name("BYTES")
      ->check(CLI::PositiveNumber);
  app.add_option("--slow-client", o.slow_client,
                 "A client over --max-queue is disconnected (1008) or loses messages")
      ->type_name("disconnect|drop")
      ->check(CLI::IsMember({"disconnect", "drop"}));
  app.add_option("--max-line", s.max_line, "Longer input lines are skipped")
      ->type_name("BYTES")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", s.json, "Also skip input lines and relayed messages that are not JSON");
  app.add_option("--drain-timeout", s.drain_timeout,
                 "At the end, wait this long for clients to receive what is queued")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep-open", s.keep_open, "Keep serving after the end of input");
  app.add_option("--root", o.root, "Serve static files from DIR (default: the overlay)")
      ->type_name("DIR");
  app.add_option("--token", s.token, "Clients must present TOKEN (better: WS_SERVE_TOKEN)")
      ->type_name("TOKEN");
  app.add_option("--token-file", o.token_file, "Read the token from the first line of FILE")
      ->type_name("FILE");
  app.add_option("--control-token-file", o.control_token_file,
                 "Clients presenting the token in FILE may send commands (the desk)")
      ->type_name("FILE");
  app.add_option("--origin", s.origins,
                 "Also allow browsers from ORIGIN, beside the page's own ('*': any; repeatable)")
      ->type_name("ORIGIN");
  app.add_option("--max-clients", s.max_clients,
                 "Refuse WebSocket clients (503) beyond N (default: as descriptors allow)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app.add_option("--tls-cert", s.tls_cert, "Serve wss:// with this certificate (PEM)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", s.tls_key, "Private key of --tls-cert (PEM)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  app.add_option("--room-key", s.room_key,
                 "Events go to the room named at PATH (e.g. channel.login); clients of /r/ROOM/ "
                 "or ?room=ROOM get that room's")
      ->type_name("PATH");
  app.add_option("--room-tokens", s.room_tokens,
                 "Clients of a room must present its token: ROOM TOKEN lines (read again on "
                 "SIGHUP)")
      ->type_name("FILE");
  app.add_flag("--relay", s.relay, "Write messages from clients to stdout, one line each");
  app.add_option("--relay-buffer", s.relay_buffer,
                 "Over this many bytes waiting for stdout, clients are not read (--relay)")
      ->type_name("BYTES")
      ->check(CLI::PositiveNumber);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  return Run(o);
}
