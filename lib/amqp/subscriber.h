// amqp-sub's engine: consume from a queue bound to an exchange and write each message body as
// one line on a file descriptor, acknowledging a message only after its line was written.
// Runs on an AmqpSession (one poll(2) loop, reconnects with backoff).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "amqp/connection.h"

struct SubscribeOptions {
  std::string queue;  ///< empty: an exclusive server-named queue (every amqp-sub gets everything)
  std::string queue_type = "classic";
  std::vector<std::string> queue_args;  ///< "K=V"; V an integer, true/false, or a string
  bool passive = false;
  std::string exchange = "twitch";
  std::string exchange_type = "topic";
  std::vector<std::string> binding_keys = {"#"};
  /// More binding keys, one a line (blank lines skipped); read once, before connecting.
  std::string binding_keys_file;
  int prefetch = 100;
  long long count = 0;  ///< exit after this many lines; 0: no limit
  bool envelope = false;
  /// Where a stream queue is first consumed from: "first", "last", "next" or an offset; empty:
  /// the broker's default (next). After a reconnect, consuming resumes after the last message
  /// written instead.
  std::string stream_offset;
};

/// Consumes until --count, a stop signal (drain, ack, exit 0), or the downstream closing (exit
/// 0; what was not written stays unacknowledged and goes back to the queue). Returns the exit
/// status: 1 when the broker stayed unreachable past --retry-for or refused the queue or
/// binding; 2 for an unusable option, before connecting; 3 when the broker refused the
/// credentials.
int RunSubscriber(const AmqpConnectOptions& conn_opts, const SubscribeOptions& opts,
                  int out_fd = 1);

/// Reads --binding-keys-file: one key a line, surrounding spaces and blank lines left out (no
/// comments: # is a key). Appends them to |keys|. False, with |err|, when the file does not read,
/// holds no key, or holds a key longer than AMQP allows (255 bytes).
bool ReadBindingKeys(const std::string& path, std::vector<std::string>* keys, std::string* err);

/// One --queue-arg K=V: V "true"/"false" is a boolean, an integer a 64-bit integer (x-message-ttl,
/// x-max-length), anything else a string.
struct QueueArg {
  std::string key;
  enum class Kind { kString, kInt, kBool } kind = Kind::kString;
  std::string text;
  long long number = 0;
  bool flag = false;
};

/// Parses "K=V". Fails with |err| when there is no '=' or K is empty.
bool ParseQueueArg(const std::string& arg, QueueArg* out, std::string* err);

/// Checks a --stream-offset: "first", "last", "next" or a non-negative integer offset.
bool ValidStreamOffset(const std::string& spec);
