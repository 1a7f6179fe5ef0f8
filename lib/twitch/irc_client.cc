// The Twitch IRC WebSocket client. Everything runs from lws callbacks on one loop: each
// connection's RECEIVE and WRITEABLE, and lws_sul timers (connect/retry, JOIN pacing and
// checking, PING/PONG). Outgoing lines wait in a per-connection queue and leave one per WRITEABLE
// callback. RECONNECT is make-before-break: the old connection keeps delivering until its
// successor has joined every channel, and lines both deliver are written once (by their id).
// Records wait in an OutputQueue for stdout, which is non-blocking and adopted into the loop (a
// dup of fd 1 as a raw file) so that lws says when it can take more; the loop never waits for
// the reader. Over --max-buffer the IRC connections stop being read (lws_rx_flow_control) until
// the queue has drained to half, and our PONG deadline is suspended meanwhile: the silence is
// ours. A stop signal closes the IRC connections and ends once the queue is written.
#include "twitch/irc_client.h"

#include <libwebsockets.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <deque>
#include <memory>
#include <random>

#include "core/event.h"
#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output_queue.h"
#include "core/signals.h"
#include "core/time.h"
#include "twitch/irc_output.h"
#include "ws/loop.h"

namespace {

// Reconnect delays; lws adds the jitter. Reset once a session logs in.
const uint32_t kBackoffMs[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000};

// How long a JOIN may stay unanswered before it is reported.
constexpr int kJoinAnswerMs = 10000;

constexpr char kStdoutProtocol[] = "twitch-irc-stdout";

const lws_retry_bo_t kRetry = {
    kBackoffMs,
    static_cast<uint16_t>(sizeof kBackoffMs / sizeof kBackoffMs[0]),
    LWS_RETRY_CONCEAL_ALWAYS,
    0,  // no lws-level idle PING: IRC PING/PONG does that job
    0,
    20,  // ±20 % jitter
};

class IrcClient;

// The timers live in a standard-layout struct so that lws_container_of() can find them.
struct Timers {
  lws_sorted_usec_list_t connect;
  lws_sorted_usec_list_t join;
  lws_sorted_usec_list_t ping;
  lws_sorted_usec_list_t pong;
  lws_sorted_usec_list_t join_check;
  IrcClient* owner;
};

bool IsLoginFailure(std::string_view text) {
  return text.find("Login authentication failed") != std::string_view::npos ||
         text.find("Improperly formatted auth") != std::string_view::npos ||
         text.find("Login unsuccessful") != std::string_view::npos;
}

// NOTICE msg-ids with which Twitch refuses a JOIN.
bool IsJoinRefusal(std::string_view msg_id) {
  for (std::string_view s : {"suspended", "banned", "not_found", "blocked", "tos_ban"}) {
    if (msg_id.find(s) != std::string_view::npos) return true;
  }
  return false;
}

class IrcClient {
 public:
  explicit IrcClient(const IrcClientOptions& o)
      : opts_(o), writer_(o.map, "irc"), out_(o.max_buffer, [this] { FlushStdout(); }) {
    timers_.owner = this;
    writer_.SkipRepeatedIds(1024);
    writer_.QueueTo(&out_.queue());
    for (const std::string& c : o.channels) {
      std::string login = NormalizeChannel(c);
      bool dup = std::any_of(channels_.begin(), channels_.end(),
                             [&](const Channel& ch) { return ch.login == login; });
      if (!login.empty() && !dup) channels_.push_back(Channel{login});
    }
    nick_ = o.nick;
    if (nick_.empty()) {
      std::random_device rd;
      nick_ = "justinfan" + std::to_string(10000 + rd() % 90000);
    }
    std::transform(nick_.begin(), nick_.end(), nick_.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    token_ = o.token.rfind("oauth:", 0) == 0 ? o.token.substr(6) : o.token;
  }

  int Run();

  static int Callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                      size_t len) noexcept;
  static int StdoutCallback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                            size_t len) noexcept;

 private:
  enum class ChannelState { kPending, kJoinSent, kJoined, kRefused };

  // One WebSocket connection and what belongs to it alone. Two slots: the active connection
  // and, after RECONNECT, the retiring one. The slots never move, so lws may keep &wsi.
  struct Conn {
    bool in_use = false;
    lws* wsi = nullptr;
    LineReader reader{kMaxIrcLine};
    std::deque<std::string> out;  // lines waiting for WRITEABLE
    bool logged_in = false;
    bool close_now = false;  // close at the next WRITEABLE
    bool retiring = false;   // RECONNECT came: the successor takes over once it has joined
    bool pong_wanted = false;
    bool pause_at_frame_end = false;  // reading is to stop once the frame being read is whole
    int64_t last_rx = 0;
  };
  struct Channel {
    std::string login;
    ChannelState state = ChannelState::kPending;
    int64_t gap_from = 0;   // ms since the epoch; 0: no gap to report at the next JOIN
    int64_t join_sent = 0;  // when the unanswered JOIN left
  };

  bool ParseUrl(std::string* err);
  void Connect();
  void ScheduleConnect(bool at_once);
  void Send(Conn* c, std::string line);
  void Close(Conn* c);
  void Stop(int status);
  void Finish(int status);
  void StartDrain();
  void FlushStdout();
  void UpdateFlow();
  void SetReading(bool on);
  int OnEstablished(Conn* c);
  int OnReceive(Conn* c, const char* in, size_t len);
  int OnWriteable(Conn* c, lws* wsi);
  void OnClosed(Conn* c, const char* why);
  bool OnLine(Conn* c, const IrcMessage& msg);
  void OnNotice(const IrcMessage& msg);
  void OnJoin(const IrcMessage& msg);
  void RetireOthers();
  void WriteGap(const std::string& login, int64_t from, int64_t to);
  void PaceJoins();
  void SchedulePing();
  void OnPingTimer();
  void OnPongTimeout();
  Channel* FindChannel(std::string_view param);

  static void ConnectCb(lws_sorted_usec_list_t* sul) noexcept;
  static void JoinCb(lws_sorted_usec_list_t* sul) noexcept;
  static void PingCb(lws_sorted_usec_list_t* sul) noexcept;
  static void PongCb(lws_sorted_usec_list_t* sul) noexcept;
  static void JoinCheckCb(lws_sorted_usec_list_t* sul) noexcept;
  void CheckJoins();

  IrcClientOptions opts_;
  IrcEventWriter writer_;
  LoopStdout out_;             // records waiting for stdout
  bool paused_ = false;        // the queue went over --max-buffer: Twitch is not read
  bool draining_ = false;      // stopping: Twitch closed, the queue going out
  Conn* receiving_ = nullptr;  // the connection whose RECEIVE is running
  IrcMessage msg_;
  std::string line_;
  std::string nick_, token_;
  std::string host_, path_, url_copy_;
  int port_ = 443;
  bool tls_ = true;
  LwsContextPtr context_;
  Conn conns_[2];
  Conn* active_ = nullptr;  // the connection that joins, pings and reports
  Timers timers_{};
  std::vector<Channel> channels_;
  JoinRateLimit join_limit_;
  uint16_t retry_count_ = 0;
  size_t line_no_ = 0;
  bool done_ = false;
  int status_ = kExitOk;
};

// True when the last RECEIVE of |wsi| ended a WebSocket message.
bool FrameComplete(lws* wsi) {
  return lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
}

std::string Masked(const std::string& line) {
  return line.rfind("PASS ", 0) == 0 ? "PASS oauth:***" : line;
}

bool IrcClient::ParseUrl(std::string* err) {
  url_copy_ = opts_.url;
  const char *prot = nullptr, *ads = nullptr, *path = nullptr;
  if (lws_parse_uri(&url_copy_[0], &prot, &ads, &port_, &path) != 0 || !*ads) {
    *err = "not a ws:// or wss:// URL";
    return false;
  }
  std::string scheme = prot;
  if (scheme != "ws" && scheme != "wss") {
    *err = "scheme '" + scheme + "' is not ws or wss";
    return false;
  }
  tls_ = scheme == "wss";
  host_ = ads;
  path_ = std::string("/") + path;
  return true;
}

int IrcClient::Run() {
  std::string err;
  if (!ParseUrl(&err)) {
    LogError("--url: %s: %s", opts_.url.c_str(), err.c_str());
    return kExitUsage;
  }
  for (const std::string& c : opts_.channels) {
    if (!IsTwitchLogin(NormalizeChannel(c))) {
      LogError("CHANNEL '%s': not a Twitch login (letters, digits, '_')", c.c_str());
      return kExitUsage;
    }
  }
  if (!IsTwitchLogin(nick_)) {
    LogError("--nick '%s': not a Twitch login (letters, digits, '_')", nick_.c_str());
    return kExitUsage;
  }
  if (channels_.empty()) {
    LogError("no channel to join");
    return kExitUsage;
  }
  static const lws_protocols kProtocols[] = {
      {"twitch-irc", &IrcClient::Callback, 0, 1 << 16, 0, nullptr, 0},
      {kStdoutProtocol, &IrcClient::StdoutCallback, 0, 0, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kProtocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.fd_limit_per_thread = 8;
  info.user = this;
  if (!opts_.tls.cacert.empty()) info.client_ssl_ca_filepath = opts_.tls.cacert.c_str();
  LogRouteLibwebsockets();
  context_.reset(lws_create_context(&info));
  if (!context_) {
    LogError("libwebsockets: cannot create the context");
    return kExitFailure;
  }
  out_.Start(context_.get(), lws_get_vhost_by_name(context_.get(), "default"), kStdoutProtocol);
  ScheduleConnect(true);
  {
    StopWakeup wakeup(context_.get());
    while (!done_) {
      if (StopRequested() && !draining_) {
        LogDebug("stopped by signal %d", StopSignal());
        StartDrain();
      }
      if (draining_ && out_.queue().empty()) break;
      if (lws_service(context_.get(), 0) < 0) break;
    }
  }
  done_ = true;  // the callbacks that destroying the context runs change nothing now
  for (lws_sorted_usec_list_t* s :
       {&timers_.connect, &timers_.join, &timers_.join_check, &timers_.ping, &timers_.pong}) {
    lws_sul_cancel(s);
  }
  out_.Close();
  context_.reset();  // runs the CLOSED callback while |this| is alive
  if (!out_.queue().empty()) {
    LogDebug("standard output: %zu bytes not written", out_.queue().bytes());
  }
  return status_;
}

// Writes what stdout takes now; the rest waits for its WRITEABLE callback.
void IrcClient::FlushStdout() {
  if (done_) return;
  std::string err;
  switch (out_.Flush(&err)) {
    case OutputQueue::Flush::kDrained:
    case OutputQueue::Flush::kBlocked:  // FlushStdout() runs again once stdout takes more
      break;
    case OutputQueue::Flush::kClosed:
      LogDebug("standard output: %s", err.c_str());
      Stop(kExitOk);
      return;
    case OutputQueue::Flush::kError:
      LogError("standard output: %s", err.c_str());
      Stop(kExitFailure);
      return;
  }
  UpdateFlow();
}

// Backpressure: over the bound Twitch is not read any more; from half of it, again.
void IrcClient::UpdateFlow() {
  const OutputQueue& queued = out_.queue();
  if (!paused_ && queued.Full()) {
    paused_ = true;
    LogInfo("standard output: %zu bytes wait for the reader (--max-buffer %zu): reading paused",
            queued.bytes(), queued.max_bytes());
    SetReading(false);
  } else if (paused_ && queued.Drained()) {
    paused_ = false;
    LogInfo("standard output: %zu bytes wait for the reader: reading resumed", queued.bytes());
    SetReading(true);
  }
}

// While Twitch is not read, no PONG can arrive: the deadline for one stops, and starts afresh
// when reading resumes. Twitch's own PINGs wait unanswered; if it drops us for that, the usual
// reconnect and gap follow.
void IrcClient::SetReading(bool on) {
  if (draining_) return;
  for (Conn& c : conns_) {
    if (!c.in_use || !c.wsi) continue;
    // lws 4.1 spins (appending to its buffer list) when a client is flow-controlled in the middle
    // of a message longer than its receive buffer: that connection stops at the message's end.
    c.pause_at_frame_end = !on && &c == receiving_ && !FrameComplete(c.wsi);
    if (!c.pause_at_frame_end) lws_rx_flow_control(c.wsi, on ? 1 : 0);
  }
  if (!on) {
    lws_sul_cancel(&timers_.pong);
  } else if (active_ && active_->in_use && active_->pong_wanted) {
    lws_sul_schedule(context_.get(), 0, &timers_.pong, &IrcClient::PongCb,
                     static_cast<lws_usec_t>(opts_.pong_timeout_s) * LWS_USEC_PER_SEC);
  }
}

// A stop signal or a fatal answer from Twitch: nothing more is read, what is queued goes out.
void IrcClient::Finish(int status) {
  status_ = status;
  StartDrain();
  if (context_) lws_cancel_service(context_.get());
}

void IrcClient::StartDrain() {
  if (draining_) return;
  draining_ = true;
  for (lws_sorted_usec_list_t* s :
       {&timers_.connect, &timers_.join, &timers_.join_check, &timers_.ping, &timers_.pong}) {
    lws_sul_cancel(s);
  }
  for (Conn& c : conns_) {
    if (c.in_use) Close(&c);
  }
  if (!out_.queue().empty()) {
    LogInfo("standard output: writing the %zu bytes left before exiting", out_.queue().bytes());
    FlushStdout();
  }
}

void IrcClient::Stop(int status) {
  status_ = status;
  done_ = true;
  if (context_) lws_cancel_service(context_.get());
}

void IrcClient::ScheduleConnect(bool at_once) {
  unsigned delay = 0;
  if (!at_once) {
    char conceal = 0;
    delay = lws_retry_get_delay_ms(context_.get(), &kRetry, &retry_count_, &conceal);
    LogInfo("reconnecting in %u ms (attempt %u)", delay, retry_count_);
  }
  lws_sul_schedule(context_.get(), 0, &timers_.connect, &IrcClient::ConnectCb,
                   static_cast<lws_usec_t>(delay) * LWS_US_PER_MS);
}

void IrcClient::Connect() {
  Conn* c = !conns_[0].in_use ? &conns_[0] : !conns_[1].in_use ? &conns_[1] : nullptr;
  if (!c) {  // a retiring connection and a live one: try again once one has gone
    ScheduleConnect(false);
    return;
  }
  if (active_ && active_->in_use && active_->retiring) {
    // The channel states described the retiring connection; now they describe this one.
    for (Channel& ch : channels_) {
      if (ch.state != ChannelState::kRefused) ch.state = ChannelState::kPending;
    }
  }
  c->in_use = true;
  c->wsi = nullptr;
  c->reader = LineReader(kMaxIrcLine);
  c->out.clear();
  c->logged_in = c->close_now = c->retiring = c->pong_wanted = false;
  c->last_rx = NowMillis();
  active_ = c;
  lws_client_connect_info ci;
  memset(&ci, 0, sizeof ci);
  ci.context = context_.get();
  ci.address = host_.c_str();
  ci.port = port_;
  ci.path = path_.c_str();
  ci.host = host_.c_str();
  ci.origin = host_.c_str();
  ci.local_protocol_name = "twitch-irc";
  ci.retry_and_idle_policy = &kRetry;
  if (tls_) {
    ci.ssl_connection = LCCSCF_USE_SSL;
    if (opts_.tls.insecure) {
      ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                           LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
  }
  ci.pwsi = &c->wsi;
  ci.opaque_user_data = c;
  LogDebug("connecting to %s", opts_.url.c_str());
  if (!lws_client_connect_via_info(&ci) && c->in_use) {
    // Failed before CONNECTION_ERROR could tell us (else OnClosed freed the slot already).
    OnClosed(c, "cannot start the connection");
  }
}

void IrcClient::Send(Conn* c, std::string line) {
  LogDebug("> %s", Masked(line).c_str());
  c->out.push_back(std::move(line));
  if (c->wsi) lws_callback_on_writable(c->wsi);
}

// Closes |c| from outside its own callback: at its next WRITEABLE.
void IrcClient::Close(Conn* c) {
  c->close_now = true;
  if (c->wsi) lws_callback_on_writable(c->wsi);
}

int IrcClient::OnEstablished(Conn* c) {
  LogInfo("connected to %s", opts_.url.c_str());
  c->last_rx = NowMillis();
  if (paused_ && c->wsi) lws_rx_flow_control(c->wsi, 0);  // read once the queue has drained
  // Capabilities first, then PASS before NICK (twitch-protocols.md §2.2).
  Send(c, "CAP REQ :twitch.tv/tags twitch.tv/commands");
  if (!token_.empty()) Send(c, "PASS oauth:" + token_);
  Send(c, "NICK " + nick_);
  return 0;
}

int IrcClient::OnWriteable(Conn* c, lws* wsi) {
  if (c->close_now) return -1;
  if (c->out.empty()) return 0;  // a spurious WRITEABLE
  const std::string& line = c->out.front();
  std::vector<unsigned char> buf(LWS_PRE + line.size());
  memcpy(buf.data() + LWS_PRE, line.data(), line.size());
  int n = lws_write(wsi, buf.data() + LWS_PRE, line.size(), LWS_WRITE_TEXT);
  if (n < static_cast<int>(line.size())) {
    LogWarning("%s: write failed", opts_.url.c_str());
    return -1;
  }
  c->out.pop_front();
  if (!c->out.empty()) lws_callback_on_writable(wsi);
  return 0;
}

int IrcClient::OnReceive(Conn* c, const char* in, size_t len) {
  struct Receiving {  // which connection SetReading() is called from, if any
    Conn*& slot;
    Receiving(Conn*& s, Conn* c) : slot(s) { slot = c; }
    ~Receiving() { slot = nullptr; }
  } receiving(receiving_, c);
  c->last_rx = NowMillis();
  c->reader.Feed(std::string_view(in, len));
  std::string err;
  for (;;) {
    LineReader::Status st = c->reader.Next(&line_);
    if (st == LineReader::Status::kNone) break;
    ++line_no_;
    if (st == LineReader::Status::kTooLong) {
      LogWarning("irc: line %zu: skipped: longer than %zu bytes", line_no_, kMaxIrcLine);
      continue;
    }
    LogDebug("< %s", line_.c_str());
    writer_.Handle(line_, line_no_, &msg_, &err);  // queued: cannot fail (see FlushStdout)
    if (!msg_.command.empty() && !OnLine(c, msg_)) return -1;
    if (done_ || draining_) break;
  }
  FlushStdout();
  if (c->pause_at_frame_end && paused_ && c->wsi && FrameComplete(c->wsi)) {
    c->pause_at_frame_end = false;
    lws_rx_flow_control(c->wsi, 0);
  }
  return done_ || draining_ ? -1 : 0;
}

// The protocol side of a line (its events were written already). False closes the connection.
bool IrcClient::OnLine(Conn* c, const IrcMessage& msg) {
  std::string_view cmd = msg.command;
  if (cmd == "PING") {
    Send(c, "PONG :" + std::string(msg.params.empty() ? "tmi.twitch.tv" : msg.params.back()));
    return true;
  }
  if (c != active_) return true;  // a retiring connection only delivers events now
  if (cmd == "PONG") {
    c->pong_wanted = false;
    lws_sul_cancel(&timers_.pong);
  } else if (cmd == "RECONNECT") {
    LogInfo("%s: the server asked to reconnect", opts_.url.c_str());
    if (conns_[0].in_use && conns_[1].in_use) return false;  // one handover at a time
    // Make before break: a successor logs in and joins while this one goes on delivering.
    c->retiring = true;
    lws_sul_cancel(&timers_.ping);
    lws_sul_cancel(&timers_.pong);
    lws_sul_cancel(&timers_.join);
    ScheduleConnect(true);
  } else if ((cmd == "376" || cmd == "GLOBALUSERSTATE") && !c->logged_in) {
    c->logged_in = true;
    retry_count_ = 0;  // a session that logs in counts as stable
    LogInfo("logged in as %s", nick_.c_str());
    PaceJoins();
    SchedulePing();
  } else if (cmd == "NOTICE") {
    OnNotice(msg);
  } else if (cmd == "JOIN") {
    OnJoin(msg);
  } else if (cmd == "CAP" && msg.Param(1) == "NAK") {
    LogWarning("capabilities refused: %.*s", static_cast<int>(msg.Param(2).size()),
               msg.Param(2).data());
  }
  return true;
}

IrcClient::Channel* IrcClient::FindChannel(std::string_view param) {
  std::string login = NormalizeChannel(std::string(param));
  for (Channel& c : channels_) {
    if (c.login == login) return &c;
  }
  return nullptr;
}

void IrcClient::OnNotice(const IrcMessage& msg) {
  std::string_view target = msg.Param(0);
  std::string text(msg.params.size() >= 2 ? msg.params.back() : std::string_view());
  std::string msg_id = msg.Tag("msg-id");
  if (target == "*" && IsLoginFailure(text)) {
    LogError("login as %s: %s (check the token and --nick)", nick_.c_str(), text.c_str());
    Finish(kExitCredentials);
    return;
  }
  Channel* ch = FindChannel(target);
  if (ch && ch->state != ChannelState::kJoined && IsJoinRefusal(msg_id)) {
    ch->state = ChannelState::kRefused;
    LogError("#%s: refused: %s (%s)", ch->login.c_str(), text.c_str(), msg_id.c_str());
    bool any_left = std::any_of(channels_.begin(), channels_.end(),
                                [](const Channel& c) { return c.state != ChannelState::kRefused; });
    if (!any_left) {
      LogError("every channel was refused");
      Finish(kExitFailure);
    }
    return;
  }
  LogInfo("notice %.*s: %s%s%s", static_cast<int>(target.size()), target.data(), text.c_str(),
          msg_id.empty() ? "" : " ", msg_id.c_str());
}

void IrcClient::OnJoin(const IrcMessage& msg) {
  std::string_view source = msg.source.substr(0, msg.source.find('!'));
  if (source != nick_) return;  // someone else's JOIN (membership)
  Channel* ch = FindChannel(msg.Param(0));
  if (!ch || ch->state == ChannelState::kJoined) return;
  ch->state = ChannelState::kJoined;
  LogInfo("joined #%s", ch->login.c_str());
  if (ch->gap_from != 0) {
    WriteGap(ch->login, ch->gap_from, NowMillis());
    ch->gap_from = 0;
  }
  RetireOthers();
}

// Once the active connection has joined every channel, a retiring one has done its job.
void IrcClient::RetireOthers() {
  bool all_joined = std::all_of(channels_.begin(), channels_.end(), [](const Channel& ch) {
    return ch.state == ChannelState::kJoined || ch.state == ChannelState::kRefused;
  });
  if (!all_joined) return;
  for (Conn& c : conns_) {
    if (c.in_use && &c != active_ && !c.close_now) {
      LogInfo("every channel joined again: closing the old connection");
      Close(&c);
    }
  }
}

void IrcClient::WriteGap(const std::string& login, int64_t from, int64_t to) {
  Identity channel;
  channel.login = login;
  JsonPtr gap = NewGapEvent("irc", channel, from, to);
  std::string err;
  writer_.Write(gap.get(), &err);  // queued: cannot fail; FlushStdout() reports stdout's errors
  FlushStdout();
}

// Sends the JOINs that the rate limit allows now and re-arms itself for the rest.
void IrcClient::PaceJoins() {
  if (!active_ || !active_->logged_in || !active_->wsi) return;
  int64_t now = NowMillis();
  for (Channel& c : channels_) {
    if (c.state != ChannelState::kPending) continue;
    int64_t wait = join_limit_.WaitMs(now);
    if (wait > 0) {
      LogDebug("join rate limit: next JOIN in %lld ms", static_cast<long long>(wait));
      lws_sul_schedule(context_.get(), 0, &timers_.join, &IrcClient::JoinCb, wait * LWS_US_PER_MS);
      return;
    }
    join_limit_.Sent(now);
    c.state = ChannelState::kJoinSent;
    c.join_sent = now;
    lws_sul_schedule(context_.get(), 0, &timers_.join_check, &IrcClient::JoinCheckCb,
                     kJoinAnswerMs * LWS_US_PER_MS);
    Send(active_, "JOIN #" + c.login);
  }
}

// Twitch does not answer a JOIN to a channel that does not exist: say so rather than wait mutely.
void IrcClient::CheckJoins() {
  int64_t now = NowMillis();
  for (const Channel& c : channels_) {
    if (c.state == ChannelState::kJoinSent && now - c.join_sent >= kJoinAnswerMs) {
      LogWarning("#%s: no answer to JOIN after %d s (does the channel exist?)", c.login.c_str(),
                 kJoinAnswerMs / 1000);
    }
  }
}

void IrcClient::SchedulePing() {
  lws_sul_schedule(context_.get(), 0, &timers_.ping, &IrcClient::PingCb,
                   static_cast<lws_usec_t>(opts_.ping_interval_s) * LWS_USEC_PER_SEC);
}

void IrcClient::OnPingTimer() {
  if (!active_ || !active_->wsi || !active_->logged_in) return;
  if (paused_) {  // its PONG could not be read: ask again once reading resumes
    SchedulePing();
    return;
  }
  if (!active_->pong_wanted) {
    active_->pong_wanted = true;
    Send(active_, "PING :tmi.twitch.tv");
    lws_sul_schedule(context_.get(), 0, &timers_.pong, &IrcClient::PongCb,
                     static_cast<lws_usec_t>(opts_.pong_timeout_s) * LWS_USEC_PER_SEC);
  }
  SchedulePing();
}

void IrcClient::OnPongTimeout() {
  if (!active_ || !active_->wsi || !active_->pong_wanted || paused_) return;
  LogWarning("%s: no PONG within %d s: the connection is dead", opts_.url.c_str(),
             opts_.pong_timeout_s);
  Close(active_);
}

// Channel states always describe the active connection. A retiring connection (RECONNECT)
// still delivers every channel until it closes, so gaps start only when no connection covers a
// channel any more.
void IrcClient::OnClosed(Conn* c, const char* why) {
  if (!c->in_use) return;  // CONNECTION_ERROR and CLOSED for the same connection
  c->in_use = false;
  c->wsi = nullptr;
  c->out.clear();
  c->reader = LineReader(kMaxIrcLine);
  if (done_ || draining_ || StopRequested()) return;
  if (c != active_) {
    // The retiring connection went: what its successor has not joined yet is uncovered now.
    for (Channel& ch : channels_) {
      if (ch.state != ChannelState::kJoined && ch.state != ChannelState::kRefused &&
          ch.gap_from == 0) {
        ch.gap_from = c->last_rx;
      }
    }
    LogDebug("the old connection is closed (%s)", why);
    return;
  }
  lws_sul_cancel(&timers_.join);
  lws_sul_cancel(&timers_.join_check);
  lws_sul_cancel(&timers_.ping);
  lws_sul_cancel(&timers_.pong);
  bool covered = conns_[0].in_use || conns_[1].in_use;  // a retiring connection still delivers
  for (Channel& ch : channels_) {
    if (ch.state == ChannelState::kRefused) continue;
    if (!covered && ch.state == ChannelState::kJoined && ch.gap_from == 0) {
      ch.gap_from = c->last_rx;
    }
    ch.state = ChannelState::kPending;
  }
  if (c->retiring) {
    // RECONNECT came and the server closed before the successor started: it starts at once.
    LogInfo("%s: closed after RECONNECT (%s)", opts_.url.c_str(), why);
    return;
  }
  LogWarning("%s: connection %s: %s", opts_.url.c_str(), c->logged_in ? "lost" : "failed", why);
  ScheduleConnect(false);
}

// Runs |f| for a C callback: no exception may cross into lws. Returns what |f| returns, or -1
// (close this connection) after an exception.
template <typename F>
int Guarded(const char* what, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    LogError("%s: %s", what, e.what());
  } catch (...) {
    LogError("%s: unexpected exception", what);
  }
  return -1;
}

void IrcClient::ConnectCb(lws_sorted_usec_list_t* sul) noexcept {
  Guarded("connect", [sul] {
    lws_container_of(sul, Timers, connect)->owner->Connect();
    return 0;
  });
}

void IrcClient::JoinCb(lws_sorted_usec_list_t* sul) noexcept {
  Guarded("join", [sul] {
    lws_container_of(sul, Timers, join)->owner->PaceJoins();
    return 0;
  });
}

void IrcClient::PingCb(lws_sorted_usec_list_t* sul) noexcept {
  Guarded("ping", [sul] {
    lws_container_of(sul, Timers, ping)->owner->OnPingTimer();
    return 0;
  });
}

void IrcClient::JoinCheckCb(lws_sorted_usec_list_t* sul) noexcept {
  Guarded("join", [sul] {
    lws_container_of(sul, Timers, join_check)->owner->CheckJoins();
    return 0;
  });
}

void IrcClient::PongCb(lws_sorted_usec_list_t* sul) noexcept {
  Guarded("pong", [sul] {
    lws_container_of(sul, Timers, pong)->owner->OnPongTimeout();
    return 0;
  });
}

int IrcClient::Callback(lws* wsi, lws_callback_reasons reason, void*, void* in,
                        size_t len) noexcept {
  return Guarded("irc", [=] {
    auto* self = static_cast<IrcClient*>(lws_context_user(lws_get_context(wsi)));
    auto* c = static_cast<Conn*>(lws_get_opaque_user_data(wsi));
    if (!self || !c) return 0;
    switch (reason) {
      case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        self->OnClosed(c, in ? static_cast<const char*>(in) : "connection error");
        return 0;
      case LWS_CALLBACK_CLIENT_ESTABLISHED:
        return self->OnEstablished(c);
      case LWS_CALLBACK_CLIENT_RECEIVE:
        return self->OnReceive(c, static_cast<const char*>(in), len);
      case LWS_CALLBACK_CLIENT_WRITEABLE:
        return self->OnWriteable(c, wsi);
      case LWS_CALLBACK_CLIENT_CLOSED:
        self->OnClosed(c, "closed");
        return 0;
      default:
        return 0;
    }
  });
}

// The raw file that stands for stdout (LoopStdout): WRITEABLE flushes the queue. If lws closes
// it because the reader hung up, the command ends at once, as EPIPE would end it.
int IrcClient::StdoutCallback(lws* wsi, lws_callback_reasons reason, void*, void*,
                              size_t) noexcept {
  return Guarded("standard output", [=] {
    auto* self = static_cast<IrcClient*>(lws_context_user(lws_get_context(wsi)));
    if (!self || self->done_) return 0;
    if (reason == LWS_CALLBACK_RAW_WRITEABLE_FILE) self->out_.OnWriteable();
    if (reason == LWS_CALLBACK_RAW_CLOSE_FILE && self->out_.OnClosed(wsi)) {
      LogDebug("standard output: the reader went away");
      self->Stop(kExitOk);
    }
    return 0;
  });
}

}  // namespace

int64_t JoinRateLimit::WaitMs(int64_t now_ms) {
  while (!sent_.empty() && now_ms - sent_.front() >= window_ms_) sent_.pop_front();
  if (sent_.size() < static_cast<size_t>(burst_)) return 0;
  return std::max<int64_t>(sent_.front() + window_ms_ - now_ms, 1);
}

void JoinRateLimit::Sent(int64_t now_ms) { sent_.push_back(now_ms); }

std::string NormalizeChannel(const std::string& channel) {
  std::string login = channel;
  if (!login.empty() && login[0] == '#') login.erase(0, 1);
  std::transform(login.begin(), login.end(), login.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return login;
}

bool IsTwitchLogin(const std::string& login) {
  if (login.empty() || login.size() > 25) return false;
  return std::all_of(login.begin(), login.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '_';
  });
}

int RunIrcClient(const IrcClientOptions& opts) {
  IrcClient client(opts);
  return client.Run();
}
