// The PubSub side of a WsClient (ws/ws_client.h), which owns the connections, the outbox,
// reassembly and the bounded stdout. Here: topic groups and their connections, LISTEN and the
// RESPONSEs matched by nonce, PING/PONG (the PONG deadline is the connection's watchdog, which
// does not run while reading is paused for stdout), RECONNECT as a successor in the group's
// second slot, each group's reconnect backoff, "gap" events, and the offline reader (--input).
#include "twitch/pubsub_client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <unordered_set>

#include "amqp/stop_pipe.h"
#include "core/event.h"
#include "core/exit_status.h"
#include "core/line_reader.h"
#include "core/log.h"
#include "core/output.h"
#include "core/signals.h"
#include "core/time.h"
#include "http/client.h"
#include "twitch/pubsub_protocol.h"
#include "twitch/token_provider.h"
#include "ws/ws_client.h"

namespace {

// The longest frame taken, and the longest line of a capture.
constexpr size_t kMaxPubSubFrame = 1u << 20;

// Twitch's advice: no more connections than this from one IP address.
constexpr size_t kMaxConnectionsAdvised = 10;

// Messages remembered (by digest) to write one once when two connections of a group deliver it.
constexpr size_t kRecentIds = 1024;

// The channel id of "channel-bits-events-v2.777000222": what follows the last dot.
std::string ChannelOf(const std::string& topic) {
  size_t dot = topic.rfind('.');
  return dot == std::string::npos ? std::string() : topic.substr(dot + 1);
}

std::string Joined(const std::vector<std::string>& topics) {
  std::string s;
  for (const std::string& t : topics) s += (s.empty() ? "" : ", ") + t;
  return s;
}

// The last kRecentIds message digests, to skip a message a second connection delivers again.
class RecentIds {
 public:
  bool SeenBefore(const std::string& id) {
    if (id.empty()) return false;
    if (!set_.insert(id).second) return true;
    order_.push_back(id);
    if (order_.size() > kRecentIds) {
      set_.erase(order_.front());
      order_.pop_front();
    }
    return false;
  }

 private:
  std::deque<std::string> order_;
  std::unordered_set<std::string> set_;
};

class PubSubClient : public WsClientListener {
 public:
  PubSubClient(const PubSubClientOptions& o, TokenProvider* tokens)
      : opts_(o), tokens_(tokens), mapper_(o.map), rng_(std::random_device{}()) {}

  int Run();

  void OnOpened(int slot) override;
  void OnMessage(int slot, std::string_view text) override;
  bool OnClosed(int slot, const WsCloseInfo& info) override;
  void OnWatchdog(int slot) override;
  void OnLoopEnding() override;

 private:
  // What belongs to one connection (a WsClient slot) alone.
  struct Conn {
    PubSubPendingRequests pending;
    bool live = false;       // connecting or open (from Open() to OnClosed())
    bool listening = false;  // a LISTEN was answered without error
    bool retiring = false;   // RECONNECT came: its successor takes over once it listens
    bool pong_wanted = false;
    int64_t last_rx = 0;  // wall clock, ms: where a gap starts
  };
  // Up to 50 topics and the connections that listen to them: slots |index| and |index| + groups.
  struct Group {
    size_t index = 0;
    std::vector<std::string> topics;  // those not refused
    Backoff backoff;
    LoopAlarm reconnect, ping;
    int64_t gap_from = 0;      // wall ms; 0: no gap to report
    int64_t reconnect_at = 0;  // monotonic ms of the last RECONNECT
    int reconnects = 0;        // RECONNECTs in a row less than 30 s apart
  };

  Group& GroupOf(int slot) { return *groups_[static_cast<size_t>(slot) % groups_.size()]; }
  int Partner(int slot) const {
    int n = static_cast<int>(groups_.size());
    return slot < n ? slot + n : slot - n;
  }
  // The slot of |g| that is listening and not retiring, else -1.
  int Current(const Group& g) const;
  void Listen(int slot, const std::vector<std::string>& topics);
  void OnResponse(int slot, const PubSubFrame& f);
  void OnBadTopic(int slot, const PubSubRequest& req);
  void OnListening(int slot);
  void OnReconnect(int slot);
  void Emit(const PubSubFrame& f);
  void WriteGaps(Group& g, int64_t from, int64_t to);
  void ScheduleReconnect(Group& g);
  void Reconnect(Group& g);
  void SchedulePing(Group& g);
  void OnPingTimer(Group& g);
  void StartWatchingToken();
  int64_t PingDelayMs();

  PubSubClientOptions opts_;
  TokenProvider* tokens_;
  PubSubMapper mapper_;
  std::string url_;  // for diagnostics: no query
  std::vector<std::unique_ptr<Group>> groups_;
  std::vector<Conn> conns_;
  RecentIds recent_;
  std::vector<JsonPtr> events_;
  std::unique_ptr<HttpClient> loop_http_;
  std::mt19937 rng_;
  size_t malformed_ = 0;
};

int PubSubClient::Run() {
  WsClientOptions c;
  std::string err;
  if (!ParseWsUrl(opts_.url, &c.url, &err)) {
    LogError("--url: %s", err.c_str());
    return kExitUsage;
  }
  std::vector<std::vector<std::string>> split =
      SplitPubSubTopics(opts_.topics, opts_.per_connection);
  if (split.empty()) {
    LogError("no topic to listen to");
    return kExitUsage;
  }
  for (std::vector<std::string>& topics : split) {
    auto g = std::make_unique<Group>();
    g->index = groups_.size();
    g->topics = std::move(topics);
    g->backoff = Backoff(opts_.backoff);
    Group* gp = g.get();
    g->reconnect.Set([this, gp] { Reconnect(*gp); });
    g->ping.Set([this, gp] { OnPingTimer(*gp); });
    groups_.push_back(std::move(g));
  }
  if (groups_.size() > 1) {
    LogInfo("%zu topics: %zu connections of at most %zu topics", opts_.topics.size(),
            groups_.size(), opts_.per_connection);
  }
  if (groups_.size() > kMaxConnectionsAdvised) {
    LogWarning("%zu connections: Twitch advised at most %zu per IP address", groups_.size(),
               kMaxConnectionsAdvised);
  }
  conns_.resize(groups_.size() * 2);
  for (size_t i = 0; i < groups_.size(); ++i) conns_[i].live = true;  // start_connections
  url_ = c.display_url = DisplayUrl(opts_.url);
  c.tls = opts_.tls;
  c.max_message = kMaxPubSubFrame;
  c.max_output = opts_.max_buffer;
  c.backoff = opts_.backoff;
  c.slots = static_cast<int>(groups_.size() * 2);
  c.start_connections = static_cast<int>(groups_.size());
  WsClient ws(c, this);
  int status = ws.Run();
  if (malformed_ > 0) LogWarning("%zu malformed messages skipped", malformed_);
  return status;
}

void PubSubClient::OnLoopEnding() {
  loop_http_.reset();  // before the context it is attached to
  for (auto& g : groups_) {
    g->reconnect.Cancel();
    g->ping.Cancel();
  }
}

// The provider checks the token every hour on this loop (and refreshes a stored one).
void PubSubClient::StartWatchingToken() {
  if (loop_http_ || !tokens_) return;
  loop_http_ = std::make_unique<HttpClient>(TwitchHttpOptions(opts_.tls));
  std::string err;
  if (!loop_http_->Attach(client->context(), &err)) {
    LogWarning("token: %s: not checked while running", err.c_str());
    return;
  }
  tokens_->Watch(
      client->context(), loop_http_.get(),
      [] { LogInfo("token: renewed: the next LISTEN uses the new one"); },
      [this](AuthFailure f, const std::string& why) {
        LogError("token: %s", why.c_str());
        client->Drain(AuthExitStatus(f));
      });
}

int PubSubClient::Current(const Group& g) const {
  for (int s : {static_cast<int>(g.index), static_cast<int>(g.index + groups_.size())}) {
    if (client->open(s) && conns_[s].listening && !conns_[s].retiring) return s;
  }
  return -1;
}

void PubSubClient::OnOpened(int slot) {
  StartWatchingToken();
  conns_[slot] = Conn();
  conns_[slot].live = true;
  conns_[slot].last_rx = NowMillis();
  Listen(slot, GroupOf(slot).topics);
}

void PubSubClient::Listen(int slot, const std::vector<std::string>& topics) {
  std::string token = tokens_ ? tokens_->access_token() : std::string();
  PubSubRequest req = PubSubListen(NewPubSubNonce(), topics, token);
  LogDebug("> %s", req.ForLog().c_str());
  client->Send(slot, req.frame);
  conns_[slot].pending.Add(std::move(req));
  int64_t ms = opts_.pong_timeout_s * 1000;
  client->Watch(slot, ms, "no RESPONSE to LISTEN within " + std::to_string(ms / 1000) + " s");
}

void PubSubClient::OnMessage(int slot, std::string_view text) {
  Conn& c = conns_[slot];
  c.last_rx = NowMillis();
  LogDebug("< %.*s", static_cast<int>(std::min<size_t>(text.size(), 1024)), text.data());
  PubSubFrame f;
  std::string err;
  if (!ParsePubSubFrame(text, &f, &err)) {
    ++malformed_;
    LogWarning("%s: frame skipped: %s", url_.c_str(), err.c_str());
    return;
  }
  switch (f.kind) {
    case PubSubFrameType::kMessage:
      Emit(f);
      break;
    case PubSubFrameType::kResponse:
      OnResponse(slot, f);
      break;
    case PubSubFrameType::kPong:
      c.pong_wanted = false;
      client->Unwatch(slot);
      break;
    case PubSubFrameType::kReconnect:
      OnReconnect(slot);
      break;
    case PubSubFrameType::kAuthRevoked:
      LogError("the token was revoked (AUTH_REVOKED for %s)", Joined(f.topics).c_str());
      client->Drain(kExitCredentials);
      break;
    case PubSubFrameType::kUnknown:
      LogDebug("frame of type %s ignored", f.type.c_str());
      break;
  }
}

// Maps one MESSAGE and queues its events. A message that another connection of the group
// delivered already is not mapped again (nor would it count twice towards a gift bomb).
void PubSubClient::Emit(const PubSubFrame& f) {
  if (recent_.SeenBefore(PubSubDigestId(f.topic, f.message))) {
    LogDebug("%s: a message delivered twice: written once", f.topic.c_str());
    return;
  }
  events_.clear();
  std::string err;
  if (!mapper_.Map(f.topic, f.message, NowMillis(), &events_, &err)) {
    ++malformed_;
    LogWarning("%s: message skipped (%zu so far): %s", f.topic.c_str(), malformed_, err.c_str());
    return;
  }
  for (const JsonPtr& e : events_) client->output().Push(JsonDump(e.get()) + "\n");
  client->FlushOutput();
}

void PubSubClient::OnResponse(int slot, const PubSubFrame& f) {
  PubSubRequest req;
  if (!conns_[slot].pending.Take(f, &req)) {
    LogDebug("RESPONSE with nonce \"%s\" answers no request of this connection", f.nonce.c_str());
    return;
  }
  if (conns_[slot].pending.pending().empty()) client->Unwatch(slot);
  std::string topics = Joined(req.topics);
  switch (ClassifyPubSubError(f.error)) {
    case PubSubResponseOutcome::kOk:
      LogInfo("listening to %s", topics.c_str());
      OnListening(slot);
      return;
    case PubSubResponseOutcome::kBadAuth:
      LogError("LISTEN %s: ERR_BADAUTH: the token was refused or lacks the topic's scope",
               topics.c_str());
      client->Drain(kExitCredentials);
      return;
    case PubSubResponseOutcome::kBadTopic:
      OnBadTopic(slot, req);
      return;
    case PubSubResponseOutcome::kServer: {
      Group& g = GroupOf(slot);
      int delay = g.backoff.NextDelayMs();
      LogWarning("LISTEN %s: ERR_SERVER: asking again in %d ms", topics.c_str(), delay);
      // Once the delay has passed, the connection is made again and LISTENs to all its topics.
      conns_[slot].retiring = true;
      client->Close(slot);
      g.reconnect.After(client->context(), delay);
      return;
    }
    case PubSubResponseOutcome::kBadMessage:
    case PubSubResponseOutcome::kUnknown:
      LogError("LISTEN %s: %s: the server refused the request", topics.c_str(), f.error.c_str());
      client->Drain(kExitFailure);
      return;
  }
}

// Twitch does not say which topic of a LISTEN it refused: a LISTEN of one names it, a LISTEN of
// several is asked again topic by topic.
void PubSubClient::OnBadTopic(int slot, const PubSubRequest& req) {
  Group& g = GroupOf(slot);
  if (req.topics.size() > 1) {
    LogWarning("LISTEN of %zu topics: ERR_BADTOPIC: asking for each alone to find which",
               req.topics.size());
    for (const std::string& t : req.topics) Listen(slot, {t});
    return;
  }
  const std::string& topic = req.topics.empty() ? std::string() : req.topics[0];
  LogError("topic %s: ERR_BADTOPIC: no such topic (or not for this token): not listened to",
           topic.c_str());
  g.topics.erase(std::remove(g.topics.begin(), g.topics.end(), topic), g.topics.end());
  bool any = std::any_of(groups_.begin(), groups_.end(),
                         [](const std::unique_ptr<Group>& x) { return !x->topics.empty(); });
  if (!any) {
    LogError("every topic was refused");
    client->Drain(kExitFailure);
  }
}

void PubSubClient::OnListening(int slot) {
  Conn& c = conns_[slot];
  Group& g = GroupOf(slot);
  bool first = !c.listening;
  c.listening = true;
  if (!first) return;
  g.backoff.Reset();
  if (g.gap_from != 0) {
    WriteGaps(g, g.gap_from, NowMillis());
    g.gap_from = 0;
  }
  int old = Partner(slot);
  if (client->open(old) && conns_[old].retiring) {
    LogInfo("listening again: closing the old connection");
    client->Close(old);
  }
  SchedulePing(g);
}

void PubSubClient::OnReconnect(int slot) {
  Conn& c = conns_[slot];
  if (c.retiring) return;
  Group& g = GroupOf(slot);
  LogInfo("%s: the server asked to reconnect", url_.c_str());
  c.retiring = true;
  c.pong_wanted = false;
  client->Unwatch(slot);
  g.ping.Cancel();
  // A storm of RECONNECTs is followed with backoff, but never later than Twitch's 30 s.
  int64_t now = MonotonicMs();
  g.reconnects = now - g.reconnect_at < kPubSubReconnectDeadlineMs ? g.reconnects + 1 : 0;
  g.reconnect_at = now;
  int64_t delay = 0;
  if (g.reconnects >= 3) {
    delay = std::min<int64_t>(g.backoff.NextDelayMs(), kPubSubReconnectDeadlineMs);
    LogWarning("%d reconnect requests in a row: following this one in %lld ms", g.reconnects,
               static_cast<long long>(delay));
  }
  g.reconnect.After(client->context(), delay);
}

void PubSubClient::WriteGaps(Group& g, int64_t from, int64_t to) {
  std::vector<std::string> channels;
  for (const std::string& t : g.topics) {
    std::string id = ChannelOf(t);
    if (std::find(channels.begin(), channels.end(), id) == channels.end()) channels.push_back(id);
  }
  for (const std::string& id : channels) {
    Identity channel;
    channel.id = id;
    client->output().Push(JsonDump(NewGapEvent("pubsub", channel, from, to).get()) + "\n");
  }
  client->FlushOutput();
}

void PubSubClient::ScheduleReconnect(Group& g) {
  if (g.reconnect.pending() || client->ending()) return;
  int delay = g.backoff.NextDelayMs();
  LogWarning("reconnecting in %d ms (attempt %d)", delay, g.backoff.failures());
  g.reconnect.After(client->context(), delay);
}

// Opens the group's free slot (both in use: one is still closing; it comes back here).
void PubSubClient::Reconnect(Group& g) {
  if (g.topics.empty()) return;
  for (int s : {static_cast<int>(g.index), Partner(static_cast<int>(g.index))}) {
    if (conns_[s].live) continue;
    conns_[s].live = true;  // before Open(): a connection that fails at once is closed in it
    if (!client->Open(s)) conns_[s].live = false;
    return;
  }
  LogDebug("group %zu: both connections are still in use", g.index);
}

int64_t PubSubClient::PingDelayMs() {
  if (opts_.ping_interval_s > 0) return opts_.ping_interval_s * 1000;
  return PubSubPingDelayMs(static_cast<uint32_t>(rng_()));
}

void PubSubClient::SchedulePing(Group& g) { g.ping.After(client->context(), PingDelayMs()); }

void PubSubClient::OnPingTimer(Group& g) {
  int slot = Current(g);
  if (slot < 0) return;
  if (!client->reading_paused() && !conns_[slot].pong_wanted) {
    conns_[slot].pong_wanted = true;
    client->Send(slot, PubSubPingFrame());
    client->Watch(slot, opts_.pong_timeout_s * 1000,
                  "no PONG within " + std::to_string(opts_.pong_timeout_s) + " s");
  }
  SchedulePing(g);
}

void PubSubClient::OnWatchdog(int slot) {
  LogWarning("%s: %s: the connection is dead", url_.c_str(),
             conns_[slot].pong_wanted ? "no PONG in time" : "no RESPONSE to LISTEN in time");
}

// A group is covered while one of its connections listens. The one that closed leaves a gap
// from the last frame it brought when no other connection of its group listens; the group is
// connected again unless a connection of it is on its way.
bool PubSubClient::OnClosed(int slot, const WsCloseInfo& info) {
  Conn c = std::move(conns_[slot]);
  conns_[slot] = Conn();
  if (client->ending()) return false;
  Group& g = GroupOf(slot);
  int other = Partner(slot);
  bool covered = client->open(other) && conns_[other].listening;
  if (c.listening && !covered && g.gap_from == 0) g.gap_from = c.last_rx;
  const char* why = info.error.empty() ? "closed" : info.error.c_str();
  if (c.retiring) {
    LogDebug("the old connection is closed (%s)", why);
  } else {
    LogWarning("%s: connection %s: %s", url_.c_str(), c.listening ? "lost" : "failed", why);
  }
  bool other_on_its_way = (conns_[other].live && !conns_[other].retiring) || g.reconnect.pending();
  if (!other_on_its_way) {
    g.ping.Cancel();
    ScheduleReconnect(g);
  }
  return false;  // each group reconnects itself (Reconnect())
}

// Waits until |fd| is readable (true) or a stop was asked for (false).
bool WaitReadable(const StopPipe& stop, int fd) {
  struct pollfd p[2] = {{fd, POLLIN, 0}, {stop.fd(), POLLIN, 0}};
  for (;;) {
    if (StopRequested()) return false;
    int n = poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    return n < 0 || p[1].revents == 0;  // a poll error: read(2) reports it
  }
}

}  // namespace

int RunPubSubClient(const PubSubClientOptions& opts, TokenProvider* tokens) {
  PubSubClient client(opts, tokens);
  return client.Run();
}

int RunPubSubInput(int fd, const std::string& name, const PubSubMapOptions& opts) {
  // No lws context here, so SIGPIPE is still fatal: make a closed stdout an EPIPE we handle.
  signal(SIGPIPE, SIG_IGN);
  StopPipe stop;
  PubSubMapper mapper(opts);
  LineReader reader(kMaxPubSubFrame);
  std::vector<JsonPtr> events;
  std::vector<char> buf(1 << 16);
  std::string line, err;
  size_t frames = 0, skipped = 0, written = 0;
  for (bool eof = false; !eof && WaitReadable(stop, fd);) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      LogError("%s: read failed: %s", name.c_str(), strerror(errno));
      return kExitFailure;
    }
    eof = n == 0;
    if (eof) reader.Finish();
    reader.Feed(std::string_view(buf.data(), static_cast<size_t>(std::max<ssize_t>(n, 0))));
    for (LineReader::Status st; (st = reader.Next(&line)) != LineReader::Status::kNone;) {
      size_t no = reader.line_number();
      if (st == LineReader::Status::kTooLong) {
        ++skipped;
        LogWarning("%s: line %zu: skipped: longer than %zu bytes", name.c_str(), no,
                   kMaxPubSubFrame);
        continue;
      }
      if (line.empty() || line[0] == '#') continue;
      ++frames;
      events.clear();
      if (!mapper.MapFrame(line, NowMillis(), &events, &err)) {
        ++skipped;
        LogWarning("%s: line %zu: skipped: %s", name.c_str(), no, err.c_str());
        continue;
      }
      for (const JsonPtr& e : events) {
        switch (WriteLine(JsonDump(e.get()), &err)) {
          case WriteResult::kOk:
            ++written;
            break;
          case WriteResult::kClosed:
            LogDebug("standard output: %s", err.c_str());
            return kExitOk;
          case WriteResult::kBlocked:
          case WriteResult::kError:
            LogError("standard output: %s", err.c_str());
            return kExitFailure;
        }
      }
    }
  }
  if (skipped > 0) LogWarning("%s: %zu of %zu frames skipped", name.c_str(), skipped, frames);
  LogDebug("%s: %zu frames, %zu records written", name.c_str(), frames, written);
  return kExitOk;
}
