// twitch-hook: takes Twitch's EventSub webhook POSTs, checks their signatures, and writes their
// events to stdout as NDJSON, answering 2xx only once an event is queued for stdout.
#include <CLI/CLI.hpp>
#include <string>

#include "core/cli.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "twitch/hook_subscribe.h"
#include "twitch/webhook.h"
#include "twitch/webhook_server.h"
#include "ws/address.h"

namespace {

struct Options {
  LogOptions log;
  std::string listen = "127.0.0.1:8081";
  std::string secret_file;
  HookOptions hook;
  HookSubscribeOptions subscribe;
};

int Run(Options& o) {
  std::string err, host;
  if (!ParseListenAddress(o.listen, &host, &o.hook.port, &err) ||
      !ResolveListenHost(host, &o.hook.host, &err)) {
    LogError("--listen: %s", err.c_str());
    return kExitUsage;
  }
  if (o.hook.path.empty() || o.hook.path[0] != '/' || o.hook.path == "/healthz") {
    LogError("--path %s: must start with / and not be /healthz", o.hook.path.c_str());
    return kExitUsage;
  }
  if (o.hook.tls_cert.empty() != o.hook.tls_key.empty()) {
    LogError("--tls-cert and --tls-key go together");
    return kExitUsage;
  }
  if (!ReadSecret(o.secret_file, "TWITCH_HOOK_SECRET", &o.hook.secret, &err)) {
    LogError("--secret-file %s", err.c_str());
    return kExitUsage;
  }
  if (o.hook.secret.empty()) {
    LogError("no secret: give --secret-file FILE or set TWITCH_HOOK_SECRET");
    return kExitUsage;
  }
  if (!ValidWebhookSecret(o.hook.secret, &err)) {
    LogError("secret: %s", err.c_str());
    return kExitUsage;
  }
  HookSubscriber subscriber(o.subscribe, o.hook.secret);
  int status = subscriber.Prepare();
  if (status >= 0) return status;
  o.hook.on_listening = [&](struct lws_context* context) { subscriber.Start(context); };
  o.hook.on_closing = [&] { subscriber.Stop(); };
  InstallStopSignals();
  return RunWebhookServer(o.hook);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Take Twitch's EventSub webhooks, verified, and write their events to stdout"};
  SetupApp(app, "twitch-hook");
  Options o;
  HookOptions& h = o.hook;
  AddLogOptions(app, &o.log);
  app.add_option("--listen", o.listen, "Address to listen on (port 0: any free port)")
      ->type_name("HOST:PORT");
  app.add_option("--path", h.path, "Path that Twitch posts to (the callback URL's path)")
      ->type_name("PATH");
  app.add_option("--secret-file", o.secret_file,
                 "Read the subscriptions' secret from the first line of FILE "
                 "(else TWITCH_HOOK_SECRET)")
      ->type_name("FILE");
  app.add_option("--state-file", h.state_file,
                 "Keep the message ids of the last 10 minutes in FILE, across restarts")
      ->type_name("FILE");
  app.add_option("--request-timeout", h.request_timeout,
                 "Close a client that takes longer than this for its headers or its body")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connections", h.max_connections, "Close connections beyond N open at once")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-queue", h.max_queue,
                 "Over this many bytes waiting for stdout, notifications are answered 503")
      ->type_name("BYTES")
      ->check(CLI::PositiveNumber);
  app.add_flag("--raw", h.raw, "Attach each notification to its events as \"raw\"");
  app.add_option("--tls-cert", h.tls_cert, "Serve HTTPS with this certificate (PEM)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", h.tls_key, "Private key of --tls-cert (PEM)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  AddHookSubscribeOptions(app, &o.subscribe);
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  return Run(o);
}
