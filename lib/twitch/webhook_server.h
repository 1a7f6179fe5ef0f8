// twitch-hook's engine: an HTTP/1.1 server on one libwebsockets loop that takes Twitch's signed
// EventSub webhook POSTs (twitch/webhook.h judges them) and writes their events to stdout through
// a bounded queue, answering 2xx only once an event is in that queue. See man/twitch-hook.1.scd.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "ws/loop.h"

/// Everything twitch-hook can be told.
struct HookOptions {
  std::string host = "127.0.0.1";  ///< numeric
  int port = 8081;
  std::string path = "/eventsub";
  std::string secret;  ///< checked with ValidWebhookSecret()
  std::string tls_cert, tls_key;
  std::string state_file;         ///< message ids that survive a restart; empty: none
  double request_timeout = 10.0;  ///< seconds for the headers, and again for the body
  size_t max_connections = 256;   ///< open at once; more are closed when accepted
  size_t max_queue = 1u << 20;    ///< bytes waiting for stdout over which notifications get 503
  bool raw = false;               ///< "raw" on each event
  /// Runs once the server listens, on its loop (twitch-hook --subscribe-for starts there).
  std::function<void(struct lws_context*)> on_listening;
  /// Runs before the loop's context is destroyed.
  std::function<void()> on_closing;
};

/// Serves until a stop signal, then stops accepting, answers the requests in flight, writes the
/// queue and returns kExitOk; kExitFailure when it cannot listen or stdout fails. Logs
/// "listening on HOST:PORT" once it listens.
int RunWebhookServer(const HookOptions& opts);

/// twitch-hook's server as RunWebhookServer() makes it, but listening nowhere and with no
/// --state-file, for the fuzz harness (tests/fuzz/webhook_fuzz.cc); null, logged, on failure.
std::unique_ptr<ServerHarness> MakeWebhookHarness(const HookOptions& opts);
