// The EventSub WebSocket session (twitch-protocols.md §3) on the shared client (ws/ws_client.h):
// the welcome, every wanted subscription created through Helix within Twitch's 10-second window
// while the socket keeps being read, a 409 on a fresh session taken for what it is (a
// subscription of ours still bound to a dead session: deleted, then created again), failed
// subscriptions retried with backoff and named until they are back, session_reconnect as a
// handover (the old socket delivers until the new one is welcomed; nothing re-created, nothing
// written twice), the keepalive watchdog, close codes 4000-4007, de-duplication by message id,
// revocations, and a "gap" event for the time no session covered the channel. It never sends a
// data frame. Helix and the token are reached through the narrow interfaces below, so that the
// state machine can be driven by fakes.
//
// As a shard of a conduit (EventSubClientOptions::conduit_id, twitch-protocols.md section 3.7),
// every fresh session is attached to the shard (PATCH /eventsub/conduits/shards) instead, and the
// subscriptions live on the conduit: those already there (listed once, or answered 409 and then
// found listed with this conduit's id) are taken as ours, the others created once, and none is
// created again when the socket is replaced. A session_reconnect keeps its session id and so its
// shard.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/event.h"
#include "core/tls_options.h"
#include "twitch/eventsub_dedup.h"
#include "twitch/eventsub_events.h"
#include "twitch/eventsub_message.h"
#include "ws/loop.h"
#include "ws/ws_client.h"

/// One subscription the session keeps: what Helix is asked to create.
struct EventSubWanted {
  std::string type;            ///< "channel.follow"
  std::string version;         ///< "2"
  std::string condition_json;  ///< the condition object, as JSON
  std::string scope;           ///< the scope it needs, for a 403's message ("" when none)
  std::string channel = {};    ///< the channel's login, for messages ("": the only one)
};

/// How a Helix call on the loop ended, as the session acts on it.
enum class EventSubApiStatus {
  kOk,
  kUnauthorized,  ///< 401: the token is refused (refresh it)
  kForbidden,     ///< 403: a scope is missing
  kConflict,      ///< 409: the same type and condition exist already
  kRateLimited,   ///< 429
  kTransient,     ///< 5xx or no answer: try again later
  kRejected,      ///< any other answer (400, 404, 410): trying again is futile
};

/// The outcome of one Helix call.
struct EventSubApiResult {
  EventSubApiStatus status = EventSubApiStatus::kOk;
  std::string id;              ///< Create: the subscription's id
  std::string message;         ///< why it failed ("409 Conflict: subscription already exists")
  int64_t retry_after_ms = 0;  ///< kRateLimited: the wait Twitch asked for (0: unknown)
};

/// A subscription as List() gives it.
struct EventSubListed {
  std::string id, type, version, status;
  std::string session_id;       ///< transport.session_id ("" for other transports)
  std::string condition_json;   ///< the condition object, as JSON
  std::string conduit_id = {};  ///< transport.conduit_id ("" for other transports)
};

/// The EventSub subscriptions API on the loop (Helix /eventsub/subscriptions, user token).
/// Every callback runs on the loop, later (never inside the call).
class EventSubApi {
 public:
  virtual ~EventSubApi() = default;
  /// POST: |sub| bound to the WebSocket session |session_id|.
  virtual void Create(const EventSubWanted& sub, const std::string& session_id,
                      std::function<void(EventSubApiResult)> done) = 0;
  /// GET, every page: the token's WebSocket subscriptions.
  virtual void List(std::function<void(EventSubApiResult, std::vector<EventSubListed>)> done) = 0;
  /// DELETE ?id=|id|.
  virtual void Remove(const std::string& id, std::function<void(EventSubApiResult)> done) = 0;
  /// Conduit mode: PATCH the session's shard to |session_id|; |done| gets the outcome and the
  /// shard's status as Twitch answered it ("enabled", "websocket_disconnected", ...). An API
  /// without conduits answers kRejected. (In conduit mode, Create() binds to the conduit and
  /// ignores its session id, and List() gives the app's conduit subscriptions.)
  virtual void AttachShard(const std::string& session_id,
                           std::function<void(EventSubApiResult, std::string)> done);
};

/// Everything the session needs; twitch-eventsub(1) documents each.
struct EventSubClientOptions {
  std::string url = "wss://eventsub.wss.twitch.tv/ws";
  TlsClientOptions tls;
  size_t max_buffer = 16u << 20;  ///< bytes waiting for stdout over which reading pauses
  std::vector<EventSubWanted> subscriptions;
  EventSubMapOptions map;
  Identity channel;                   ///< the broadcaster, for gap events
  BackoffPolicy backoff;              ///< reconnects and subscription retries
  int keepalive_margin_percent = 20;  ///< the watchdog waits keepalive_timeout_seconds + this
  std::string conduit_id;  ///< a shard of this conduit ("": subscriptions bound to the session)
  int shard = 0;           ///< the shard id (conduit mode)
};

/// What the session asks of the token and hears back.
struct EventSubAuthHooks {
  /// The loop exists: start what lives on it (attach the HTTP client, watch the token).
  std::function<void(struct lws_context*)> loop_started;
  /// The loop is about to go: whatever was attached to it must go now.
  std::function<void()> loop_ending;
  /// A 401 from Helix: refresh the token now; OnTokenChanged() or OnTokenFailed() follows.
  std::function<void()> unauthorized;
};

/// The session: one WsClient, its listener.
class EventSubClient : public WsClientListener {
 public:
  EventSubClient(EventSubClientOptions opts, EventSubApi* api, EventSubAuthHooks hooks);
  ~EventSubClient() override;

  /// Runs until a stop signal (0, once stdout is written), stdout's reader leaving (0), every
  /// subscription revoked (1; 3 when the authorization was), the token refused twice (3), a
  /// scope missing (3), a subscription Twitch will not create (1) or a bad --url (2).
  int Run();

  /// The token was replaced: subscriptions waiting for it are created now.
  void OnTokenChanged();
  /// The token is no longer usable: the session ends with |exit_status|.
  void OnTokenFailed(int exit_status, const std::string& why);

  void OnLoopStarted() override;
  void OnLoopEnding() override;
  void OnOpened(int slot) override;
  void OnMessage(int slot, std::string_view text) override;
  bool OnClosed(int slot, const WsCloseInfo& info) override;
  void OnWatchdog(int slot) override;

 private:
  enum class SubState { kPending, kCreating, kActive, kWaiting, kRevoked };
  struct Sub {
    EventSubWanted want;
    SubState state = SubState::kPending;
    std::string id;
    bool conflict_handled = false;  // the 409 of this session was reconciled once
    Backoff backoff;
    LoopAlarm retry;
  };
  struct Conn {
    bool welcomed = false;
    bool retiring = false;  // session_reconnect came: its successor takes over once welcomed
    std::string session_id;
    int keepalive_s = 0;
  };

  void OnWelcome(int slot, const EventSubMessage& m);
  void OnNotification(int slot, const EventSubMessage& m);
  void OnReconnect(int slot, const EventSubMessage& m);
  void OnRevocation(const EventSubMessage& m);
  void ArmWatchdog(int slot);
  void CreatePending();
  void Create(Sub* s);
  bool conduit() const { return !opts_.conduit_id.empty(); }
  void AttachShard();
  void OnShardAnswer(const EventSubApiResult& r, const std::string& status);
  void TakeListed(std::vector<EventSubListed> list);
  bool AnyLeft() const;
  void OnCreated(Sub* s, uint64_t gen, int epoch, EventSubApiResult r);
  void Answered(Sub* s, int epoch, const EventSubApiResult& r);
  void Reconcile(Sub* s, uint64_t gen);
  void RetryLater(Sub* s, int64_t delay_ms, const std::string& why);
  void ReportCoverage();
  std::string Missing() const;
  void LoseSubscriptions();
  void CancelTimers();
  void WriteGap(int64_t from, int64_t to);

  EventSubClientOptions opts_;
  EventSubApi* api_;
  EventSubAuthHooks hooks_;
  std::vector<std::unique_ptr<Sub>> subs_;
  Conn conns_[2];
  EventSubDedup dedup_;
  std::string session_id_;       // the session subscriptions are bound to; "" between sessions
  uint64_t generation_ = 0;      // bumped with every fresh session: late Helix answers are dropped
  int64_t last_message_ms_ = 0;  // wall clock of the last message of any connection
  int64_t gap_from_ = 0;         // a fresh session's welcome writes a gap from here; 0: none
  bool awaiting_token_ = false;  // a 401 asked for a refresh; creations wait for it
  int token_epoch_ = 0;          // bumped with every token change
  int refreshed_to_epoch_ = -1;  // the epoch a 401's refresh gave, until a creation succeeds
  bool handover_pending_ = false;  // session_reconnect followed; the successor is not welcomed
  int successor_ = -1;             // its slot
  bool all_reported_ = false;      // "every subscription is in place" was said for this session
  // Conduit mode.
  bool shard_attached_ = false;      // the shard is bound to session_id_
  bool conduit_listed_ = false;      // the conduit's subscriptions were listed (once per run)
  bool attach_waits_token_ = false;  // a 401 of the attach: attached again with the new token
  uint64_t attach_gen_ = 0;          // bumped with every session: late attach answers are dropped
  Backoff attach_backoff_;
  LoopAlarm attach_retry_;
  std::vector<JsonPtr> events_;
};
