// twitch-eventsub's wiring (see eventsub_command.h): the --types of eventsub_types' table, the
// token, the channel, and Helix's EventSub subscriptions API (helix_eventsub.h) on the loop
// behind the client's EventSubApi.
#include "twitch/eventsub_command.h"

#include <algorithm>
#include <memory>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/time.h"
#include "twitch/eventsub_session.h"
#include "twitch/eventsub_types.h"
#include "twitch/helix_eventsub.h"
#include "twitch/irc_channels.h"
#include "twitch/token_store.h"

namespace {

// --types as eventsub_types' table has them; "none" subscribes to nothing but --subscribe.
bool ResolveTypes(const std::vector<std::string>& names, std::vector<EventSubTypeSpec>* out,
                  std::string* err) {
  std::string list;
  bool chat = names.empty(), sub = false, raid = false;
  for (const std::string& n : names) {
    if (n == "none") continue;
    list += (list.empty() ? "" : ",") + n;
    chat = chat || n == "notification";
    sub = sub || n == "sub";
    raid = raid || n == "raid";
  }
  if (names.empty()) list = EventSubDefaultTypes();
  if (!ResolveAlertTypes(list, out, err)) return false;
  if (chat && (sub || raid)) {
    LogWarning(
        "--types notification and %s: subs, gifts and raids come from both, so those "
        "alerts are written twice (with different ids)",
        sub ? "sub" : "raid");
  }
  return true;
}

bool HasAnyScope(const std::vector<std::string>& have, const std::vector<std::string>& need) {
  if (need.empty()) return true;
  return std::any_of(need.begin(), need.end(), [&](const std::string& s) {
    return std::find(have.begin(), have.end(), s) != have.end();
  });
}

EventSubWanted Wanted(const EventSubTypeSpec& spec, const JsonPtr& condition,
                      const std::string& channel = "") {
  return {spec.type, spec.version, JsonDump(condition.get()),
          spec.scopes.empty() ? "" : spec.scopes.front(), channel};
}

// --subscribe: a type of the table takes its condition keys when no condition is given; another
// the broadcaster's id.
EventSubWanted WantedOf(const SubscribeArg& arg, const std::string& channel_id,
                        const std::string& user_id) {
  const EventSubTypeSpec* known = FindEventSubType(arg.type);
  EventSubTypeSpec spec =
      known ? *known : EventSubTypeSpec{arg.type, arg.version, {"broadcaster_user_id"}, {}};
  spec.version = arg.version;
  JsonPtr condition =
      arg.condition ? JsonRef(arg.condition.get()) : BuildCondition(spec, channel_id, user_id);
  return Wanted(spec, condition);
}

// What a Helix answer means to the client.
EventSubApiResult ResultOf(const HttpResponse& r, const HelixResult& h) {
  EventSubApiResult out;
  out.message = h.error;
  switch (h.outcome) {
    case HelixOutcome::kOk:
      break;
    case HelixOutcome::kUnauthorized:
      out.status = EventSubApiStatus::kUnauthorized;
      break;
    case HelixOutcome::kForbidden:
      out.status = EventSubApiStatus::kForbidden;
      break;
    case HelixOutcome::kConflict:
      out.status = EventSubApiStatus::kConflict;
      break;
    case HelixOutcome::kRateLimited: {
      out.status = EventSubApiStatus::kRateLimited;
      std::string reset = r.Header("ratelimit-reset");
      long long s = reset.empty() ? 0 : strtoll(reset.c_str(), nullptr, 10);
      if (s > 0) out.retry_after_ms = std::max<int64_t>(100, s * 1000 - NowMillis() + 100);
      break;
    }
    case HelixOutcome::kTransient:
      out.status = EventSubApiStatus::kTransient;
      break;
    case HelixOutcome::kNotFound:
    case HelixOutcome::kOther:
      out.status = EventSubApiStatus::kRejected;
      break;
  }
  return out;
}

// Helix's subscriptions API (helix_eventsub.h) on the loop, with the provider's current token;
// with a conduit id, subscriptions go to that conduit and AttachShard() binds |shard|.
class HelixApi : public EventSubApi {
 public:
  HelixApi(std::string api_url, TokenProvider** token, std::string conduit_id, int shard)
      : helix_(std::move(api_url)),
        token_(token),
        conduit_id_(std::move(conduit_id)),
        shard_(std::to_string(shard)) {}
  void set_http(HttpClient* http) { http_ = http; }

  void Create(const EventSubWanted& sub, const std::string& session_id,
              std::function<void(EventSubApiResult)> done) override {
    auto what = std::make_shared<EventSubCreate>();
    std::string err;
    what->type = sub.type;
    what->version = sub.version;
    what->condition = JsonParse(sub.condition_json, &err);
    what->transport.method = conduit_id_.empty() ? "websocket" : "conduit";
    what->transport.session_id = conduit_id_.empty() ? session_id : "";
    what->transport.conduit_id = conduit_id_;
    http_->Start(helix_.CreateRequest(Auth(), *what), [what, done](HttpResponse r) {
      EventSubSubscription created;
      EventSubApiResult out = ResultOf(r, HelixEventSub::ReadCreate(r, *what, &created));
      out.id = created.id;
      done(out);
    });
  }

  void List(std::function<void(EventSubApiResult, std::vector<EventSubListed>)> done) override {
    helix_.StartList(http_, Auth(), EventSubFilter(), [done](HelixResult h, EventSubList list) {
      std::vector<EventSubListed> out;
      for (const EventSubSubscription& s : list.subscriptions) {
        out.push_back({s.id, s.type, s.version, s.status, s.transport.session_id,
                       s.condition ? JsonDump(s.condition.get()) : "{}", s.transport.conduit_id});
      }
      done(ResultOf(HttpResponse(), h), std::move(out));
    });
  }

  void Remove(const std::string& id, std::function<void(EventSubApiResult)> done) override {
    http_->Start(helix_.DeleteRequest(Auth(), id), [done](HttpResponse r) {
      HelixResult h = HelixEventSub::ReadDelete(r);
      done(h.outcome == HelixOutcome::kNotFound ? EventSubApiResult() : ResultOf(r, h));
    });
  }

  void AttachShard(const std::string& session_id,
                   std::function<void(EventSubApiResult, std::string)> done) override {
    ConduitShard s;
    s.id = shard_;
    s.transport.method = "websocket";
    s.transport.session_id = session_id;
    std::string shard = shard_;
    http_->Start(helix_.UpdateShardsRequest(Auth(), conduit_id_, {s}), [shard,
                                                                        done](HttpResponse r) {
      std::vector<ConduitShard> updated;
      std::vector<ConduitShardError> errors;
      EventSubApiResult out = ResultOf(r, HelixEventSub::ReadUpdateShards(r, &updated, &errors));
      std::string status;
      for (const ConduitShard& u : updated) {
        if (u.id == shard) status = u.status;
      }
      for (const ConduitShardError& e : errors) {
        if (e.id != shard || out.status != EventSubApiStatus::kOk) continue;
        out.status = EventSubApiStatus::kRejected;
        out.message = "PATCH /eventsub/conduits/shards: shard " + shard + ": " + e.message +
                      (e.code.empty() ? "" : " (" + e.code + ")");
      }
      if (out.status == EventSubApiStatus::kOk && status.empty()) {
        out.status = EventSubApiStatus::kTransient;
        out.message = "PATCH /eventsub/conduits/shards: the answer names no shard " + shard;
      }
      done(out, status);
    });
  }

 private:
  HelixAuth Auth() const { return HelixAuth::From(**token_); }

  HelixEventSub helix_;
  TokenProvider** token_;
  std::string conduit_id_;
  std::string shard_;
  HttpClient* http_ = nullptr;
};

// |a| with the stored app token of --client-id when no token is named otherwise (--conduit).
TwitchAuthOptions WithAppToken(TwitchAuthOptions a) {
  bool named = !a.login.empty() || !a.token_file.empty() || getenv("TWITCH_TOKEN") != nullptr;
  if (!named && !a.client_id.empty() && !TokenStoreDir().empty()) {
    a.token_file = TokenFileForApp(TokenStoreDir(), a.client_id);
  }
  return a;
}

// The conduit of --conduit ID|new, with room for --shard: -1 when |c| is it, else the exit
// status.
int ResolveConduit(const EventSubCommandOptions& o, HelixEventSub& helix, HttpClient* http,
                   TokenProvider* token, HelixConduit* c) {
  std::vector<HelixConduit> have;
  HelixResult h = helix.ListConduits(http, token, &have);
  if (!h.ok()) {
    LogError("--conduit: listing the client's conduits: %s", h.error.c_str());
    return HelixExitStatus(h.outcome);
  }
  std::string ids;
  for (const HelixConduit& x : have) ids += (ids.empty() ? "" : ", ") + x.id;
  if (o.conduit == "new") {
    int64_t count = o.shard_count > 0 ? o.shard_count : o.shard + 1;
    if (have.size() >= static_cast<size_t>(kMaxConduitsPerClient)) {
      LogError(
          "--conduit new: the client id has %zu conduits already (%s) and Twitch allows %d: "
          "reuse one with --conduit ID",
          have.size(), ids.c_str(), kMaxConduitsPerClient);
      return kExitFailure;
    }
    h = helix.CreateConduit(http, token, count, c);
    if (!h.ok()) {
      LogError("--conduit new: %s", h.error.c_str());
      return HelixExitStatus(h.outcome);
    }
    LogInfo("conduit %s: created with %lld shards (the other shards: --conduit %s --shard N)",
            c->id.c_str(), static_cast<long long>(c->shard_count), c->id.c_str());
  } else {
    auto it = std::find_if(have.begin(), have.end(),
                           [&](const HelixConduit& x) { return x.id == o.conduit; });
    if (it == have.end()) {
      LogError(
          "--conduit %s: the client id has no such conduit (it has %s); --conduit new makes one",
          o.conduit.c_str(), ids.empty() ? "none" : ids.c_str());
      return kExitFailure;
    }
    *c = *it;
  }
  if (o.shard >= c->shard_count) {
    LogError(
        "--shard %d: conduit %s has %lld shards (ids 0 to %lld): give a lower --shard, or raise "
        "its shard_count (PATCH /eventsub/conduits)",
        o.shard, c->id.c_str(), static_cast<long long>(c->shard_count),
        static_cast<long long>(c->shard_count - 1));
    return kExitUsage;
  }
  LogInfo("conduit %s: %lld shards; this process is shard %d", c->id.c_str(),
          static_cast<long long>(c->shard_count), o.shard);
  return -1;
}

// The channels of --channel and --channels-file, looked up: -1 when |users| has those Twitch
// knows (unknown ones are named and skipped), else the exit status.
int ConduitChannels(const EventSubCommandOptions& o, HelixEventSub& helix, HttpClient* http,
                    TokenProvider* token, std::vector<HelixUser>* users) {
  std::vector<std::string> logins;
  std::string err;
  if (!o.channels_file.empty() && !ReadChannelsFile(o.channels_file, &logins, &err)) {
    LogError("--channels-file: %s", err.c_str());
    return kExitUsage;
  }
  if (!o.channel.empty() && std::find(logins.begin(), logins.end(), o.channel) == logins.end()) {
    logins.insert(logins.begin(), o.channel);
  }
  if (logins.empty()) return -1;
  HelixResult h = helix.LookupUsers(http, token, logins, users);
  if (!h.ok()) {
    LogError("looking up the channels: %s", h.error.c_str());
    return HelixExitStatus(h.outcome);
  }
  for (const std::string& l : logins) {
    if (std::none_of(users->begin(), users->end(),
                     [&](const HelixUser& u) { return u.login == l; })) {
      LogWarning("channel %s: no Twitch user has this login: skipped", l.c_str());
    }
  }
  if (users->empty()) {
    LogError("no channel of the %zu given is known to Twitch", logins.size());
    return kExitFailure;
  }
  return -1;
}

// --conduit: an app token, the conduit, the channels and their subscriptions into |so|: -1 when
// ready, else the exit status.
int PrepareConduit(const EventSubCommandOptions& o, const std::vector<EventSubTypeSpec>& types,
                   const std::vector<SubscribeArg>& extra, HttpClient* http, TokenProvider* token,
                   EventSubClientOptions* so) {
  if (!token->user_id().empty()) {
    LogError(
        "--conduit: %s is a user token; conduits need an app token: run twitch-auth app, then "
        "give --client-id (its stored app token) or --token-file",
        token->Describe().c_str());
    return kExitCredentials;
  }
  HelixEventSub helix(o.auth.api_url);
  HelixConduit c;
  int st = ResolveConduit(o, helix, http, token, &c);
  if (st >= 0) return st;
  std::vector<HelixUser> users;
  st = ConduitChannels(o, helix, http, token, &users);
  if (st >= 0) return st;
  if (users.empty() && !o.types.empty()) {
    LogError("--types: give --channel or --channels-file too: the types are made per channel");
    return kExitUsage;
  }
  for (const SubscribeArg& a : extra) {
    if (users.empty() && !a.condition) {
      LogError("--subscribe %s: give its condition, or --channel or --channels-file",
               a.type.c_str());
      return kExitUsage;
    }
  }
  so->conduit_id = c.id;
  so->shard = o.shard;
  if (users.size() == 1) so->channel = Identity{users[0].id, users[0].login, users[0].display_name};
  for (const HelixUser& u : users) {
    for (const EventSubTypeSpec& t : types) {
      so->subscriptions.push_back(Wanted(t, BuildCondition(t, u.id, u.id), u.login));
    }
  }
  for (const SubscribeArg& a : extra) {
    if (a.condition) {
      so->subscriptions.push_back(WantedOf(a, "", ""));
      continue;
    }
    for (const HelixUser& u : users) {
      so->subscriptions.push_back(WantedOf(a, u.id, u.id));
      so->subscriptions.back().channel = u.login;
    }
  }
  if (so->subscriptions.empty()) {
    LogInfo(
        "conduit %s: no channel given: this process is only shard %d (the process given the "
        "channels makes the subscriptions)",
        c.id.c_str(), o.shard);
  } else {
    LogInfo("conduit %s: %zu channels, %zu subscriptions wanted", c.id.c_str(), users.size(),
            so->subscriptions.size());
  }
  return -1;
}

// Runs the session of |so| (its subscriptions and channel set) with |token|.
int RunClient(const EventSubCommandOptions& o, EventSubClientOptions so,
              std::unique_ptr<TokenProvider> token);

}  // namespace

int RunEventSubCommand(const EventSubCommandOptions& o) {
  InstallStopSignals();
  std::vector<EventSubTypeSpec> types;
  std::string err;
  if (!ResolveTypes(o.types, &types, &err)) {
    LogError("--types: %s", err.c_str());
    return kExitUsage;
  }
  if (types.empty() && o.subscribe.empty()) {
    LogError("--types none: give --subscribe TYPE too");
    return kExitUsage;
  }
  std::vector<SubscribeArg> extra(o.subscribe.size());
  for (size_t i = 0; i < o.subscribe.size(); ++i) {
    if (!ParseSubscribeArg(o.subscribe[i], &extra[i], &err)) {
      LogError("--subscribe: %s", err.c_str());
      return kExitUsage;
    }
  }
  bool conduit = !o.conduit.empty();
  if (!conduit && (!o.channels_file.empty() || o.shard != 0 || o.shard_count != 0)) {
    LogError("--channels-file, --shard and --shard-count go with --conduit ID|new");
    return kExitUsage;
  }
  if (conduit && o.conduit != "new" && o.shard_count != 0) {
    LogError("--shard-count goes with --conduit new (an existing conduit keeps its own)");
    return kExitUsage;
  }
  if (conduit && o.shard_count != 0 && o.shard >= o.shard_count) {
    LogError("--shard %d: over --shard-count %lld (shard ids are 0 to %lld)", o.shard,
             static_cast<long long>(o.shard_count), static_cast<long long>(o.shard_count - 1));
    return kExitUsage;
  }
  TwitchAuthOptions auth = conduit ? WithAppToken(o.auth) : o.auth;
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  auto token = std::make_unique<TokenProvider>(auth, &http);
  if (!token->Resolve(true, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  if (token->source() == TokenProvider::Source::kNone) {
    LogError(conduit ? "no token: --conduit needs an app token: give --client-id (twitch-auth app "
                       "stores one for it), --token-file or TWITCH_TOKEN"
                     : "no token: give --login, --token-file or TWITCH_TOKEN (twitch-auth login "
                       "--for eventsub stores one)");
    return kExitUsage;
  }
  AuthFailure f = token->Start(TokenProvider::kRefreshWithinS, true, &err);
  if (f != AuthFailure::kNone) {
    LogError("%s", err.c_str());
    return AuthExitStatus(f);
  }
  EventSubClientOptions so;
  if (conduit) {
    int st = PrepareConduit(o, types, extra, &http, token.get(), &so);
    if (st >= 0) return st;
    return RunClient(o, so, std::move(token));
  }
  if (token->user_id().empty()) {
    LogError("%s: not a user token: EventSub over WebSocket needs one", token->Describe().c_str());
    return kExitCredentials;
  }
  for (const EventSubTypeSpec& t : types) {
    if (!HasAnyScope(token->token().scopes, t.scopes)) {
      LogError(
          "--types: %s needs the scope %s, which the token (%s) lacks; log in again: "
          "twitch-auth login --for eventsub",
          t.type.c_str(), DescribeScopes(t).c_str(), token->Describe().c_str());
      return kExitCredentials;
    }
  }
  Identity channel{token->user_id(), token->login(), ""};
  if (!o.channel.empty() && o.channel != token->login()) {
    HelixUser u;
    HelixResult h = HelixEventSub(o.auth.api_url).LookupUser(&http, token.get(), o.channel, &u);
    if (!h.ok()) {
      LogError("--channel %s: %s", o.channel.c_str(), h.error.c_str());
      return HelixExitStatus(h.outcome);
    }
    channel = Identity{u.id, u.login, u.display_name};
  }
  so.channel = channel;
  for (const EventSubTypeSpec& t : types) {
    so.subscriptions.push_back(Wanted(t, BuildCondition(t, channel.id, token->user_id())));
  }
  for (const SubscribeArg& a : extra) {
    so.subscriptions.push_back(WantedOf(a, channel.id, token->user_id()));
  }
  return RunClient(o, so, std::move(token));
}

namespace {

int RunClient(const EventSubCommandOptions& o, EventSubClientOptions so,
              std::unique_ptr<TokenProvider> token) {
  so.url = o.url;
  so.tls = o.auth.tls;
  so.max_buffer = o.max_buffer;
  so.map.raw = o.raw;
  // On the loop: Helix answers go to the client, which does its own retries (one attempt each).
  TokenProvider* current = token.get();
  HelixApi api(o.auth.api_url, &current, so.conduit_id, so.shard);
  std::unique_ptr<HttpClient> loop_http;
  std::unique_ptr<EventSubClient> client;
  EventSubAuthHooks hooks;
  hooks.loop_started = [&](struct lws_context* ctx) {
    HttpClientOptions ho = TwitchHttpOptions(o.auth.tls);
    ho.max_attempts = 1;
    loop_http = std::make_unique<HttpClient>(ho);
    std::string e;
    if (!loop_http->Attach(ctx, &e)) {
      LogError("%s", e.c_str());
      client->OnTokenFailed(kExitFailure, e);
      return;
    }
    api.set_http(loop_http.get());
    token->Watch(
        ctx, loop_http.get(), [&] { client->OnTokenChanged(); },
        [&](AuthFailure af, const std::string& why) {
          client->OnTokenFailed(AuthExitStatus(af), why);
        });
  };
  hooks.loop_ending = [&] {  // before the loop goes: what holds timers or sockets on it
    loop_http.reset();
    token.reset();
    current = nullptr;
  };
  hooks.unauthorized = [&] { token->OnUnauthorized(); };
  client = std::make_unique<EventSubClient>(so, &api, hooks);
  return client->Run();
}

}  // namespace
