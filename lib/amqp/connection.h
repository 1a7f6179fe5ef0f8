// One AMQP connection with one channel, as amqp-pub and amqp-sub use it: the shared option group
// (--url, AMQP_URL, TLS, --heartbeat, --retry-for), opening with a classified failure (retry,
// credentials, fatal), the frame-level helpers of the poll loop, and reconnect backoff.
#pragma once

#include <amqp.h>
#include <openssl/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "amqp/url.h"
#include "core/backoff.h"
#include "core/cli.h"
#include "core/time.h"

/// The connection options both commands share.
struct AmqpConnectOptions {
  /// Brokers to connect to, in turn: a failed attempt or a lost connection moves to the next.
  std::vector<std::string> urls = {"amqp://guest:guest@127.0.0.1:5672"};
  TlsClientOptions tls;
  int heartbeat = 30;           ///< seconds; 0 disables heartbeats
  double retry_for = 0;         ///< seconds of failed (re)connecting before giving up; 0: forever
  double connect_timeout = 10;  ///< seconds for TCP+TLS+login
};

/// Adds --url (repeatable; env AMQP_URL), --cacert/--insecure/--cert/--key, --heartbeat,
/// --retry-for and
/// --connect-timeout to |app|.
void AddAmqpConnectOptions(CLI::App& app, AmqpConnectOptions* opts);

/// Warns once on stderr when a URL in |opts| carries a password and was given in |argv|
/// (--url URL or --url=URL), where other users of the machine can read it (ps, /proc): AMQP_URL
/// keeps it off the command line. RabbitMQ's default guest:guest is no secret and draws none.
/// Call after parsing.
void WarnPasswordOnCommandLine(const AmqpConnectOptions& opts, int argc, char** argv);

/// The channel every command uses.
constexpr amqp_channel_t kAmqpChannel = 1;

/// What a failure means for the caller.
enum class AmqpFailure {
  kNone,
  kTransient,    ///< connection lost, broker down or restarting: reconnect with backoff
  kCredentials,  ///< login refused (ACCESS_REFUSED): exit 3
  kFatal,        ///< the broker refused what we asked (404, 406, ...): exit 1, retrying is futile
};

/// Describes an RPC reply ("server closed the channel: 404 NOT_FOUND - no exchange 'x'") and
/// classifies it.
AmqpFailure DescribeReply(const amqp_rpc_reply_t& reply, std::string* what);

/// An owned amqp_connection_state_t with channel 1 open. Not copyable.
class AmqpConnection {
 public:
  AmqpConnection() = default;
  ~AmqpConnection();
  AmqpConnection(const AmqpConnection&) = delete;
  AmqpConnection& operator=(const AmqpConnection&) = delete;

  /// Connects to |url| (TCP or TLS per the URL and |opts|: OpenSocket()), logs in (LogIn()) and
  /// opens channel 1. On failure returns its kind with |err|; the connection is then closed.
  AmqpFailure Open(const AmqpUrl& url, const AmqpConnectOptions& opts, std::string* err);

  /// Checks the reply of a synchronous call on this connection (amqp_get_rpc_reply()).
  AmqpFailure Check(const char* what, std::string* err);

  /// Closes the channel and the connection politely (short timeout), then frees everything.
  void Close();

  /// Frees the connection without a protocol goodbye (after an error).
  void Drop();

  bool is_open() const { return conn_ != nullptr; }
  amqp_connection_state_t get() const { return conn_; }
  int fd() const { return amqp_get_sockfd(conn_); }

  /// True if a frame can be taken without reading the socket (poll(2) would not see it).
  bool HasBufferedInput() const;

  enum class Next { kMethod, kNone, kLost };

  /// Takes the next method frame if one is available now (kMethod), skipping others (content
  /// is read with amqp_read_message()); kNone if none is; kLost with |why| when the connection
  /// failed. Sends a heartbeat when one is due. The previous frame's memory is released.
  Next NextMethod(amqp_frame_t* frame, std::string* why);

  /// Handles a connection.close or channel.close method frame from the broker: answers with
  /// close-ok, describes it in |err| and classifies it. Other frames give kNone.
  AmqpFailure HandleClose(const amqp_frame_t& frame, std::string* err);

  /// Milliseconds until the next heartbeat should be sent or checked (for poll timeouts).
  int HeartbeatWakeMs() const;

  /// Sends a heartbeat frame now, for a caller that cannot read frames for a while (a write to a
  /// stalled standard output) but must not look dead to the broker. False if sending failed.
  bool SendHeartbeat();

 private:
  // The socket, TCP or TLS (certificates, verification), connected within --connect-timeout.
  AmqpFailure OpenSocket(const AmqpUrl& url, const AmqpConnectOptions& opts, std::string* err);
  // A TLS socket of this connection set up per |tls|.
  AmqpFailure NewTlsSocket(const TlsClientOptions& tls, amqp_socket_t** socket, std::string* err);
  // The AMQP handshake and login on the open socket, with our client properties.
  AmqpFailure LogIn(const AmqpUrl& url, const AmqpConnectOptions& opts, std::string* err);
  bool TakeEarlyTlsAlert(std::string* err);
  static void NoteOpeningSsl(const SSL* ssl, int where, int ret) noexcept;

  amqp_connection_state_t conn_ = nullptr;
  int heartbeat_ = 0;
  SSL* opening_ssl_ = nullptr;  // the TLS socket's, noted during its handshake; freed by Drop()
};

/// A status from amqp_basic_publish(), amqp_send_method(), ... as text, classified.
AmqpFailure DescribeStatus(int status, std::string* what);

/// The disconnected state both commands share: when to try again, logging each attempt, and
/// when to give up (--retry-for) or stop at once (credentials refused, fatal refusal).
class Reconnector {
 public:
  Reconnector(const AmqpUrl& url, double retry_for)
      : url_(url), retry_for_(retry_for), backoff_(kAmqpBackoff) {}

  enum class Result { kWaiting, kConnected, kExit };

  /// Calls |connect| if the backoff delay is over. kConnected on success; kWaiting while the
  /// next attempt is pending; kExit with |exit_status| (1 or 3) when it is time to stop.
  /// |unsent| is appended to the give-up message ("12 lines unconfirmed").
  template <typename Connect>
  Result Attempt(Connect&& connect, const std::string& unsent, int* exit_status) {
    if (MonotonicMs() < attempt_at_) return Result::kWaiting;
    std::string err;
    AmqpFailure f = connect(&err);
    return AfterAttempt(f, err, unsent, exit_status);
  }

  /// Records a lost connection (logged with |why| and |note|); the next attempt waits a backoff.
  void Lost(const std::string& why, const std::string& note);

  /// Milliseconds until the next attempt is due (0 if due now).
  int WaitMs() const;

 private:
  Result AfterAttempt(AmqpFailure f, const std::string& err, const std::string& unsent,
                      int* exit_status);
  // The one call into the backoff policy after a failure: false when --retry-for is spent,
  // otherwise the wait before the next attempt in |delay_ms|.
  bool NextDelay(int* delay_ms);

  // A broker is near: the first retry comes soon (100 ms doubling to 5 s, +-25%).
  static constexpr BackoffPolicy kAmqpBackoff = {100, 5000, 25};

  const AmqpUrl& url_;
  double retry_for_;
  Backoff backoff_;                // the project's one policy (core/backoff.h)
  int64_t first_failure_ms_ = -1;  // since the last success: --retry-for counts from here
  int64_t attempt_at_ = 0;
};
