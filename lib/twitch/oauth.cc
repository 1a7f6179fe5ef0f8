// Twitch's OAuth endpoints (see oauth.h and twitch-protocols.md section 8).
#include "twitch/oauth.h"

#include "core/exit_status.h"

namespace {

std::string Join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> StringArray(json_t* a) {
  std::vector<std::string> out;
  size_t i;
  json_t* s;
  json_array_foreach(a, i, s) {
    if (json_is_string(s)) out.emplace_back(json_string_value(s));
  }
  return out;
}

int64_t IntegerOr(json_t* obj, const char* key, int64_t fallback) {
  json_t* v = json_object_get(obj, key);
  return json_is_integer(v) ? json_integer_value(v) : fallback;
}

// The RFC 8628 error of a device-flow answer: Twitch puts it in "message", RFC 8628 in "error".
std::string DeviceError(const HttpResponse& r) {
  std::string e = JsonString(r.json.get(), "error");
  if (e == "authorization_pending" || e == "slow_down" || e == "access_denied" ||
      e == "expired_token") {
    return e;
  }
  return JsonString(r.json.get(), "message");
}

}  // namespace

int AuthExitStatus(AuthFailure f) {
  switch (f) {
    case AuthFailure::kNone:
      return kExitOk;
    case AuthFailure::kCredentials:
      return kExitCredentials;
    default:
      return kExitFailure;
  }
}

AuthFailure ClassifyAuthResponse(const HttpResponse& r) {
  switch (r.failure) {
    case HttpFailure::kNone:
      return AuthFailure::kNone;
    case HttpFailure::kNetwork:
      return AuthFailure::kTransient;
    case HttpFailure::kFatal:
      return AuthFailure::kFatal;
    case HttpFailure::kStatus:
      break;
  }
  if (r.status == 400 || r.status == 401 || r.status == 403) return AuthFailure::kCredentials;
  return r.status >= 500 || r.status == 429 ? AuthFailure::kTransient : AuthFailure::kFatal;
}

std::vector<std::string> ScopesFor(const std::string& name) {
  std::vector<std::string> chat = {"chat:read"};
  // The scopes of the EventSub alert types (twitch-protocols.md section 6).
  std::vector<std::string> eventsub = {"bits:read",
                                       "channel:read:subscriptions",
                                       "channel:read:redemptions",
                                       "channel:read:hype_train",
                                       "moderator:read:followers",
                                       "user:read:chat"};
  if (name == "chat") return chat;
  if (name == "eventsub") return eventsub;
  if (name == "all") {
    std::vector<std::string> all = eventsub;
    all.insert(all.end(), chat.begin(), chat.end());
    all.insert(all.end(), {"channel:read:goals", "channel:read:polls", "channel:read:predictions",
                           "channel:read:charity", "moderator:read:shoutouts"});
    return all;
  }
  return {};
}

TwitchOAuth::TwitchOAuth(HttpClient* http, std::string auth_url)
    : http_(http), auth_url_(std::move(auth_url)) {
  while (!auth_url_.empty() && auth_url_.back() == '/') auth_url_.pop_back();
}

AuthFailure TwitchOAuth::StartDevice(const std::string& client_id,
                                     const std::vector<std::string>& scopes, DeviceCode* out,
                                     std::string* err) {
  HttpRequest req;
  req.method = "POST";
  req.url = auth_url_ + "/device";
  req.form = {{"client_id", client_id}, {"scopes", Join(scopes, ' ')}};
  HttpResponse r = http_->Perform(req);
  if (!r.ok()) {
    *err = r.error;
    return ClassifyAuthResponse(r);
  }
  json_t* j = r.json.get();
  out->device_code = JsonString(j, "device_code");
  out->user_code = JsonString(j, "user_code");
  out->verification_uri = JsonString(j, "verification_uri");
  out->expires_in = static_cast<int>(IntegerOr(j, "expires_in", 1800));
  out->interval = static_cast<int>(IntegerOr(j, "interval", 5));
  if (out->device_code.empty() || out->user_code.empty() || out->verification_uri.empty()) {
    *err = req.url + ": the answer lacks device_code, user_code or verification_uri";
    return AuthFailure::kFatal;
  }
  return AuthFailure::kNone;
}

AuthFailure TwitchOAuth::ReadGrant(const HttpResponse& r, TokenGrant* out, std::string* err) {
  if (!r.ok()) {
    *err = r.error;
    return ClassifyAuthResponse(r);
  }
  json_t* j = r.json.get();
  out->access_token = JsonString(j, "access_token");
  out->refresh_token = JsonString(j, "refresh_token");
  out->scopes = StringArray(json_object_get(j, "scope"));
  out->expires_in = IntegerOr(j, "expires_in", 0);
  if (out->access_token.empty()) {
    *err = "token: the answer has no access_token";
    return AuthFailure::kFatal;
  }
  return AuthFailure::kNone;
}

AuthFailure TwitchOAuth::Grant(HttpRequest req, TokenGrant* out, std::string* err) {
  return ReadGrant(http_->Perform(req), out, err);
}

TwitchOAuth::Poll TwitchOAuth::PollDevice(const std::string& client_id, const DeviceCode& code,
                                          const std::vector<std::string>& scopes, TokenGrant* out,
                                          AuthFailure* failure, std::string* err) {
  HttpRequest req;
  req.method = "POST";
  req.url = auth_url_ + "/token";
  req.form = {{"client_id", client_id},
              {"scopes", Join(scopes, ' ')},
              {"device_code", code.device_code},
              {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}};
  HttpResponse r = http_->Perform(req);
  if (r.ok()) {
    *failure = ReadGrant(r, out, err);
    return *failure == AuthFailure::kNone ? Poll::kGranted : Poll::kFailed;
  }
  if (r.status == 400 || r.status == 401 || r.status == 403) {
    std::string e = DeviceError(r);
    if (e == "authorization_pending") return Poll::kPending;
    if (e == "slow_down") return Poll::kSlowDown;
    if (e == "expired_token" || e == "invalid device code") return Poll::kExpired;
    if (e == "access_denied") return Poll::kDenied;
  }
  *err = r.error;
  *failure = ClassifyAuthResponse(r);
  return Poll::kFailed;
}

HttpRequest TwitchOAuth::RefreshRequest(const std::string& client_id,
                                        const std::string& client_secret,
                                        const std::string& refresh_token) const {
  HttpRequest req;
  req.method = "POST";
  req.url = auth_url_ + "/token";
  req.form = {
      {"client_id", client_id}, {"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  if (!client_secret.empty()) req.form.emplace_back("client_secret", client_secret);
  return req;
}

AuthFailure TwitchOAuth::Refresh(const std::string& client_id, const std::string& client_secret,
                                 const std::string& refresh_token, TokenGrant* out,
                                 std::string* err) {
  return Grant(RefreshRequest(client_id, client_secret, refresh_token), out, err);
}

AuthFailure TwitchOAuth::ClientCredentials(const std::string& client_id,
                                           const std::string& client_secret, TokenGrant* out,
                                           std::string* err) {
  HttpRequest req;
  req.method = "POST";
  req.url = auth_url_ + "/token";
  req.form = {{"client_id", client_id},
              {"client_secret", client_secret},
              {"grant_type", "client_credentials"}};
  return Grant(std::move(req), out, err);
}

HttpRequest TwitchOAuth::ValidateRequest(const std::string& token) const {
  HttpRequest req;
  req.url = auth_url_ + "/validate";
  req.token = token;
  req.auth_scheme = "OAuth";
  return req;
}

AuthFailure TwitchOAuth::ReadValidate(const HttpResponse& r, ValidatedToken* out,
                                      std::string* err) {
  if (!r.ok()) {
    *err = r.error;
    return ClassifyAuthResponse(r);
  }
  json_t* j = r.json.get();
  out->client_id = JsonString(j, "client_id");
  out->login = JsonString(j, "login");
  out->user_id = JsonString(j, "user_id");
  out->scopes = StringArray(json_object_get(j, "scopes"));
  out->expires_in = IntegerOr(j, "expires_in", 0);
  if (out->client_id.empty()) {
    *err = "validate: the answer has no client_id";
    return AuthFailure::kFatal;
  }
  return AuthFailure::kNone;
}

AuthFailure TwitchOAuth::Validate(const std::string& token, ValidatedToken* out, std::string* err) {
  return ReadValidate(http_->Perform(ValidateRequest(token)), out, err);
}

AuthFailure TwitchOAuth::Revoke(const std::string& client_id, const std::string& token,
                                std::string* err) {
  HttpRequest req;
  req.method = "POST";
  req.url = auth_url_ + "/revoke";
  req.form = {{"client_id", client_id}, {"token", token}};
  HttpResponse r = http_->Perform(req);
  if (!r.ok()) *err = r.error;
  return ClassifyAuthResponse(r);
}
