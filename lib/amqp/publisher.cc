// The publisher on its AmqpSession (which owns the loop). Connected, it reads stdin while the
// confirm window has room, publishes, and takes confirms; disconnected, stdin is not read; on
// each new connection it enables confirms and republishes the window.
#include "amqp/publisher.h"

#include <amqp.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "amqp/confirm_window.h"
#include "amqp/key_template.h"
#include "amqp/session.h"
#include "core/exit_status.h"
#include "core/json.h"
#include "core/line_reader.h"
#include "core/log.h"

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

class Publisher : public AmqpSessionClient {
 public:
  Publisher(const AmqpConnectOptions& conn_opts, const PublishOptions& opts, int in_fd)
      : opts_(opts),
        in_fd_(in_fd),
        window_(opts.max_inflight, opts.max_inflight_bytes),
        reader_(opts.max_line),
        session_(conn_opts, {opts.exchange, opts.exchange_type, opts.passive}, this) {}

  int Run() { return session_.Run(); }

 private:
  // AmqpSessionClient:
  bool Prepare(std::string* err) override;
  AmqpFailure SetUp(std::string* err) override;
  AmqpStep Connected() override;
  bool Stopping() const override { return stopping_; }
  AmqpStep Stop() override;
  AmqpStep Work() override;
  AmqpStep Method(const amqp_frame_t& frame) override;
  AmqpStep FramesTaken() override;
  bool Done() const override;
  void Losing() override { ReportFailures(); }
  std::string LostNote() const override { return Unconfirmed(); }
  std::string GiveUpNote() const override { return Unconfirmed(); }
  Wait NextWait() const override;
  AmqpStep Readable() override;
  int Ended() override;

  AmqpStep PublishPending();
  bool Publish(OutgoingMessage msg);
  void ReportFailures();
  bool WindowFull() const { return opts_.confirm && window_.full(); }
  std::string Unconfirmed() const { return std::to_string(window_.size()) + " lines unconfirmed"; }

  const PublishOptions& opts_;
  int in_fd_;
  KeyTemplate routing_key_;
  std::vector<HeaderTemplate> headers_;
  ConfirmWindow window_;
  LineReader reader_;
  AmqpSession session_;
  std::vector<FailedMessage> failed_;
  uint64_t next_tag_ = 1;
  bool input_done_ = false;
  bool pending_line_ = false;  // reader_ may hold complete lines not yet taken
  bool stopping_ = false;
  size_t skipped_ = 0;
  size_t failures_ = 0;
  size_t published_ = 0;
};

bool Publisher::Prepare(std::string* err) {
  std::string why;
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

AmqpFailure Publisher::SetUp(std::string* err) {
  if (opts_.confirm) {
    amqp_confirm_select(session_.conn().get(), kAmqpChannel);
    AmqpFailure f = session_.conn().Check("enabling publisher confirms", err);
    if (f != AmqpFailure::kNone) return f;
  }
  next_tag_ = 1;
  return AmqpFailure::kNone;
}

AmqpStep Publisher::Connected() {
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
  return ok ? AmqpStep::kContinue : AmqpStep::kLost;
}

AmqpStep Publisher::Stop() {
  stopping_ = true;
  if (!input_done_) {
    LogInfo("stopping: publishing what was read, then waiting for confirms");
    if (reader_.buffered() > 0) LogWarning("an incomplete last line was dropped");
    input_done_ = true;
  }
  return AmqpStep::kContinue;
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
  int rc = amqp_basic_publish(session_.conn().get(), kAmqpChannel,
                              amqp_cstring_bytes(opts_.exchange.c_str()),
                              amqp_cstring_bytes(msg.routing_key.c_str()), opts_.mandatory,
                              /*immediate=*/0, &props, body);
  if (opts_.confirm) window_.Add(next_tag_++, std::move(msg));
  ++published_;
  if (rc != AMQP_STATUS_OK) {
    std::string why;
    DescribeStatus(rc, &why);
    session_.Lost("publishing: " + why);
    return false;
  }
  return true;
}

AmqpStep Publisher::Work() { return pending_line_ ? PublishPending() : AmqpStep::kContinue; }

AmqpStep Publisher::PublishPending() {
  // Cork the socket while publishing a burst: frames of many messages share TCP segments,
  // which saves the broker more work than it costs us. Uncorking sends the rest at once.
  Cork cork(session_.conn().fd());
  while (session_.conn().is_open() && !WindowFull()) {
    std::string line;
    LineReader::Status st = reader_.Next(&line);
    if (st == LineReader::Status::kNone) {
      pending_line_ = false;
      return AmqpStep::kContinue;
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
    if (json_is_object(event.get()) && json_object_get(event.get(), "control")) {
      // The desk's and the overlays' (twitch-events(7), CONTROL MESSAGES): never an event.
      LogError("line %zu: a control message, not an event: skipped", n);
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
    if (!Publish(std::move(msg))) return AmqpStep::kLost;
  }
  pending_line_ = true;
  return AmqpStep::kContinue;
}

AmqpStep Publisher::Method(const amqp_frame_t& frame) {
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
      amqp_rpc_reply_t r = amqp_read_message(session_.conn().get(), frame.channel, &message, 0);
      if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        std::string what;
        DescribeReply(r, &what);
        return session_.Lost("reading a returned message: " + what);
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
    case AMQP_CONNECTION_BLOCKED_METHOD:
      LogWarning("the broker blocked publishing (resource alarm)");
      break;
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      LogInfo("the broker unblocked publishing");
      break;
    default:
      break;
  }
  return AmqpStep::kContinue;
}

AmqpStep Publisher::FramesTaken() {
  ReportFailures();
  return AmqpStep::kContinue;
}

void Publisher::ReportFailures() {
  for (const FailedMessage& f : failed_) {
    LogError("line %zu: %s", f.line_number, f.why.c_str());
    ++failures_;
  }
  failed_.clear();
}

AmqpSessionClient::Wait Publisher::NextWait() const {
  Wait w;
  if (!input_done_ && !pending_line_ && !WindowFull()) w.fd = in_fd_;
  w.now = pending_line_ && !WindowFull();
  return w;
}

AmqpStep Publisher::Readable() {
  char buf[65536];
  ssize_t n = read(in_fd_, buf, sizeof buf);
  if (n > 0) {
    reader_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    pending_line_ = true;
    return AmqpStep::kContinue;
  }
  if (n == 0) {
    reader_.Finish();
    pending_line_ = true;
    input_done_ = true;
    return AmqpStep::kContinue;
  }
  if (errno == EINTR || errno == EAGAIN) return AmqpStep::kContinue;
  LogError("reading stdin: %s", strerror(errno));
  session_.set_exit_status(kExitFailure);
  return AmqpStep::kExit;
}

bool Publisher::Done() const {
  return input_done_ && !pending_line_ && (!opts_.confirm || window_.empty());
}

int Publisher::Ended() {
  session_.conn().Close();
  ReportFailures();
  LogDebug("%zu messages published, %zu lines skipped, %zu failed", published_, skipped_,
           failures_);
  if (skipped_ > 0) LogError("%zu lines were skipped", skipped_);
  return (skipped_ > 0 || failures_ > 0) ? kExitFailure : kExitOk;
}

}  // namespace

int RunPublisher(const AmqpConnectOptions& conn_opts, const PublishOptions& opts, int in_fd) {
  return Publisher(conn_opts, opts, in_fd).Run();
}
