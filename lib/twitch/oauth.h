// Twitch's OAuth endpoints (id.twitch.tv/oauth2): the device code grant, refresh with rotation,
// client credentials, validate and revoke. Each call is a request builder and a reader of its
// answer, so that it runs blocking (HttpClient::Perform) or on the loop (HttpClient::Start) alike;
// the blocking form of each is the two put together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/client.h"

/// What a failed OAuth call means for the caller (as AmqpFailure does for AMQP).
enum class AuthFailure {
  kNone,
  kTransient,    ///< no answer or 5xx after retries: exit 1, try later
  kCredentials,  ///< a token, refresh token, secret or client id refused: exit 3
  kFatal,        ///< anything else (a bad answer, a bad URL): exit 1
};

/// The exit status (exit_status.h) that |f| ends a command with.
int AuthExitStatus(AuthFailure f);

/// Classifies a failed |r| (not ok()): 400/401/403 are credentials, other HTTP errors fatal, no
/// answer transient.
AuthFailure ClassifyAuthResponse(const HttpResponse& r);

/// The scope sets that twitch-auth login --for names: "chat", "eventsub", "all". Empty when
/// |name| is none of them.
std::vector<std::string> ScopesFor(const std::string& name);

/// The answer of POST /device.
struct DeviceCode {
  std::string device_code;  ///< secret
  std::string user_code;
  std::string verification_uri;
  int expires_in = 0;  ///< seconds
  int interval = 5;    ///< seconds between polls
};

/// A token from POST /token.
struct TokenGrant {
  std::string access_token;   ///< secret
  std::string refresh_token;  ///< secret; empty for client credentials
  std::vector<std::string> scopes;
  int64_t expires_in = 0;  ///< seconds; 0: does not expire
};

/// The answer of GET /validate.
struct ValidatedToken {
  std::string client_id;
  std::string login;    ///< empty for an app token
  std::string user_id;  ///< empty for an app token
  std::vector<std::string> scopes;
  int64_t expires_in = 0;  ///< seconds left; 0: does not expire
};

/// Where the endpoints are ("https://id.twitch.tv/oauth2" or a fake's URL) and how to reach them.
class TwitchOAuth {
 public:
  TwitchOAuth(HttpClient* http, std::string auth_url);

  /// POST /device: starts the device code grant for |scopes|.
  AuthFailure StartDevice(const std::string& client_id, const std::vector<std::string>& scopes,
                          DeviceCode* out, std::string* err);

  /// How one poll of the device code grant ended.
  enum class Poll { kGranted, kPending, kSlowDown, kExpired, kDenied, kFailed };

  /// POST /token with the device code. kFailed fills |failure| and |err|.
  Poll PollDevice(const std::string& client_id, const DeviceCode& code,
                  const std::vector<std::string>& scopes, TokenGrant* out, AuthFailure* failure,
                  std::string* err);

  /// POST /token grant_type=refresh_token (|client_secret| empty for a public client). The
  /// answer may carry a new refresh token: store it before using the access token.
  AuthFailure Refresh(const std::string& client_id, const std::string& client_secret,
                      const std::string& refresh_token, TokenGrant* out, std::string* err);

  /// The request of Refresh(), for HttpClient::Start().
  HttpRequest RefreshRequest(const std::string& client_id, const std::string& client_secret,
                             const std::string& refresh_token) const;

  /// Reads the answer of a POST /token.
  static AuthFailure ReadGrant(const HttpResponse& r, TokenGrant* out, std::string* err);

  /// POST /token grant_type=client_credentials: an app token.
  AuthFailure ClientCredentials(const std::string& client_id, const std::string& client_secret,
                                TokenGrant* out, std::string* err);

  /// GET /validate. kCredentials when Twitch says the token is not valid (401).
  AuthFailure Validate(const std::string& token, ValidatedToken* out, std::string* err);

  /// The request of Validate(), for HttpClient::Start().
  HttpRequest ValidateRequest(const std::string& token) const;

  /// Reads the answer of ValidateRequest().
  static AuthFailure ReadValidate(const HttpResponse& r, ValidatedToken* out, std::string* err);

  /// POST /revoke.
  AuthFailure Revoke(const std::string& client_id, const std::string& token, std::string* err);

 private:
  AuthFailure Grant(HttpRequest req, TokenGrant* out, std::string* err);

  HttpClient* http_;
  std::string auth_url_;
};
