// ws-cat: connects to a WebSocket server and prints each text message it receives as one line.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "ws/address.h"
#include "ws/client.h"

namespace {

struct Options {
  LogOptions log;
  std::vector<std::string> headers;
  std::string token_file;
  CatOptions cat;
};

int Run(Options& o) {
  std::string err;
  if (!ParseWsUrl(o.cat.url_text, &o.cat.url, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  for (const auto& h : o.headers) {
    std::string name, value;
    if (!ParseHeader(h, &name, &value, &err)) {
      LogError("--header: %s", err.c_str());
      return kExitUsage;
    }
    o.cat.headers.emplace_back(name, value);
  }
  if (!ReadSecret(o.token_file, "WS_SERVE_TOKEN", &o.cat.token, &err)) {
    LogError("--token-file: %s", err.c_str());
    return kExitUsage;
  }
  if (!o.cat.url.tls && (!o.cat.tls.cacert.empty() || o.cat.tls.insecure)) {
    LogWarning("--cacert and --insecure only matter for wss:// URLs");
  }
  InstallStopSignals();
  return RunCat(o.cat);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Print the text messages of a WebSocket server, one line each"};
  SetupApp(app, "ws-cat");
  Options o;
  CatOptions& c = o.cat;
  AddLogOptions(app, &o.log);
  AddTlsClientOptions(app, &c.tls);
  app.add_option("url", c.url_text, "ws:// or wss:// URL")->required()->type_name("URL");
  app.add_option("-n,--count", c.count, "Exit after N messages")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--send", c.send, "Send the lines of stdin to the server");
  app.add_flag("--reconnect", c.reconnect,
               "Reconnect with backoff and jitter when the connection fails or ends");
  app.add_option("--timeout", c.timeout,
                 "Give up connecting after SECONDS, and a connection silent for SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::NonNegativeNumber);
  app.add_option("-H,--header", o.headers, "Add a handshake header (repeatable)")
      ->type_name("'NAME: VALUE'");
  app.add_option("--token-file", o.token_file,
                 "Send the token in FILE as 'Authorization: Bearer' (default: $WS_SERVE_TOKEN)")
      ->type_name("FILE");
  app.add_option("--after", c.after,
                 "Resume after event ID (ws-serve ?after=); reconnects resume after the last one")
      ->type_name("ID");
  app.add_option("--max-line", c.max_line, "Skip longer messages (and stdin lines)")
      ->type_name("BYTES")
      ->check(CLI::PositiveNumber);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  return Run(o);
}
