// Unit tests of lib/http/client against a scripted HTTP server on 127.0.0.1 (a thread of the test,
// one answer per connection): headers sent, form bodies, Twitch's error text, no retry on 4xx,
// 5xx then success, retries used up, 429 waiting for Ratelimit-Reset and failing when that is too
// far, timeouts, a refused connection, the token never in an error, and the same requests driven
// from an lws loop while a loop timer keeps ticking.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "http/client.h"
#include "http_test_server.h"
#include "ws/loop.h"

namespace {

HttpClientOptions FastOptions() {
  HttpClientOptions o;
  o.retry_base_ms = 20;
  o.max_retry_wait_ms = 3000;
  o.timeout_ms = 2000;
  o.max_attempts = 3;
  return o;
}

long ElapsedMs(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - since)
                               .count());
}

TEST(HttpClientTest, SendsHeadersAndFormAndReadsJsonAndRateLimitHeaders) {
  ScriptedServer server({{Reply(200, "{\"a\":1}", "Ratelimit-Remaining: 799\r\n")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/oauth2/token");
  req.client_id = "cid123";
  req.token = "tok-secret";
  req.form = {{"grant_type", "refresh_token"}, {"refresh_token", "a b&c"}};
  HttpResponse r = client.Perform(req);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.json);
  EXPECT_EQ(json_integer_value(json_object_get(r.json.get(), "a")), 1);
  EXPECT_EQ(r.Header("ratelimit-remaining"), "799");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].rfind("POST /oauth2/token HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_NE(reqs[0].find("Client-Id: cid123\r\n"), std::string::npos);
  EXPECT_NE(reqs[0].find("Authorization: Bearer tok-secret\r\n"), std::string::npos);
  EXPECT_NE(reqs[0].find("application/x-www-form-urlencoded"), std::string::npos);
  EXPECT_NE(reqs[0].find("\r\n\r\ngrant_type=refresh_token&refresh_token=a%20b%26c"),
            std::string::npos)
      << reqs[0];
}

TEST(HttpClientTest, OAuthSchemeForValidate) {
  ScriptedServer server({{Reply(200, "{}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = server.url("/oauth2/validate");
  req.token = "abc";
  req.auth_scheme = "OAuth";
  ASSERT_TRUE(client.Perform(req).ok());
  EXPECT_NE(server.requests()[0].find("Authorization: OAuth abc\r\n"), std::string::npos);
}

TEST(HttpClientTest, TwitchErrorMessageInTheErrorAndNoRetryOn4xx) {
  ScriptedServer server(
      {{Reply(400,
              "{\"error\":\"Bad Request\",\"status\":400,\"message\":\"Invalid refresh "
              "token\"}")},
       {Reply(200, "{}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/oauth2/token");
  req.token = "SECRET-TOKEN-1";
  req.form = {{"refresh_token", "SECRET-REFRESH-1"}};
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kStatus);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.message, "Invalid refresh token");
  EXPECT_EQ(r.error, "POST " + server.url("/oauth2/token") + ": HTTP 400: Invalid refresh token");
  EXPECT_EQ(r.error.find("SECRET"), std::string::npos);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpClientTest, ErrorFieldWhenNoMessage) {
  ScriptedServer server({{Reply(401, "{\"error\":\"Unauthorized\",\"status\":401}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = server.url();
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.message, "Unauthorized");
}

TEST(HttpClientTest, ServerErrorThenSuccessIsRetried) {
  ScriptedServer server({{Reply(500, "{\"message\":\"oops\"}")}, {Reply(200, "{\"ok\":true}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.method = "POST";
  req.url = server.url();
  HttpResponse r = client.Perform(req);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(HttpClientTest, RetriesAreBounded) {
  ScriptedServer server(
      {{Reply(503, "{}")}, {Reply(502, "{}")}, {Reply(500, "{}")}, {Reply(200, "{}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = server.url();
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kStatus);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_NE(r.error.find("HTTP 500"), std::string::npos);
  EXPECT_NE(r.error.find("(after 3 attempts)"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests().size(), 3u);
}

// Ratelimit-Reset |in_s| seconds from now.
std::string ResetIn(long long in_s) {
  return "Ratelimit-Reset: " + std::to_string(time(nullptr) + in_s) + "\r\n";
}

// A GET answered 429 with |header|, then 200; |elapsed_ms| is how long Perform() took.
HttpResponse AfterTooManyRequests(const std::string& header, long* elapsed_ms) {
  ScriptedServer server(
      {{Reply(429, "{\"message\":\"Too Many Requests\"}", header)}, {Reply(200, "{}")}});
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = server.url();
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = client.Perform(req);
  *elapsed_ms = ElapsedMs(t0);
  return r;
}

TEST(HttpClientTest, TooManyRequestsWaitsForRatelimitReset) {
  long elapsed;
  HttpResponse r = AfterTooManyRequests(ResetIn(2), &elapsed);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.attempts, 2);
  // The reset is a whole second on the wall clock: at least one second away from now.
  EXPECT_GE(elapsed, 1000);
}

TEST(HttpClientTest, TooManyRequestsFailsWhenTheResetIsTooFar) {
  long elapsed;
  HttpResponse r = AfterTooManyRequests(ResetIn(600), &elapsed);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.error.find("rate limited for 6"), std::string::npos) << r.error;
  EXPECT_LT(elapsed, 1000);
  r = AfterTooManyRequests("Ratelimit-Reset: 99999999999999999999999\r\n", &elapsed);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.error.find("rate limited for 86400 s more"), std::string::npos) << r.error;
}

TEST(HttpClientTest, TooManyRequestsHonoursRetryAfter) {
  long elapsed;
  HttpResponse r = AfterTooManyRequests("Retry-After: 1\r\n", &elapsed);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_GE(elapsed, 1000);
}

TEST(HttpClientTest, TimeoutIsANetworkFailureAfterRetries) {
  ScriptedServer server({{Reply(200, "{}"), 3000}, {Reply(200, "{}"), 3000}});
  HttpClientOptions o = FastOptions();
  o.timeout_ms = 200;
  o.max_attempts = 2;
  HttpClient client(o);
  HttpRequest req;
  req.url = server.url();
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kNetwork);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_NE(r.error.find("imed out"), std::string::npos) << r.error;
  EXPECT_LT(ElapsedMs(t0), 2000);
}

TEST(HttpClientTest, PostThatTimedOutIsNotSentTwice) {
  ScriptedServer server({{Reply(200, "{}"), 3000}, {Reply(200, "{}")}});
  HttpClientOptions o = FastOptions();
  o.timeout_ms = 200;
  HttpClient client(o);
  HttpRequest req;
  req.method = "POST";
  req.url = server.url();
  req.form = {{"a", "b"}};
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kNetwork);
  EXPECT_EQ(r.attempts, 1);
}

// A port of 127.0.0.1 where nothing listens (a server's, after it closed).
int ClosedPort() {
  ScriptedServer gone({});
  return std::stoi(gone.url().substr(17));
}

TEST(HttpClientTest, RefusedConnectionIsRetriedThenFails) {
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x";
  req.token = "SECRET-TOKEN-2";
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kNetwork);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.error.find("SECRET"), std::string::npos);
  EXPECT_EQ(r.error.rfind("GET " + req.url + ": ", 0), 0u) << r.error;
}

TEST(HttpClientTest, BadUrlIsFatal) {
  HttpClient client(FastOptions());
  HttpRequest req;
  req.url = "gopher://127.0.0.1/x";
  HttpResponse r = client.Perform(req);
  EXPECT_EQ(r.failure, HttpFailure::kFatal);
  EXPECT_EQ(r.attempts, 1);
}

TEST(HttpClientTest, BackoffDoublesWithJitterUpToItsCap) {
  std::mt19937 rng(1);
  for (int i = 0; i < 50; ++i) {
    long d1 = HttpBackoffMs(1, 100, 1000, &rng);
    long d3 = HttpBackoffMs(3, 100, 1000, &rng);
    long d9 = HttpBackoffMs(9, 100, 1000, &rng);
    EXPECT_GE(d1, 50);
    EXPECT_LE(d1, 100);
    EXPECT_GE(d3, 200);
    EXPECT_LE(d3, 400);
    EXPECT_GE(d9, 500);
    EXPECT_LE(d9, 1000);
  }
}

TEST(HttpClientTest, LoopDrivenRequestLeavesTheLoopRunning) {
  ScriptedServer server({{Reply(200, "{\"n\":7}"), 400}});
  TestLoop loop;
  ASSERT_TRUE(loop.context);
  HttpClient client(FastOptions());
  std::string err;
  ASSERT_TRUE(client.Attach(loop.context.get(), &err)) << err;
  HttpRequest req;
  req.url = server.url("/helix/users");
  req.client_id = "cid";
  HttpResponse got;
  ASSERT_TRUE(loop.RunOne(&client, req, &got));
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(json_integer_value(json_object_get(got.json.get(), "n")), 7);
  EXPECT_EQ(client.InFlight(), 0u);
  // The server took 400 ms; the 20 ms timer kept firing meanwhile.
  EXPECT_GE(loop.ticks, 10);
}

TEST(HttpClientTest, LoopDrivenRetriesAndRequestsInParallel) {
  ScriptedServer server({{Reply(500, "{}")}, {Reply(200, "{}")}, {Reply(404, "{}")}});
  TestLoop loop;
  HttpClient client(FastOptions());
  std::string err;
  ASSERT_TRUE(client.Attach(loop.context.get(), &err)) << err;
  int ended = 0;
  std::vector<long> statuses;
  std::vector<int> attempts;
  HttpRequest req;
  req.url = server.url();
  for (int i = 0; i < 2; ++i) {
    client.Start(req, [&](HttpResponse r) {
      statuses.push_back(r.status);
      attempts.push_back(r.attempts);
      ++ended;
    });
  }
  EXPECT_EQ(client.InFlight(), 2u);
  loop.RunUntil([&] { return ended == 2; });
  ASSERT_EQ(ended, 2);
  EXPECT_EQ(server.requests().size(), 3u);
  // Of 500, 200 and 404 in the order they were served: one request got 500 and then one of the
  // others; the other request got the remaining one.
  EXPECT_EQ(attempts[0] + attempts[1], 3);
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<long>{200, 404}));
}

TEST(HttpClientTest, LoopDrivenNetworkFailure) {
  TestLoop loop;
  HttpClient client(FastOptions());
  std::string err;
  ASSERT_TRUE(client.Attach(loop.context.get(), &err)) << err;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x";
  HttpResponse got;
  ASSERT_TRUE(loop.RunOne(&client, req, &got));
  EXPECT_EQ(got.failure, HttpFailure::kNetwork);
  EXPECT_EQ(got.attempts, 3);
}

int IdleCallback(lws*, lws_callback_reasons, void*, void*, size_t) { return 0; }

// Pipes whose read ends fill a loop's descriptor table (their write ends stay open, so that the
// loop does not close the read ends).
struct PipeFiller {
  std::vector<int> write_ends;
  ~PipeFiller() {
    for (int fd : write_ends) close(fd);
  }
  // Adopts read ends into |context| until it refuses one; returns how many it took.
  int Fill(lws_context* context) {
    static const lws_protocols kProtocols[] = {{"idle", IdleCallback, 0, 0, 0, nullptr, 0},
                                               {nullptr, nullptr, 0, 0, 0, nullptr, 0}};
    lws_context_creation_info info = {};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = kProtocols;
    info.vhost_name = "idle";
    lws_vhost* vhost = lws_create_vhost(context, &info);
    if (!vhost) return -1;
    for (int n = 0; n < 64; ++n) {
      int p[2];
      if (pipe(p) != 0) return -1;
      write_ends.push_back(p[1]);
      lws_sock_file_fd_type u;
      u.filefd = p[0];
      if (!lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, u, "idle", nullptr)) {
        close(p[0]);
        return n;
      }
    }
    return -1;
  }
};

// A loop whose descriptor table is full refuses curl's socket: the request fails with a clear
// error, the client stays usable (its multi handle is not given up), and nothing crashes.
TEST(HttpClientTest, LoopThatRefusesTheSocketFailsTheRequest) {
  ScriptedServer server({{Reply(200, "{}")}, {Reply(200, "{}")}});
  PipeFiller pipes;
  TestLoop loop(4);
  ASSERT_TRUE(loop.context);
  ASSERT_GE(pipes.Fill(loop.context.get()), 0);
  HttpClient client(FastOptions());
  std::string err;
  ASSERT_TRUE(client.Attach(loop.context.get(), &err)) << err;
  HttpRequest req;
  req.url = server.url("/helix/users");
  for (int i = 0; i < 2; ++i) {
    HttpResponse got;
    ASSERT_TRUE(loop.RunOne(&client, req, &got));
    EXPECT_EQ(got.failure, HttpFailure::kNetwork);
    EXPECT_EQ(got.attempts, 1);
    EXPECT_NE(got.error.find("GET " + req.url + ": the event loop refused its socket"),
              std::string::npos)
        << got.error;
    EXPECT_EQ(client.InFlight(), 0u);
  }
}

}  // namespace
