// Unit tests of lib/twitch/token_provider against a scripted OAuth server: where the token comes
// from, a refresh before expiry (rotation stored), a refresh after a 401, taking what another
// process stored instead of refreshing, and the loop-driven watch (validation at once, a refresh
// after a 401 with the new token announced, a refused refresh token reported).
#include "twitch/token_provider.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "core/time.h"
#include "http_test_server.h"

namespace {

struct TokenProviderTest : ::testing::Test {
  std::string dir;
  void SetUp() override {
    std::string tmpl = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/tpXXXXXX";
    dir = mkdtemp(&tmpl[0]);
    unsetenv("TWITCH_TOKEN");
  }
  void TearDown() override { (void)!system(("rm -rf '" + dir + "'").c_str()); }

  // A store file at dir/bob.json whose token expires in |seconds|.
  std::string Seed(int64_t seconds, const std::string& access = "acc-0") {
    StoredToken t;
    t.login = "bob";
    t.user_id = "42";
    t.client_id = "cid";
    t.access_token = access;
    t.refresh_token = "ref-0";
    t.expires_at_ms = NowMillis() + seconds * 1000;
    std::string path = dir + "/bob.json", err;
    EXPECT_TRUE(WriteTokenFile(path, t, &err)) << err;
    return path;
  }
};

std::string Granted(const std::string& access, const std::string& refresh) {
  return Reply(200, "{\"access_token\":\"" + access + "\",\"refresh_token\":\"" + refresh +
                        "\",\"expires_in\":14400,\"scope\":[\"chat:read\"]}");
}

std::string Valid() {
  return Reply(200,
               "{\"client_id\":\"cid\",\"login\":\"bob\",\"user_id\":\"42\",\"scopes\":[\"chat:"
               "read\"],\"expires_in\":14000}");
}

std::string Invalid() {
  return Reply(401, "{\"status\":401,\"message\":\"invalid access token\"}");
}

TwitchAuthOptions Options(const ScriptedServer& s, const std::string& token_file) {
  TwitchAuthOptions o;
  o.auth_url = s.url("/oauth2");
  o.token_file = token_file;
  return o;
}

HttpClientOptions Fast() {
  HttpClientOptions h;
  h.retry_base_ms = 10;
  h.max_attempts = 2;
  return h;
}

std::string RequestLine(const std::string& req) { return req.substr(0, req.find(" HTTP/1.1")); }

TEST_F(TokenProviderTest, ResolvesBareTokensAndRefusesTwoSources) {
  ScriptedServer server({});
  HttpClient http(Fast());
  std::ofstream(dir + "/bare") << "oauth:abc123\n";
  TokenProvider bare(Options(server, dir + "/bare"), &http);
  std::string err;
  ASSERT_TRUE(bare.Resolve(false, &err)) << err;
  EXPECT_EQ(bare.source(), TokenProvider::Source::kBare);
  EXPECT_EQ(bare.access_token(), "abc123");

  TwitchAuthOptions both = Options(server, dir + "/bare");
  both.login = "bob";
  TokenProvider two(both, &http);
  EXPECT_FALSE(two.Resolve(false, &err));

  setenv("TWITCH_TOKEN", "envtok", 1);
  TokenProvider env(Options(server, ""), &http);
  ASSERT_TRUE(env.Resolve(false, &err));
  EXPECT_EQ(env.source(), TokenProvider::Source::kBare);
  EXPECT_EQ(env.Describe(), "TWITCH_TOKEN");
  unsetenv("TWITCH_TOKEN");
  TokenProvider none(Options(server, ""), &http);
  ASSERT_TRUE(none.Resolve(false, &err));
  EXPECT_EQ(none.source(), TokenProvider::Source::kNone);
}

TEST_F(TokenProviderTest, RefreshesBeforeExpiryAndStoresTheRotatedRefreshToken) {
  ScriptedServer server({{Granted("acc-1", "ref-1")}});
  std::string path = Seed(60);
  HttpClient http(Fast());
  TokenProvider p(Options(server, path), &http);
  std::string err;
  ASSERT_TRUE(p.Resolve(false, &err));
  ASSERT_EQ(p.Start(300, false, &err), AuthFailure::kNone) << err;
  EXPECT_EQ(p.access_token(), "acc-1");
  StoredToken stored;
  ASSERT_TRUE(ReadTokenFile(path, &stored, &err)) << err;
  EXPECT_EQ(stored.access_token, "acc-1");
  EXPECT_EQ(stored.refresh_token, "ref-1");
  EXPECT_EQ(stored.login, "bob");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(RequestLine(reqs[0]), "POST /oauth2/token");
  EXPECT_NE(reqs[0].find("grant_type=refresh_token&refresh_token=ref-0"), std::string::npos);
}

TEST_F(TokenProviderTest, AFreshTokenIsUsedAsItIs) {
  ScriptedServer server({});
  std::string path = Seed(3600);
  HttpClient http(Fast());
  TokenProvider p(Options(server, path), &http);
  std::string err;
  ASSERT_TRUE(p.Resolve(false, &err));
  ASSERT_EQ(p.Start(300, false, &err), AuthFailure::kNone) << err;
  EXPECT_EQ(p.access_token(), "acc-0");
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(TokenProviderTest, A401AtValidationRefreshesOnce) {
  ScriptedServer server({{Invalid()}, {Granted("acc-1", "ref-1")}, {Valid()}});
  std::string path = Seed(3600);
  HttpClient http(Fast());
  TokenProvider p(Options(server, path), &http);
  std::string err;
  ASSERT_TRUE(p.Resolve(false, &err));
  ASSERT_EQ(p.Start(300, true, &err), AuthFailure::kNone) << err;
  EXPECT_EQ(p.access_token(), "acc-1");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(RequestLine(reqs[0]), "GET /oauth2/validate");
  EXPECT_NE(reqs[0].find("Authorization: OAuth acc-0\r\n"), std::string::npos);
  EXPECT_EQ(RequestLine(reqs[1]), "POST /oauth2/token");
  EXPECT_NE(reqs[2].find("Authorization: OAuth acc-1\r\n"), std::string::npos);
}

TEST_F(TokenProviderTest, ARefusedRefreshTokenIsACredentialsFailure) {
  ScriptedServer server({{Reply(400, "{\"status\":400,\"message\":\"Invalid refresh token\"}")}});
  std::string path = Seed(10);
  HttpClient http(Fast());
  TokenProvider p(Options(server, path), &http);
  std::string err;
  ASSERT_TRUE(p.Resolve(false, &err));
  EXPECT_EQ(p.Start(300, false, &err), AuthFailure::kCredentials);
  EXPECT_NE(err.find("Invalid refresh token"), std::string::npos) << err;
  EXPECT_NE(err.find("run twitch-auth login"), std::string::npos) << err;
  EXPECT_EQ(err.find("ref-0"), std::string::npos);
}

TEST_F(TokenProviderTest, TakesWhatAnotherProcessRefreshedInsteadOfRefreshing) {
  ScriptedServer server({});
  std::string path = Seed(3600);
  HttpClient http(Fast());
  TokenProvider p(Options(server, path), &http);
  std::string err;
  ASSERT_TRUE(p.Resolve(false, &err));
  ASSERT_EQ(p.Start(300, false, &err), AuthFailure::kNone);
  Seed(3600, "acc-other");  // another process refreshed meanwhile
  ASSERT_EQ(p.Refresh(&err), AuthFailure::kNone) << err;
  EXPECT_EQ(p.access_token(), "acc-other");
  EXPECT_TRUE(server.requests().empty());
}

// A provider of dir/bob.json (valid for an hour) against |script|, loaded and ready to watch
// on a loop of its own.
struct WatchRig {
  ScriptedServer server;
  HttpClient http{Fast()};
  TestLoop loop;
  HttpClient loop_http{Fast()};
  std::unique_ptr<TokenProvider> provider;
  std::string path;
  WatchRig(TokenProviderTest* t, std::vector<Answer> script) : server(std::move(script)) {
    path = t->Seed(3600);
    std::string err;
    EXPECT_TRUE(loop_http.Attach(loop.context.get(), &err)) << err;
    provider = std::make_unique<TokenProvider>(Options(server, path), &http);
    EXPECT_TRUE(provider->Resolve(false, &err));
    EXPECT_EQ(provider->Start(300, false, &err), AuthFailure::kNone);
  }
};

TEST_F(TokenProviderTest, WatchValidatesAtOnceAndRefreshesAfterA401) {
  WatchRig rig(this, {{Valid()}, {Granted("acc-1", "ref-1")}, {Valid()}});
  TokenProvider& p = *rig.provider;
  ScriptedServer& server = rig.server;
  TestLoop& loop = rig.loop;
  HttpClient& loop_http = rig.loop_http;
  std::string err;
  int changed = 0, failed = 0;
  p.Watch(
      loop.context.get(), &rig.loop_http, [&] { ++changed; },
      [&](AuthFailure, const std::string&) { ++failed; });
  loop.RunUntil([&] { return server.requests().size() == 1 && loop_http.InFlight() == 0; });
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(RequestLine(server.requests()[0]), "GET /oauth2/validate");
  p.OnUnauthorized();  // as after a 401 from Helix
  loop.RunUntil([&] { return server.requests().size() == 3 && loop_http.InFlight() == 0; });
  EXPECT_EQ(changed, 1);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(p.access_token(), "acc-1");
  StoredToken stored;
  ASSERT_TRUE(ReadTokenFile(rig.path, &stored, &err));
  EXPECT_EQ(stored.refresh_token, "ref-1");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(RequestLine(reqs[1]), "POST /oauth2/token");
  EXPECT_NE(reqs[2].find("Authorization: OAuth acc-1\r\n"), std::string::npos);
}

TEST_F(TokenProviderTest, WatchReportsARefusedRefreshToken) {
  WatchRig rig(
      this, {{Invalid()}, {Reply(400, "{\"status\":400,\"message\":\"Invalid refresh token\"}")}});
  TokenProvider& p = *rig.provider;
  TestLoop& loop = rig.loop;
  AuthFailure got = AuthFailure::kNone;
  std::string why;
  p.Watch(
      loop.context.get(), &rig.loop_http, [] {},
      [&](AuthFailure f, const std::string& e) {
        got = f;
        why = e;
      });
  loop.RunUntil([&] { return got != AuthFailure::kNone; });
  EXPECT_EQ(got, AuthFailure::kCredentials);
  EXPECT_NE(why.find("run twitch-auth login"), std::string::npos) << why;
}

}  // namespace
