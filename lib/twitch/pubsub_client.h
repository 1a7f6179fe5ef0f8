// The live PubSub connection (twitch-pubsub without --input): the protocol of pubsub_protocol.h on
// the shared WebSocket client (ws/ws_client.h), in one lws loop. Topics are split into groups of
// at most 50, one connection each (WsClient slots g and g + groups: the second is a group's
// successor after RECONNECT). Each connection LISTENs with a fresh nonce and the token and
// matches every RESPONSE to its request: ERR_BADAUTH ends the command (status 3), ERR_BADTOPIC
// is narrowed down to the topic that Twitch refused (a LISTEN of several is asked again topic by
// topic), ERR_SERVER is asked again after a backoff. A PING goes out every 3 to 4 minutes (with
// jitter); no PONG within 10 s cuts the connection. RECONNECT opens a successor that LISTENs
// again while the old connection still delivers (a message both deliver is mapped once); any drop
// is reconnected with backoff and jitter, and the time no connection covered a channel is
// reported as a "gap" event. A malformed inner message is logged and counted, never fatal.
// Records wait in a bounded queue for stdout, as twitch-irc's do. Timers run on the loop
// (monotonic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/tls_options.h"
#include "twitch/pubsub_events.h"

class TokenProvider;

/// Everything the connection needs; twitch-pubsub(1) documents each.
struct PubSubClientOptions {
  std::string url = "wss://pubsub-edge.twitch.tv";
  std::vector<std::string> topics;  ///< "channel-bits-events-v2.777000222", ...
  TlsClientOptions tls;
  int ping_interval_s = 0;       ///< 0: every 3 to 4 minutes at random (PubSubPingDelayMs())
  int pong_timeout_s = 10;       ///< no PONG (or RESPONSE) within this: the connection is dead
  size_t max_buffer = 16 << 20;  ///< bytes waiting for stdout over which reading pauses
  size_t per_connection = 50;    ///< topics per connection (Twitch's limit)
  BackoffPolicy backoff;         ///< reconnects, and LISTENs again after ERR_SERVER
  PubSubMapOptions map;
};

/// Runs until a stop signal (0, once what is queued for stdout is written), stdout's reader
/// leaving (0), the token being refused (ERR_BADAUTH, AUTH_REVOKED, or the provider's own
/// checks: 3), a bad --url or topic list (2), or every topic being refused, a malformed request
/// (ERR_BADMESSAGE) or stdout failing (1). |tokens| has been started (TokenProvider::Start());
/// it is watched on the loop and its current token goes into every LISTEN.
int RunPubSubClient(const PubSubClientOptions& opts, TokenProvider* tokens);

/// Offline mode (--input): maps the frames of |fd| (one JSON message a line; empty lines and
/// lines that begin with '#' skipped) to its end and writes their records. A malformed frame or
/// inner message is logged with its line number and counted. Returns 0 at end of input or when
/// stdout's reader left, 1 when reading or writing fails.
int RunPubSubInput(int fd, const std::string& name, const PubSubMapOptions& opts);
