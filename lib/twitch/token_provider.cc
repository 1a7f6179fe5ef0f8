// The token provider and its option group (see token_provider.h). A refresh, blocking or on the
// loop, goes the same way: take the store file's lock, read the file again (another process may
// have refreshed it already: then its token is taken), ask Twitch, store the answer, use it.
#include "twitch/token_provider.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>

#include "core/log.h"
#include "core/time.h"

namespace {

constexpr int64_t kRefreshAheadS = 300;    // refresh this long before expiry
constexpr int64_t kRetryMs = 30 * 1000;    // after a transient failure on the loop
constexpr int64_t kLockBusyRetryMs = 500;  // another process is refreshing

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Expiring(const StoredToken& t, int64_t min_valid_s) {
  if (min_valid_s < 0) return false;
  return t.expires_at_ms != 0 && t.expires_at_ms - NowMillis() < min_valid_s * 1000;
}

std::string BareToken(std::string t) {
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.rfind("oauth:", 0) == 0) t.erase(0, 6);
  return t;
}

}  // namespace

void AddTwitchAuthOptions(CLI::App& app, TwitchAuthOptions* o, bool with_tls) {
  const char* g = "Twitch auth";
  app.add_option("--login", o->login, "Use the stored token of LOGIN (see twitch-auth login)")
      ->type_name("LOGIN")
      ->check(CLI::Validator(
          [](std::string& v) { return ValidLogin(v) ? "" : "not a Twitch login: " + v; }, ""))
      ->group(g);
  app.add_option("--token-file", o->token_file,
                 "Use the token in FILE: a token store file, or a bare token on its first line")
      ->type_name("FILE")
      ->group(g);
  app.add_option("--client-id", o->client_id,
                 "Twitch application client ID (default: the stored token's)")
      ->envname("TWITCH_CLIENT_ID")
      ->type_name("ID")
      ->group(g);
  app.add_option("--auth-url", o->auth_url, "Twitch OAuth base URL")
      ->type_name("URL")
      ->capture_default_str()
      ->group(g);
  app.add_option("--api-url", o->api_url, "Twitch Helix API base URL")
      ->type_name("URL")
      ->capture_default_str()
      ->group(g);
  if (with_tls) AddTlsClientOptions(app, &o->tls);
  if (const char* every = getenv("TWITCH_VALIDATE_EVERY")) {
    char* end = nullptr;
    long s = strtol(every, &end, 10);
    if (end != every && *end == '\0' && s >= 1 && s <= 3600) o->validate_every_ms = s * 1000;
  }
}

HttpClientOptions TwitchHttpOptions(const TlsClientOptions& tls) {
  HttpClientOptions h;
  h.cacert = tls.cacert;
  h.insecure = tls.insecure;
  return h;
}

TokenProvider::TokenProvider(const TwitchAuthOptions& opts, HttpClient* http)
    : opts_(opts), oauth_(http, opts.auth_url) {
  timer_.owner = this;
}

TokenProvider::~TokenProvider() {
  if (context_) lws_sul_cancel(&timer_.sul);
}

const std::string& TokenProvider::client_id() const {
  return opts_.client_id.empty() ? token_.client_id : opts_.client_id;
}

std::string TokenProvider::Describe() const {
  if (!opts_.login.empty()) return "login " + opts_.login;
  if (!path_.empty()) return path_;
  if (!opts_.token_file.empty()) return opts_.token_file;
  return source_ == Source::kBare ? "TWITCH_TOKEN" : "no token";
}

bool TokenProvider::Resolve(bool single_stored, std::string* err) {
  source_ = Source::kNone;
  path_.clear();
  if (!opts_.login.empty() && !opts_.token_file.empty()) {
    *err = "--login and --token-file both name a token: give one";
    return false;
  }
  std::string dir = TokenStoreDir();
  if (!opts_.login.empty()) {
    if (dir.empty()) {
      *err = "--login: no token store: neither XDG_CONFIG_HOME nor HOME is set";
      return false;
    }
    path_ = TokenFileForLogin(dir, opts_.login);
    source_ = Source::kStore;
    return true;
  }
  if (!opts_.token_file.empty()) {
    std::ifstream in(opts_.token_file);
    std::string first;
    if (!in || !std::getline(in, first)) {
      *err = opts_.token_file + ": cannot be read";
      return false;
    }
    if (!first.empty() && first[0] == '{') {
      path_ = opts_.token_file;
      source_ = Source::kStore;
    } else {
      token_.access_token = BareToken(first);
      source_ = Source::kBare;
    }
    if (token_.access_token.empty() && source_ == Source::kBare) {
      *err = opts_.token_file + ": empty";
      return false;
    }
    return true;
  }
  const char* env = getenv("TWITCH_TOKEN");
  if (env && *env) {
    token_.access_token = BareToken(env);
    source_ = Source::kBare;
    return true;
  }
  if (!single_stored || dir.empty()) return true;
  std::vector<std::string> files, logins;
  if (!ListTokenFiles(dir, &files, err)) return false;
  for (const auto& f : files) {
    StoredToken t;
    std::string why;
    if (ReadTokenFile(f, &t, &why) && t.kind == "user") {
      logins.push_back(t.login);
      path_ = f;
    }
  }
  if (logins.size() == 1) {
    source_ = Source::kStore;
    opts_.login = logins[0];
  } else if (logins.size() > 1) {
    std::string names;
    for (const auto& l : logins) names += (names.empty() ? "" : ", ") + l;
    *err = "several logins are stored (" + names + "): give --login";
    path_.clear();
    return false;
  } else {
    path_.clear();
  }
  return true;
}

AuthFailure TokenProvider::Start(int64_t min_valid_s, bool validate, std::string* err) {
  if (source_ == Source::kNone) {
    *err = "no token: give --login, --token-file or TWITCH_TOKEN (twitch-auth login stores one)";
    return AuthFailure::kFatal;
  }
  if (source_ == Source::kStore) {
    if (!opts_.login.empty()) {
      if (!EnsurePrivateDir(TokenStoreDir(), err)) return AuthFailure::kFatal;
    }
    std::string why;
    if (!ReadTokenFile(path_, &token_, &why)) {
      *err = why;
      if (!opts_.login.empty() && access(path_.c_str(), F_OK) != 0) {
        *err = "login " + opts_.login + ": no stored token (" + path_ +
               "); run: twitch-auth login --client-id ID";
      }
      return AuthFailure::kFatal;
    }
    if (Expiring(token_, min_valid_s)) {
      AuthFailure f = RefreshLocked(false, min_valid_s, err);
      if (f != AuthFailure::kNone) return f;
    }
  }
  if (!validate) return AuthFailure::kNone;
  ValidatedToken v;
  AuthFailure f = Validate(&v, err);
  if (f == AuthFailure::kCredentials && source_ == Source::kStore) {
    LogInfo("%s: Twitch refused the token; refreshing it", Describe().c_str());
    f = RefreshLocked(true, min_valid_s, err);
    if (f == AuthFailure::kNone) f = Validate(&v, err);
  }
  return f;
}

AuthFailure TokenProvider::Validate(ValidatedToken* v, std::string* err) {
  std::string why;
  AuthFailure f = oauth_.Validate(token_.access_token, v, &why);
  if (f == AuthFailure::kCredentials) {
    *err = Describe() + ": the token is not valid (" + why + ")";
    return f;
  }
  if (f != AuthFailure::kNone) {
    *err = "validating the token: " + why;
    return f;
  }
  validated_ms_ = SteadyMs();
  if (source_ == Source::kBare) {
    token_.login = v->login;
    token_.user_id = v->user_id;
    token_.client_id = v->client_id;
    token_.scopes = v->scopes;
    token_.kind = v->login.empty() ? "app" : "user";
    token_.expires_at_ms = v->expires_in ? NowMillis() + v->expires_in * 1000 : 0;
  }
  return AuthFailure::kNone;
}

AuthFailure TokenProvider::Refresh(std::string* err) {
  if (source_ != Source::kStore) {
    *err = Describe() + ": a bare token cannot be refreshed; store one with twitch-auth login";
    return AuthFailure::kCredentials;
  }
  return RefreshLocked(true, kRefreshAheadS, err);
}

bool TokenProvider::TakeStored(const StoredToken& cur, bool forced, int64_t min_valid_s) {
  bool other = cur.access_token != token_.access_token;
  if (Expiring(cur, min_valid_s) || (forced && !other)) return false;
  if (other) LogDebug("%s: taking the token another process refreshed", Describe().c_str());
  token_ = cur;
  return true;
}

AuthFailure TokenProvider::StoreGrant(const StoredToken& cur, AuthFailure f, const TokenGrant& g,
                                      const std::string& why, std::string* err) {
  if (f == AuthFailure::kCredentials) {
    *err = Describe() + ": Twitch refused the refresh token (" + why + "); run twitch-auth login" +
           (cur.login.empty() ? "" : " (--login " + cur.login + ")");
    return f;
  }
  if (f != AuthFailure::kNone) {
    *err = Describe() + ": refreshing the token: " + why;
    return f;
  }
  StoredToken next = cur;
  next.access_token = g.access_token;
  if (!g.refresh_token.empty()) next.refresh_token = g.refresh_token;
  if (!g.scopes.empty()) next.scopes = g.scopes;
  next.expires_at_ms = g.expires_in ? NowMillis() + g.expires_in * 1000 : 0;
  // The rotated refresh token is on disk before the new access token is used: the old one no
  // longer works.
  if (!WriteTokenFile(path_, next, err)) return AuthFailure::kFatal;
  token_ = next;
  LogInfo("%s: token refreshed", Describe().c_str());
  return AuthFailure::kNone;
}

bool TokenProvider::CheckStoreWritable(std::string* err) const {
  std::string why;
  if (CheckTokenFileWritable(path_, &why)) return true;
  *err = Describe() + ": cannot refresh the token, its new version could not be stored (" + why +
         "); the stored token is unchanged";
  return false;
}

bool TokenProvider::LockStore(TokenFileLock* lock, std::string* err) const {
  std::string why;
  if (lock->Lock(path_, &why)) return true;
  *err = Describe() + ": cannot refresh the token (" + why + "); the stored token is unchanged";
  return false;
}

AuthFailure TokenProvider::RefreshLocked(bool forced, int64_t min_valid_s, std::string* err) {
  if (token_.kind == "app") return RenewApp(err);
  TokenFileLock lock;
  if (!LockStore(&lock, err)) return AuthFailure::kFatal;
  StoredToken cur;
  if (!ReadTokenFile(path_, &cur, err)) return AuthFailure::kFatal;
  if (TakeStored(cur, forced, min_valid_s)) return AuthFailure::kNone;
  if (cur.refresh_token.empty()) {
    *err = Describe() + ": the token expired and has no refresh token; run twitch-auth login";
    return AuthFailure::kCredentials;
  }
  if (!CheckStoreWritable(err)) return AuthFailure::kFatal;
  TokenGrant g;
  std::string why;
  std::string cid = cur.client_id.empty() ? opts_.client_id : cur.client_id;
  AuthFailure f = oauth_.Refresh(cid, client_secret_, cur.refresh_token, &g, &why);
  return StoreGrant(cur, f, g, why, err);
}

AuthFailure TokenProvider::RenewApp(std::string* err) {
  if (client_secret_.empty()) {
    *err = Describe() + ": the app token expires; run twitch-auth app again (or give the secret)";
    return AuthFailure::kFatal;
  }
  TokenFileLock lock;
  if (!LockStore(&lock, err) || !CheckStoreWritable(err)) return AuthFailure::kFatal;
  TokenGrant g;
  std::string why;
  AuthFailure f = oauth_.ClientCredentials(client_id(), client_secret_, &g, &why);
  if (f != AuthFailure::kNone) {
    *err = Describe() + ": an app token: " + why;
    return f;
  }
  StoredToken next = token_;
  next.kind = "app";
  next.client_id = client_id();
  next.access_token = g.access_token;
  next.expires_at_ms = g.expires_in ? NowMillis() + g.expires_in * 1000 : 0;
  if (!WriteTokenFile(path_, next, err)) return AuthFailure::kFatal;
  token_ = next;
  return AuthFailure::kNone;
}

void TokenProvider::Watch(struct lws_context* context, HttpClient* loop_http,
                          std::function<void()> on_changed,
                          std::function<void(AuthFailure, const std::string&)> on_failed) {
  context_ = context;
  loop_http_ = loop_http;
  on_changed_ = std::move(on_changed);
  on_failed_ = std::move(on_failed);
  Schedule(0);
}

void TokenProvider::OnUnauthorized() {
  refresh_forced_ = true;
  Schedule(0);
}

void TokenProvider::Schedule(int64_t delay_ms) {
  if (!context_) return;
  lws_sul_schedule(context_, 0, &timer_.sul, &TokenProvider::OnTimer,
                   static_cast<lws_usec_t>(std::max<int64_t>(0, delay_ms)) * LWS_US_PER_MS);
}

void TokenProvider::OnTimer(lws_sorted_usec_list_t* sul) noexcept {
  GuardCallback([sul] {
    LoopTimer<TokenProvider>::OwnerOf(sul)->Tick();
    return 0;
  });
}

void TokenProvider::ScheduleNext() {
  if (refresh_forced_) return Schedule(0);  // a 401 came while a request was in flight
  int64_t next = validated_ms_ + opts_.validate_every_ms - SteadyMs();
  if (token_.expires_at_ms && source_ == Source::kStore) {
    next = std::min(next, token_.expires_at_ms - kRefreshAheadS * 1000 - NowMillis());
  }
  Schedule(next);
}

void TokenProvider::Tick() {
  if (busy_) return;  // the request in flight schedules what comes next
  if (source_ == Source::kStore && (refresh_forced_ || Expiring(token_, kRefreshAheadS))) {
    LoopRefresh();
  } else if (SteadyMs() - validated_ms_ >= opts_.validate_every_ms || validated_ms_ == 0) {
    LoopValidate();
  } else {
    ScheduleNext();
  }
}

void TokenProvider::Fail(AuthFailure f, const std::string& err) {
  if (f == AuthFailure::kTransient) {
    LogWarning("%s; trying again in %lld s", err.c_str(), static_cast<long long>(kRetryMs / 1000));
    Schedule(kRetryMs);
    return;
  }
  if (on_failed_) on_failed_(f, err);
}

void TokenProvider::LoopValidate() {
  busy_ = true;
  loop_http_->Start(oauth_.ValidateRequest(token_.access_token), [this](HttpResponse r) {
    busy_ = false;
    ValidatedToken v;
    std::string why;
    AuthFailure f = TwitchOAuth::ReadValidate(r, &v, &why);
    if (f == AuthFailure::kNone) {
      validated_ms_ = SteadyMs();
      LogDebug("%s: token valid for %lld s more", Describe().c_str(),
               static_cast<long long>(v.expires_in));
      ScheduleNext();
    } else if (f == AuthFailure::kCredentials && source_ == Source::kStore) {
      LogInfo("%s: Twitch refused the token; refreshing it", Describe().c_str());
      OnUnauthorized();
    } else {
      Fail(f, f == AuthFailure::kCredentials ? Describe() + ": the token is not valid (" + why + ")"
                                             : "validating the token: " + why);
    }
  });
}

void TokenProvider::LoopRefresh() {
  if (token_.kind == "app") {  // client credentials: short, and rare
    std::string err;
    AuthFailure f = RenewApp(&err);
    if (f != AuthFailure::kNone) return Fail(f, err);
    refresh_forced_ = false;
    if (on_changed_) on_changed_();
    return LoopValidate();
  }
  std::string err;
  if (!loop_lock_.TryLock(path_, &err)) {
    if (!err.empty()) return Fail(AuthFailure::kFatal, err);
    Schedule(kLockBusyRetryMs);  // another process is refreshing: read its result afterwards
    return;
  }
  StoredToken cur;
  if (!ReadTokenFile(path_, &cur, &err)) {
    loop_lock_.Unlock();
    return Fail(AuthFailure::kFatal, err);
  }
  std::string before = token_.access_token;
  if (TakeStored(cur, refresh_forced_, kRefreshAheadS)) {
    loop_lock_.Unlock();
    refresh_forced_ = false;
    if (before != token_.access_token && on_changed_) on_changed_();
    return LoopValidate();
  }
  if (!CheckStoreWritable(&err)) {
    loop_lock_.Unlock();
    return Fail(AuthFailure::kFatal, err);
  }
  busy_ = true;
  std::string cid = cur.client_id.empty() ? opts_.client_id : cur.client_id;
  loop_http_->Start(oauth_.RefreshRequest(cid, client_secret_, cur.refresh_token),
                    [this, cur](HttpResponse r) {
                      busy_ = false;
                      TokenGrant g;
                      std::string why, err;
                      AuthFailure f = TwitchOAuth::ReadGrant(r, &g, &why);
                      f = StoreGrant(cur, f, g, why, &err);
                      loop_lock_.Unlock();
                      if (f != AuthFailure::kNone) return Fail(f, err);
                      refresh_forced_ = false;
                      if (on_changed_) on_changed_();
                      LoopValidate();
                    });
}
