// amqp-sub: RabbitMQ to NDJSON on stdout, one line per message, acknowledged only after the line
// was written (see man/amqp-sub.1.scd).
#include <CLI/CLI.hpp>

#include "amqp/connection.h"
#include "amqp/subscriber.h"
#include "core/cli.h"

namespace {

struct Options {
  LogOptions log;
  AmqpConnectOptions conn;
  SubscribeOptions sub;
};

int Run(const Options& opts) { return RunSubscriber(opts.conn, opts.sub); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Consume RabbitMQ messages and write each body as one line on stdout"};
  SetupApp(app, "amqp-sub");
  Options opts;
  AddLogOptions(app, &opts.log);
  AddAmqpConnectOptions(app, &opts.conn);
  app.add_option("-Q,--queue", opts.sub.queue,
                 "Queue to consume (declared durable); none: an exclusive server-named queue");
  app.add_option("--queue-type", opts.sub.queue_type, "Type of a declared queue")
      ->check(CLI::IsMember({"classic", "quorum", "stream"}))
      ->capture_default_str();
  app.add_option("--stream-offset", opts.sub.stream_offset,
                 "Where to start consuming a stream: first, last, next or an offset")
      ->type_name("first|last|next|N")
      ->check(CLI::Validator(
          [](std::string& v) {
            return ValidStreamOffset(v) ? "" : "expected first, last, next or an offset";
          },
          ""));
  app.add_option("--queue-arg", opts.sub.queue_args,
                 "Queue argument, e.g. x-message-ttl=60000 (integers, true/false, strings)")
      ->type_name("K=V");
  app.add_flag("--passive", opts.sub.passive,
               "Do not declare the exchange and queue, only check they exist");
  app.add_option("-e,--exchange", opts.sub.exchange, "Exchange to bind to (\"\": bind nothing)")
      ->capture_default_str();
  app.add_option("--exchange-type", opts.sub.exchange_type, "Type the exchange is declared with")
      ->capture_default_str();
  CLI::Option* keys =
      app.add_option("-b,--binding-key", opts.sub.binding_keys, "Binding key (repeatable)")
          ->capture_default_str();
  app.add_option("--binding-keys-file", opts.sub.binding_keys_file,
                 "More binding keys, one a line (without -b: instead of the default #)")
      ->type_name("FILE");
  app.add_option("--prefetch", opts.sub.prefetch, "Most unacknowledged messages in flight")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("-c,--count", opts.sub.count, "Exit after writing N lines")
      ->check(CLI::Range(0LL, 1LL << 62));
  app.add_flag("--envelope", opts.sub.envelope,
               "Write {exchange, routing_key, delivery_tag, redelivered, headers, body}");
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  if (!opts.sub.binding_keys_file.empty() && keys->count() == 0) opts.sub.binding_keys.clear();
  WarnPasswordOnCommandLine(opts.conn, argc, argv);
  return Run(opts);
}
