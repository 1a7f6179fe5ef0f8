// EventSub subscriptions through Helix (POST/GET/DELETE {api_url}/eventsub/subscriptions) and the
// login → user id lookup (GET /users), and the conduits a twitch-eventsub shard attaches to
// (POST/GET /eventsub/conduits, PATCH /eventsub/conduits/shards, app token; section 3.7), on
// lib/http's HttpClient (twitch-protocols.md section 5).
//
// Each call is a request builder and a reader of its answer, so the same code runs blocking
// (HttpClient::Perform, one-shot commands) and on the loop (HttpClient::Start: twitch-eventsub
// subscribes while its socket keeps being read). The blocking forms put the two together and, on
// a 401, refresh the token once through the TokenProvider and try again; on the loop the caller
// does that (TokenProvider::OnUnauthorized) and calls again.
//
// The outcomes a caller must tell apart (HelixOutcome): a 403 names the scope the type needs, a
// 409 is "the same type and condition exists" (twitch-eventsub reads it as an orphan of a dead
// session), a 429 came after HttpClient already waited for Ratelimit-Reset. A webhook secret goes
// into the request body only: never into an error text or a log line.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "http/client.h"

class TokenProvider;

/// How a Helix call ended, for its caller.
enum class HelixOutcome {
  kOk,
  kUnauthorized,  ///< 401: the token (refresh it and try once more), or the wrong kind of token
  kForbidden,     ///< 403: a scope is missing (the error names it)
  kConflict,      ///< 409: a subscription of this type and condition exists
  kRateLimited,   ///< 429 after waiting for Ratelimit-Reset, or too many of one type+condition
  kNotFound,      ///< 404 (a subscription id), or a login that Twitch does not know
  kTransient,     ///< no answer, or 5xx, after HttpClient's retries
  kOther,         ///< any other refusal (400 bad condition or version, 410 version removed, ...)
};

/// The exit status (exit_status.h) that |o| ends a one-shot command with: 3 for kUnauthorized,
/// 1 for the others (0 for kOk).
int HelixExitStatus(HelixOutcome o);

/// The outcome of one call.
struct HelixResult {
  HelixOutcome outcome = HelixOutcome::kOk;
  long status = 0;      ///< the HTTP status; 0 when none came
  std::string message;  ///< Twitch's error message
  std::string error;    ///< "<METHOD> <url>: HTTP 403: <message>[; <hint>]" unless kOk
  bool ok() const { return outcome == HelixOutcome::kOk; }
};

/// Sorts a finished |r| into an outcome (error text as HttpResponse's).
HelixResult ClassifyHelixResponse(const HttpResponse& r);

/// The Client-Id and token a call is made with (TokenProvider has both).
struct HelixAuth {
  std::string client_id;
  std::string token;  ///< secret
  /// The provider's current client id and token.
  static HelixAuth From(const TokenProvider& provider);
};

/// Where a subscription's events go.
struct EventSubTransport {
  std::string method;      ///< "websocket", "webhook" or "conduit"
  std::string session_id;  ///< websocket
  std::string callback;    ///< webhook
  std::string secret;      ///< webhook, when creating only (Twitch never returns it); secret
  std::string conduit_id;  ///< conduit
  std::string connected_at, disconnected_at;  ///< websocket, as Twitch returns them
};

/// One subscription as Twitch returns it.
struct EventSubSubscription {
  std::string id, status, type, version, created_at;
  JsonPtr condition;  ///< the object
  EventSubTransport transport;
  int64_t cost = 0;
  JsonPtr raw;  ///< the whole object of Twitch's "data" (NDJSON output; it holds no secret)
};

/// What Create() asks for.
struct EventSubCreate {
  std::string type;
  std::string version;
  JsonPtr condition;  ///< an object
  EventSubTransport transport;
};

/// The filters of List() (Twitch takes at most one of status and type).
struct EventSubFilter {
  std::string status;
  std::string type;
  std::string user_id;
  std::string subscription_id;
};

/// Subscriptions listed, every page read, with the totals of the last page.
struct EventSubList {
  std::vector<EventSubSubscription> subscriptions;
  int64_t total = 0;
  int64_t total_cost = 0;
  int64_t max_total_cost = 0;
};

/// A user from GET /users.
struct HelixUser {
  std::string id, login, display_name;
};

/// A conduit as Twitch returns it.
struct HelixConduit {
  std::string id;
  int64_t shard_count = 0;
};

/// Twitch's limits on conduits: shards per conduit, enabled conduits per client id.
constexpr int64_t kMaxConduitShards = 20000;
constexpr int kMaxConduitsPerClient = 5;

/// One shard of a conduit: what PATCH /eventsub/conduits/shards sets, and what it answers.
struct ConduitShard {
  std::string id;      ///< "0" .. shard_count-1
  std::string status;  ///< answers: "enabled", "websocket_disconnected", ...
  EventSubTransport transport;
};

/// A shard the PATCH did not update (its "errors").
struct ConduitShardError {
  std::string id, message, code;
};

/// Reads a subscription object of Twitch's answers. False when |j| lacks id or type.
bool ReadEventSubSubscription(json_t* j, EventSubSubscription* out);

/// The Helix EventSub calls at |api_url| ("https://api.twitch.tv/helix" or a fake's).
class HelixEventSub {
 public:
  explicit HelixEventSub(std::string api_url);

  /// POST /eventsub/subscriptions with |what| (type, version, condition, transport).
  HttpRequest CreateRequest(const HelixAuth& auth, const EventSubCreate& what) const;
  /// Reads its answer (202) into |out|. A 403 error says which scope |type| needs (from
  /// eventsub_types' table), a 401 for a webhook that it needs an app token.
  static HelixResult ReadCreate(const HttpResponse& r, const EventSubCreate& what,
                                EventSubSubscription* out);

  /// GET /eventsub/subscriptions with |filter|, the page after |cursor| ("" for the first).
  HttpRequest ListRequest(const HelixAuth& auth, const EventSubFilter& filter,
                          const std::string& cursor) const;
  /// Reads one page: appends its subscriptions to |out|, takes its totals, and sets |cursor| to
  /// the next page's ("" on the last).
  static HelixResult ReadListPage(const HttpResponse& r, EventSubList* out, std::string* cursor);

  /// DELETE /eventsub/subscriptions?id=|id|.
  HttpRequest DeleteRequest(const HelixAuth& auth, const std::string& id) const;
  /// Reads its answer (204); 404 is kNotFound.
  static HelixResult ReadDelete(const HttpResponse& r);

  /// POST /eventsub/conduits {"shard_count":|shard_count|}.
  HttpRequest CreateConduitRequest(const HelixAuth& auth, int64_t shard_count) const;
  /// GET /eventsub/conduits: the client's conduits.
  HttpRequest ListConduitsRequest(const HelixAuth& auth) const;
  /// Reads the answer of either (200 {"data":[{id, shard_count}]}) into |out|. A 401 says that
  /// conduits need an app token; a 429 of the creation, that Twitch allows 5 per client id.
  static HelixResult ReadConduits(const HttpResponse& r, std::vector<HelixConduit>* out);

  /// PATCH /eventsub/conduits/shards: |shards| (id and transport) of |conduit_id|.
  HttpRequest UpdateShardsRequest(const HelixAuth& auth, const std::string& conduit_id,
                                  const std::vector<ConduitShard>& shards) const;
  /// Reads its answer (202): the shards updated into |updated|, those refused into |errors|
  /// (a shard id over the shard count, a session Twitch does not know). A 404 is an unknown
  /// conduit (the error says so).
  static HelixResult ReadUpdateShards(const HttpResponse& r, std::vector<ConduitShard>* updated,
                                      std::vector<ConduitShardError>* errors);

  /// GET /users?login=|login|.
  HttpRequest UserRequest(const HelixAuth& auth, const std::string& login) const;
  /// Reads its answer; kNotFound (with an error naming |login|) when Twitch does not know it.
  static HelixResult ReadUser(const HttpResponse& r, const std::string& login, HelixUser* out);

  // Blocking forms: each refreshes |tokens| once after a 401 and tries again.

  /// Creates a conduit of |shard_count| shards (blocking).
  HelixResult CreateConduit(HttpClient* http, TokenProvider* tokens, int64_t shard_count,
                            HelixConduit* out);
  /// Lists the client's conduits (blocking).
  HelixResult ListConduits(HttpClient* http, TokenProvider* tokens, std::vector<HelixConduit>* out);
  /// Looks up |logins|, 100 a request (blocking): |out| gets the users Twitch knows, in its
  /// order; a login it does not know is absent.
  HelixResult LookupUsers(HttpClient* http, TokenProvider* tokens,
                          const std::vector<std::string>& logins, std::vector<HelixUser>* out);

  /// Creates a subscription (blocking).
  HelixResult Create(HttpClient* http, TokenProvider* tokens, const EventSubCreate& what,
                     EventSubSubscription* out);
  /// Lists every page (blocking).
  HelixResult List(HttpClient* http, TokenProvider* tokens, const EventSubFilter& filter,
                   EventSubList* out);
  /// Deletes one subscription (blocking).
  HelixResult Delete(HttpClient* http, TokenProvider* tokens, const std::string& id);
  /// Looks up |login| (blocking).
  HelixResult LookupUser(HttpClient* http, TokenProvider* tokens, const std::string& login,
                         HelixUser* out);

  /// On the loop: lists every page with |auth|, following the cursors, then calls |done| with
  /// the outcome and what was read (the pages read so far when a page failed). |http| must be
  /// attached; this object must outlive the call.
  void StartList(HttpClient* http, const HelixAuth& auth, const EventSubFilter& filter,
                 std::function<void(HelixResult, EventSubList)> done) const;

  const std::string& api_url() const { return api_url_; }

 private:
  HttpRequest Base(const HelixAuth& auth, const char* method, std::string path) const;

  std::string api_url_;
};
