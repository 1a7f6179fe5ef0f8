// twitch-subs' subcommands (see subs_command.h and man/twitch-subs.1.scd).
#include "twitch/subs_command.h"

#include "core/exit_status.h"
#include "core/json.h"
#include "core/log.h"
#include "core/output.h"
#include "twitch/eventsub_types.h"
#include "twitch/helix_eventsub.h"
#include "twitch/token_store.h"

namespace {

constexpr int64_t kMinValidS = 60;  // a token that expires within a minute is refreshed first

int Emit(const json_t* j) {
  std::string err;
  if (WriteLine(JsonDump(j), &err) == WriteResult::kError) {
    LogError("stdout: %s", err.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

int Failed(const std::string& what, const HelixResult& r) {
  LogError("%s: %s", what.c_str(), r.error.c_str());
  return HelixExitStatus(r.outcome);
}

// The token, the HTTP client and the Helix calls of one run.
class Session {
 public:
  explicit Session(const SubsCommandOptions& o)
      : auth_(Resolved(o)),
        http_(TwitchHttpOptions(o.auth.tls)),
        tokens_(auth_, &http_),
        helix_(o.auth.api_url),
        app_(o.app) {}

  // Loads and validates the token: -1 when it is ready, else the exit status.
  int Load() {
    if (app_ && auth_.client_id.empty()) {
      LogError("--app: needs --client-id (or TWITCH_CLIENT_ID): the app token is stored by it");
      return kExitUsage;
    }
    if (app_ && auth_.token_file.empty()) {
      LogError("--app: no token store: neither XDG_CONFIG_HOME nor HOME is set");
      return kExitUsage;
    }
    std::string err;
    if (!tokens_.Resolve(true, &err)) {
      LogError("%s", err.c_str());
      return kExitUsage;
    }
    if (tokens_.source() == TokenProvider::Source::kNone) {
      LogError("no token: give --login, --token-file, --app or TWITCH_TOKEN (see twitch-auth)");
      return kExitUsage;
    }
    AuthFailure f = tokens_.Start(kMinValidS, true, &err);
    if (f != AuthFailure::kNone) {
      LogError("%s", err.c_str());
      return AuthExitStatus(f);
    }
    return -1;
  }

  bool is_app() const { return tokens_.token().kind == "app"; }
  std::string Describe() const { return tokens_.Describe(); }
  HttpClient* http() { return &http_; }
  TokenProvider* tokens() { return &tokens_; }
  HelixEventSub& helix() { return helix_; }

 private:
  static TwitchAuthOptions Resolved(const SubsCommandOptions& o) {
    TwitchAuthOptions a = o.auth;
    if (o.app && !a.client_id.empty() && !TokenStoreDir().empty()) {
      a.token_file = TokenFileForApp(TokenStoreDir(), a.client_id);
    }
    return a;
  }

  TwitchAuthOptions auth_;
  HttpClient http_;
  TokenProvider tokens_;
  HelixEventSub helix_;
  bool app_;
};

void LogTotals(const EventSubList& l) {
  LogInfo("total %lld, total_cost %lld, max_total_cost %lld", static_cast<long long>(l.total),
          static_cast<long long>(l.total_cost), static_cast<long long>(l.max_total_cost));
}

// Fills |what| from create's options: -1 when it is complete, else the exit status.
int CreateSpec(const SubsCommandOptions& o, EventSubCreate* what) {
  SubscribeArg arg;
  std::string err;
  if (o.type.find(':') != std::string::npos) {
    LogError("create: \"%s\": give the condition with --condition", o.type.c_str());
    return kExitUsage;
  }
  if (!ParseSubscribeArg(o.type + ":" + o.condition, &arg, &err)) {
    LogError("create: %s", err.c_str());
    return kExitUsage;
  }
  what->type = arg.type;
  what->version = arg.version;
  what->condition = std::move(arg.condition);
  EventSubTransport& t = what->transport;
  if (!o.session.empty()) {
    t.method = "websocket";
    t.session_id = o.session;
  } else if (!o.conduit.empty()) {
    t.method = "conduit";
    t.conduit_id = o.conduit;
  } else {
    t.method = "webhook";
    t.callback = o.webhook;
    if (!ReadSecret(o.secret_file, "TWITCH_HOOK_SECRET", &t.secret, &err)) {
      LogError("--secret-file: %s", err.c_str());
      return kExitUsage;
    }
    if (t.secret.size() < 10 || t.secret.size() > 100) {
      LogError(
          "create: the webhook secret must be 10 to 100 characters (--secret-file or "
          "TWITCH_HOOK_SECRET)");
      return kExitUsage;
    }
  }
  return -1;
}

}  // namespace

int RunSubsList(const SubsCommandOptions& o) {
  Session s(o);
  int status = s.Load();
  if (status >= 0) return status;
  EventSubFilter f;
  f.status = o.status;
  f.type = o.type;
  f.user_id = o.user_id;
  EventSubList list;
  HelixResult r = s.helix().List(s.http(), s.tokens(), f, &list);
  for (const auto& sub : list.subscriptions) {
    if (Emit(sub.raw.get()) != kExitOk) return kExitFailure;
  }
  if (!r.ok()) return Failed("list", r);
  LogTotals(list);
  return kExitOk;
}

int RunSubsCreate(const SubsCommandOptions& o) {
  EventSubCreate what;
  int status = CreateSpec(o, &what);
  if (status >= 0) return status;
  Session s(o);
  status = s.Load();
  if (status >= 0) return status;
  bool needs_app = what.transport.method != "websocket";
  if (needs_app != s.is_app()) {
    LogError(needs_app ? "create: %s is a user token; a %s subscription needs an app token: run "
                         "twitch-auth app, then give --app"
                       : "create: %s is an app token; a %s subscription needs a user token: "
                         "run twitch-auth login, then give --login",
             s.Describe().c_str(), what.transport.method.c_str());
    return kExitUsage;
  }
  EventSubSubscription sub;
  HelixResult r = s.helix().Create(s.http(), s.tokens(), what, &sub);
  if (!r.ok()) return Failed("create " + what.type + " v" + what.version, r);
  return Emit(sub.raw.get());
}

int RunSubsDelete(const SubsCommandOptions& o) {
  Session s(o);
  int status = s.Load();
  if (status >= 0) return status;
  std::vector<std::string> ids = o.ids;
  if (!o.status.empty()) {
    EventSubFilter f;
    f.status = o.status;
    EventSubList list;
    HelixResult r = s.helix().List(s.http(), s.tokens(), f, &list);
    if (!r.ok()) return Failed("delete --status " + o.status + ": list", r);
    for (const auto& sub : list.subscriptions) ids.push_back(sub.id);
  }
  int worst = kExitOk;
  for (const auto& id : ids) {
    HelixResult r = s.helix().Delete(s.http(), s.tokens(), id);
    if (!r.ok()) {
      int st = Failed("delete " + id, r);
      if (worst != kExitCredentials) worst = st;
      if (r.outcome == HelixOutcome::kUnauthorized) break;
      continue;
    }
    JsonPtr j = JsonOwn(json_pack("{s:s,s:b}", "id", id.c_str(), "deleted", 1));
    if (Emit(j.get()) != kExitOk) return kExitFailure;
  }
  return worst;
}
