// The Twitch token every command that talks to Twitch uses, and the option group that names it:
// --login L (a stored token), --token-file F (a store file, or a file holding a bare token),
// TWITCH_TOKEN, --client-id/TWITCH_CLIENT_ID, --auth-url, --api-url and the client TLS options.
// The provider loads the token, refreshes it before it expires and after a 401 (one process at a
// time per store file: the others take what it stored), and validates it at start and every
// hour on the loop, as Twitch requires of a long-lived session.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/cli.h"
#include "http/client.h"
#include "twitch/oauth.h"
#include "twitch/token_store.h"
#include "ws/loop.h"

/// The option group (AddTwitchAuthOptions).
struct TwitchAuthOptions {
  std::string login;       ///< --login: the stored token of this login
  std::string token_file;  ///< --token-file: a store file, or a file whose first line is a token
  std::string client_id;   ///< --client-id, TWITCH_CLIENT_ID; else the store's, else validate's
  std::string auth_url = "https://id.twitch.tv/oauth2";
  std::string api_url = "https://api.twitch.tv/helix";
  TlsClientOptions tls;
  /// How often a long-running command validates its token on the loop (Watch()): Twitch asks
  /// for every hour. AddTwitchAuthOptions() takes TWITCH_VALIDATE_EVERY (seconds) for tests.
  int64_t validate_every_ms = 3600 * 1000;
};

/// Adds --login, --token-file, --client-id (env TWITCH_CLIENT_ID), --auth-url and --api-url to
/// |app| in a "Twitch auth" group, and --cacert/--insecure unless |with_tls| is false (for a
/// command that has them already: set opts->tls from its own before use).
void AddTwitchAuthOptions(CLI::App& app, TwitchAuthOptions* opts, bool with_tls = true);

/// The HTTP client options for Twitch with |tls|.
HttpClientOptions TwitchHttpOptions(const TlsClientOptions& tls);

/// A token from the store, a file or the environment, kept valid.
class TokenProvider {
 public:
  /// |http| (blocking calls) must outlive the provider.
  TokenProvider(const TwitchAuthOptions& opts, HttpClient* http);
  ~TokenProvider();
  TokenProvider(const TokenProvider&) = delete;
  TokenProvider& operator=(const TokenProvider&) = delete;

  enum class Source {
    kNone,   ///< no token named: anonymous, where the command allows it
    kStore,  ///< a store file: refreshable, rotated refresh tokens saved
    kBare,   ///< a bare token (TWITCH_TOKEN, or a --token-file that is not a store file)
  };

  /// Decides where the token comes from: --login, else --token-file, else TWITCH_TOKEN; with
  /// |single_stored|, else the store's only user login. False with |err| on a usage error
  /// (both --login and --token-file, a bad login, several stored logins to choose from).
  bool Resolve(bool single_stored, std::string* err);
  Source source() const { return source_; }
  /// The store file (kStore).
  const std::string& path() const { return path_; }

  /// How soon before its expiry a long-running command (and `twitch-auth token`) refreshes a
  /// stored token: Start()'s |min_valid_s| for them.
  static constexpr int64_t kRefreshWithinS = 300;

  /// Loads the token and refreshes it when it expires within |min_valid_s| seconds (never when
  /// negative; a store file's; the rotated refresh token is stored before the new access token is
  /// used). With |validate|, asks Twitch whether it is valid (login, user id, scopes and client id
  /// come from there for a bare token) and refreshes once when it is not.
  AuthFailure Start(int64_t min_valid_s, bool validate, std::string* err);

  /// Refreshes now (after a 401), under the store file's lock; when another process refreshed
  /// meanwhile, takes its token instead. kCredentials when Twitch refuses the refresh token.
  AuthFailure Refresh(std::string* err);

  /// GET /validate with the current token; on success |out| and the cached facts are updated.
  AuthFailure Validate(ValidatedToken* out, std::string* err);

  /// For an app token (kind "app"): the secret that renews it when it expires.
  void set_client_secret(std::string secret) { client_secret_ = std::move(secret); }

  /// Validates every hour and refreshes before expiry (a few minutes ahead) on |context|'s loop,
  /// through |loop_http| (attached to that loop). |on_changed| runs after the token was replaced;
  /// |on_failed| when it is no longer usable (the command should stop: exit with
  /// AuthExitStatus()). Call after Start(). The provider must outlive |loop_http|'s requests:
  /// destroy |loop_http| first.
  void Watch(struct lws_context* context, HttpClient* loop_http, std::function<void()> on_changed,
             std::function<void(AuthFailure, const std::string&)> on_failed);

  /// A Twitch API call on the loop got 401: refresh (or take another process's refresh) now.
  void OnUnauthorized();

  const StoredToken& token() const { return token_; }
  const std::string& access_token() const { return token_.access_token; }
  const std::string& login() const { return token_.login; }
  const std::string& user_id() const { return token_.user_id; }
  /// --client-id, else the token's own.
  const std::string& client_id() const;
  /// Names the token in messages: "login L", "FILE" or "TWITCH_TOKEN"; never the token.
  std::string Describe() const;

 private:
  // Takes |cur| (the store file read under its lock) unless it must be refreshed.
  bool TakeStored(const StoredToken& cur, bool forced, int64_t min_valid_s);
  // Stores and takes the answer of a refresh of |cur|.
  AuthFailure StoreGrant(const StoredToken& cur, AuthFailure f, const TokenGrant& g,
                         const std::string& why, std::string* err);
  AuthFailure RefreshLocked(bool forced, int64_t min_valid_s, std::string* err);
  AuthFailure RenewApp(std::string* err);
  // False with |err| when a new token could not be stored (CheckTokenFileWritable): then Twitch
  // is not asked, so the stored refresh token is not spent.
  bool CheckStoreWritable(std::string* err) const;
  // Takes the store file's lock for a refresh; false with |err| saying the token is unchanged.
  bool LockStore(TokenFileLock* lock, std::string* err) const;
  void Schedule(int64_t delay_ms);
  void ScheduleNext();
  static void OnTimer(lws_sorted_usec_list_t* sul) noexcept;
  void Tick();
  void LoopValidate();
  void LoopRefresh();
  void Fail(AuthFailure f, const std::string& err);

  TwitchAuthOptions opts_;
  TwitchOAuth oauth_;
  Source source_ = Source::kNone;
  std::string path_;
  std::string client_secret_;
  StoredToken token_;
  int64_t validated_ms_ = 0;  // steady clock of the last good validation
  struct lws_context* context_ = nullptr;
  HttpClient* loop_http_ = nullptr;
  std::function<void()> on_changed_;
  std::function<void(AuthFailure, const std::string&)> on_failed_;
  LoopTimer<TokenProvider> timer_{};
  TokenFileLock loop_lock_;      // held while a refresh on the loop is in flight
  bool busy_ = false;            // a request of Watch() is in flight
  bool refresh_forced_ = false;  // a 401 asked for a refresh
};
