// One AMQP session as amqp-pub and amqp-sub run it: the URL, the connection and its exchange,
// reconnecting with backoff, the stop pipe, and the one poll(2) loop over the broker socket, the
// stop pipe and one input of the client's. The client (the publisher, the subscriber) keeps only
// its own logic and is called from the loop through AmqpSessionClient.
#pragma once

#include <amqp.h>

#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "amqp/connection.h"
#include "amqp/url.h"

/// How a step of the loop ended.
enum class AmqpStep {
  kContinue,  ///< go on
  kLost,      ///< the connection was lost (AmqpSession::Lost() was called): reconnect
  kDone,      ///< the work is over: AmqpSessionClient::Ended() closes and reports
  kExit,      ///< end at once with the session's exit status, nothing more said
};

/// The exchange a session declares on every connection (nothing when |name| is empty).
struct AmqpExchange {
  std::string name;
  std::string type = "topic";
  bool passive = false;  ///< only check that it exists
};

/// The command's side of a session: what it does on each connection and each turn of the loop.
class AmqpSessionClient {
 public:
  virtual ~AmqpSessionClient() = default;

  /// Checks the command's options before anything connects; false with |err| when one is
  /// unusable (the session then exits with status 2).
  virtual bool Prepare(std::string* err) = 0;

  /// Declares and starts what the client needs on a connection just opened, whose exchange the
  /// session has declared. A failure is classified as AmqpConnection::Open() does.
  virtual AmqpFailure SetUp(std::string* err) = 0;

  /// The connection is set up (after each reconnect too).
  virtual AmqpStep Connected() = 0;

  /// True once the client has acted on a stop request (Stop()), so it is not asked again.
  virtual bool Stopping() const = 0;

  /// The first stop signal (or the first since a reconnect that reset Stopping()).
  virtual AmqpStep Stop() = 0;

  /// Work while connected, before the frames at hand are taken.
  virtual AmqpStep Work() { return AmqpStep::kContinue; }

  /// One method frame other than connection.close and channel.close (which the session handles).
  virtual AmqpStep Method(const amqp_frame_t& frame) = 0;

  /// The frames at hand are taken (or a stop request interrupted taking them).
  virtual AmqpStep FramesTaken() = 0;

  /// True when the client's work is over (checked while connected, and while disconnected).
  virtual bool Done() const = 0;

  /// Called before a lost connection is dropped.
  virtual void Losing() {}

  /// What a lost connection costs, logged with it ("12 lines unconfirmed"); "" for nothing.
  virtual std::string LostNote() const { return ""; }

  /// Appended to the message of giving up after --retry-for; "" for nothing.
  virtual std::string GiveUpNote() const { return ""; }

  /// What the loop should wait for besides the broker and the stop pipe.
  struct Wait {
    int fd = -1;           ///< an input to poll for POLLIN, or -1
    bool now = false;      ///< there is work to do: do not wait
    int max_ms = INT_MAX;  ///< wait no longer than this
  };
  virtual Wait NextWait() const { return {}; }

  /// Wait::fd is readable (or hung up).
  virtual AmqpStep Readable() { return AmqpStep::kContinue; }

  /// The broker refused something for good (a connection.close or channel.close that is not
  /// transient, logged already; the connection is dropped and the exit status set). kExit ends
  /// at once; kDone lets Ended() report.
  virtual AmqpStep Refused() { return AmqpStep::kExit; }

  /// The work is over (kDone): closes what is left, reports, and returns the exit status.
  virtual int Ended() = 0;
};

/// The connection side of a session. Not copyable; |client| must outlive it.
class AmqpSession {
 public:
  AmqpSession(const AmqpConnectOptions& opts, AmqpExchange exchange, AmqpSessionClient* client)
      : opts_(opts),
        exchange_(std::move(exchange)),
        client_(client),
        reconnector_(url_, opts.retry_for) {}
  AmqpSession(const AmqpSession&) = delete;
  AmqpSession& operator=(const AmqpSession&) = delete;

  /// Checks --url and the client's options (exit status 2 with a message if one is unusable),
  /// then connects and runs the loop until the client is done or it is time to give up. Returns
  /// the exit status.
  int Run();

  /// The connection (open only while connected).
  AmqpConnection& conn() { return conn_; }
  const AmqpConnection& conn() const { return conn_; }

  /// Drops a connection that failed with |why|: logged with the client's LostNote(), the next
  /// attempt waits a backoff. Returns kLost.
  AmqpStep Lost(const std::string& why);

  /// The status Run() returns after kExit (0 unless set).
  int exit_status() const { return exit_; }
  void set_exit_status(int status) { exit_ = status; }

 private:
  AmqpFailure Connect(std::string* err);
  AmqpStep TakeFrames();
  AmqpStep Poll(int stop_fd);

  const AmqpConnectOptions& opts_;
  const AmqpExchange exchange_;
  AmqpSessionClient* client_;
  std::vector<AmqpUrl> urls_;  // --url, in turn
  size_t next_url_ = 0;        // the one the next attempt takes
  AmqpUrl url_;                // the one of the attempt at hand (the Reconnector logs it)
  AmqpConnection conn_;
  Reconnector reconnector_;
  int exit_ = 0;
};
