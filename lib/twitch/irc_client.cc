// The Twitch IRC side of a WsClient (ws/ws_client.h), which owns the connections, the outbox,
// reassembly and the bounded stdout. Here: the channels in groups, one per connection number of
// the IrcShardPlan, each group with its own slots (two during a RECONNECT handover), backoff,
// PING timer and channel states, so that what happens to one connection touches no other group;
// the login, JOINs paced by the one per-user rate limit and checked for an answer, PING/PONG (the
// PONG deadline is the connection's watchdog, which does not run while reading is paused for
// stdout: the silence is ours), RECONNECT as a handover (the old connection keeps delivering
// until its successor has joined every channel of the group, and lines both deliver are written
// once, by their id), and "gap" events for the time no connection covered a channel.
#include "twitch/irc_client.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <random>

#include "core/event.h"
#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/time.h"
#include "twitch/irc_channels.h"
#include "twitch/irc_output.h"
#include "twitch/irc_shards.h"
#include "twitch/irc_state.h"
#include "twitch/token_provider.h"
#include "ws/ws_client.h"

namespace {

// RECONNECTs of one connection within kHandoverWindowMs that are followed at once; more wait a
// backoff delay.
constexpr int kHandoverBurst = 3;
constexpr int kHandoverWindowMs = 60000;

// How much longer than Twitch's window the JOIN and login rate limits wait: a message is
// counted when it is queued, and the outbox and the network take a while.
constexpr int kRateMarginMs = 1000;

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

std::string WithoutOauthPrefix(const std::string& token) {
  return token.rfind("oauth:", 0) == 0 ? token.substr(6) : token;
}

std::string Masked(const std::string& line) {
  return line.rfind("PASS ", 0) == 0 ? "PASS oauth:***" : line;
}

int ReloadCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                   size_t len) noexcept;

constexpr char kReloadProtocol[] = "twitch-irc-sighup";
const struct lws_protocols kReloadProtocols[] = {
    {kReloadProtocol, &ReloadCallback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

class IrcClient : public WsClientListener {
 public:
  explicit IrcClient(const IrcClientOptions& o)
      : opts_(o),
        writer_(o.map, "irc"),
        plan_(o.channels_per_connection, o.max_connections),
        groups_(o.max_connections),
        conns_(o.max_connections * 2) {
    writer_.SkipRepeatedIds(1024);
    nick_ = o.nick;
    if (nick_.empty()) {
      std::random_device rd;
      nick_ = "justinfan" + std::to_string(10000 + rd() % 90000);
    }
    std::transform(nick_.begin(), nick_.end(), nick_.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    token_ = WithoutOauthPrefix(o.token);
    for (size_t i = 0; i < groups_.size(); ++i) {
      Group& g = groups_[i];
      g.index = static_cast<int>(i);
      g.reconnect.Set([this, &g] { Reconnect(g); });
      g.ping.Set([this, &g] { OnPingTimer(g); });
    }
    join_timer_.Set([this] { PaceJoins(); });
    join_check_timer_.Set([this] { CheckJoins(); });
    state_timer_.Set([this] {
      SaveState();
      state_timer_.After(client->context(), kStateSaveMs);
    });
  }

  int Run();

  void OnOpened(int slot) override;
  void OnMessage(int slot, std::string_view text) override;
  bool OnClosed(int slot, const WsCloseInfo& info) override;
  void OnWatchdog(int slot) override;
  void OnLoopStarted() override;
  void OnLoopEnding() override;
  std::string LogPrefix(int slot) override { return Tag(GroupOf(slot)); }

  /// SIGHUP with --channels-file: JOINs what the file added, PARTs what it dropped.
  void ReloadChannels();

 private:
  enum class ChannelState { kPending, kJoinSent, kJoined, kRefused };

  // What belongs to one connection alone (a slot of the WsClient).
  struct Conn {
    LineReader reader{kMaxIrcLine};
    bool live = false;  // from Open() to OnClosed()
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
    int64_t joined_at = 0;  // wall clock ms of the JOIN's echo
  };
  // The channels of one connection number (IrcShardPlan) and the connections that read them:
  // slots |index| and |index| + groups (two at once only during a RECONNECT handover). The
  // channel states describe the connection in slot |current|.
  struct Group {
    int index = 0;
    std::vector<Channel> channels;
    int current = -1;
    Backoff backoff;                // reconnects after a drop
    Backoff storm_backoff;          // RECONNECTs beyond kHandoverBurst
    std::deque<int64_t> handovers;  // when the recent RECONNECTs came (monotonic ms)
    bool awaiting_token = false;    // closed for a refreshed token: OnTokenChanged() connects
    LoopAlarm reconnect, ping;
  };

  Group& GroupOf(int slot) { return groups_[static_cast<size_t>(slot) % groups_.size()]; }
  // What a log line about |g|'s connection starts with: "connection 2/3: " while the channels
  // take more than one connection; "" otherwise.
  std::string Tag(const Group& g) const {
    size_t n = plan_.connections();
    if (n <= 1) return {};
    return "connection " + std::to_string(g.index + 1) + "/" + std::to_string(n) + ": ";
  }
  int Partner(int slot) const {
    int n = static_cast<int>(groups_.size());
    return slot < n ? slot + n : slot - n;
  }
  void Send(int slot, std::string line);
  bool OnLine(int slot, const IrcMessage& msg);
  void OnNotice(int slot, const IrcMessage& msg);
  void OnTokenChanged();
  void OnJoin(Group& g, const IrcMessage& msg);
  bool OnReconnectRequest(int slot);
  void RetireOthers(Group& g);
  void WriteGap(const std::string& login, int64_t from, int64_t to);
  void PaceJoins();
  bool PaceJoins(Group& g, int64_t now);
  void CheckJoins();
  void OnPingTimer(Group& g);
  void ScheduleReconnect(Group& g);
  void Reconnect(Group& g);
  bool LoadState();
  bool Plan(const std::vector<std::string>& wanted, const char* what, size_t* added, size_t* left);
  bool WatchReloadSignal();
  void SaveState();
  std::vector<std::string> Wanted(const std::vector<std::string>& listed) const;
  Channel* FindChannel(Group& g, std::string_view param);
  bool Current(int slot) { return slot == GroupOf(slot).current && !conns_[slot].retiring; }

  IrcClientOptions opts_;
  std::string url_;  // for diagnostics: no query
  IrcEventWriter writer_;
  IrcMessage msg_;
  std::string line_;
  std::string nick_, token_;
  IrcShardPlan plan_;
  std::vector<Group> groups_;  // sized once: alarms point into it
  std::vector<Conn> conns_;    // by slot
  // Per user, so shared by every connection; Twitch counts when a JOIN (or login) arrives,
  // which can be later than when it was queued here: the window is kept a margin longer.
  JoinRateLimit join_limit_{kJoinBurst, kJoinWindowMs + kRateMarginMs};
  JoinRateLimit login_limit_{kJoinBurst, kJoinWindowMs + kRateMarginMs};  // §2.3: 20 per 10 s
  LoopAlarm join_timer_, join_check_timer_, state_timer_;
  size_t line_no_ = 0;
  int64_t rx_ms_ = 0;  // when the message at hand came
  StdoutProgress progress_;
  std::unique_ptr<HttpClient> loop_http_;  // the token provider's requests on the loop
  bool login_retried_ = false;        // a refused login asked for a refresh; the next refusal ends
  bool awaiting_token_ = false;       // no new connection until the refreshed token is there
  struct lws* reload_wsi_ = nullptr;  // the signalfd of SIGHUP in the loop
  IrcState state_;                    // as last written to --state-file
  std::string state_err_;             // the last failure to write it, reported once
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
  std::vector<std::string> listed;
  if (!opts_.channels_file.empty()) {
    if (!ReadChannelsFile(opts_.channels_file, &listed, &err)) {
      LogError("--channels-file: %s", err.c_str());
      return kExitUsage;
    }
    // From now on SIGHUP waits in the loop's signalfd (WatchReloadSignal) instead of ending us.
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    sigprocmask(SIG_BLOCK, &hup, nullptr);
  }
  std::vector<std::string> wanted = Wanted(listed);
  if (wanted.empty()) {
    LogError("no channel to join");
    return kExitUsage;
  }
  size_t added = 0, left = 0;
  if (!Plan(wanted, "", &added, &left)) return kExitUsage;
  if (plan_.connections() > 1) {
    LogInfo("%zu channels: %zu connections of at most %zu channels", wanted.size(),
            plan_.connections(), plan_.per_connection());
  }
  if (!token_.empty() && wanted.size() > kIrcChannelsPerConnection) {
    LogWarning(
        "%zu channels: Twitch keeps a user in at most %zu channels at once where it is "
        "neither broadcaster nor moderator",
        wanted.size(), kIrcChannelsPerConnection);
  }
  if (!LoadState()) return kExitFailure;
  url_ = c.display_url = DisplayUrl(opts_.url);
  c.tls = opts_.tls;
  c.max_message = kMaxIrcMessage;
  c.max_output = opts_.max_buffer;
  c.slots = static_cast<int>(conns_.size());
  WsClient ws(c, this);  // it opens slot 0 (connection 0, which has channels) itself
  conns_[0].live = true;
  groups_[0].current = 0;
  login_limit_.Sent(MonotonicMs());
  writer_.QueueTo(&ws.output());
  struct TimersCancelled {  // before the context goes
    IrcClient* self;
    ~TimersCancelled() {
      self->join_timer_.Cancel();
      self->join_check_timer_.Cancel();
      self->state_timer_.Cancel();
      for (Group& g : self->groups_) {
        g.reconnect.Cancel();
        g.ping.Cancel();
      }
    }
  } cancel{this};
  int status = ws.Run();
  SaveState();
  return status;
}

std::vector<std::string> IrcClient::Wanted(const std::vector<std::string>& listed) const {
  std::vector<std::string> wanted;
  for (const std::string& c : opts_.channels) wanted.push_back(NormalizeChannel(c));
  wanted.insert(wanted.end(), listed.begin(), listed.end());
  std::vector<std::string> once;
  for (const std::string& login : wanted) {
    if (std::find(once.begin(), once.end(), login) == once.end()) once.push_back(login);
  }
  return once;
}

// Makes |wanted| the channel set (IrcShardPlan: no channel moves): a channel no longer wanted
// is parted on its connection's current one, a new one waits for its JOIN. False when they do
// not fit; nothing changed then.
bool IrcClient::Plan(const std::vector<std::string>& wanted, const char* what, size_t* added,
                     size_t* left) {
  std::string err;
  if (!plan_.Assign(wanted, &err)) {
    err += " (--channels-per-connection " + std::to_string(plan_.per_connection()) +
           ", --max-connections " + std::to_string(plan_.max_connections()) + ")";
    if (*what) {  // SIGHUP: the channels stay as they were
      LogWarning("%s%s", what, err.c_str());
    } else {  // at start: a usage error
      LogError("%s", err.c_str());
    }
    return false;
  }
  for (Group& g : groups_) {
    bool can_send = client && client->open(g.current) && conns_[g.current].logged_in &&
                    !conns_[g.current].retiring;
    for (auto it = g.channels.begin(); it != g.channels.end();) {
      if (plan_.ConnectionOf(it->login) == g.index) {
        ++it;
        continue;
      }
      bool joined = it->state == ChannelState::kJoined || it->state == ChannelState::kJoinSent;
      if (can_send && joined) Send(g.current, "PART #" + it->login);
      LogInfo("#%s: left: no longer in --channels-file", it->login.c_str());
      it = g.channels.erase(it);
      ++*left;
    }
  }
  for (const std::string& login : wanted) {
    Group& g = groups_[static_cast<size_t>(plan_.ConnectionOf(login))];
    bool there = std::any_of(g.channels.begin(), g.channels.end(),
                             [&](const Channel& ch) { return ch.login == login; });
    if (there) continue;
    g.channels.push_back(Channel{login});
    ++*added;
  }
  return true;
}

// Channels of the state file that are joined again get a gap from its time; channels no longer
// asked for are dropped. The file is written at once, so that an unwritable one fails now.
bool IrcClient::LoadState() {
  if (opts_.state_file.empty()) return true;
  std::string err;
  IrcState loaded;
  if (!LoadIrcState(opts_.state_file, &loaded, &err)) {
    LogError("--state-file: %s (remove it to start afresh)", err.c_str());
    return false;
  }
  for (Group& g : groups_) {
    for (Channel& ch : g.channels) {
      auto it = loaded.find(ch.login);
      if (it == loaded.end()) continue;
      ch.gap_from = it->second;
      state_[ch.login] = it->second;
      LogInfo("%s#%s: events since %s may be missing: a gap follows", Tag(g).c_str(),
              ch.login.c_str(), FormatRfc3339Millis(it->second).c_str());
    }
  }
  if (!SaveIrcState(opts_.state_file, state_, &err)) {
    LogError("--state-file: %s", err.c_str());
    return false;
  }
  return true;
}

// Per channel: the start of its gap while it has one; once joined and its gap is on stdout, the
// time up to which stdout has everything received; else what was written last.
void IrcClient::SaveState() {
  if (opts_.state_file.empty() || !client) return;
  int64_t upto = progress_.WrittenUpTo(writer_.written() - client->output().records());
  IrcState next;
  for (const Group& g : groups_) {
    for (const Channel& ch : g.channels) {
      auto old = state_.find(ch.login);
      if (ch.state == ChannelState::kRefused) continue;
      if (ch.gap_from != 0) {
        next[ch.login] = ch.gap_from;
      } else if (ch.state == ChannelState::kJoined && upto >= ch.joined_at) {
        next[ch.login] = upto;
      } else if (old != state_.end()) {
        next[ch.login] = old->second;
      }
    }
  }
  if (next == state_) return;
  std::string err;
  if (!SaveIrcState(opts_.state_file, next, &err)) {
    if (err != state_err_) LogWarning("--state-file: %s", err.c_str());
    state_err_ = err;
    return;
  }
  state_err_.clear();
  state_ = std::move(next);
}

// SIGHUP as a raw file of our own vhost: read on the loop, like every other input.
bool IrcClient::WatchReloadSignal() {
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = kReloadProtocols;
  info.vhost_name = kReloadProtocol;
  struct lws_vhost* vhost = lws_create_vhost(client->context(), &info);
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  int fd = vhost ? signalfd(-1, &hup, SFD_NONBLOCK | SFD_CLOEXEC) : -1;
  if (fd < 0) return false;
  lws_sock_file_fd_type u;
  u.filefd = fd;
  reload_wsi_ =
      lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, u, kReloadProtocol, nullptr);
  if (!reload_wsi_) {
    close(fd);
    return false;
  }
  lws_set_opaque_user_data(reload_wsi_, this);
  return true;
}

void IrcClient::ReloadChannels() {
  std::vector<std::string> listed;
  std::string err;
  if (!ReadChannelsFile(opts_.channels_file, &listed, &err)) {
    LogWarning("SIGHUP: --channels-file: %s: the channels stay as they were", err.c_str());
    return;
  }
  size_t added = 0, left = 0;
  if (!Plan(Wanted(listed), "SIGHUP: --channels-file: the channels stay as they were: ", &added,
            &left)) {
    return;
  }
  size_t total = 0;
  for (Group& g : groups_) {
    total += g.channels.size();
    if (g.channels.empty()) {  // its last channels went: so does its connection
      g.reconnect.Cancel();
      g.ping.Cancel();
      for (int s : {g.index, Partner(g.index)}) {
        if (conns_[s].live) client->Close(s);
      }
      g.current = -1;
    } else if (!conns_[g.index].live && !conns_[Partner(g.index)].live && !g.reconnect.pending() &&
               !g.awaiting_token) {
      Reconnect(g);  // new channels for a connection number that had none
    } else {
      RetireOthers(g);
    }
  }
  LogInfo("--channels-file read again: %zu to join, %zu left, %zu channels on %zu connections",
          added, left, total, plan_.connections());
  PaceJoins();
}

int ReloadCallback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in,
                   size_t len) noexcept {
  return GuardCallback([&]() -> int {
    auto* self = static_cast<IrcClient*>(lws_get_opaque_user_data(wsi));
    if (!self || reason != LWS_CALLBACK_RAW_RX_FILE) {
      return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
    struct signalfd_siginfo si;
    while (read(lws_get_socket_fd(wsi), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    }
    self->ReloadChannels();
    return 0;
  });
}

// The token provider (if any) checks the token on the loop from now on, SIGHUP reloads
// --channels-file, and the connections beyond the first are opened.
void IrcClient::OnLoopStarted() {
  if (!opts_.channels_file.empty() && !WatchReloadSignal()) {
    LogError("SIGHUP: cannot watch for it in the loop: %s", strerror(errno));
    client->Stop(kExitFailure);
    return;
  }
  for (size_t i = 1; i < groups_.size(); ++i) {
    if (!groups_[i].channels.empty()) Reconnect(groups_[i]);
  }
  if (!opts_.tokens) return;
  loop_http_ = std::make_unique<HttpClient>(TwitchHttpOptions(opts_.tls));
  std::string err;
  if (!loop_http_->Attach(client->context(), &err)) {
    LogError("token: %s", err.c_str());
    client->Stop(kExitFailure);
    return;
  }
  opts_.tokens->Watch(
      client->context(), loop_http_.get(), [this] { OnTokenChanged(); },
      [this](AuthFailure f, const std::string& why) {
        LogError("%s", why.c_str());
        client->Drain(AuthExitStatus(f));
      });
}

void IrcClient::OnLoopEnding() {
  loop_http_.reset();
  if (reload_wsi_) lws_set_opaque_user_data(reload_wsi_, nullptr);
}

// A refreshed token: the connections that come from now on log in with it.
void IrcClient::OnTokenChanged() {
  token_ = WithoutOauthPrefix(opts_.tokens->access_token());
  LogInfo("the next connections log in with the refreshed token");
  if (!awaiting_token_) return;
  awaiting_token_ = false;
  for (Group& g : groups_) {
    if (!g.awaiting_token) continue;
    g.awaiting_token = false;
    Reconnect(g);
  }
}

void IrcClient::Send(int slot, std::string line) {
  LogDebug("> %s", Masked(line).c_str());
  client->Send(slot, std::move(line));
}

// Opens a free slot of |g| as its current connection, within Twitch's login rate (§2.3).
void IrcClient::Reconnect(Group& g) {
  if (g.channels.empty() || client->ending()) return;
  int64_t wait = login_limit_.WaitMs(MonotonicMs());
  if (wait > 0) {
    LogDebug("login rate limit: next connection in %lld ms", static_cast<long long>(wait));
    g.reconnect.After(client->context(), wait);
    return;
  }
  for (int s : {g.index, Partner(g.index)}) {
    if (conns_[s].live) continue;
    login_limit_.Sent(MonotonicMs());
    g.current = s;
    conns_[s].live = true;  // before Open(): a connection that fails at once is closed in it
    if (!client->Open(s)) conns_[s].live = false;
    return;
  }
  LogDebug("connection %d: both slots are still in use", g.index);
}

void IrcClient::ScheduleReconnect(Group& g) {
  if (g.reconnect.pending() || client->ending()) return;
  int delay = g.backoff.NextDelayMs();
  LogWarning("%sreconnecting in %d ms (attempt %d)", Tag(g).c_str(), delay, g.backoff.failures());
  g.reconnect.After(client->context(), delay);
}

void IrcClient::OnOpened(int slot) {
  Conn& c = conns_[slot];
  c = Conn();
  c.live = true;
  c.last_rx = NowMillis();
  if (!opts_.state_file.empty() && !state_timer_.pending()) {
    state_timer_.After(client->context(), kStateSaveMs);
  }
  // Capabilities first, then PASS before NICK (twitch-protocols.md §2.2).
  Send(slot, "CAP REQ :twitch.tv/tags twitch.tv/commands");
  if (!token_.empty()) Send(slot, "PASS oauth:" + token_);
  Send(slot, "NICK " + nick_);
}

void IrcClient::OnMessage(int slot, std::string_view text) {
  Conn& c = conns_[slot];
  c.last_rx = rx_ms_ = NowMillis();
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
  progress_.Received(rx_ms_, writer_.written());
  client->FlushOutput();
}

// The protocol side of a line (its events were queued already). False closes the connection.
bool IrcClient::OnLine(int slot, const IrcMessage& msg) {
  std::string_view cmd = msg.command;
  Conn& c = conns_[slot];
  Group& g = GroupOf(slot);
  if (cmd == "PING") {
    Send(slot, "PONG :" + std::string(msg.params.empty() ? "tmi.twitch.tv" : msg.params.back()));
    return true;
  }
  if (!Current(slot)) return true;  // a retiring connection only delivers events
  if (cmd == "PONG") {
    c.pong_wanted = false;
    client->Unwatch(slot);
  } else if (cmd == "RECONNECT") {
    return OnReconnectRequest(slot);
  } else if ((cmd == "376" || cmd == "GLOBALUSERSTATE") && !c.logged_in) {
    c.logged_in = true;
    login_retried_ = false;
    g.backoff.Reset();  // a session that logs in counts as stable
    LogInfo("%slogged in as %s", Tag(g).c_str(), nick_.c_str());
    PaceJoins();
    g.ping.After(client->context(), opts_.ping_interval_s * 1000);
  } else if (cmd == "NOTICE") {
    OnNotice(slot, msg);
  } else if (cmd == "JOIN") {
    OnJoin(g, msg);
  } else if (cmd == "CAP" && msg.Param(1) == "NAK") {
    LogWarning("capabilities refused: %.*s", static_cast<int>(msg.Param(2).size()),
               msg.Param(2).data());
  }
  return true;
}

// Make before break: a successor logs in and joins while this one goes on delivering (once the
// connection before this one has gone, if it is still closing). More than kHandoverBurst within
// kHandoverWindowMs are followed after a backoff delay.
bool IrcClient::OnReconnectRequest(int slot) {
  Group& g = GroupOf(slot);
  LogInfo("%s%s: the server asked to reconnect", Tag(g).c_str(), url_.c_str());
  conns_[slot].retiring = true;
  conns_[slot].pong_wanted = false;
  client->Unwatch(slot);
  g.ping.Cancel();
  // The channel states described this connection; from now on they describe its successor.
  for (Channel& ch : g.channels) {
    if (ch.state != ChannelState::kRefused) ch.state = ChannelState::kPending;
  }
  int64_t now = MonotonicMs();
  while (!g.handovers.empty() && now - g.handovers.front() >= kHandoverWindowMs) {
    g.handovers.pop_front();
  }
  g.handovers.push_back(now);
  if (static_cast<int>(g.handovers.size()) > kHandoverBurst) {
    int delay = g.storm_backoff.NextDelayMs();
    LogWarning("%s%zu reconnect requests within %d s: following this one in %d ms", Tag(g).c_str(),
               g.handovers.size(), kHandoverWindowMs / 1000, delay);
    g.reconnect.After(client->context(), delay);
  } else {
    g.storm_backoff.Reset();
    Reconnect(g);
  }
  return true;
}

IrcClient::Channel* IrcClient::FindChannel(Group& g, std::string_view param) {
  std::string login = NormalizeChannel(std::string(param));
  for (Channel& c : g.channels) {
    if (c.login == login) return &c;
  }
  return nullptr;
}

void IrcClient::OnNotice(int slot, const IrcMessage& msg) {
  std::string_view target = msg.Param(0);
  std::string text(msg.params.size() >= 2 ? msg.params.back() : std::string_view());
  std::string msg_id = msg.Tag("msg-id");
  if (target == "*" && IsLoginFailure(text)) {
    if (opts_.tokens && opts_.tokens->source() == TokenProvider::Source::kStore &&
        !login_retried_) {
      LogWarning("login as %s: %s: refreshing the token once", nick_.c_str(), text.c_str());
      login_retried_ = awaiting_token_ = true;
      opts_.tokens->OnUnauthorized();
      client->Close(slot);
      return;
    }
    LogError("login as %s: %s (check the token and --nick)", nick_.c_str(), text.c_str());
    client->Drain(kExitCredentials);
    return;
  }
  Group& g = GroupOf(slot);
  Channel* ch = FindChannel(g, target);
  if (ch && ch->state != ChannelState::kJoined && IsJoinRefusal(msg_id)) {
    ch->state = ChannelState::kRefused;
    LogError("#%s: refused: %s (%s)", ch->login.c_str(), text.c_str(), msg_id.c_str());
    bool any_left = std::any_of(groups_.begin(), groups_.end(), [](const Group& x) {
      return std::any_of(x.channels.begin(), x.channels.end(),
                         [](const Channel& c) { return c.state != ChannelState::kRefused; });
    });
    if (!any_left) {
      LogError("every channel was refused");
      client->Drain(kExitFailure);
      return;
    }
    RetireOthers(g);
    return;
  }
  LogInfo("notice %.*s: %s%s%s", static_cast<int>(target.size()), target.data(), text.c_str(),
          msg_id.empty() ? "" : " ", msg_id.c_str());
}

void IrcClient::OnJoin(Group& g, const IrcMessage& msg) {
  std::string_view source = msg.source.substr(0, msg.source.find('!'));
  if (source != nick_) return;  // someone else's JOIN (membership)
  Channel* ch = FindChannel(g, msg.Param(0));
  if (!ch || ch->state == ChannelState::kJoined) return;
  ch->state = ChannelState::kJoined;
  ch->joined_at = rx_ms_;
  LogInfo("joined #%s", ch->login.c_str());
  if (ch->gap_from != 0) {
    WriteGap(ch->login, ch->gap_from, NowMillis());
    ch->gap_from = 0;
  }
  RetireOthers(g);
}

// Once the current connection of |g| has joined every channel, a retiring one has done its job.
void IrcClient::RetireOthers(Group& g) {
  bool all_joined = std::all_of(g.channels.begin(), g.channels.end(), [](const Channel& ch) {
    return ch.state == ChannelState::kJoined || ch.state == ChannelState::kRefused;
  });
  if (!all_joined || g.current < 0) return;
  int old = Partner(g.current);
  if (client->open(old) && conns_[old].retiring) {
    LogInfo("%severy channel joined again: closing the old connection", Tag(g).c_str());
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

// Sends the JOINs that the rate limit allows now, connection by connection, and re-arms itself
// for the rest. The limit is Twitch's per user, so every connection draws on the same one.
void IrcClient::PaceJoins() {
  int64_t now = MonotonicMs();
  for (Group& g : groups_) {
    if (!PaceJoins(g, now)) return;
  }
}

// False when the rate limit stopped the JOINs (the timer is armed).
bool IrcClient::PaceJoins(Group& g, int64_t now) {
  int slot = g.current;
  if (slot < 0 || !client->open(slot) || !conns_[slot].logged_in || conns_[slot].retiring) {
    return true;
  }
  for (Channel& c : g.channels) {
    if (c.state != ChannelState::kPending) continue;
    int64_t wait = join_limit_.WaitMs(now);
    if (wait > 0) {
      LogDebug("join rate limit: next JOIN in %lld ms", static_cast<long long>(wait));
      join_timer_.After(client->context(), wait);
      return false;
    }
    join_limit_.Sent(now);
    c.state = ChannelState::kJoinSent;
    c.join_sent = now;
    join_check_timer_.After(client->context(), kJoinAnswerMs);
    Send(slot, "JOIN #" + c.login);
  }
  return true;
}

// Twitch does not answer a JOIN to a channel that does not exist: say so rather than wait mutely.
void IrcClient::CheckJoins() {
  int64_t now = MonotonicMs();
  for (const Group& g : groups_) {
    for (const Channel& c : g.channels) {
      if (c.state == ChannelState::kJoinSent && now - c.join_sent >= kJoinAnswerMs) {
        LogWarning("#%s: no answer to JOIN after %d s (does the channel exist?)", c.login.c_str(),
                   kJoinAnswerMs / 1000);
      }
    }
  }
}

void IrcClient::OnPingTimer(Group& g) {
  int slot = g.current;
  if (slot < 0 || !client->open(slot) || !conns_[slot].logged_in || conns_[slot].retiring) return;
  g.ping.After(client->context(), opts_.ping_interval_s * 1000);
  // While reading is paused its PONG could not be read: ask again once reading resumes.
  if (client->reading_paused() || conns_[slot].pong_wanted) return;
  conns_[slot].pong_wanted = true;
  Send(slot, "PING :tmi.twitch.tv");
  client->Watch(slot, opts_.pong_timeout_s * 1000,
                "no PONG within " + std::to_string(opts_.pong_timeout_s) + " s");
}

void IrcClient::OnWatchdog(int slot) {
  LogWarning("%s%s: no PONG within %d s: the connection is dead", LogPrefix(slot).c_str(),
             url_.c_str(), opts_.pong_timeout_s);
}

// The channel states of a group always describe its current connection. A retiring connection
// (RECONNECT) still delivers every channel of its group until it closes, so gaps start only when
// no connection covers a channel any more. Each group reconnects on its own (Reconnect()); the
// others are not touched.
bool IrcClient::OnClosed(int slot, const WsCloseInfo& info) {
  Conn c = std::move(conns_[slot]);
  conns_[slot] = Conn();
  if (client->ending()) return false;
  Group& g = GroupOf(slot);
  if (g.channels.empty()) return false;  // its channels went (SIGHUP)
  const char* why = info.error.empty() ? "closed" : info.error.c_str();
  if (slot != g.current) {
    // An old connection went. When RECONNECT came on the current one before this one had gone,
    // the current one still delivers and its successor can open now; otherwise what the current
    // one has not joined yet is uncovered from now on.
    bool follow = g.current >= 0 && conns_[g.current].live && conns_[g.current].retiring;
    for (Channel& ch : g.channels) {
      if (!follow && ch.state != ChannelState::kJoined && ch.state != ChannelState::kRefused &&
          ch.gap_from == 0) {
        ch.gap_from = c.last_rx;
      }
    }
    LogDebug("the old connection is closed (%s)", why);
    // No current connection left (it went first, or the channels came back on SIGHUP): connect.
    bool gone = g.current < 0 || !conns_[g.current].live;
    if ((follow || gone) && !g.reconnect.pending()) Reconnect(g);
    return false;
  }
  g.ping.Cancel();
  int other = Partner(slot);
  bool covered = client->open(other) && conns_[other].retiring;  // it still delivers
  for (Channel& ch : g.channels) {
    if (ch.state == ChannelState::kRefused) continue;
    bool was_delivered = ch.state == ChannelState::kJoined || c.retiring;
    if (!covered && was_delivered && ch.gap_from == 0) ch.gap_from = c.last_rx;
    ch.state = ChannelState::kPending;
  }
  if (awaiting_token_) {  // OnTokenChanged() connects again
    g.awaiting_token = true;
    return false;
  }
  if (c.retiring) {
    // RECONNECT came and the server closed before the successor started: it is on its way.
    LogInfo("%s%s: closed after RECONNECT (%s)", Tag(g).c_str(), url_.c_str(), why);
    if (!g.reconnect.pending()) Reconnect(g);
    return false;
  }
  LogWarning("%s%s: connection %s: %s", Tag(g).c_str(), url_.c_str(),
             c.logged_in ? "lost" : "failed", why);
  ScheduleReconnect(g);
  return false;
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

int UseIrcToken(IrcClientOptions* opts, TokenProvider* tokens) {
  IrcClientOptions& c = *opts;
  std::string err;
  if (!tokens->Resolve(false, &err)) {
    LogError("token: %s", err.c_str());
    return kExitUsage;
  }
  if (tokens->source() == TokenProvider::Source::kNone) return kExitOk;
  if (tokens->source() == TokenProvider::Source::kBare) {
    if (c.nick.empty()) {
      LogError(
          "--nick: required with a bare token (TWITCH_TOKEN or --token-file): the token "
          "owner's login (or store the token: twitch-auth login, then --login)");
      return kExitUsage;
    }
    c.token = tokens->access_token();
    return kExitOk;
  }
  AuthFailure f = tokens->Start(TokenProvider::kRefreshWithinS, true, &err);
  if (f != AuthFailure::kNone) {
    LogError("%s", err.c_str());
    return AuthExitStatus(f);
  }
  if (tokens->login().empty()) {
    LogError("%s: an app token cannot log in to chat: give a user's", tokens->Describe().c_str());
    return kExitCredentials;
  }
  if (!c.nick.empty() && NormalizeChannel(c.nick) != tokens->login()) {
    LogError("--nick %s: the token is %s's", c.nick.c_str(), tokens->login().c_str());
    return kExitUsage;
  }
  c.nick = tokens->login();
  c.token = tokens->access_token();
  c.tokens = tokens;
  return kExitOk;
}
