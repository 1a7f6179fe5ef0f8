// AMQP URLs (amqp://user:pass@host:port/vhost, amqps:// for TLS): parsing with rabbitmq-c's own
// parser, and the password-free form that is the only one ever logged.
#pragma once

#include <string>

/// A parsed AMQP URL. Owns its strings (amqp_parse_url() points into its input).
struct AmqpUrl {
  bool tls = false;
  std::string user = "guest";
  std::string password = "guest";
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string vhost = "/";
};

/// Parses |text| with amqp_parse_url(). An empty vhost ("amqp://host/") means "/". Returns false
/// with |err| (which never contains the password) when |text| is not an AMQP URL.
bool ParseAmqpUrl(const std::string& text, AmqpUrl* url, std::string* err);

/// Whether the text of an amqp:// or amqps:// URL carries a non-empty password
/// ("amqp://user:PASSWORD@host"), whether or not the rest of it parses.
bool AmqpUrlHasPassword(const std::string& text);

/// "amqp://user@host:port/vhost" (vhost "/" written as "%2f"): the URL without its password,
/// for logs and messages.
std::string RedactedUrl(const AmqpUrl& url);
