// twitch-hook's --subscribe-for (see hook_subscribe.h and man/twitch-hook.1.scd).
#include "twitch/hook_subscribe.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>

#include "core/exit_status.h"
#include "core/log.h"
#include "twitch/token_store.h"

void AddHookSubscribeOptions(CLI::App& app, HookSubscribeOptions* o) {
  app.add_option("--subscribe-for", o->channel,
                 "Once listening, create the alert subscriptions of channel LOGIN (app token)")
      ->type_name("LOGIN");
  app.add_option("--callback", o->callback,
                 "The public URL Twitch posts to (https on port 443), for --subscribe-for")
      ->type_name("URL");
  app.add_option(
         "--types", o->types,
         "The alert types --subscribe-for subscribes to (default: " + EventSubDefaultTypes() + ")")
      ->type_name("T,...");
  AddTwitchAuthOptions(app, &o->auth);
}

namespace {

// |o| with the stored app token of --client-id when no token is named otherwise.
HookSubscribeOptions WithAppToken(HookSubscribeOptions o) {
  bool named =
      !o.auth.login.empty() || !o.auth.token_file.empty() || getenv("TWITCH_TOKEN") != nullptr;
  if (!named && !o.channel.empty() && !o.auth.client_id.empty() && !TokenStoreDir().empty()) {
    o.auth.token_file = TokenFileForApp(TokenStoreDir(), o.auth.client_id);
  }
  return o;
}

}  // namespace

HookSubscriber::HookSubscriber(const HookSubscribeOptions& opts, std::string secret)
    : opts_(WithAppToken(opts)),
      secret_(std::move(secret)),
      http_(TwitchHttpOptions(opts.auth.tls)),
      tokens_(opts_.auth, &http_),
      helix_(opts.auth.api_url) {}

HookSubscriber::~HookSubscriber() { Stop(); }

int HookSubscriber::Prepare() {
  if (opts_.channel.empty()) {
    if (!opts_.callback.empty() || !opts_.types.empty()) {
      LogError("--callback and --types go with --subscribe-for");
      return kExitUsage;
    }
    return -1;
  }
  if (!ValidLogin(opts_.channel)) {
    LogError("--subscribe-for %s: not a Twitch login", opts_.channel.c_str());
    return kExitUsage;
  }
  if (opts_.callback.empty()) {
    LogError("--subscribe-for: needs --callback URL, the public address Twitch posts to");
    return kExitUsage;
  }
  std::string err;
  if (!ResolveAlertTypes(opts_.types.empty() ? EventSubDefaultTypes() : opts_.types, &specs_,
                         &err)) {
    LogError("--types: %s", err.c_str());
    return kExitUsage;
  }
  bool named = !opts_.auth.login.empty() || !opts_.auth.token_file.empty() ||
               getenv("TWITCH_TOKEN") != nullptr;
  if (!named) {
    LogError(
        "--subscribe-for: needs an app token: give --client-id (twitch-auth app stores "
        "one for it) or --token-file");
    return kExitUsage;
  }
  if (!tokens_.Resolve(false, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  AuthFailure f = tokens_.Start(TokenProvider::kRefreshWithinS, true, &err);
  if (f != AuthFailure::kNone) {
    LogError("--subscribe-for: %s", err.c_str());
    return AuthExitStatus(f);
  }
  if (tokens_.token().kind != "app") {
    LogError(
        "--subscribe-for: %s is a user token; webhook subscriptions need an app token: run "
        "twitch-auth app --client-id ID",
        tokens_.Describe().c_str());
    return kExitUsage;
  }
  HelixUser user;
  HelixResult r = helix_.LookupUser(&http_, &tokens_, opts_.channel, &user);
  if (!r.ok()) {
    LogError("--subscribe-for %s: %s", opts_.channel.c_str(), r.error.c_str());
    return HelixExitStatus(r.outcome);
  }
  broadcaster_id_ = user.id;
  return -1;
}

void HookSubscriber::Start(struct lws_context* context) {
  if (opts_.channel.empty()) return;
  loop_http_ = std::make_unique<HttpClient>(TwitchHttpOptions(opts_.auth.tls));
  std::string err;
  if (!loop_http_->Attach(context, &err)) {
    LogError("--subscribe-for: %s", err.c_str());
    loop_http_.reset();
    return;
  }
  for (const auto& spec : specs_) missing_.push_back(spec.type);
  LogInfo("subscribing %s (%s) to %zu types with callback %s", opts_.channel.c_str(),
          broadcaster_id_.c_str(), specs_.size(), opts_.callback.c_str());
  for (const auto& spec : specs_) Create(spec);
}

void HookSubscriber::Create(const EventSubTypeSpec& spec) {
  auto what = std::make_shared<EventSubCreate>();
  what->type = spec.type;
  what->version = spec.version;
  // With an app token the reader is the broadcaster, who authorized the application.
  what->condition = BuildCondition(spec, broadcaster_id_, broadcaster_id_);
  what->transport.method = "webhook";
  what->transport.callback = opts_.callback;
  what->transport.secret = secret_;
  HttpRequest req = helix_.CreateRequest(HelixAuth::From(tokens_), *what);
  ++pending_;
  loop_http_->Start(std::move(req), [this, spec, what](HttpResponse resp) {
    EventSubSubscription sub;
    HelixResult r = HelixEventSub::ReadCreate(resp, *what, &sub);
    --pending_;
    Done(spec, r, sub);
  });
}

void HookSubscriber::Done(const EventSubTypeSpec& spec, const HelixResult& r,
                          const EventSubSubscription& sub) {
  std::string name = spec.type + " v" + spec.version;
  bool have = r.ok() || r.outcome == HelixOutcome::kConflict;
  if (r.ok()) {
    LogInfo("subscribed %s: %s (%s)", name.c_str(), sub.id.c_str(), sub.status.c_str());
  } else if (r.outcome == HelixOutcome::kConflict) {
    LogInfo("subscribed %s: exists already", name.c_str());
  } else if (r.outcome == HelixOutcome::kUnauthorized && !retried_401_) {
    // An app token is renewed with the client secret only; try once more in case another
    // process renewed the stored one.
    retried_401_ = true;
    std::string err;
    if (tokens_.Refresh(&err) == AuthFailure::kNone) return Create(spec);
    LogError("subscribe %s: %s; %s", name.c_str(), r.error.c_str(), err.c_str());
  } else {
    LogError("subscribe %s: %s", name.c_str(), r.error.c_str());
  }
  if (have) {
    missing_.erase(std::remove(missing_.begin(), missing_.end(), spec.type), missing_.end());
  }
  if (pending_ == 0) {
    if (missing_.empty()) {
      LogInfo("subscribed to every type for %s", opts_.channel.c_str());
    } else {
      std::string list;
      for (const auto& t : missing_) list += (list.empty() ? "" : ", ") + t;
      LogWarning("not subscribed for %s: %s", opts_.channel.c_str(), list.c_str());
    }
  }
}

void HookSubscriber::Stop() {
  if (pending_ > 0) LogWarning("stopping with %d subscription requests unanswered", pending_);
  pending_ = 0;
  loop_http_.reset();
}
