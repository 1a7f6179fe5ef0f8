// The consume loop. Ack discipline: a delivery's line is written (write(2), so it has left the
// process) before its tag is acknowledged; acks are batched with multiple=true once the frames at
// hand are handled or half the prefetch window is written. A rejected body is settled at once
// with basic.reject requeue=false, so a dead-letter exchange receives it; a stream queue cannot
// reject (the broker would close the connection), so there it is skipped and acknowledged.
// Consuming a stream resumes after a reconnect at the offset after the last message written
// (each delivery from a stream carries its offset in the x-stream-offset header).
#include "amqp/subscriber.h"

#include <amqp.h>
#include <errno.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include "amqp/envelope.h"
#include "amqp/session.h"
#include "core/exit_status.h"
#include "core/log.h"
#include "core/output.h"
#include "core/output_queue.h"

bool ParseQueueArg(const std::string& arg, QueueArg* out, std::string* err) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    *err = "expected K=V";
    return false;
  }
  out->key = arg.substr(0, eq);
  out->text = arg.substr(eq + 1);
  const std::string& v = out->text;
  if (v == "true" || v == "false") {
    out->kind = QueueArg::Kind::kBool;
    out->flag = v == "true";
    return true;
  }
  if (!v.empty() && v.find_first_not_of("0123456789", v[0] == '-' ? 1 : 0) == std::string::npos &&
      v != "-") {
    errno = 0;
    char* end = nullptr;
    long long n = strtoll(v.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') {
      out->kind = QueueArg::Kind::kInt;
      out->number = n;
      return true;
    }
  }
  out->kind = QueueArg::Kind::kString;
  return true;
}

bool ValidStreamOffset(const std::string& spec) {
  if (spec == "first" || spec == "last" || spec == "next") return true;
  return !spec.empty() && spec.size() <= 18 &&
         spec.find_first_not_of("0123456789") == std::string::npos;
}

namespace {

// The x-stream-offset header of a delivery from a stream queue; false for other queues.
bool StreamOffset(const amqp_basic_properties_t& props, int64_t* offset) {
  if ((props._flags & AMQP_BASIC_HEADERS_FLAG) == 0) return false;
  for (int i = 0; i < props.headers.num_entries; ++i) {
    const amqp_table_entry_t& e = props.headers.entries[i];
    if (std::string_view(static_cast<const char*>(e.key.bytes), e.key.len) != "x-stream-offset") {
      continue;
    }
    switch (e.value.kind) {
      case AMQP_FIELD_KIND_I64:
        *offset = e.value.value.i64;
        return true;
      case AMQP_FIELD_KIND_U64:
        *offset = static_cast<int64_t>(e.value.value.u64);
        return true;
      case AMQP_FIELD_KIND_I32:
        *offset = e.value.value.i32;
        return true;
      default:
        return false;
    }
  }
  return false;
}

// How long a stop waits for the broker's cancel-ok (and the deliveries before it) before it
// closes the connection anyway, and how often the loop looks at that deadline meanwhile.
constexpr int kCancelTimeoutMs = 5000;
constexpr int kCancelPollMs = 500;

class Subscriber : public AmqpSessionClient {
 public:
  Subscriber(const AmqpConnectOptions& conn_opts, const SubscribeOptions& opts, int out_fd)
      : opts_(opts),
        out_fd_(out_fd),
        session_(conn_opts, {opts.exchange, opts.exchange_type, opts.passive}, this) {}

  int Run() {
    NonBlockingFd nonblocking_out(out_fd_);  // see WriteRecord()
    return session_.Run();
  }

 private:
  // AmqpSessionClient:
  bool Prepare(std::string* err) override;
  AmqpFailure SetUp(std::string* err) override;
  AmqpStep Connected() override;
  bool Stopping() const override { return cancelling_; }
  AmqpStep Stop() override;
  AmqpStep Method(const amqp_frame_t& frame) override;
  AmqpStep FramesTaken() override { return FlushAcks(); }
  bool Done() const override;
  std::string LostNote() const override { return "unacknowledged messages go back to the queue"; }
  Wait NextWait() const override;
  AmqpStep Refused() override { return AmqpStep::kDone; }
  int Ended() override;

  AmqpStep Deliver(const amqp_frame_t& frame);
  AmqpStep FlushAcks();
  AmqpStep Written(uint64_t delivery_tag);
  AmqpStep AckAndClose(int status);
  WriteResult WriteRecord(std::string line, std::string* err);
  bool CountReached() const { return opts_.count > 0 && written_ >= opts_.count; }

  const SubscribeOptions& opts_;
  int out_fd_;
  OutputQueue out_{SIZE_MAX};  // the line being written (reused: WriteRecord())
  std::vector<QueueArg> queue_args_;
  std::vector<std::string> binding_keys_;  // -b and --binding-keys-file
  AmqpSession session_;
  std::string queue_name_;
  std::string consumer_tag_;
  uint64_t last_written_tag_ = 0;  // written, not yet acked
  int unacked_ = 0;
  long long written_ = 0;
  long long rejected_ = 0;
  long long skipped_ = 0;  // from a stream, which cannot reject
  long long redelivered_ = 0;
  bool cancelling_ = false;
  bool cancelled_ = false;
  int64_t cancel_deadline_ = 0;
  bool ever_connected_ = false;
  bool have_offset_ = false;  // a message from a stream was written (or skipped)
  int64_t next_offset_ = 0;   // then: where to resume consuming it
};

bool Subscriber::Prepare(std::string* err) {
  std::string why;
  for (const std::string& a : opts_.queue_args) {
    QueueArg q;
    if (!ParseQueueArg(a, &q, &why)) {
      *err = "--queue-arg " + a + ": " + why;
      return false;
    }
    queue_args_.push_back(std::move(q));
  }
  if (opts_.queue.empty() && opts_.queue_type != "classic") {
    *err = "--queue-type " + opts_.queue_type + " needs a --queue name";
    return false;
  }
  if (!opts_.stream_offset.empty() && opts_.queue_type != "stream") {
    *err = "--stream-offset needs --queue-type stream";
    return false;
  }
  binding_keys_ = opts_.binding_keys;
  if (!opts_.binding_keys_file.empty() &&
      !ReadBindingKeys(opts_.binding_keys_file, &binding_keys_, &why)) {
    *err = "--binding-keys-file " + why;
    return false;
  }
  return true;
}

AmqpFailure Subscriber::SetUp(std::string* err) {
  AmqpConnection& conn = session_.conn();
  amqp_connection_state_t c = conn.get();
  amqp_basic_qos(c, kAmqpChannel, 0, static_cast<uint16_t>(opts_.prefetch), 0);
  AmqpFailure f = conn.Check("setting the prefetch count", err);
  if (f != AmqpFailure::kNone) return f;

  std::vector<amqp_table_entry_t> entries;
  if (opts_.queue_type != "classic") {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes("x-queue-type");
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(opts_.queue_type.c_str());
    entries.push_back(e);
  }
  for (const QueueArg& q : queue_args_) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(q.key.c_str());
    switch (q.kind) {
      case QueueArg::Kind::kBool:
        e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
        e.value.value.boolean = q.flag;
        break;
      case QueueArg::Kind::kInt:
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = q.number;
        break;
      case QueueArg::Kind::kString:
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes = amqp_cstring_bytes(q.text.c_str());
        break;
    }
    entries.push_back(e);
  }
  amqp_table_t args;
  args.num_entries = static_cast<int>(entries.size());
  args.entries = entries.empty() ? nullptr : entries.data();
  bool named = !opts_.queue.empty();
  amqp_queue_declare_ok_t* ok =
      amqp_queue_declare(c, kAmqpChannel, amqp_cstring_bytes(opts_.queue.c_str()), opts_.passive,
                         /*durable=*/named, /*exclusive=*/!named, /*auto_delete=*/!named, args);
  f = conn.Check(
      ("declaring queue " + (named ? opts_.queue : std::string("(server-named)"))).c_str(), err);
  if (f != AmqpFailure::kNone) return f;
  queue_name_.assign(static_cast<char*>(ok->queue.bytes), ok->queue.len);

  if (!opts_.exchange.empty()) {
    for (const std::string& key : binding_keys_) {
      amqp_queue_bind(c, kAmqpChannel, amqp_cstring_bytes(queue_name_.c_str()),
                      amqp_cstring_bytes(opts_.exchange.c_str()), amqp_cstring_bytes(key.c_str()),
                      amqp_empty_table);
      f = conn.Check(("binding to " + opts_.exchange + " with " + key).c_str(), err);
      if (f != AmqpFailure::kNone) return f;
    }
  }
  // Where to consume a stream from: after the last message written, else as asked.
  amqp_table_entry_t offset_arg;
  offset_arg.key = amqp_cstring_bytes("x-stream-offset");
  if (have_offset_) {
    offset_arg.value.kind = AMQP_FIELD_KIND_I64;
    offset_arg.value.value.i64 = next_offset_;
  } else if (ValidStreamOffset(opts_.stream_offset) &&
             std::isdigit(static_cast<unsigned char>(opts_.stream_offset[0]))) {
    offset_arg.value.kind = AMQP_FIELD_KIND_I64;
    offset_arg.value.value.i64 = std::stoll(opts_.stream_offset);
  } else {
    offset_arg.value.kind = AMQP_FIELD_KIND_UTF8;
    offset_arg.value.value.bytes = amqp_cstring_bytes(opts_.stream_offset.c_str());
  }
  amqp_table_t consume_args = {0, nullptr};
  if (have_offset_ || !opts_.stream_offset.empty()) consume_args = {1, &offset_arg};
  amqp_basic_consume_ok_t* cok =
      amqp_basic_consume(c, kAmqpChannel, amqp_cstring_bytes(queue_name_.c_str()), amqp_empty_bytes,
                         /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, consume_args);
  f = conn.Check(("consuming from " + queue_name_).c_str(), err);
  if (f != AmqpFailure::kNone) return f;
  consumer_tag_.assign(static_cast<char*>(cok->consumer_tag.bytes), cok->consumer_tag.len);
  last_written_tag_ = 0;
  unacked_ = 0;
  cancelling_ = cancelled_ = false;
  return AmqpFailure::kNone;
}

AmqpStep Subscriber::Connected() {
  LogInfo("consuming from %s", queue_name_.c_str());
  if (ever_connected_ && opts_.queue.empty()) {
    LogWarning("new server-named queue: messages published while disconnected were not received");
  }
  ever_connected_ = true;
  return AmqpStep::kContinue;
}

AmqpStep Subscriber::Stop() {
  AmqpConnection& conn = session_.conn();
  if (!conn.is_open()) return AmqpStep::kExit;
  LogInfo("stopping: cancelling the consumer, writing what was delivered");
  amqp_basic_cancel_t req;
  req.consumer_tag = amqp_cstring_bytes(consumer_tag_.c_str());
  req.nowait = 0;
  int rc = amqp_send_method(conn.get(), kAmqpChannel, AMQP_BASIC_CANCEL_METHOD, &req);
  if (rc != AMQP_STATUS_OK) return AmqpStep::kExit;  // nothing more can be acked
  cancelling_ = true;
  cancel_deadline_ = MonotonicMs() + kCancelTimeoutMs;
  return AmqpStep::kContinue;
}

AmqpStep Subscriber::FlushAcks() {
  if (last_written_tag_ == 0) return AmqpStep::kContinue;
  int rc = amqp_basic_ack(session_.conn().get(), kAmqpChannel, last_written_tag_, /*multiple=*/1);
  last_written_tag_ = 0;
  unacked_ = 0;
  if (rc != AMQP_STATUS_OK) {
    std::string why;
    DescribeStatus(rc, &why);
    return session_.Lost("acknowledging: " + why);
  }
  return AmqpStep::kContinue;
}

// Delivery |delivery_tag| is settled on our side (written, or skipped from a stream): it is
// acknowledged with the next batch, which goes now when half the prefetch window is waiting.
AmqpStep Subscriber::Written(uint64_t delivery_tag) {
  last_written_tag_ = delivery_tag;
  if (++unacked_ >= std::max(1, opts_.prefetch / 2)) return FlushAcks();
  return AmqpStep::kContinue;
}

AmqpStep Subscriber::Deliver(const amqp_frame_t& frame) {
  auto* d = static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded);
  Delivery delivery;
  delivery.exchange.assign(static_cast<char*>(d->exchange.bytes), d->exchange.len);
  delivery.routing_key.assign(static_cast<char*>(d->routing_key.bytes), d->routing_key.len);
  delivery.delivery_tag = d->delivery_tag;
  delivery.redelivered = d->redelivered;
  amqp_message_t message;
  amqp_rpc_reply_t r = amqp_read_message(session_.conn().get(), frame.channel, &message, 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string why;
    DescribeReply(r, &why);
    return session_.Lost("reading a message: " + why);
  }
  if (CountReached() || cancelled_) {  // beyond --count: left unacknowledged, redelivered later
    amqp_destroy_message(&message);
    return AmqpStep::kContinue;
  }
  if (delivery.redelivered) ++redelivered_;
  std::string line, why;
  std::string_view body(static_cast<char*>(message.body.bytes), message.body.len);
  bool ok = DeliveryToLine(delivery, message.properties, body, opts_.envelope, &line, &why);
  int64_t offset = 0;
  bool from_stream = StreamOffset(message.properties, &offset);
  amqp_destroy_message(&message);
  if (!ok && from_stream) {  // a stream cannot reject: skip it, and ack it with the rest
    ++skipped_;
    LogWarning("message at stream offset %lld (routing key %s) skipped: %s",
               static_cast<long long>(offset), delivery.routing_key.c_str(), why.c_str());
    have_offset_ = true;
    next_offset_ = offset + 1;
    return Written(delivery.delivery_tag);
  }
  if (!ok) {
    ++rejected_;
    LogWarning("message %llu (routing key %s) rejected: %s",
               static_cast<unsigned long long>(delivery.delivery_tag), delivery.routing_key.c_str(),
               why.c_str());
    int rc = amqp_basic_reject(session_.conn().get(), kAmqpChannel, delivery.delivery_tag, 0);
    if (rc != AMQP_STATUS_OK) {
      DescribeStatus(rc, &why);
      return session_.Lost("rejecting: " + why);
    }
    return AmqpStep::kContinue;
  }
  std::string err;
  WriteResult w = WriteRecord(std::move(line), &err);
  if (w == WriteResult::kClosed) {
    LogInfo("stdout closed; stopping (unwritten messages go back to the queue)");
    return AckAndClose(kExitOk);
  }
  if (w == WriteResult::kError) {
    LogError("writing stdout: %s", err.c_str());
    return AckAndClose(kExitFailure);
  }
  ++written_;
  if (from_stream) {
    have_offset_ = true;
    next_offset_ = offset + 1;
  }
  return Written(delivery.delivery_tag);
}

// Writes |line| and a newline to the (non-blocking) output whole. While the reader takes
// nothing, heartbeats still go to the broker, so a stalled downstream does not cost the
// connection (and a redelivery of everything unacknowledged).
WriteResult Subscriber::WriteRecord(std::string line, std::string* err) {
  AmqpConnection& conn = session_.conn();
  line.push_back('\n');
  out_.Push(std::move(line));
  const int beat_ms = conn.HeartbeatWakeMs();
  int64_t next_beat = MonotonicMs() + beat_ms;
  for (;;) {
    switch (out_.FlushTo(out_fd_, err)) {
      case OutputQueue::Flush::kOk:
        return WriteResult::kOk;
      case OutputQueue::Flush::kClosed:
        return WriteResult::kClosed;
      case OutputQueue::Flush::kError:
        return WriteResult::kError;
      case OutputQueue::Flush::kBlocked:
        break;
    }
    struct pollfd p = {out_fd_, POLLOUT, 0};
    int64_t now = MonotonicMs();
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, next_beat - now))) < 0 &&
        errno != EINTR) {
      *err = std::string("poll: ") + strerror(errno);
      return WriteResult::kError;
    }
    if (MonotonicMs() >= next_beat) {
      // A failed heartbeat shows as a lost connection at the next read; the line still goes out.
      conn.SendHeartbeat();
      next_beat = MonotonicMs() + beat_ms;
    }
  }
}

// Ends consuming with exit status |status|: acknowledges what was written, then closes the
// connection politely (what was delivered but not written goes back to the queue).
AmqpStep Subscriber::AckAndClose(int status) {
  AmqpConnection& conn = session_.conn();
  session_.set_exit_status(status);
  if (conn.is_open() && FlushAcks() == AmqpStep::kContinue) conn.Close();
  conn.Drop();
  return AmqpStep::kDone;
}

AmqpStep Subscriber::Method(const amqp_frame_t& frame) {
  switch (frame.payload.method.id) {
    case AMQP_BASIC_DELIVER_METHOD:
      return Deliver(frame);
    case AMQP_BASIC_CANCEL_OK_METHOD:
      cancelled_ = true;
      break;
    case AMQP_BASIC_CANCEL_METHOD:
      return session_.Lost("the broker cancelled the consumer (queue deleted?)");
    default:
      break;
  }
  return AmqpStep::kContinue;
}

bool Subscriber::Done() const {
  return session_.conn().is_open() &&
         (CountReached() || cancelled_ || (cancelling_ && MonotonicMs() >= cancel_deadline_));
}

AmqpSessionClient::Wait Subscriber::NextWait() const {
  Wait w;
  if (cancelling_) w.max_ms = kCancelPollMs;
  return w;
}

int Subscriber::Ended() {
  if (session_.conn().is_open()) AckAndClose(kExitOk);
  LogDebug("%lld lines written, %lld messages rejected, %lld skipped, %lld redelivered", written_,
           rejected_, skipped_, redelivered_);
  if (rejected_ > 0) LogWarning("%lld messages rejected", rejected_);
  if (skipped_ > 0) LogWarning("%lld messages skipped", skipped_);
  return session_.exit_status();
}

}  // namespace

int RunSubscriber(const AmqpConnectOptions& conn_opts, const SubscribeOptions& opts, int out_fd) {
  return Subscriber(conn_opts, opts, out_fd).Run();
}

bool ReadBindingKeys(const std::string& path, std::vector<std::string>* keys, std::string* err) {
  std::ifstream f(path);
  if (!f) {
    *err = path + ": " + strerror(errno);
    return false;
  }
  constexpr size_t kMaxShortString = 255;
  size_t found = 0;
  std::string line;
  for (size_t n = 1; std::getline(f, line); n++) {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    size_t e = line.find_last_not_of(" \t\r");
    std::string key = line.substr(b, e - b + 1);
    if (key.size() > kMaxShortString) {
      *err = path + ": line " + std::to_string(n) + ": a key longer than 255 bytes";
      return false;
    }
    keys->push_back(std::move(key));
    found++;
  }
  if (f.bad()) {
    *err = path + ": read error";
    return false;
  }
  if (found == 0) {
    *err = path + ": no binding key in it";
    return false;
  }
  return true;
}
