// The EventSub WebSocket session (see eventsub_session.h). Connections are the WsClient's two
// slots; a fresh session (a welcome that is not a handover's) binds every wanted subscription to
// its id, and a generation number drops the Helix answers of sessions that are gone.
#include "twitch/eventsub_session.h"

#include <algorithm>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "ws/address.h"

namespace {

// Room for most events' line at once (a follow is about 300 bytes).
constexpr size_t kLineReserve = 512;

// Twitch sends the welcome at once; a connection without one is no use.
constexpr int kWelcomeWithinMs = 10000;

// Helix requests at once: enough to create 300 subscriptions well within the 10 s window.
constexpr int kMaxInFlight = 8;

std::string Name(const EventSubWanted& w) {
  return w.type + " v" + w.version + (w.channel.empty() ? "" : " of " + w.channel);
}

bool SameCondition(const std::string& a, const std::string& b) {
  std::string err;
  JsonPtr ja = JsonParse(a, &err), jb = JsonParse(b, &err);
  return ja && jb && json_equal(ja.get(), jb.get());
}

// What Twitch's close codes mean (twitch-protocols.md §3.4), as one line for the log.
void LogClose(const WsCloseInfo& info, const std::string& base_url) {
  const char* why = info.error.empty() ? "closed" : info.error.c_str();
  switch (info.close_code) {
    case 4000:
      LogWarning("Twitch closed the session: internal server error (4000): a fresh session");
      break;
    case 4001:
      LogError(
          "Twitch closed the session: it received a message from us (4001): a bug in "
          "twitch-eventsub, which never sends one");
      break;
    case 4002:
      LogWarning("Twitch closed the session: its pings went unanswered (4002): a fresh session");
      break;
    case 4003:
      LogError(
          "Twitch closed the session: no subscription within 10 s of the welcome (4003): our bug "
          "or a slow start (Helix slow to answer?): a fresh session");
      break;
    case 4004:
      LogWarning(
          "Twitch closed the old connection: the reconnect grace time expired (4004): our bug or "
          "a slow start (the new connection came too late)");
      break;
    case 4005:
      LogWarning("Twitch closed the session: network timeout (4005): a fresh session");
      break;
    case 4006:
      LogWarning("Twitch closed the session: network error (4006): a fresh session");
      break;
    case 4007:
      LogWarning("Twitch closed the session: invalid reconnect URL (4007): a fresh session at %s",
                 base_url.c_str());
      break;
    case 0:
      LogWarning("connection lost: %s", why);
      break;
    default:
      LogWarning("Twitch closed the session (%d%s%s): a fresh session", info.close_code,
                 info.close_reason.empty() ? "" : ": ", LogEscape(info.close_reason).c_str());
  }
}

}  // namespace

void EventSubApi::AttachShard(const std::string&,
                              std::function<void(EventSubApiResult, std::string)> done) {
  EventSubApiResult r;
  r.status = EventSubApiStatus::kRejected;
  r.message = "this API has no conduits";
  done(r, "");
}

EventSubClient::EventSubClient(EventSubClientOptions opts, EventSubApi* api,
                               EventSubAuthHooks hooks)
    : opts_(std::move(opts)), api_(api), hooks_(std::move(hooks)) {
  for (const EventSubWanted& w : opts_.subscriptions) {
    auto s = std::make_unique<Sub>();
    s->want = w;
    s->backoff = Backoff(opts_.backoff);
    Sub* p = s.get();
    s->retry.Set([this, p] {
      if (p->state != SubState::kWaiting) return;
      p->state = SubState::kPending;
      CreatePending();
    });
    subs_.push_back(std::move(s));
  }
  attach_backoff_ = Backoff(opts_.backoff);
  attach_retry_.Set([this] { AttachShard(); });
}

EventSubClient::~EventSubClient() { CancelTimers(); }

int EventSubClient::Run() {
  WsClientOptions c;
  std::string err;
  if (!ParseWsUrl(opts_.url, &c.url, &err)) {
    LogError("--url: %s", err.c_str());
    return kExitUsage;
  }
  if (subs_.empty() && !conduit()) {
    LogError("no subscription to make");
    return kExitUsage;
  }
  c.display_url = DisplayUrl(opts_.url);
  c.tls = opts_.tls;
  c.max_output = opts_.max_buffer;
  c.backoff = opts_.backoff;
  WsClient ws(c, this);
  int status = ws.Run();
  if (dedup_.duplicates() || dedup_.stale()) {
    LogInfo("%llu duplicate messages and %llu older than 10 minutes dropped",
            static_cast<unsigned long long>(dedup_.duplicates()),
            static_cast<unsigned long long>(dedup_.stale()));
  }
  return status;
}

void EventSubClient::CancelTimers() {
  for (auto& s : subs_) s->retry.Cancel();
  attach_retry_.Cancel();
}

void EventSubClient::OnLoopStarted() {
  if (hooks_.loop_started) hooks_.loop_started(client->context());
}

void EventSubClient::OnLoopEnding() {
  CancelTimers();
  if (hooks_.loop_ending) hooks_.loop_ending();
}

void EventSubClient::OnOpened(int slot) {
  conns_[slot] = Conn();
  client->Watch(slot, kWelcomeWithinMs, "no welcome within 10 s");
}

void EventSubClient::ArmWatchdog(int slot) {
  int s = conns_[slot].keepalive_s;
  if (s <= 0) return;
  int64_t ms = static_cast<int64_t>(s) * 1000 * (100 + opts_.keepalive_margin_percent) / 100;
  client->Watch(slot, ms,
                "nothing received for " + std::to_string(ms / 1000.0).substr(0, 4) +
                    " s (keepalive " + std::to_string(s) + " s)");
}

void EventSubClient::OnMessage(int slot, std::string_view text) {
  last_message_ms_ = NowMillis();
  EventSubMessage m;
  std::string err;
  if (!ParseEventSubMessage(text, &m, &err)) {
    LogWarning("message skipped: %s", err.c_str());
    ArmWatchdog(slot);
    return;
  }
  LogDebug("< %s %s", EventSubMessageTypeName(m.type), m.message_id.c_str());
  switch (m.type) {
    case EventSubMessageType::kWelcome:
      OnWelcome(slot, m);
      break;
    case EventSubMessageType::kKeepalive:
      break;
    case EventSubMessageType::kNotification:
      OnNotification(slot, m);
      break;
    case EventSubMessageType::kReconnect:
      OnReconnect(slot, m);
      break;
    case EventSubMessageType::kRevocation:
      OnRevocation(m);
      break;
  }
  if (!client->ending()) ArmWatchdog(slot);
  client->FlushOutput();
}

void EventSubClient::OnWelcome(int slot, const EventSubMessage& m) {
  Conn& c = conns_[slot];
  if (c.welcomed) {
    LogWarning("session %s: a second welcome on one connection: ignored", m.session.id.c_str());
    return;
  }
  c.welcomed = true;
  c.session_id = m.session.id;
  c.keepalive_s = m.session.keepalive_timeout_seconds;
  int other = 1 - slot;
  if (handover_pending_ && slot == successor_) {
    // session_reconnect done: the subscriptions moved with the session; the old socket goes.
    handover_pending_ = false;
    LogInfo("session %s: reconnected (the subscriptions moved with it): closing the old connection",
            m.session.id.c_str());
    if (client->open(other)) {
      conns_[other].retiring = true;
      client->Close(other);
    }
    session_id_ = m.session.id;
    client->ResetBackoff();
    return;
  }
  if (client->open(other)) {  // a session whose reconnect URL failed: this one replaces it
    conns_[other].retiring = true;
    client->Close(other);
  }
  handover_pending_ = false;
  session_id_ = m.session.id;
  if (conduit()) {  // the subscriptions live on the conduit: only the shard is bound again
    all_reported_ = false;
    LogInfo("session %s: welcome (keepalive %d s): attaching it as shard %d of conduit %s",
            m.session.id.c_str(), c.keepalive_s, opts_.shard, opts_.conduit_id.c_str());
    if (gap_from_ != 0) {
      WriteGap(gap_from_, NowMillis());
      gap_from_ = 0;
    }
    AttachShard();
    return;
  }
  ++generation_;
  all_reported_ = false;
  for (auto& s : subs_) {
    if (s->state == SubState::kRevoked) continue;
    s->state = SubState::kPending;
    s->id.clear();
    s->conflict_handled = false;
    s->retry.Cancel();
  }
  LogInfo("session %s: welcome (keepalive %d s): subscribing to %zu types", m.session.id.c_str(),
          c.keepalive_s, subs_.size());
  if (gap_from_ != 0) {
    WriteGap(gap_from_, NowMillis());
    gap_from_ = 0;
  }
  CreatePending();
}

void EventSubClient::OnNotification(int, const EventSubMessage& m) {
  switch (dedup_.Check(m.message_id, m.timestamp_ms, NowMillis())) {
    case EventSubDedup::Verdict::kFresh:
      break;
    case EventSubDedup::Verdict::kDuplicate:
      LogDebug("message %s: seen before: dropped", m.message_id.c_str());
      return;
    case EventSubDedup::Verdict::kStale:
      LogWarning("message %s of %s: older than 10 minutes: dropped (%llu so far)",
                 m.message_id.c_str(), m.message_timestamp.c_str(),
                 static_cast<unsigned long long>(dedup_.stale()));
      return;
  }
  EventSubDelivery d;
  d.message_id = m.message_id;
  d.message_timestamp = m.message_timestamp;
  events_.clear();
  std::string err;
  if (!MapEventSubNotification(m.payload, d, opts_.map, &events_, &err)) {
    LogWarning("message %s: skipped: %s", m.message_id.c_str(), err.c_str());
    return;
  }
  for (const JsonPtr& e : events_) {
    std::string line;
    line.reserve(kLineReserve);
    JsonAppend(e.get(), &line);
    line.push_back('\n');
    client->output().Push(std::move(line));
  }
  events_.clear();
}

void EventSubClient::OnReconnect(int slot, const EventSubMessage& m) {
  if (conns_[slot].retiring || handover_pending_) {
    LogDebug("session_reconnect on a connection being replaced: ignored");
    return;
  }
  LogInfo("session %s: Twitch asks to reconnect to %s", m.session.id.c_str(),
          DisplayUrl(m.session.reconnect_url).c_str());
  std::string err;
  if (!client->Handover(m.session.reconnect_url, &err)) {
    LogWarning("cannot follow session_reconnect: %s: a fresh session instead", err.c_str());
    client->Close(slot);
    return;
  }
  // The old socket keeps delivering until the new one's welcome.
  conns_[slot].retiring = true;
  handover_pending_ = true;
  successor_ = 1 - slot;
}

void EventSubClient::OnRevocation(const EventSubMessage& m) {
  if (dedup_.Check(m.message_id, m.timestamp_ms, NowMillis()) != EventSubDedup::Verdict::kFresh) {
    return;
  }
  Sub* s = nullptr;
  for (auto& p : subs_) {
    if (p->state != SubState::kRevoked &&
        (p->id == m.subscription_id ||
         (s == nullptr && p->want.type == m.subscription_type && p->id.empty()))) {
      s = p.get();
    }
  }
  LogWarning("%s v%s: subscription %s revoked by Twitch: %s", m.subscription_type.c_str(),
             m.subscription_version.c_str(), m.subscription_id.c_str(),
             m.subscription_status.c_str());
  if (!s) return;
  s->state = SubState::kRevoked;
  s->retry.Cancel();
  if (!AnyLeft()) {
    LogError("every subscription was revoked (the last: %s): nothing left to listen to",
             m.subscription_status.c_str());
    client->Drain(m.subscription_status == "authorization_revoked" ? kExitCredentials
                                                                   : kExitFailure);
  }
}

bool EventSubClient::AnyLeft() const {
  return std::any_of(subs_.begin(), subs_.end(),
                     [](const auto& p) { return p->state != SubState::kRevoked; });
}

void EventSubClient::AttachShard() {
  if (session_id_.empty() || client->ending()) return;
  if (awaiting_token_) {
    attach_waits_token_ = true;
    return;
  }
  uint64_t gen = ++attach_gen_;
  LogDebug("conduit %s: attaching shard %d to session %s", opts_.conduit_id.c_str(), opts_.shard,
           session_id_.c_str());
  api_->AttachShard(session_id_, [this, gen](EventSubApiResult r, std::string status) {
    if (gen != attach_gen_ || client->ending()) return;
    OnShardAnswer(r, status);
  });
}

void EventSubClient::OnShardAnswer(const EventSubApiResult& r, const std::string& status) {
  const char* cid = opts_.conduit_id.c_str();
  switch (r.status) {
    case EventSubApiStatus::kOk:
      break;
    case EventSubApiStatus::kUnauthorized:
      if (refreshed_to_epoch_ == token_epoch_ || !hooks_.unauthorized) {
        LogError("conduit %s: shard %d: Helix refused the token (%s)", cid, opts_.shard,
                 r.message.c_str());
        client->Drain(kExitCredentials);
        return;
      }
      LogInfo("conduit %s: shard %d: Helix refused the token (401): refreshing it", cid,
              opts_.shard);
      attach_waits_token_ = true;
      if (!awaiting_token_) {
        awaiting_token_ = true;
        hooks_.unauthorized();
      }
      return;
    case EventSubApiStatus::kRateLimited:
    case EventSubApiStatus::kTransient:
    case EventSubApiStatus::kConflict: {
      int64_t ms = r.retry_after_ms > 0 ? r.retry_after_ms : attach_backoff_.NextDelayMs();
      LogWarning("conduit %s: shard %d not attached: %s; trying again in %lld ms", cid, opts_.shard,
                 r.message.c_str(), static_cast<long long>(ms));
      attach_retry_.After(client->context(), ms);
      return;
    }
    case EventSubApiStatus::kForbidden:
    case EventSubApiStatus::kRejected:
      LogError("conduit %s: shard %d: Twitch will not attach it: %s", cid, opts_.shard,
               r.message.c_str());
      client->Drain(kExitFailure);
      return;
  }
  if (status != "enabled") {
    // The session died between its welcome and the attach (or Twitch says so): a fresh one.
    LogWarning("conduit %s: shard %d: Twitch reports it %s for session %s: a fresh session", cid,
               opts_.shard, status.empty() ? "without a status" : status.c_str(),
               session_id_.c_str());
    for (int slot = 0; slot < 2; ++slot) {
      if (client->open(slot) && conns_[slot].session_id == session_id_) client->Close(slot);
    }
    return;
  }
  shard_attached_ = true;
  attach_backoff_.Reset();
  refreshed_to_epoch_ = -1;
  LogInfo("conduit %s: shard %d attached to session %s", cid, opts_.shard, session_id_.c_str());
  if (!conduit_listed_) {
    api_->List([this](EventSubApiResult l, std::vector<EventSubListed> list) {
      if (client->ending() || conduit_listed_) return;
      if (l.status != EventSubApiStatus::kOk) {
        LogWarning(
            "conduit %s: listing its subscriptions failed (%s): creating them; a 409 is "
            "looked up one by one",
            opts_.conduit_id.c_str(), l.message.c_str());
        list.clear();
      }
      TakeListed(std::move(list));
    });
    return;
  }
  size_t n = std::count_if(subs_.begin(), subs_.end(),
                           [](const auto& p) { return p->state == SubState::kActive; });
  LogInfo("conduit %s: its %zu subscriptions stay: none created again", cid, n);
  ReportCoverage();
}

// The conduit's subscriptions, listed once: the wanted ones found there are ours already.
void EventSubClient::TakeListed(std::vector<EventSubListed> list) {
  conduit_listed_ = true;
  size_t found = 0;
  for (auto& s : subs_) {
    if (s->state != SubState::kPending) continue;
    for (const EventSubListed& l : list) {
      if (l.conduit_id == opts_.conduit_id && l.status == "enabled" && l.type == s->want.type &&
          SameCondition(l.condition_json, s->want.condition_json)) {
        s->state = SubState::kActive;
        s->id = l.id;
        ++found;
        LogDebug("%s: already on the conduit (%s)", Name(s->want).c_str(), l.id.c_str());
        break;
      }
    }
  }
  LogInfo("conduit %s: %zu of %zu subscriptions already on it; creating %zu",
          opts_.conduit_id.c_str(), found, subs_.size(), subs_.size() - found);
  ReportCoverage();
  CreatePending();
}

void EventSubClient::CreatePending() {
  if (awaiting_token_ || client->ending()) return;
  if (conduit() ? !conduit_listed_ : session_id_.empty()) return;
  int busy = static_cast<int>(std::count_if(
      subs_.begin(), subs_.end(), [](const auto& p) { return p->state == SubState::kCreating; }));
  for (auto& s : subs_) {
    if (busy >= kMaxInFlight) return;
    if (s->state == SubState::kPending) {
      Create(s.get());
      ++busy;
    }
  }
}

void EventSubClient::Create(Sub* s) {
  s->state = SubState::kCreating;
  uint64_t gen = generation_;
  int epoch = token_epoch_;
  LogDebug("%s: subscribing", Name(s->want).c_str());
  api_->Create(s->want, session_id_, [this, s, gen, epoch](EventSubApiResult r) {
    OnCreated(s, gen, epoch, std::move(r));
  });
}

void EventSubClient::OnCreated(Sub* s, uint64_t gen, int epoch, EventSubApiResult r) {
  if (gen != generation_ || client->ending() || s->state != SubState::kCreating) return;
  Answered(s, epoch, r);
  if (gen == generation_) CreatePending();  // the next ones, within kMaxInFlight
}

void EventSubClient::Answered(Sub* s, int epoch, const EventSubApiResult& r) {
  uint64_t gen = generation_;
  const std::string name = Name(s->want);
  switch (r.status) {
    case EventSubApiStatus::kOk: {
      bool again = s->backoff.failures() > 0;
      s->state = SubState::kActive;
      s->id = r.id;
      s->backoff.Reset();
      refreshed_to_epoch_ = -1;
      LogInfo("%s: subscribed%s (%s)", name.c_str(), again ? " again" : "", s->id.c_str());
      ReportCoverage();
      return;
    }
    case EventSubApiStatus::kUnauthorized:
      s->state = SubState::kPending;
      if (awaiting_token_) return;  // a refresh is under way: created again after it
      if (epoch < token_epoch_) {   // asked with a token replaced since
        CreatePending();
        return;
      }
      if (refreshed_to_epoch_ == token_epoch_ || !hooks_.unauthorized) {
        LogError("%s: Helix refused the token (%s)%s", name.c_str(), r.message.c_str(),
                 hooks_.unauthorized ? " again after a refresh" : "");
        client->Drain(kExitCredentials);
        return;
      }
      LogInfo("%s: Helix refused the token (401): refreshing it", name.c_str());
      awaiting_token_ = true;
      hooks_.unauthorized();
      return;
    case EventSubApiStatus::kForbidden:
      if (conduit()) {  // one channel's broadcaster did not authorize: the others go on
        LogError("%s: refused (%s): dropped; the broadcaster must authorize the client id with %s",
                 name.c_str(), r.message.c_str(),
                 s->want.scope.empty() ? "the scope it needs" : s->want.scope.c_str());
        s->state = SubState::kRevoked;
        if (!AnyLeft()) client->Drain(kExitCredentials);
        ReportCoverage();
        return;
      }
      LogError(
          "%s: refused (%s): the token lacks the scope %s (log in again: twitch-auth login "
          "--for eventsub)",
          name.c_str(), r.message.c_str(),
          s->want.scope.empty() ? "it needs" : s->want.scope.c_str());
      client->Drain(kExitCredentials);
      return;
    case EventSubApiStatus::kConflict:
      if (!s->conflict_handled) {
        s->conflict_handled = true;
        Reconcile(s, gen);
      } else {
        RetryLater(s, s->backoff.NextDelayMs(), "409 again: " + r.message);
      }
      return;
    case EventSubApiStatus::kRateLimited:
      RetryLater(s, r.retry_after_ms > 0 ? r.retry_after_ms : s->backoff.NextDelayMs(),
                 "rate limited (" + r.message + ")");
      if (r.retry_after_ms > 0) s->backoff.NextDelayMs();  // counted as a failure all the same
      return;
    case EventSubApiStatus::kTransient:
      RetryLater(s, s->backoff.NextDelayMs(), r.message);
      return;
    case EventSubApiStatus::kRejected:
      LogError("%s: Twitch will not create it: %s", name.c_str(), r.message.c_str());
      client->Drain(kExitFailure);
      return;
  }
}

// A 409 on a fresh session: Twitch still binds a subscription of ours with this type and
// condition to a session it has not seen die, and events would go there. Delete it, then create
// ours again. On a conduit the subscription is the conduit's, made by another shard or an
// earlier run: it is looked up, and taken as ours if it is on this conduit.
void EventSubClient::Reconcile(Sub* s, uint64_t gen) {
  if (conduit()) {
    LogWarning("%s: 409: it exists already; listing the subscriptions to see on which transport",
               Name(s->want).c_str());
  } else {
    LogWarning(
        "%s: 409 on a fresh session: a subscription of ours is still bound to another "
        "session; listing the subscriptions",
        Name(s->want).c_str());
  }
  api_->List([this, s, gen](EventSubApiResult r, std::vector<EventSubListed> list) {
    if (gen != generation_ || client->ending() || s->state != SubState::kCreating) return;
    if (r.status != EventSubApiStatus::kOk) {
      s->conflict_handled = false;
      RetryLater(s, s->backoff.NextDelayMs(), "listing the subscriptions: " + r.message);
      return;
    }
    std::vector<std::string> stale;
    for (const EventSubListed& l : list) {
      if (l.type != s->want.type || !SameCondition(l.condition_json, s->want.condition_json)) {
        continue;
      }
      if (conduit() && l.conduit_id != opts_.conduit_id) {
        RetryLater(s, s->backoff.NextDelayMs(),
                   "409: it exists for this client id on " +
                       (l.conduit_id.empty() ? "another transport" : "conduit " + l.conduit_id) +
                       " (" + l.id + "), not on ours");
        return;
      }
      if (conduit() || l.session_id == session_id_) {  // ours already: the 409 was about it
        LogInfo("%s: already bound to this %s (%s)", Name(s->want).c_str(),
                conduit() ? "conduit" : "session", l.id.c_str());
        s->state = SubState::kActive;
        s->id = l.id;
        ReportCoverage();
        return;
      }
      if (!l.session_id.empty()) {
        LogWarning("%s: deleting subscription %s, bound to the dead session %s",
                   Name(s->want).c_str(), l.id.c_str(), l.session_id.c_str());
        stale.push_back(l.id);
      }
    }
    if (stale.empty()) {
      RetryLater(s, s->backoff.NextDelayMs(),
                 conduit() ? "409, and no subscription with this type and condition is listed"
                           : "409, and no subscription of ours bound to another session is listed");
      return;
    }
    auto left = std::make_shared<size_t>(stale.size());
    auto failed = std::make_shared<std::string>();
    for (const std::string& id : stale) {
      api_->Remove(id, [this, s, gen, left, failed](EventSubApiResult d) {
        if (d.status != EventSubApiStatus::kOk && failed->empty()) *failed = d.message;
        if (--*left > 0 || gen != generation_ || client->ending()) return;
        if (s->state != SubState::kCreating) return;
        if (!failed->empty()) {
          s->conflict_handled = false;
          RetryLater(s, s->backoff.NextDelayMs(), "deleting the old subscription: " + *failed);
          return;
        }
        LogInfo("%s: the old subscription is deleted: subscribing again", Name(s->want).c_str());
        Create(s);
      });
    }
  });
}

void EventSubClient::RetryLater(Sub* s, int64_t delay_ms, const std::string& why) {
  s->state = SubState::kWaiting;
  all_reported_ = false;
  s->retry.After(client->context(), delay_ms);
  LogWarning("%s: not subscribed: %s; trying again in %lld ms; missing: %s", Name(s->want).c_str(),
             why.c_str(), static_cast<long long>(delay_ms), Missing().c_str());
}

std::string EventSubClient::Missing() const {
  std::string out;
  size_t n = 0;
  for (const auto& s : subs_) {
    if (s->state == SubState::kActive || s->state == SubState::kRevoked) continue;
    if (++n > 10) continue;  // a conduit's thousands: the first ten named, the rest counted
    if (!out.empty()) out += ", ";
    out += Name(s->want);
  }
  if (n > 10) out += " and " + std::to_string(n - 10) + " more";
  return out;
}

void EventSubClient::ReportCoverage() {
  if (all_reported_ || !Missing().empty()) return;
  if (conduit() && (!shard_attached_ || !conduit_listed_)) return;
  all_reported_ = true;
  size_t n = std::count_if(subs_.begin(), subs_.end(),
                           [](const auto& p) { return p->state == SubState::kActive; });
  if (conduit()) {
    LogInfo("conduit %s: shard %d (session %s): every subscription is in place (%zu)",
            opts_.conduit_id.c_str(), opts_.shard, session_id_.c_str(), n);
  } else {
    LogInfo("session %s: every subscription is in place (%zu)", session_id_.c_str(), n);
  }
  client->ResetBackoff();
}

void EventSubClient::LoseSubscriptions() {
  session_id_.clear();
  handover_pending_ = false;
  if (conduit()) {  // the subscriptions stay on the conduit; the shard is attached again
    shard_attached_ = false;
    ++attach_gen_;
    attach_retry_.Cancel();
    return;
  }
  ++generation_;
  for (auto& s : subs_) {
    if (s->state == SubState::kRevoked) continue;
    s->state = SubState::kPending;
    s->id.clear();
    s->retry.Cancel();
  }
}

void EventSubClient::OnWatchdog(int slot) {
  LogWarning("session %s: %s: the connection is dead", conns_[slot].session_id.c_str(),
             conns_[slot].welcomed ? "silent for longer than its keepalive" : "no welcome");
}

bool EventSubClient::OnClosed(int slot, const WsCloseInfo& info) {
  Conn c = conns_[slot];
  conns_[slot] = Conn();
  if (client->ending()) return false;
  int other = 1 - slot;
  if (c.retiring) {  // the old connection of a handover, or one we closed for a fresh session
    if (info.close_code == 4004) LogClose(info, opts_.url);
    LogDebug("the old connection is closed");
    return false;
  }
  LogClose(info, DisplayUrl(opts_.url));
  if (handover_pending_ && slot == successor_) {
    handover_pending_ = false;
    if (client->open(other)) {
      // The old session still delivers; a fresh one at the base URL replaces it.
      LogWarning("the reconnect URL failed: a fresh session at %s", DisplayUrl(opts_.url).c_str());
      return true;
    }
  }
  if (client->open(other) && conns_[other].welcomed && !conns_[other].retiring) return false;
  if (!session_id_.empty()) {
    if (gap_from_ == 0) gap_from_ = last_message_ms_;
    LoseSubscriptions();
  }
  return true;
}

void EventSubClient::OnTokenChanged() {
  ++token_epoch_;
  if (awaiting_token_) {
    awaiting_token_ = false;
    refreshed_to_epoch_ = token_epoch_;
    LogInfo("the token was refreshed: subscribing again");
  }
  if (attach_waits_token_) {
    attach_waits_token_ = false;
    AttachShard();
  }
  CreatePending();
}

void EventSubClient::OnTokenFailed(int exit_status, const std::string& why) {
  LogError("%s", why.c_str());
  if (client) client->Drain(exit_status);
}

void EventSubClient::WriteGap(int64_t from, int64_t to) {
  JsonPtr gap = NewGapEvent("eventsub", opts_.channel, from, to);
  client->output().Push(JsonDump(gap.get()) + "\n");
  LogWarning("no session from %s to %s: events in between are lost (gap)",
             FormatRfc3339Millis(from).c_str(), FormatRfc3339Millis(to).c_str());
}
