// amqp-pub's engine: NDJSON lines from a file descriptor to a RabbitMQ exchange, one message per
// line, with publisher confirms in a bounded window, reconnects that republish every unconfirmed
// line (at-least-once), on an AmqpSession whose poll(2) loop also watches stdin.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "amqp/connection.h"

struct PublishOptions {
  std::string exchange = "twitch";
  std::string exchange_type = "topic";
  bool passive = false;  ///< only check that the exchange exists
  std::string routing_key = "{channel.login}.{type}";
  std::vector<std::string> headers;  ///< "K=TEMPLATE"
  bool mandatory = false;
  bool confirm = true;
  bool transient = false;  ///< delivery mode 1 instead of persistent (2)
  size_t max_inflight = 10000;
  size_t max_inflight_bytes = 16 << 20;
  size_t max_line = 1 << 20;
};

/// Publishes every line read from |in_fd| until end of input or a stop signal. Returns the exit
/// status: 0 when every line was published (and confirmed, with confirms); 1 when a line was
/// skipped, nacked or returned, or the broker stayed unreachable past --retry-for; 2 for an
/// unusable option (bad URL or template), reported before connecting; 3 when the broker
/// refused the credentials.
int RunPublisher(const AmqpConnectOptions& conn_opts, const PublishOptions& opts, int in_fd = 0);
