// The publish loop. Its states: connected (read stdin while the confirm window has room, publish,
// take confirms) or disconnected (stdin not read; wait out the backoff; reconnect, declare the
// exchange, republish the window). The broker socket is polled together with stdin, and poll
// wakes at least every few seconds so heartbeats are sent while stdin is idle.
#include "amqp/publisher.h"

#include <amqp.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "amqp/confirm_window.h"
#include "amqp/key_template.h"
#include "amqp/stop_pipe.h"
#include "amqp/url.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/signals.h"

namespace {

/// TCP_CORK for the life of the object.
class Cork {
 public:
  explicit Cork(int fd) : fd_(fd) { Set(1); }
  ~Cork() { Set(0); }
  Cork(const Cork&) = delete;
  Cork& operator=(const Cork&) = delete;

 private:
  void Set(int on) {
    if (fd_ >= 0) setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  }
  int fd_;
};

struct HeaderTemplate {
  std::string name;
  KeyTemplate value;
};

class Publisher {
 public:
  Publisher(const AmqpConnectOptions& conn_opts, const PublishOptions& opts, int in_fd)
      : conn_opts_(conn_opts),
        opts_(opts),
        in_fd_(in_fd),
        window_(opts.max_inflight, opts.max_inflight_bytes),
        reader_(opts.max_line),
        reconnector_(url_, conn_opts.retry_for) {}

  /// Checks the options; returns false with |err| when one is unusable.
  bool Prepare(std::string* err);
  int Run();

 private:
  enum class Step { kContinue, kLost, kExit };

  AmqpFailure Connect(std::string* err);
  Step PublishPending();
  bool Publish(OutgoingMessage msg);
  Step TakeFrames();
  Step HandleMethod(const amqp_frame_t& frame);
  void ConnectionLost(const std::string& why);
  void ReportFailures();
  bool ReadInput();
  bool Done() const;

  const AmqpConnectOptions& conn_opts_;
  const PublishOptions& opts_;
  int in_fd_;
  AmqpUrl url_;
  KeyTemplate routing_key_;
  std::vector<HeaderTemplate> headers_;
  AmqpConnection conn_;
  ConfirmWindow window_;
  LineReader reader_;
  Reconnector reconnector_;
  std::vector<FailedMessage> failed_;
  uint64_t next_tag_ = 1;
  bool input_done_ = false;
  bool pending_line_ = false;  // reader_ may hold complete lines not yet taken
  size_t skipped_ = 0;
  size_t failures_ = 0;
  size_t published_ = 0;
  int exit_ = kExitOk;
};

bool Publisher::Prepare(std::string* err) {
  std::string why;
  if (!ParseAmqpUrl(conn_opts_.url, &url_, &why)) {
    *err = "--url: " + why;
    return false;
  }
  if (!routing_key_.Parse(opts_.routing_key, &why)) {
    *err = "--routing-key: " + why;
    return false;
  }
  for (const std::string& h : opts_.headers) {
    size_t eq = h.find('=');
    HeaderTemplate t;
    if (eq == std::string::npos || eq == 0 || !t.value.Parse(h.substr(eq + 1), &why)) {
      *err = "--header " + h + ": " +
             (eq == std::string::npos || eq == 0 ? "expected K=TEMPLATE" : why);
      return false;
    }
    t.name = h.substr(0, eq);
    headers_.push_back(std::move(t));
  }
  if (opts_.exchange.empty() && !opts_.passive && opts_.exchange_type != "topic") {
    *err = "--exchange-type: the default exchange (\"\") cannot be declared";
    return false;
  }
  return true;
}

AmqpFailure Publisher::Connect(std::string* err) {
  AmqpFailure f = conn_.Open(url_, conn_opts_, err);
  if (f != AmqpFailure::kNone) return f;
  amqp_connection_state_t c = conn_.get();
  if (!opts_.exchange.empty()) {
    amqp_exchange_declare(c, kAmqpChannel, amqp_cstring_bytes(opts_.exchange.c_str()),
                          amqp_cstring_bytes(opts_.exchange_type.c_str()), opts_.passive,
                          /*durable=*/1, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
    f = conn_.Check(("declaring exchange " + opts_.exchange).c_str(), err);
    if (f != AmqpFailure::kNone) {
      conn_.Drop();
      return f;
    }
  }
  if (opts_.confirm) {
    amqp_confirm_select(c, kAmqpChannel);
    f = conn_.Check("enabling publisher confirms", err);
    if (f != AmqpFailure::kNone) {
      conn_.Drop();
      return f;
    }
  }
  next_tag_ = 1;
  return AmqpFailure::kNone;
}

bool Publisher::Publish(OutgoingMessage msg) {
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.content_type = amqp_cstring_bytes("application/json");
  props.delivery_mode = opts_.transient ? 1 : 2;
  std::vector<amqp_table_entry_t> entries(msg.headers.size());
  for (size_t i = 0; i < msg.headers.size(); ++i) {
    entries[i].key = amqp_cstring_bytes(msg.headers[i].first.c_str());
    entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[i].value.value.bytes = amqp_cstring_bytes(msg.headers[i].second.c_str());
  }
  if (!entries.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers.num_entries = static_cast<int>(entries.size());
    props.headers.entries = entries.data();
  }
  amqp_bytes_t body;
  body.len = msg.body.size();
  body.bytes = const_cast<char*>(msg.body.data());
  int rc = amqp_basic_publish(conn_.get(), kAmqpChannel, amqp_cstring_bytes(opts_.exchange.c_str()),
                              amqp_cstring_bytes(msg.routing_key.c_str()), opts_.mandatory,
                              /*immediate=*/0, &props, body);
  if (opts_.confirm) window_.Add(next_tag_++, std::move(msg));
  ++published_;
  if (rc != AMQP_STATUS_OK) {
    std::string why;
    DescribeStatus(rc, &why);
    ConnectionLost("publishing: " + why);
    return false;
  }
  return true;
}

Publisher::Step Publisher::PublishPending() {
  // Cork the socket while publishing a burst: frames of many messages share TCP segments,
  // which saves the broker more work than it costs us. Uncorking sends the rest at once.
  Cork cork(conn_.fd());
  while (conn_.is_open() && !(opts_.confirm && window_.full())) {
    std::string line;
    LineReader::Status st = reader_.Next(&line);
    if (st == LineReader::Status::kNone) {
      pending_line_ = false;
      return Step::kContinue;
    }
    size_t n = reader_.line_number();
    if (st == LineReader::Status::kTooLong) {
      LogError("line %zu: longer than %zu bytes, skipped", n, opts_.max_line);
      ++skipped_;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    std::string err;
    JsonPtr event = JsonParse(line, &err);
    if (!event) {
      LogError("line %zu: not JSON, skipped: %s", n, err.c_str());
      ++skipped_;
      continue;
    }
    OutgoingMessage msg;
    msg.line_number = n;
    msg.routing_key = routing_key_.Render(event.get());
    for (const HeaderTemplate& h : headers_) {
      msg.headers.emplace_back(h.name, h.value.Render(event.get()));
    }
    msg.body = std::move(line);
    if (!Publish(std::move(msg))) return Step::kLost;
  }
  pending_line_ = true;
  return Step::kContinue;
}

Publisher::Step Publisher::HandleMethod(const amqp_frame_t& frame) {
  const amqp_method_t& m = frame.payload.method;
  switch (m.id) {
    case AMQP_BASIC_ACK_METHOD: {
      auto* ack = static_cast<amqp_basic_ack_t*>(m.decoded);
      window_.Settle(ack->delivery_tag, ack->multiple, true, &failed_);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      auto* nack = static_cast<amqp_basic_nack_t*>(m.decoded);
      window_.Settle(nack->delivery_tag, nack->multiple, false, &failed_);
      break;
    }
    case AMQP_BASIC_RETURN_METHOD: {
      auto* ret = static_cast<amqp_basic_return_t*>(m.decoded);
      std::string why =
          "unroutable: " + std::to_string(ret->reply_code) + " " +
          std::string(static_cast<char*>(ret->reply_text.bytes), ret->reply_text.len) +
          " (exchange '" + opts_.exchange + "')";
      amqp_message_t message;
      amqp_rpc_reply_t r = amqp_read_message(conn_.get(), frame.channel, &message, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        std::string what;
        DescribeReply(r, &what);
        ConnectionLost("reading a returned message: " + what);
        return Step::kLost;
      }
      std::string_view body(static_cast<char*>(message.body.bytes), message.body.len);
      size_t line = window_.MarkReturned(body, why);
      amqp_destroy_message(&message);
      if (!opts_.confirm || line == 0) {
        LogError("a message came back %s", why.c_str());
        ++failures_;
      }
      break;
    }
    case AMQP_CONNECTION_CLOSE_METHOD:
    case AMQP_CHANNEL_CLOSE_METHOD: {
      std::string why;
      AmqpFailure f = conn_.HandleClose(frame, &why);
      if (f == AmqpFailure::kTransient) {
        ConnectionLost(why);
        return Step::kLost;
      }
      LogError("%s", why.c_str());
      exit_ = f == AmqpFailure::kCredentials ? kExitCredentials : kExitFailure;
      return Step::kExit;
    }
    case AMQP_CONNECTION_BLOCKED_METHOD:
      LogWarning("the broker blocked publishing (resource alarm)");
      break;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      LogInfo("the broker unblocked publishing");
      break;
    default:
      break;
  }
  return Step::kContinue;
}

Publisher::Step Publisher::TakeFrames() {
  amqp_frame_t frame;
  std::string why;
  AmqpConnection::Next next;
  while ((next = conn_.NextMethod(&frame, &why)) == AmqpConnection::Next::kMethod) {
    Step s = HandleMethod(frame);
    if (s != Step::kContinue) return s;
  }
  if (next == AmqpConnection::Next::kLost) {
    ConnectionLost(why);
    return Step::kLost;
  }
  ReportFailures();
  return Step::kContinue;
}

void Publisher::ReportFailures() {
  for (const FailedMessage& f : failed_) {
    LogError("line %zu: %s", f.line_number, f.why.c_str());
    ++failures_;
  }
  failed_.clear();
}

void Publisher::ConnectionLost(const std::string& why) {
  ReportFailures();
  conn_.Drop();
  reconnector_.Lost(why, std::to_string(window_.size()) + " lines unconfirmed");
}

bool Publisher::ReadInput() {
  char buf[65536];
  ssize_t n = read(in_fd_, buf, sizeof buf);
  if (n > 0) {
    reader_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    pending_line_ = true;
    return true;
  }
  if (n == 0) {
    reader_.Finish();
    pending_line_ = true;
    input_done_ = true;
    return true;
  }
  if (errno == EINTR || errno == EAGAIN) return true;
  LogError("reading stdin: %s", strerror(errno));
  return false;
}

bool Publisher::Done() const {
  return input_done_ && !pending_line_ && (!opts_.confirm || window_.empty());
}

int Publisher::Run() {
  StopPipe stop;
  bool stopping = false;
  for (;;) {
    if (StopRequested() && !stopping) {
      stopping = true;
      stop.Drain();
      if (!input_done_) {
        LogInfo("stopping: publishing what was read, then waiting for confirms");
        if (reader_.buffered() > 0) LogWarning("an incomplete last line was dropped");
        input_done_ = true;
      }
    }
    if (!conn_.is_open()) {
      if (Done()) break;
      int status = kExitOk;
      auto r = reconnector_.Attempt([this](std::string* err) { return Connect(err); },
                                    std::to_string(window_.size()) + " lines unconfirmed", &status);
      if (r == Reconnector::Result::kExit) return status;
      if (r == Reconnector::Result::kConnected) {
        std::vector<OutgoingMessage> again = window_.TakeForRepublish();
        if (!again.empty()) LogInfo("publishing %zu unconfirmed lines again", again.size());
        bool ok = true;
        for (OutgoingMessage& m : again) {
          if (ok) {
            ok = Publish(std::move(m));
          } else {
            window_.Add(next_tag_++, std::move(m));  // kept for the next connection
          }
        }
        continue;
      }
    } else {
      if (pending_line_ && PublishPending() == Step::kLost) continue;
      Step s = TakeFrames();
      if (s == Step::kExit) return exit_;
      if (s == Step::kLost) continue;
      if (Done()) break;
    }

    struct pollfd fds[3];
    nfds_t nfds = 0;
    fds[nfds++] = {stop.fd(), POLLIN, 0};
    int stdin_index = -1;
    int timeout = 0;
    if (conn_.is_open()) {
      fds[nfds++] = {conn_.fd(), POLLIN, 0};
      if (!input_done_ && !pending_line_ && !(opts_.confirm && window_.full())) {
        stdin_index = static_cast<int>(nfds);
        fds[nfds++] = {in_fd_, POLLIN, 0};
      }
      bool can_publish = pending_line_ && !(opts_.confirm && window_.full());
      timeout = (can_publish || conn_.HasBufferedInput()) ? 0 : conn_.HeartbeatWakeMs();
    } else {
      timeout = reconnector_.WaitMs();
    }
    int rc = poll(fds, nfds, timeout);
    if (rc < 0 && errno != EINTR) {
      LogError("poll: %s", strerror(errno));
      return kExitFailure;
    }
    if (stdin_index >= 0 && (fds[stdin_index].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (!ReadInput()) return kExitFailure;
    }
  }
  conn_.Close();
  ReportFailures();
  LogDebug("%zu messages published, %zu lines skipped, %zu failed", published_, skipped_,
           failures_);
  if (skipped_ > 0) LogError("%zu lines were skipped", skipped_);
  return (skipped_ > 0 || failures_ > 0) ? kExitFailure : kExitOk;
}

}  // namespace

int RunPublisher(const AmqpConnectOptions& conn_opts, const PublishOptions& opts, int in_fd) {
  Publisher p(conn_opts, opts, in_fd);
  std::string err;
  if (!p.Prepare(&err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  return p.Run();
}
