// The Twitch IRC side of a WsClient (ws/ws_client.h), which owns the connections, the backoff,
// the outbox, reassembly, the bounded stdout and make-before-break. Here: the login, JOINs paced
// by the rate limit and checked for an answer, PING/PONG (the PONG deadline is the connection's
// watchdog, which does not run while reading is paused for stdout: the silence is ours), RECONNECT
// as a handover (the old connection keeps delivering until its successor has joined every
// channel, and lines both deliver are written once, by their id), and "gap" events for the time
// no connection covered a channel.
#include "twitch/irc_client.h"

#include <algorithm>
#include <cctype>
#include <random>

#include "core/event.h"
#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/time.h"
#include "twitch/irc_output.h"
#include "ws/ws_client.h"

namespace {

// How long a JOIN may stay unanswered before it is reported.
constexpr int kJoinAnswerMs = 10000;

// The longest WebSocket message taken: Twitch sends many lines in one.
constexpr size_t kMaxIrcMessage = 16u << 20;

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

std::string Masked(const std::string& line) {
  return line.rfind("PASS ", 0) == 0 ? "PASS oauth:***" : line;
}

class IrcClient : public WsClientListener {
 public:
  explicit IrcClient(const IrcClientOptions& o) : opts_(o), writer_(o.map, "irc") {
    writer_.SkipRepeatedIds(1024);
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
    join_timer_.Set([this] { PaceJoins(); });
    join_check_timer_.Set([this] { CheckJoins(); });
    ping_timer_.Set([this] { OnPingTimer(); });
  }

  int Run();

  void OnOpened(int slot) override;
  void OnMessage(int slot, std::string_view text) override;
  bool OnClosed(int slot, const WsCloseInfo& info) override;
  void OnWatchdog(int slot) override;

 private:
  enum class ChannelState { kPending, kJoinSent, kJoined, kRefused };

  // What belongs to one connection alone (the slots of the WsClient).
  struct Conn {
    LineReader reader{kMaxIrcLine};
    bool logged_in = false;
    bool retiring = false;  // RECONNECT came: the successor takes over once it has joined
    bool pong_wanted = false;
    int64_t last_rx = 0;  // wall clock, ms: where a gap starts
  };
  struct Channel {
    std::string login;
    ChannelState state = ChannelState::kPending;
    int64_t gap_from = 0;   // ms since the epoch; 0: no gap to report at the next JOIN
    int64_t join_sent = 0;  // monotonic ms when the unanswered JOIN left
  };

  void Send(int slot, std::string line);
  bool OnLine(int slot, const IrcMessage& msg);
  void OnNotice(const IrcMessage& msg);
  void OnJoin(const IrcMessage& msg);
  void RetireOthers();
  void WriteGap(const std::string& login, int64_t from, int64_t to);
  void PaceJoins();
  void CheckJoins();
  void SchedulePing();
  void OnPingTimer();
  void CancelTimers();
  Channel* FindChannel(std::string_view param);
  bool Active(int slot) const { return slot == client->active(); }

  IrcClientOptions opts_;
  std::string url_;  // for diagnostics: no query
  IrcEventWriter writer_;
  IrcMessage msg_;
  std::string line_;
  std::string nick_, token_;
  Conn conns_[2];
  std::vector<Channel> channels_;
  JoinRateLimit join_limit_;
  LoopAlarm join_timer_, join_check_timer_, ping_timer_;
  size_t line_no_ = 0;
};

int IrcClient::Run() {
  WsClientOptions c;
  std::string err;
  if (!ParseWsUrl(opts_.url, &c.url, &err)) {
    LogError("--url: %s", err.c_str());
    return kExitUsage;
  }
  for (const std::string& ch : opts_.channels) {
    if (!IsTwitchLogin(NormalizeChannel(ch))) {
      LogError("CHANNEL '%s': not a Twitch login (letters, digits, '_')", ch.c_str());
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
  url_ = c.display_url = DisplayUrl(opts_.url);
  c.tls = opts_.tls;
  c.max_message = kMaxIrcMessage;
  c.max_output = opts_.max_buffer;
  WsClient ws(c, this);
  writer_.QueueTo(&ws.output());
  struct TimersCancelled {  // before the context goes
    IrcClient* self;
    ~TimersCancelled() { self->CancelTimers(); }
  } cancel{this};
  return ws.Run();
}

void IrcClient::CancelTimers() {
  join_timer_.Cancel();
  join_check_timer_.Cancel();
  ping_timer_.Cancel();
}

void IrcClient::Send(int slot, std::string line) {
  LogDebug("> %s", Masked(line).c_str());
  client->Send(slot, std::move(line));
}

void IrcClient::OnOpened(int slot) {
  Conn& c = conns_[slot];
  c = Conn();
  c.last_rx = NowMillis();
  // Capabilities first, then PASS before NICK (twitch-protocols.md §2.2).
  Send(slot, "CAP REQ :twitch.tv/tags twitch.tv/commands");
  if (!token_.empty()) Send(slot, "PASS oauth:" + token_);
  Send(slot, "NICK " + nick_);
}

void IrcClient::OnMessage(int slot, std::string_view text) {
  Conn& c = conns_[slot];
  c.last_rx = NowMillis();
  c.reader.Feed(text);
  std::string err;
  for (;;) {
    LineReader::Status st = c.reader.Next(&line_);
    if (st == LineReader::Status::kNone) break;
    ++line_no_;
    if (st == LineReader::Status::kTooLong) {
      LogWarning("irc: line %zu: skipped: longer than %zu bytes", line_no_, kMaxIrcLine);
      continue;
    }
    LogDebug("< %s", line_.c_str());
    writer_.Handle(line_, line_no_, &msg_, &err);  // queued: cannot fail (see FlushOutput)
    if (!msg_.command.empty() && !OnLine(slot, msg_)) {
      client->Close(slot);
      break;
    }
    if (client->ending()) break;
  }
  client->FlushOutput();
}

// The protocol side of a line (its events were queued already). False closes the connection.
bool IrcClient::OnLine(int slot, const IrcMessage& msg) {
  std::string_view cmd = msg.command;
  Conn& c = conns_[slot];
  if (cmd == "PING") {
    Send(slot, "PONG :" + std::string(msg.params.empty() ? "tmi.twitch.tv" : msg.params.back()));
    return true;
  }
  if (!Active(slot) || c.retiring) return true;  // a retiring connection only delivers events
  if (cmd == "PONG") {
    c.pong_wanted = false;
    client->Unwatch(slot);
  } else if (cmd == "RECONNECT") {
    LogInfo("%s: the server asked to reconnect", url_.c_str());
    // Make before break: a successor logs in and joins while this one goes on delivering.
    if (!client->Handover()) return false;  // one handover at a time
    c.retiring = true;
    // The channel states described this connection; from now on they describe its successor.
    for (Channel& ch : channels_) {
      if (ch.state != ChannelState::kRefused) ch.state = ChannelState::kPending;
    }
    ping_timer_.Cancel();
    join_timer_.Cancel();
    client->Unwatch(slot);
  } else if ((cmd == "376" || cmd == "GLOBALUSERSTATE") && !c.logged_in) {
    c.logged_in = true;
    client->ResetBackoff();  // a session that logs in counts as stable
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
    client->Drain(kExitCredentials);
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
      client->Drain(kExitFailure);
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
  int old = 1 - client->active();
  if (client->open(old) && conns_[old].retiring) {
    LogInfo("every channel joined again: closing the old connection");
    conns_[old].retiring = false;
    client->Close(old);
  }
}

void IrcClient::WriteGap(const std::string& login, int64_t from, int64_t to) {
  Identity channel;
  channel.login = login;
  JsonPtr gap = NewGapEvent("irc", channel, from, to);
  std::string err;
  writer_.Write(gap.get(), &err);  // queued: cannot fail; FlushOutput() reports stdout's errors
  client->FlushOutput();
}

// Sends the JOINs that the rate limit allows now and re-arms itself for the rest.
void IrcClient::PaceJoins() {
  int slot = client->active();
  if (!client->open(slot) || !conns_[slot].logged_in || conns_[slot].retiring) return;
  int64_t now = MonotonicMs();
  for (Channel& c : channels_) {
    if (c.state != ChannelState::kPending) continue;
    int64_t wait = join_limit_.WaitMs(now);
    if (wait > 0) {
      LogDebug("join rate limit: next JOIN in %lld ms", static_cast<long long>(wait));
      join_timer_.After(client->context(), wait);
      return;
    }
    join_limit_.Sent(now);
    c.state = ChannelState::kJoinSent;
    c.join_sent = now;
    join_check_timer_.After(client->context(), kJoinAnswerMs);
    Send(slot, "JOIN #" + c.login);
  }
}

// Twitch does not answer a JOIN to a channel that does not exist: say so rather than wait mutely.
void IrcClient::CheckJoins() {
  int64_t now = MonotonicMs();
  for (const Channel& c : channels_) {
    if (c.state == ChannelState::kJoinSent && now - c.join_sent >= kJoinAnswerMs) {
      LogWarning("#%s: no answer to JOIN after %d s (does the channel exist?)", c.login.c_str(),
                 kJoinAnswerMs / 1000);
    }
  }
}

void IrcClient::SchedulePing() {
  ping_timer_.After(client->context(), opts_.ping_interval_s * 1000);
}

void IrcClient::OnPingTimer() {
  int slot = client->active();
  if (!client->open(slot) || !conns_[slot].logged_in) return;
  if (client->reading_paused()) {  // its PONG could not be read: ask again once reading resumes
    SchedulePing();
    return;
  }
  if (!conns_[slot].pong_wanted) {
    conns_[slot].pong_wanted = true;
    Send(slot, "PING :tmi.twitch.tv");
    client->Watch(slot, opts_.pong_timeout_s * 1000,
                  "no PONG within " + std::to_string(opts_.pong_timeout_s) + " s");
  }
  SchedulePing();
}

void IrcClient::OnWatchdog(int) {
  LogWarning("%s: no PONG within %d s: the connection is dead", url_.c_str(), opts_.pong_timeout_s);
}

// Channel states always describe the active connection. A retiring connection (RECONNECT)
// still delivers every channel until it closes, so gaps start only when no connection covers a
// channel any more.
bool IrcClient::OnClosed(int slot, const WsCloseInfo& info) {
  Conn c = std::move(conns_[slot]);
  conns_[slot] = Conn();
  if (client->ending()) return false;
  const char* why = info.error.empty() ? "closed" : info.error.c_str();
  if (!Active(slot)) {
    // The retiring connection went: what its successor has not joined yet is uncovered now.
    for (Channel& ch : channels_) {
      if (ch.state != ChannelState::kJoined && ch.state != ChannelState::kRefused &&
          ch.gap_from == 0) {
        ch.gap_from = c.last_rx;
      }
    }
    LogDebug("the old connection is closed (%s)", why);
    return false;
  }
  CancelTimers();
  bool covered = client->open(1 - slot);  // a retiring connection still delivers
  for (Channel& ch : channels_) {
    if (ch.state == ChannelState::kRefused) continue;
    bool was_delivered = ch.state == ChannelState::kJoined || c.retiring;
    if (!covered && was_delivered && ch.gap_from == 0) ch.gap_from = c.last_rx;
    ch.state = ChannelState::kPending;
  }
  if (c.retiring) {
    // RECONNECT came and the server closed before the successor started: it is on its way.
    LogInfo("%s: closed after RECONNECT (%s)", url_.c_str(), why);
    return false;
  }
  LogWarning("%s: connection %s: %s", url_.c_str(), c.logged_in ? "lost" : "failed", why);
  return true;
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
