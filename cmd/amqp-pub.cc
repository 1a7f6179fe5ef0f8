// amqp-pub: NDJSON on stdin into RabbitMQ, one persistent message per line, with publisher
// confirms; no line is lost across broker restarts (see man/amqp-pub.1.scd).
#include <CLI/CLI.hpp>

#include "amqp/connection.h"
#include "amqp/publisher.h"
#include "core/cli.h"

namespace {

struct Options {
  LogOptions log;
  AmqpConnectOptions conn;
  PublishOptions pub;
  bool no_confirm = false;
};

int Run(const Options& opts) {
  PublishOptions pub = opts.pub;
  pub.confirm = !opts.no_confirm;
  return RunPublisher(opts.conn, pub);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Publish NDJSON lines from stdin to a RabbitMQ exchange, with publisher confirms"};
  SetupApp(app, "amqp-pub");
  Options opts;
  AddLogOptions(app, &opts.log);
  AddAmqpConnectOptions(app, &opts.conn);
  app.add_option("-e,--exchange", opts.pub.exchange, "Exchange to publish to (\"\": the default)")
      ->capture_default_str();
  app.add_option("--exchange-type", opts.pub.exchange_type, "Type the exchange is declared with")
      ->capture_default_str();
  app.add_flag("--passive", opts.pub.passive, "Do not declare the exchange, only check it exists");
  app.add_option("-k,--routing-key", opts.pub.routing_key,
                 "Routing key template: text with {json.path} fields, missing ones give _")
      ->capture_default_str();
  app.add_option("-H,--header", opts.pub.headers, "Add header K whose value is TEMPLATE")
      ->type_name("K=TEMPLATE");
  app.add_flag("--mandatory", opts.pub.mandatory,
               "Ask the broker to return unroutable messages (reported, exit status 1)");
  app.add_flag("--no-confirm", opts.no_confirm,
               "Publish without confirms (at most once: lines in flight may be lost)");
  app.add_flag("--transient", opts.pub.transient, "Publish with delivery mode 1, not persistent");
  app.add_option("--max-inflight", opts.pub.max_inflight,
                 "Most messages published but not yet confirmed")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-inflight-bytes", opts.pub.max_inflight_bytes,
                 "Most bytes of lines published but not yet confirmed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-line", opts.pub.max_line, "Longest line in bytes; longer lines are skipped")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  int status = ParseCommandLine(app, argc, argv);
  if (status >= 0) return status;
  WarnPasswordOnCommandLine(opts.conn, argc, argv);
  return Run(opts);
}
