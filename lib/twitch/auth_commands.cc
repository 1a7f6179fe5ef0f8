// twitch-auth's subcommands (see auth_commands.h and man/twitch-auth.1.scd).
#include "twitch/auth_commands.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/exit_status.h"
#include "core/json.h"
#include "core/log.h"
#include "core/output.h"
#include "core/time.h"

namespace {

constexpr int64_t kMinValidS = TokenProvider::kRefreshWithinS;  // `token`'s refresh margin

json_t* StringList(const std::vector<std::string>& v) {
  json_t* a = json_array();
  for (const auto& s : v) json_array_append_new(a, json_string(s.c_str()));
  return a;
}

// The public facts of a stored token as one JSON line: never the token itself.
std::string Summary(const StoredToken& t, const std::string& path) {
  JsonPtr j = JsonOwn(json_object());
  json_object_set_new(j.get(), "kind", json_string(t.kind.c_str()));
  if (!t.login.empty()) json_object_set_new(j.get(), "login", json_string(t.login.c_str()));
  if (!t.user_id.empty()) json_object_set_new(j.get(), "user_id", json_string(t.user_id.c_str()));
  json_object_set_new(j.get(), "client_id", json_string(t.client_id.c_str()));
  json_object_set_new(j.get(), "scopes", StringList(t.scopes));
  json_object_set_new(
      j.get(), "expires_at",
      t.expires_at_ms ? json_string(FormatRfc3339Millis(t.expires_at_ms).c_str()) : json_null());
  json_object_set_new(j.get(), "file", json_string(path.c_str()));
  return JsonDump(j.get());
}

int Print(const std::string& line) {
  std::string err;
  if (WriteLine(line, &err) == WriteResult::kError) {
    LogError("stdout: %s", err.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

int Fail(AuthFailure f, const std::string& err) {
  LogError("%s", err.c_str());
  return AuthExitStatus(f);
}

// The directory a new token file goes to: --token-file's, else the store (0700, checked).
bool TargetPath(const AuthCommandOptions& o, const std::string& name, std::string* path,
                std::string* err) {
  if (!o.auth.token_file.empty()) {
    *path = o.auth.token_file;
    return true;
  }
  std::string dir = TokenStoreDir();
  if (dir.empty()) {
    *err = "no token store: neither XDG_CONFIG_HOME nor HOME is set (or give --token-file)";
    return false;
  }
  if (!EnsurePrivateDir(dir, err)) return false;
  *path = dir + "/" + name;
  return true;
}

bool NeedClientId(const AuthCommandOptions& o) {
  if (!o.auth.client_id.empty()) return true;
  LogError("--client-id (or TWITCH_CLIENT_ID): required: your application's client ID");
  return false;
}

// Resolves and loads the token the options name; |min_valid_s| as TokenProvider::Start().
int Load(TokenProvider* p, int64_t min_valid_s, bool validate) {
  std::string err;
  if (!p->Resolve(true, &err)) {
    LogError("%s", err.c_str());
    return kExitUsage;
  }
  if (p->source() == TokenProvider::Source::kNone) {
    LogError("no token: give --login, --token-file or TWITCH_TOKEN (twitch-auth login stores one)");
    return kExitUsage;
  }
  AuthFailure f = p->Start(min_valid_s, validate, &err);
  return f == AuthFailure::kNone ? -1 : Fail(f, err);
}

}  // namespace

int RunAuthLogin(const AuthCommandOptions& o) {
  if (!NeedClientId(o)) return kExitUsage;
  std::vector<std::string> scopes = o.scopes;
  if (scopes.empty()) scopes = ScopesFor(o.scope_set.empty() ? "eventsub" : o.scope_set);
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TwitchOAuth oauth(&http, o.auth.auth_url);
  DeviceCode code;
  std::string err;
  AuthFailure f = oauth.StartDevice(o.auth.client_id, scopes, &code, &err);
  if (f != AuthFailure::kNone) return Fail(f, "login: " + err);
  // The prompt is what the user must act on: shown even with -q.
  fprintf(stderr, "%s: login: open %s and enter the code %s (within %d minutes)\n", LogProgram(),
          code.verification_uri.c_str(), code.user_code.c_str(), (code.expires_in + 59) / 60);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(code.expires_in);
  int interval = code.interval;
  TokenGrant grant;
  for (;;) {
    // Polling at the interval Twitch gives is the protocol (RFC 8628 section 3.4).
    std::this_thread::sleep_for(std::chrono::seconds(interval));
    if (std::chrono::steady_clock::now() > deadline) {
      LogError("login: the code expired before it was entered; run twitch-auth login again");
      return kExitFailure;
    }
    TwitchOAuth::Poll p = oauth.PollDevice(o.auth.client_id, code, scopes, &grant, &f, &err);
    if (p == TwitchOAuth::Poll::kGranted) break;
    if (p == TwitchOAuth::Poll::kPending) continue;
    if (p == TwitchOAuth::Poll::kSlowDown) {
      interval += 5;
      LogDebug("login: asked to slow down: polling every %d s", interval);
    } else if (p == TwitchOAuth::Poll::kExpired) {
      LogError("login: the code expired before it was entered; run twitch-auth login again");
      return kExitFailure;
    } else if (p == TwitchOAuth::Poll::kDenied) {
      LogError("login: access denied at Twitch");
      return kExitCredentials;
    } else {
      return Fail(f, "login: " + err);
    }
  }
  ValidatedToken v;
  f = oauth.Validate(grant.access_token, &v, &err);
  if (f != AuthFailure::kNone) return Fail(f, "login: validating the new token: " + err);
  if (!o.auth.login.empty() && o.auth.login != v.login) {
    LogWarning("login: logged in as %s, not %s", v.login.c_str(), o.auth.login.c_str());
  }
  StoredToken t;
  t.login = v.login;
  t.user_id = v.user_id;
  t.client_id = o.auth.client_id;
  t.access_token = grant.access_token;
  t.refresh_token = grant.refresh_token;
  t.scopes = grant.scopes.empty() ? v.scopes : grant.scopes;
  t.expires_at_ms = grant.expires_in ? NowMillis() + grant.expires_in * 1000 : 0;
  std::string path;
  if (!ValidLogin(t.login)) return Fail(AuthFailure::kFatal, "login: Twitch gave no usable login");
  if (!TargetPath(o, t.login + ".json", &path, &err)) return Fail(AuthFailure::kFatal, err);
  TokenFileLock lock;
  if (!lock.Lock(path, &err) || !WriteTokenFile(path, t, &err)) {
    return Fail(AuthFailure::kFatal, err);
  }
  LogInfo("login: logged in as %s; token stored in %s", t.login.c_str(), path.c_str());
  return Print(Summary(t, path));
}

int RunAuthToken(const AuthCommandOptions& o) {
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  AuthCommandOptions resolved = o;
  std::string err, secret;
  if (o.app) {
    if (!NeedClientId(o)) return kExitUsage;
    if (!TargetPath(o, "app-" + o.auth.client_id + ".json", &resolved.auth.token_file, &err)) {
      return Fail(AuthFailure::kFatal, err);
    }
    if (!ReadSecret(o.client_secret_file, "TWITCH_CLIENT_SECRET", &secret, &err)) {
      LogError("--client-secret-file: %s", err.c_str());
      return kExitUsage;
    }
  }
  TokenProvider p(resolved.auth, &http);
  p.set_client_secret(secret);
  int status = Load(&p, kMinValidS, false);
  if (status >= 0) return status;
  return Print(p.access_token());
}

int RunAuthValidate(const AuthCommandOptions& o) {
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TokenProvider p(o.auth, &http);
  int status = Load(&p, -1, false);
  if (status >= 0) return status;
  ValidatedToken v;
  std::string err;
  AuthFailure f = p.Validate(&v, &err);
  if (f != AuthFailure::kNone) return Fail(f, err);
  if (o.quiet) return kExitOk;
  JsonPtr j = JsonOwn(json_object());
  if (!v.login.empty()) json_object_set_new(j.get(), "login", json_string(v.login.c_str()));
  if (!v.user_id.empty()) json_object_set_new(j.get(), "user_id", json_string(v.user_id.c_str()));
  json_object_set_new(j.get(), "client_id", json_string(v.client_id.c_str()));
  json_object_set_new(j.get(), "scopes", StringList(v.scopes));
  json_object_set_new(j.get(), "expires_in", json_integer(v.expires_in));
  return Print(JsonDump(j.get()));
}

int RunAuthRevoke(const AuthCommandOptions& o) {
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TokenProvider p(o.auth, &http);
  int status = Load(&p, -1, false);
  if (status >= 0) return status;
  TwitchOAuth oauth(&http, o.auth.auth_url);
  std::string err;
  AuthFailure f = oauth.Revoke(p.client_id(), p.access_token(), &err);
  if (f == AuthFailure::kCredentials) {
    LogWarning("revoke: Twitch no longer knows the token (%s)", err.c_str());
  } else if (f != AuthFailure::kNone) {
    return Fail(f, "revoke: " + err);
  }
  if (p.source() == TokenProvider::Source::kStore) {
    if (unlink(p.path().c_str()) != 0) {
      return Fail(AuthFailure::kFatal, p.path() + ": cannot remove: " + strerror(errno));
    }
    unlink((p.path() + ".lock").c_str());
    LogInfo("revoke: token of %s revoked; %s removed", p.Describe().c_str(), p.path().c_str());
  } else {
    LogInfo("revoke: token of %s revoked", p.Describe().c_str());
  }
  return kExitOk;
}

int RunAuthList(const AuthCommandOptions&) {
  std::string dir = TokenStoreDir(), err;
  std::vector<std::string> files;
  if (dir.empty()) return Fail(AuthFailure::kFatal, "no token store: HOME is not set");
  if (!ListTokenFiles(dir, &files, &err)) return Fail(AuthFailure::kFatal, err);
  if (!files.empty() && !EnsurePrivateDir(dir, &err)) return Fail(AuthFailure::kFatal, err);
  int status = kExitOk;
  for (const auto& f : files) {
    StoredToken t;
    if (!ReadTokenFile(f, &t, &err)) {
      LogError("%s", err.c_str());
      status = kExitFailure;
      continue;
    }
    if (Print(Summary(t, f)) != kExitOk) return kExitFailure;
  }
  return status;
}

int RunAuthApp(const AuthCommandOptions& o) {
  if (!NeedClientId(o)) return kExitUsage;
  std::string secret, err, path;
  if (!ReadSecret(o.client_secret_file, "TWITCH_CLIENT_SECRET", &secret, &err)) {
    LogError("--client-secret-file: %s", err.c_str());
    return kExitUsage;
  }
  if (secret.empty()) {
    LogError("--client-secret-file (or TWITCH_CLIENT_SECRET): required for an app token");
    return kExitUsage;
  }
  if (!TargetPath(o, "app-" + o.auth.client_id + ".json", &path, &err)) {
    return Fail(AuthFailure::kFatal, err);
  }
  StoredToken t;
  if (!o.force && access(path.c_str(), F_OK) == 0) {
    if (!ReadTokenFile(path, &t, &err)) return Fail(AuthFailure::kFatal, err);
    if (t.expires_at_ms == 0 || t.expires_at_ms - NowMillis() > kMinValidS * 1000) {
      LogDebug("app: the stored token is good until %s",
               FormatRfc3339Millis(t.expires_at_ms).c_str());
      return Print(Summary(t, path));
    }
  }
  HttpClient http(TwitchHttpOptions(o.auth.tls));
  TwitchOAuth oauth(&http, o.auth.auth_url);
  TokenGrant g;
  AuthFailure f = oauth.ClientCredentials(o.auth.client_id, secret, &g, &err);
  if (f != AuthFailure::kNone) return Fail(f, "app: " + err);
  t = StoredToken();
  t.kind = "app";
  t.client_id = o.auth.client_id;
  t.access_token = g.access_token;
  t.scopes = g.scopes;
  t.expires_at_ms = g.expires_in ? NowMillis() + g.expires_in * 1000 : 0;
  TokenFileLock lock;
  if (!lock.Lock(path, &err) || !WriteTokenFile(path, t, &err)) {
    return Fail(AuthFailure::kFatal, err);
  }
  return Print(Summary(t, path));
}
