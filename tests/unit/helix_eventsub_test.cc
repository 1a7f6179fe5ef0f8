// Unit tests of lib/twitch/helix_eventsub and eventsub_types against the scripted HTTP server: the
// create body for each transport, the answer read, 401/403/409/429/404/5xx told apart (the 403
// naming the scope), pagination followed blocking and from the loop, the user lookup; the alert
// type table and the --subscribe parser; conduits created and listed, shards attached (the
// updated and refused ones read).
#include "twitch/helix_eventsub.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_test_server.h"
#include "twitch/eventsub_types.h"

namespace {

HttpClientOptions Fast() {
  HttpClientOptions o;
  o.retry_base_ms = 10;
  o.max_attempts = 2;
  o.timeout_ms = 2000;
  return o;
}

const char kSub[] =
    "{\"id\":\"s1\",\"status\":\"enabled\",\"type\":\"channel.follow\",\"version\":\"2\","
    "\"condition\":{\"broadcaster_user_id\":\"7\",\"moderator_user_id\":\"7\"},"
    "\"transport\":{\"method\":\"websocket\",\"session_id\":\"S\",\"connected_at\":\"t0\"},"
    "\"created_at\":\"t1\",\"cost\":0}";

std::string Body(const std::string& req) { return req.substr(req.find("\r\n\r\n") + 4); }

EventSubCreate Follow(const std::string& method) {
  EventSubCreate c;
  c.type = "channel.follow";
  c.version = "2";
  c.condition = BuildCondition(*FindEventSubType("channel.follow"), "7", "8");
  c.transport.method = method;
  c.transport.session_id = "S";
  c.transport.callback = "https://h.example/eventsub";
  c.transport.secret = "s3cretvalue1";
  c.transport.conduit_id = "C";
  return c;
}

TEST(HelixEventSubTest, CreateSendsTypeConditionAndTransportAndReadsTheSubscription) {
  ScriptedServer server(
      {{Reply(202, std::string("{\"data\":[") + kSub +
                       "],\"total\":1,\"total_cost\":0,\"max_total_cost\":10}")}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix/"));
  EventSubCreate what = Follow("websocket");
  HttpResponse r = http.Perform(helix.CreateRequest({"cid", "tok"}, what));
  EventSubSubscription sub;
  HelixResult res = HelixEventSub::ReadCreate(r, what, &sub);
  ASSERT_TRUE(res.ok()) << res.error;
  EXPECT_EQ(sub.id, "s1");
  EXPECT_EQ(sub.status, "enabled");
  EXPECT_EQ(sub.version, "2");
  EXPECT_EQ(sub.transport.session_id, "S");
  EXPECT_EQ(sub.transport.connected_at, "t0");
  EXPECT_EQ(sub.created_at, "t1");
  EXPECT_EQ(JsonString(sub.condition.get(), "moderator_user_id"), "7");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("POST /helix/eventsub/subscriptions HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_NE(reqs[0].find("Client-Id: cid\r\n"), std::string::npos);
  EXPECT_NE(reqs[0].find("Authorization: Bearer tok\r\n"), std::string::npos);
  EXPECT_EQ(Body(reqs[0]),
            "{\"type\":\"channel.follow\",\"version\":\"2\",\"condition\":{\"broadcaster_user_id\":"
            "\"7\",\"moderator_user_id\":\"8\"},\"transport\":{\"method\":\"websocket\","
            "\"session_id\":\"S\"}}");
}

TEST(HelixEventSubTest, WebhookAndConduitTransports) {
  HelixEventSub helix("https://api.example/helix");
  HttpRequest w = helix.CreateRequest({"c", "t"}, Follow("webhook"));
  EXPECT_NE(w.json.find("\"transport\":{\"method\":\"webhook\",\"callback\":\"https://"
                        "h.example/eventsub\",\"secret\":\"s3cretvalue1\"}"),
            std::string::npos)
      << w.json;
  HttpRequest c = helix.CreateRequest({"c", "t"}, Follow("conduit"));
  EXPECT_NE(c.json.find("\"transport\":{\"method\":\"conduit\",\"conduit_id\":\"C\"}"),
            std::string::npos)
      << c.json;
}

TEST(HelixEventSubTest, OutcomesAreToldApart) {
  ScriptedServer server({
      {Reply(401, "{\"status\":401,\"message\":\"Invalid OAuth token\"}")},
      {Reply(403, "{\"status\":403,\"message\":\"subscription missing proper authorization\"}")},
      {Reply(409, "{\"status\":409,\"message\":\"subscription already exists\"}")},
      {Reply(400, "{\"status\":400,\"message\":\"invalid transport\"}")},
      {Reply(401, "{\"status\":401,\"message\":\"Invalid OAuth token\"}")},
  });
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  EventSubCreate what = Follow("websocket");
  EventSubSubscription sub;
  auto create = [&](const EventSubCreate& w) {
    return HelixEventSub::ReadCreate(http.Perform(helix.CreateRequest({"c", "t"}, w)), w, &sub);
  };
  HelixResult a = create(what);
  EXPECT_EQ(a.outcome, HelixOutcome::kUnauthorized);
  EXPECT_EQ(HelixExitStatus(a.outcome), 3);
  EXPECT_NE(a.error.find("HTTP 401: Invalid OAuth token"), std::string::npos) << a.error;
  HelixResult b = create(what);
  EXPECT_EQ(b.outcome, HelixOutcome::kForbidden);
  EXPECT_NE(b.error.find("channel.follow needs the scope moderator:read:followers"),
            std::string::npos)
      << b.error;
  HelixResult c = create(what);
  EXPECT_EQ(c.outcome, HelixOutcome::kConflict);
  EXPECT_EQ(HelixExitStatus(c.outcome), 1);
  EXPECT_EQ(create(what).outcome, HelixOutcome::kOther);
  HelixResult e = create(Follow("webhook"));
  EXPECT_NE(e.error.find("needs an app token (twitch-auth app)"), std::string::npos) << e.error;
  EXPECT_EQ(e.error.find("s3cretvalue1"), std::string::npos);
}

TEST(HelixEventSubTest, AForbiddenChatSubscriptionOverAnAppTokenNamesTheBotScopes) {
  const char* forbidden =
      "{\"status\":403,\"message\":\"subscription missing proper authorization\"}";
  ScriptedServer server(
      {{Reply(403, forbidden)}, {Reply(403, forbidden)}, {Reply(403, forbidden)}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  EventSubSubscription sub;
  auto create = [&](const std::string& method) {
    EventSubCreate w = Follow(method);
    w.type = "channel.chat.notification";
    w.version = "1";
    w.condition = BuildCondition(*FindEventSubType(w.type), "7", "8");
    return HelixEventSub::ReadCreate(http.Perform(helix.CreateRequest({"c", "t"}, w)), w, &sub);
  };
  for (const char* method : {"webhook", "conduit"}) {
    HelixResult r = create(method);
    EXPECT_EQ(r.outcome, HelixOutcome::kForbidden);
    EXPECT_NE(r.error.find("channel.chat.notification needs the scope user:read:chat"),
              std::string::npos)
        << r.error;
    EXPECT_NE(r.error.find(std::string("over a ") + method +
                           " also user:bot from the reading user, "
                           "and channel:bot from the broadcaster"),
              std::string::npos)
        << r.error;
  }
  HelixResult ws = create("websocket");
  EXPECT_EQ(ws.error.find("user:bot"), std::string::npos) << ws.error;
}

TEST(HelixEventSubTest, RateLimitAndServerErrorAfterRetries) {
  ScriptedServer server(
      {{Reply(500, "{}")},
       {Reply(503, "{}")},
       {Reply(429, "{\"message\":\"Too Many Requests\"}", "Ratelimit-Reset: 0\r\n")},
       {Reply(429, "{\"message\":\"Too Many Requests\"}", "Ratelimit-Reset: 0\r\n")}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  EXPECT_EQ(HelixEventSub::ReadDelete(http.Perform(helix.DeleteRequest({"c", "t"}, "x"))).outcome,
            HelixOutcome::kTransient);
  EXPECT_EQ(HelixEventSub::ReadDelete(http.Perform(helix.DeleteRequest({"c", "t"}, "x"))).outcome,
            HelixOutcome::kRateLimited);
}

TEST(HelixEventSubTest, DeleteSendsTheIdAndTellsNotFound) {
  ScriptedServer server({{Reply(204, "")}, {Reply(404, "{\"message\":\"not found\"}")}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  EXPECT_TRUE(HelixEventSub::ReadDelete(http.Perform(helix.DeleteRequest({"c", "t"}, "a b"))).ok());
  EXPECT_EQ(HelixEventSub::ReadDelete(http.Perform(helix.DeleteRequest({"c", "t"}, "y"))).outcome,
            HelixOutcome::kNotFound);
  EXPECT_EQ(server.requests()[0].rfind("DELETE /helix/eventsub/subscriptions?id=a%20b ", 0), 0u)
      << server.requests()[0];
}

std::vector<Answer> TwoPages() {
  return {{Reply(200, std::string("{\"data\":[") + kSub +
                          "],\"total\":2,\"total_cost\":1,\"max_total_cost\":10,"
                          "\"pagination\":{\"cursor\":\"c+1\"}}")},
          {Reply(200, std::string("{\"data\":[") + kSub +
                          "],\"total\":2,\"total_cost\":1,\"max_total_cost\":10,"
                          "\"pagination\":{}}")}};
}

TEST(HelixEventSubTest, ListFollowsTheCursorWithTheFilters) {
  ScriptedServer server(TwoPages());
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  EventSubFilter f;
  f.status = "enabled";
  f.user_id = "7";
  EventSubList list;
  std::string cursor;
  ASSERT_TRUE(HelixEventSub::ReadListPage(http.Perform(helix.ListRequest({"c", "t"}, f, "")), &list,
                                          &cursor)
                  .ok());
  EXPECT_EQ(cursor, "c+1");
  ASSERT_TRUE(HelixEventSub::ReadListPage(http.Perform(helix.ListRequest({"c", "t"}, f, cursor)),
                                          &list, &cursor)
                  .ok());
  EXPECT_EQ(cursor, "");
  EXPECT_EQ(list.subscriptions.size(), 2u);
  EXPECT_EQ(list.total, 2);
  EXPECT_EQ(list.total_cost, 1);
  EXPECT_EQ(list.max_total_cost, 10);
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].rfind("GET /helix/eventsub/subscriptions?status=enabled&user_id=7 ", 0), 0u)
      << reqs[0];
  EXPECT_EQ(
      reqs[1].rfind("GET /helix/eventsub/subscriptions?status=enabled&user_id=7&after=c%2B1 ", 0),
      0u)
      << reqs[1];
}

TEST(HelixEventSubTest, LoopListReadsEveryPageWhileTheLoopRuns) {
  ScriptedServer server(TwoPages());
  TestLoop loop;
  HttpClient http(Fast());
  std::string err;
  ASSERT_TRUE(http.Attach(loop.context.get(), &err)) << err;
  HelixEventSub helix(server.url("/helix"));
  bool done = false;
  HelixResult got;
  EventSubList list;
  helix.StartList(&http, {"c", "t"}, {}, [&](HelixResult r, EventSubList l) {
    got = std::move(r);
    list = std::move(l);
    done = true;
  });
  loop.RunUntil([&] { return done; });
  ASSERT_TRUE(done);
  EXPECT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(list.subscriptions.size(), 2u);
  EXPECT_EQ(list.subscriptions[1].id, "s1");
}

TEST(HelixEventSubTest, UserLookup) {
  ScriptedServer server(
      {{Reply(200, "{\"data\":[{\"id\":\"777\",\"login\":\"maple\",\"display_name\":\"Maple\"}]}")},
       {Reply(200, "{\"data\":[]}")}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  HelixUser u;
  ASSERT_TRUE(
      HelixEventSub::ReadUser(http.Perform(helix.UserRequest({"c", "t"}, "maple")), "maple", &u)
          .ok());
  EXPECT_EQ(u.id, "777");
  EXPECT_EQ(u.display_name, "Maple");
  HelixResult none =
      HelixEventSub::ReadUser(http.Perform(helix.UserRequest({"c", "t"}, "nobody")), "nobody", &u);
  EXPECT_EQ(none.outcome, HelixOutcome::kNotFound);
  EXPECT_NE(none.error.find("no Twitch user has the login \"nobody\""), std::string::npos);
  EXPECT_EQ(server.requests()[0].rfind("GET /helix/users?login=maple ", 0), 0u);
}

TEST(HelixEventSubTest, ConduitsCreatedAndListedWithAnAppToken) {
  ScriptedServer server({{Reply(200, "{\"data\":[{\"id\":\"C1\",\"shard_count\":2}]}")},
                         {Reply(401, "{\"message\":\"app access token required\"}")},
                         {Reply(429, "{\"message\":\"conduit limit reached\"}")}});
  HttpClientOptions o = Fast();
  o.max_attempts = 1;
  HttpClient http(o);
  HelixEventSub helix(server.url("/helix"));
  std::vector<HelixConduit> got;
  ASSERT_TRUE(
      HelixEventSub::ReadConduits(http.Perform(helix.CreateConduitRequest({"c", "t"}, 2)), &got)
          .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "C1");
  EXPECT_EQ(got[0].shard_count, 2);
  EXPECT_EQ(Body(server.requests()[0]), "{\"shard_count\":2}");
  HelixResult user =
      HelixEventSub::ReadConduits(http.Perform(helix.ListConduitsRequest({"c", "t"})), &got);
  EXPECT_EQ(user.outcome, HelixOutcome::kUnauthorized);
  EXPECT_NE(user.error.find("conduits need an app token (twitch-auth app)"), std::string::npos);
  HelixResult many =
      HelixEventSub::ReadConduits(http.Perform(helix.CreateConduitRequest({"c", "t"}, 1)), &got);
  EXPECT_NE(many.error.find("Twitch allows 5 conduits per client id"), std::string::npos)
      << many.error;
  EXPECT_EQ(server.requests()[1].rfind("GET /helix/eventsub/conduits ", 0), 0u);
}

TEST(HelixEventSubTest, ShardUpdateSendsTheSessionAndReadsUpdatedAndRefusedShards) {
  ScriptedServer server(
      {{Reply(202,
              "{\"data\":[{\"id\":\"0\",\"status\":\"enabled\",\"transport\":{\"method\":"
              "\"websocket\",\"session_id\":\"S\",\"connected_at\":\"t0\"}}],"
              "\"errors\":[{\"id\":\"7\",\"message\":\"The shard id is outside the conduit's "
              "range\",\"code\":\"invalid_parameter\"}]}")},
       {Reply(404, "{\"message\":\"conduit not found\"}")}});
  HttpClient http(Fast());
  HelixEventSub helix(server.url("/helix"));
  ConduitShard zero, seven;
  zero.id = "0";
  zero.transport.method = seven.transport.method = "websocket";
  zero.transport.session_id = seven.transport.session_id = "S";
  seven.id = "7";
  std::vector<ConduitShard> updated;
  std::vector<ConduitShardError> errors;
  HelixResult r = HelixEventSub::ReadUpdateShards(
      http.Perform(helix.UpdateShardsRequest({"c", "t"}, "C1", {zero, seven})), &updated, &errors);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(server.requests()[0].rfind("PATCH /helix/eventsub/conduits/shards ", 0), 0u);
  EXPECT_EQ(Body(server.requests()[0]),
            "{\"conduit_id\":\"C1\",\"shards\":[{\"id\":\"0\",\"transport\":{\"method\":"
            "\"websocket\",\"session_id\":\"S\"}},{\"id\":\"7\",\"transport\":{\"method\":"
            "\"websocket\",\"session_id\":\"S\"}}]}");
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].id, "0");
  EXPECT_EQ(updated[0].status, "enabled");
  EXPECT_EQ(updated[0].transport.session_id, "S");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].id, "7");
  EXPECT_EQ(errors[0].code, "invalid_parameter");
  EXPECT_EQ(errors[0].message, "The shard id is outside the conduit's range");
  HelixResult gone = HelixEventSub::ReadUpdateShards(
      http.Perform(helix.UpdateShardsRequest({"c", "t"}, "C2", {zero})), &updated, &errors);
  EXPECT_EQ(gone.outcome, HelixOutcome::kNotFound);
  EXPECT_NE(gone.error.find("Twitch knows no conduit of this id"), std::string::npos);
}

TEST(EventSubTypesTest, DefaultTypesGiveEachAlertOnce) {
  EXPECT_EQ(EventSubDefaultTypes(), "follow,notification,cheer,redemption,hypetrain");
  std::vector<EventSubTypeSpec> specs;
  std::string err;
  ASSERT_TRUE(ResolveAlertTypes(EventSubDefaultTypes(), &specs, &err)) << err;
  std::vector<std::string> types;
  for (const auto& s : specs) types.push_back(s.type + "@" + s.version);
  EXPECT_EQ(types, (std::vector<std::string>{
                       "channel.follow@2", "channel.chat.notification@1", "channel.cheer@1",
                       "channel.channel_points_custom_reward_redemption.add@1",
                       "channel.channel_points_automatic_reward_redemption.add@2",
                       "channel.hype_train.begin@2", "channel.hype_train.progress@2",
                       "channel.hype_train.end@2"}));
  EXPECT_FALSE(ResolveAlertTypes("follow,bogus", &specs, &err));
  EXPECT_NE(err.find("unknown type \"bogus\""), std::string::npos) << err;
}

TEST(EventSubTypesTest, ConditionsAndScopes) {
  const EventSubTypeSpec* raid = FindEventSubType("channel.raid");
  ASSERT_NE(raid, nullptr);
  EXPECT_EQ(JsonDump(BuildCondition(*raid, "7", "8").get()), "{\"to_broadcaster_user_id\":\"7\"}");
  EXPECT_EQ(DescribeScopes(*raid), "no scope");
  const EventSubTypeSpec* chat = FindEventSubType("channel.chat.notification");
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(JsonDump(BuildCondition(*chat, "7", "8").get()),
            "{\"broadcaster_user_id\":\"7\",\"user_id\":\"8\"}");
  const EventSubTypeSpec* red =
      FindEventSubType("channel.channel_points_custom_reward_redemption.add");
  ASSERT_NE(red, nullptr);
  EXPECT_EQ(DescribeScopes(*red), "channel:read:redemptions or channel:manage:redemptions");
  EXPECT_EQ(FindEventSubType("channel.nope"), nullptr);
}

TEST(EventSubTypesTest, SubscribeArgParser) {
  SubscribeArg a;
  std::string err;
  ASSERT_TRUE(ParseSubscribeArg("channel.follow", &a, &err)) << err;
  EXPECT_EQ(a.version, "2");
  EXPECT_FALSE(a.condition);
  ASSERT_TRUE(ParseSubscribeArg("channel.ban", &a, &err)) << err;
  EXPECT_EQ(a.version, "1");
  ASSERT_TRUE(ParseSubscribeArg("channel.raid@1:{\"from_broadcaster_user_id\":\"9\"}", &a, &err))
      << err;
  EXPECT_EQ(a.type, "channel.raid");
  EXPECT_EQ(JsonString(a.condition.get(), "from_broadcaster_user_id"), "9");
  ASSERT_TRUE(ParseSubscribeArg("x.y@beta:{}", &a, &err)) << err;
  EXPECT_EQ(a.version, "beta");
  EXPECT_FALSE(ParseSubscribeArg("Channel.Follow", &a, &err));
  EXPECT_FALSE(ParseSubscribeArg("channel.follow@", &a, &err));
  EXPECT_FALSE(ParseSubscribeArg("channel.follow:{", &a, &err));
  EXPECT_NE(err.find("not JSON"), std::string::npos) << err;
  EXPECT_FALSE(ParseSubscribeArg("channel.follow:[1]", &a, &err));
  EXPECT_FALSE(ParseSubscribeArg("channel.follow:{\"broadcaster_user_id\":7}", &a, &err));
  EXPECT_NE(err.find("is not a string"), std::string::npos) << err;
}

}  // namespace
