// Helix's EventSub subscriptions and user lookup (see helix_eventsub.h).
#include "twitch/helix_eventsub.h"

#include <curl/curl.h>

#include <memory>

#include "core/exit_status.h"
#include "twitch/eventsub_types.h"
#include "twitch/token_provider.h"

namespace {

// Adds key=value (percent-encoded by libcurl, which needs no handle for it since 7.82) to the
// query of |url|; nothing for an empty value.
void AddQuery(std::string* url, const char* key, const std::string& value) {
  if (value.empty()) return;
  char* e = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
  *url += url->find('?') == std::string::npos ? '?' : '&';
  *url += key;
  *url += '=';
  *url += e ? e : "";
  curl_free(e);
}

int64_t IntegerOr(json_t* obj, const char* key, int64_t fallback) {
  json_t* v = json_object_get(obj, key);
  return json_is_integer(v) ? json_integer_value(v) : fallback;
}

// Runs the request |build| makes with the provider's current token; after a 401, refreshes once
// and runs it again. A failed refresh is added to the 401's error.
template <typename Build>
HttpResponse PerformRefreshing(HttpClient* http, TokenProvider* tokens, Build build,
                               std::string* note) {
  HttpResponse r = http->Perform(build(HelixAuth::From(*tokens)));
  if (r.ok() || r.status != 401) return r;
  std::string err;
  if (tokens->Refresh(&err) != AuthFailure::kNone) {
    *note = "; refreshing the token failed: " + err;
    return r;
  }
  return http->Perform(build(HelixAuth::From(*tokens)));
}

HelixResult WithNote(HelixResult res, const std::string& note) {
  if (!res.ok()) res.error += note;
  return res;
}

}  // namespace

int HelixExitStatus(HelixOutcome o) {
  switch (o) {
    case HelixOutcome::kOk:
      return kExitOk;
    case HelixOutcome::kUnauthorized:
      return kExitCredentials;
    default:
      return kExitFailure;
  }
}

HelixResult ClassifyHelixResponse(const HttpResponse& r) {
  HelixResult res;
  res.status = r.status;
  res.message = r.message;
  res.error = r.error;
  switch (r.failure) {
    case HttpFailure::kNone:
      res.outcome = HelixOutcome::kOk;
      return res;
    case HttpFailure::kNetwork:
      res.outcome = HelixOutcome::kTransient;
      return res;
    case HttpFailure::kFatal:
      res.outcome = HelixOutcome::kOther;
      return res;
    case HttpFailure::kStatus:
      break;
  }
  switch (r.status) {
    case 401:
      res.outcome = HelixOutcome::kUnauthorized;
      break;
    case 403:
      res.outcome = HelixOutcome::kForbidden;
      break;
    case 404:
      res.outcome = HelixOutcome::kNotFound;
      break;
    case 409:
      res.outcome = HelixOutcome::kConflict;
      break;
    case 429:
      res.outcome = HelixOutcome::kRateLimited;
      break;
    default:
      res.outcome = r.status >= 500 ? HelixOutcome::kTransient : HelixOutcome::kOther;
  }
  return res;
}

HelixAuth HelixAuth::From(const TokenProvider& provider) {
  return HelixAuth{provider.client_id(), provider.access_token()};
}

bool ReadEventSubSubscription(json_t* j, EventSubSubscription* out) {
  if (!json_is_object(j)) return false;
  out->id = JsonString(j, "id");
  out->status = JsonString(j, "status");
  out->type = JsonString(j, "type");
  out->version = JsonString(j, "version");
  out->created_at = JsonString(j, "created_at");
  out->cost = IntegerOr(j, "cost", 0);
  json_t* c = json_object_get(j, "condition");
  out->condition = json_is_object(c) ? JsonRef(c) : JsonOwn(json_object());
  json_t* t = json_object_get(j, "transport");
  out->transport = EventSubTransport{};
  out->transport.method = JsonString(t, "method");
  out->transport.session_id = JsonString(t, "session_id");
  out->transport.callback = JsonString(t, "callback");
  out->transport.conduit_id = JsonString(t, "conduit_id");
  out->transport.connected_at = JsonString(t, "connected_at");
  out->transport.disconnected_at = JsonString(t, "disconnected_at");
  out->raw = JsonRef(j);
  return !out->id.empty() && !out->type.empty();
}

HelixEventSub::HelixEventSub(std::string api_url) : api_url_(std::move(api_url)) {
  while (!api_url_.empty() && api_url_.back() == '/') api_url_.pop_back();
}

HttpRequest HelixEventSub::Base(const HelixAuth& auth, const char* method, std::string path) const {
  HttpRequest req;
  req.method = method;
  req.url = api_url_ + path;
  req.client_id = auth.client_id;
  req.token = auth.token;
  return req;
}

HttpRequest HelixEventSub::CreateRequest(const HelixAuth& auth, const EventSubCreate& what) const {
  HttpRequest req = Base(auth, "POST", "/eventsub/subscriptions");
  JsonPtr body = JsonOwn(json_object());
  json_object_set_new(body.get(), "type", json_string(what.type.c_str()));
  json_object_set_new(body.get(), "version", json_string(what.version.c_str()));
  json_object_set_new(body.get(), "condition",
                      what.condition ? json_incref(what.condition.get()) : json_object());
  json_t* t = json_object();
  const EventSubTransport& tr = what.transport;
  json_object_set_new(t, "method", json_string(tr.method.c_str()));
  if (tr.method == "websocket") {
    json_object_set_new(t, "session_id", json_string(tr.session_id.c_str()));
  }
  if (tr.method == "webhook") {
    json_object_set_new(t, "callback", json_string(tr.callback.c_str()));
    json_object_set_new(t, "secret", json_string(tr.secret.c_str()));
  }
  if (tr.method == "conduit") {
    json_object_set_new(t, "conduit_id", json_string(tr.conduit_id.c_str()));
  }
  json_object_set_new(body.get(), "transport", t);
  req.json = JsonDump(body.get());
  return req;
}

HelixResult HelixEventSub::ReadCreate(const HttpResponse& r, const EventSubCreate& what,
                                      EventSubSubscription* out) {
  HelixResult res = ClassifyHelixResponse(r);
  std::string name = what.type + " v" + what.version;
  if (res.outcome == HelixOutcome::kForbidden) {
    const EventSubTypeSpec* spec = FindEventSubType(what.type);
    res.error +=
        spec && !spec->scopes.empty()
            ? "; " + what.type + " needs the scope " + DescribeScopes(*spec)
            : "; " + name + ": a scope is missing, or the user never authorized this client";
    // Chat over an app token (webhook, conduit): Twitch also wants the bot scopes.
    if (what.type.rfind("channel.chat.", 0) == 0 && what.transport.method != "websocket") {
      res.error += "; over a " + what.transport.method +
                   " also user:bot from the reading user, and channel:bot from the broadcaster "
                   "(or the reading user a moderator of the channel)";
    }
  } else if (res.outcome == HelixOutcome::kUnauthorized && what.transport.method != "websocket") {
    res.error +=
        "; a " + what.transport.method + " subscription needs an app token (twitch-auth app)";
  } else if (res.outcome == HelixOutcome::kUnauthorized) {
    res.error += "; a websocket subscription needs a user token (twitch-auth login)";
  } else if (res.outcome == HelixOutcome::kConflict) {
    res.error += "; a subscription to " + name + " with this condition exists already";
  }
  if (!res.ok()) return res;
  json_t* data = json_object_get(r.json.get(), "data");
  if (!ReadEventSubSubscription(json_array_get(data, 0), out)) {
    res.outcome = HelixOutcome::kOther;
    res.error = "POST /eventsub/subscriptions: the answer has no subscription in \"data\"";
  }
  return res;
}

HttpRequest HelixEventSub::ListRequest(const HelixAuth& auth, const EventSubFilter& filter,
                                       const std::string& cursor) const {
  HttpRequest req = Base(auth, "GET", "/eventsub/subscriptions");
  AddQuery(&req.url, "status", filter.status);
  AddQuery(&req.url, "type", filter.type);
  AddQuery(&req.url, "user_id", filter.user_id);
  AddQuery(&req.url, "subscription_id", filter.subscription_id);
  AddQuery(&req.url, "after", cursor);
  return req;
}

HelixResult HelixEventSub::ReadListPage(const HttpResponse& r, EventSubList* out,
                                        std::string* cursor) {
  cursor->clear();
  HelixResult res = ClassifyHelixResponse(r);
  if (!res.ok()) return res;
  json_t* j = r.json.get();
  json_t* data = json_object_get(j, "data");
  if (!json_is_array(data)) {
    res.outcome = HelixOutcome::kOther;
    res.error = "GET /eventsub/subscriptions: the answer has no \"data\" array";
    return res;
  }
  size_t i;
  json_t* s;
  json_array_foreach(data, i, s) {
    EventSubSubscription sub;
    if (ReadEventSubSubscription(s, &sub)) out->subscriptions.push_back(std::move(sub));
  }
  out->total = IntegerOr(j, "total", out->total);
  out->total_cost = IntegerOr(j, "total_cost", out->total_cost);
  out->max_total_cost = IntegerOr(j, "max_total_cost", out->max_total_cost);
  *cursor = JsonString(json_object_get(j, "pagination"), "cursor");
  return res;
}

HttpRequest HelixEventSub::DeleteRequest(const HelixAuth& auth, const std::string& id) const {
  HttpRequest req = Base(auth, "DELETE", "/eventsub/subscriptions");
  AddQuery(&req.url, "id", id);
  return req;
}

HelixResult HelixEventSub::ReadDelete(const HttpResponse& r) { return ClassifyHelixResponse(r); }

HttpRequest HelixEventSub::CreateConduitRequest(const HelixAuth& auth, int64_t shard_count) const {
  HttpRequest req = Base(auth, "POST", "/eventsub/conduits");
  JsonPtr body = JsonOwn(json_object());
  json_object_set_new(body.get(), "shard_count", json_integer(shard_count));
  req.json = JsonDump(body.get());
  return req;
}

HttpRequest HelixEventSub::ListConduitsRequest(const HelixAuth& auth) const {
  return Base(auth, "GET", "/eventsub/conduits");
}

HelixResult HelixEventSub::ReadConduits(const HttpResponse& r, std::vector<HelixConduit>* out) {
  HelixResult res = ClassifyHelixResponse(r);
  if (res.outcome == HelixOutcome::kUnauthorized) {
    res.error += "; conduits need an app token (twitch-auth app)";
  } else if (res.outcome == HelixOutcome::kRateLimited) {
    res.error += "; Twitch allows " + std::to_string(kMaxConduitsPerClient) +
                 " conduits per client id: reuse one with --conduit ID";
  }
  if (!res.ok()) return res;
  size_t i;
  json_t* c;
  json_array_foreach(json_object_get(r.json.get(), "data"), i, c) {
    HelixConduit h{JsonString(c, "id"), IntegerOr(c, "shard_count", 0)};
    if (!h.id.empty()) out->push_back(h);
  }
  return res;
}

HttpRequest HelixEventSub::UpdateShardsRequest(const HelixAuth& auth, const std::string& conduit_id,
                                               const std::vector<ConduitShard>& shards) const {
  HttpRequest req = Base(auth, "PATCH", "/eventsub/conduits/shards");
  JsonPtr body = JsonOwn(json_object());
  json_object_set_new(body.get(), "conduit_id", json_string(conduit_id.c_str()));
  json_t* list = json_array();
  for (const ConduitShard& s : shards) {
    json_t* t = json_object();
    json_object_set_new(t, "method", json_string(s.transport.method.c_str()));
    if (s.transport.method == "websocket") {
      json_object_set_new(t, "session_id", json_string(s.transport.session_id.c_str()));
    } else {
      json_object_set_new(t, "callback", json_string(s.transport.callback.c_str()));
      json_object_set_new(t, "secret", json_string(s.transport.secret.c_str()));
    }
    json_t* o = json_object();
    json_object_set_new(o, "id", json_string(s.id.c_str()));
    json_object_set_new(o, "transport", t);
    json_array_append_new(list, o);
  }
  json_object_set_new(body.get(), "shards", list);
  req.json = JsonDump(body.get());
  return req;
}

HelixResult HelixEventSub::ReadUpdateShards(const HttpResponse& r,
                                            std::vector<ConduitShard>* updated,
                                            std::vector<ConduitShardError>* errors) {
  HelixResult res = ClassifyHelixResponse(r);
  if (res.outcome == HelixOutcome::kNotFound) {
    res.error +=
        "; Twitch knows no conduit of this id for the client id (GET /eventsub/conduits "
        "lists them; --conduit new makes one)";
  } else if (res.outcome == HelixOutcome::kUnauthorized) {
    res.error += "; conduits need an app token (twitch-auth app)";
  }
  if (!res.ok()) return res;
  size_t i;
  json_t* j;
  json_array_foreach(json_object_get(r.json.get(), "data"), i, j) {
    json_t* t = json_object_get(j, "transport");
    ConduitShard s;
    s.id = JsonString(j, "id");
    s.status = JsonString(j, "status");
    s.transport.method = JsonString(t, "method");
    s.transport.session_id = JsonString(t, "session_id");
    s.transport.callback = JsonString(t, "callback");
    s.transport.connected_at = JsonString(t, "connected_at");
    s.transport.disconnected_at = JsonString(t, "disconnected_at");
    updated->push_back(std::move(s));
  }
  json_array_foreach(json_object_get(r.json.get(), "errors"), i, j) {
    errors->push_back({JsonString(j, "id"), JsonString(j, "message"), JsonString(j, "code")});
  }
  return res;
}

HttpRequest HelixEventSub::UserRequest(const HelixAuth& auth, const std::string& login) const {
  HttpRequest req = Base(auth, "GET", "/users");
  AddQuery(&req.url, "login", login);
  return req;
}

HelixResult HelixEventSub::ReadUser(const HttpResponse& r, const std::string& login,
                                    HelixUser* out) {
  HelixResult res = ClassifyHelixResponse(r);
  if (!res.ok()) return res;
  json_t* u = json_array_get(json_object_get(r.json.get(), "data"), 0);
  out->id = JsonString(u, "id");
  out->login = JsonString(u, "login");
  out->display_name = JsonString(u, "display_name");
  if (out->id.empty()) {
    res.outcome = HelixOutcome::kNotFound;
    res.status = r.status;
    res.error = "GET /users: no Twitch user has the login \"" + login + "\"";
  }
  return res;
}

HelixResult HelixEventSub::Create(HttpClient* http, TokenProvider* tokens,
                                  const EventSubCreate& what, EventSubSubscription* out) {
  std::string note;
  HttpResponse r = PerformRefreshing(
      http, tokens, [&](const HelixAuth& a) { return CreateRequest(a, what); }, &note);
  return WithNote(ReadCreate(r, what, out), note);
}

HelixResult HelixEventSub::List(HttpClient* http, TokenProvider* tokens,
                                const EventSubFilter& filter, EventSubList* out) {
  std::string cursor;
  do {
    std::string note;
    std::string after = cursor;
    HttpResponse r = PerformRefreshing(
        http, tokens, [&](const HelixAuth& a) { return ListRequest(a, filter, after); }, &note);
    HelixResult res = WithNote(ReadListPage(r, out, &cursor), note);
    if (!res.ok()) return res;
  } while (!cursor.empty());
  return HelixResult{};
}

HelixResult HelixEventSub::Delete(HttpClient* http, TokenProvider* tokens, const std::string& id) {
  std::string note;
  HttpResponse r = PerformRefreshing(
      http, tokens, [&](const HelixAuth& a) { return DeleteRequest(a, id); }, &note);
  return WithNote(ReadDelete(r), note);
}

HelixResult HelixEventSub::CreateConduit(HttpClient* http, TokenProvider* tokens,
                                         int64_t shard_count, HelixConduit* out) {
  std::string note;
  HttpResponse r = PerformRefreshing(
      http, tokens, [&](const HelixAuth& a) { return CreateConduitRequest(a, shard_count); },
      &note);
  std::vector<HelixConduit> got;
  HelixResult res = WithNote(ReadConduits(r, &got), note);
  if (res.ok() && got.empty()) {
    res.outcome = HelixOutcome::kOther;
    res.error = "POST /eventsub/conduits: the answer has no conduit in \"data\"";
  }
  if (res.ok()) *out = got.front();
  return res;
}

HelixResult HelixEventSub::ListConduits(HttpClient* http, TokenProvider* tokens,
                                        std::vector<HelixConduit>* out) {
  std::string note;
  HttpResponse r = PerformRefreshing(
      http, tokens, [&](const HelixAuth& a) { return ListConduitsRequest(a); }, &note);
  return WithNote(ReadConduits(r, out), note);
}

HelixResult HelixEventSub::LookupUsers(HttpClient* http, TokenProvider* tokens,
                                       const std::vector<std::string>& logins,
                                       std::vector<HelixUser>* out) {
  for (size_t start = 0; start < logins.size(); start += 100) {
    std::string note;
    HttpResponse r = PerformRefreshing(
        http, tokens,
        [&](const HelixAuth& a) {
          HttpRequest req = Base(a, "GET", "/users");
          for (size_t i = start; i < logins.size() && i < start + 100; ++i) {
            AddQuery(&req.url, "login", logins[i]);
          }
          return req;
        },
        &note);
    HelixResult res = WithNote(ClassifyHelixResponse(r), note);
    if (!res.ok()) return res;
    size_t i;
    json_t* u;
    json_array_foreach(json_object_get(r.json.get(), "data"), i, u) {
      HelixUser h{JsonString(u, "id"), JsonString(u, "login"), JsonString(u, "display_name")};
      if (!h.id.empty()) out->push_back(h);
    }
  }
  return HelixResult{};
}

HelixResult HelixEventSub::LookupUser(HttpClient* http, TokenProvider* tokens,
                                      const std::string& login, HelixUser* out) {
  std::string note;
  HttpResponse r = PerformRefreshing(
      http, tokens, [&](const HelixAuth& a) { return UserRequest(a, login); }, &note);
  return WithNote(ReadUser(r, login, out), note);
}

namespace {

// The state of one StartList() between its pages.
struct LoopList {
  const HelixEventSub* helix;
  HttpClient* http;
  HelixAuth auth;
  EventSubFilter filter;
  std::function<void(HelixResult, EventSubList)> done;
  EventSubList list;
};

void NextPage(std::shared_ptr<LoopList> st, const std::string& cursor) {
  HttpRequest req = st->helix->ListRequest(st->auth, st->filter, cursor);
  st->http->Start(std::move(req), [st](HttpResponse r) {
    std::string next;
    HelixResult res = HelixEventSub::ReadListPage(r, &st->list, &next);
    if (res.ok() && !next.empty()) return NextPage(st, next);
    st->done(std::move(res), std::move(st->list));
  });
}

}  // namespace

void HelixEventSub::StartList(HttpClient* http, const HelixAuth& auth, const EventSubFilter& filter,
                              std::function<void(HelixResult, EventSubList)> done) const {
  auto st = std::make_shared<LoopList>(LoopList{this, http, auth, filter, std::move(done), {}});
  NextPage(st, "");
}
