// The EventSub session's state machine (twitch/eventsub_session.h) against a scripted WebSocket
// server and a fake Helix behind the session's EventSubApi: subscriptions after the welcome, a
// resend written once, the 409 of an orphaned subscription (listed, deleted, created again), a
// creation failing twice then succeeding, a 401 refreshed once then fatal, and a revocation; as a
// conduit shard, the attach after the welcome and only the subscriptions the conduit lacks made.
#include "twitch/eventsub_session.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <sstream>

#include "core/exit_status.h"
#include "core/time.h"
#include "ws_test_server.h"

namespace {

std::string Welcome(const std::string& id) {
  return R"({"metadata":{"message_id":"w-)" + id +
         R"(","message_type":"session_welcome","message_timestamp":")" + NowRfc3339() +
         R"("},"payload":{"session":{"id":")" + id +
         R"(","status":"connected","keepalive_timeout_seconds":10,"reconnect_url":null}}})";
}

std::string Follow(const std::string& message_id) {
  return R"({"metadata":{"message_id":")" + message_id +
         R"(","message_type":"notification","message_timestamp":")" + NowRfc3339() +
         R"(","subscription_type":"channel.follow","subscription_version":"2"},"payload":{)"
         R"("subscription":{"id":"id-0","status":"enabled","type":"channel.follow","version":"2",)"
         R"("condition":{"broadcaster_user_id":"7"},"transport":{"method":"websocket"}},)"
         R"("event":{"user_id":"9","user_login":"viewer","user_name":"Viewer",)"
         R"("broadcaster_user_id":"7","broadcaster_user_login":"chan","broadcaster_user_name":)"
         R"("Chan","followed_at":"2026-03-01T18:00:00Z"}}})";
}

std::string Revocation(const std::string& status) {
  return R"({"metadata":{"message_id":"r-1","message_type":"revocation","message_timestamp":")" +
         NowRfc3339() +
         R"(","subscription_type":"channel.follow","subscription_version":"2"},"payload":{)"
         R"("subscription":{"id":"id-0","status":")" +
         status + R"(","type":"channel.follow","version":"2","condition":{}}}})";
}

// Helix behind the session: answers come from |creates| in order (then kOk), on the loop.
struct FakeApi : EventSubApi {
  struct lws_context* context = nullptr;
  std::deque<EventSubApiStatus> creates;
  std::vector<std::string> created_for;  // the session id of each Create()
  std::vector<std::string> removed;
  std::vector<EventSubListed> listed;
  std::deque<std::unique_ptr<LoopAlarm>> alarms;

  void Later(std::function<void()> fn) {
    alarms.push_back(std::make_unique<LoopAlarm>(std::move(fn)));
    alarms.back()->After(context, 1);
  }
  void Create(const EventSubWanted&, const std::string& session_id,
              std::function<void(EventSubApiResult)> done) override {
    created_for.push_back(session_id);
    EventSubApiResult r;
    if (!creates.empty()) {
      r.status = creates.front();
      creates.pop_front();
      r.message = "scripted";
    }
    r.id = "id-" + std::to_string(created_for.size() - 1);
    Later([done, r] { done(r); });
  }
  void List(std::function<void(EventSubApiResult, std::vector<EventSubListed>)> done) override {
    auto l = listed;
    Later([done, l] { done(EventSubApiResult(), l); });
  }
  void Remove(const std::string& id, std::function<void(EventSubApiResult)> done) override {
    removed.push_back(id);
    Later([done] { done(EventSubApiResult()); });
  }
  std::vector<std::string> attached;  // the session id of each AttachShard()
  EventSubApiStatus attach_status = EventSubApiStatus::kOk;
  void AttachShard(const std::string& session_id,
                   std::function<void(EventSubApiResult, std::string)> done) override {
    attached.push_back(session_id);
    EventSubApiResult r;
    r.status = attach_status;
    r.message = "scripted";
    Later([done, r] { done(r, "enabled"); });
  }
  void Cancel() { alarms.clear(); }
};

// Standard output into a file while a test runs.
class StdoutCapture {
 public:
  // A file of its own: ctest runs these tests side by side, and two trees may run at once.
  StdoutCapture() {
    std::string tmpl = testing::TempDir() + "eventsub_session_out.XXXXXX";
    int fd = mkstemp(tmpl.data());
    path_ = tmpl;
    fflush(stdout);
    saved_ = dup(1);
    dup2(fd, 1);
    close(fd);
  }
  ~StdoutCapture() {
    Restore();
    unlink(path_.c_str());
  }
  void Restore() {
    if (saved_ < 0) return;
    fflush(stdout);
    dup2(saved_, 1);
    close(saved_);
    saved_ = -1;
  }
  std::vector<std::string> Lines() {
    Restore();
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

struct Harness {
  TestServer server;
  FakeApi api;
  EventSubAuthHooks hooks;
  EventSubClientOptions opts;
  LoopAlarm stop;
  int refreshes = 0;
  std::unique_ptr<EventSubClient> session;

  explicit Harness(std::vector<std::string> script, int subscriptions = 1) {
    server.script = std::move(script);
    server.hold = true;
    server.Start();
    opts.url = "ws://127.0.0.1:" + std::to_string(server.port) + "/ws";
    opts.backoff = BackoffPolicy{10, 40, 0};
    for (int i = 0; i < subscriptions; ++i) {
      opts.subscriptions.push_back({i == 0 ? "channel.follow" : "channel.cheer", i == 0 ? "2" : "1",
                                    R"({"broadcaster_user_id":"7"})", "bits:read", ""});
    }
    hooks.loop_started = [this](struct lws_context* c) {
      api.context = c;
      stop.Set([this] { session->client->Drain(0); });
      stop.After(c, 2000);  // the script is done well before, even under sanitizers
    };
    hooks.loop_ending = [this] {
      api.Cancel();
      stop.Cancel();
    };
    hooks.unauthorized = [this] {
      ++refreshes;
      api.Later([this] { session->OnTokenChanged(); });
    };
  }
  int Run() {
    session = std::make_unique<EventSubClient>(opts, &api, hooks);
    return session->Run();
  }
};

TEST(EventSubClient, SubscribesAfterTheWelcomeAndWritesAResendOnce) {
  StdoutCapture out;
  Harness h({Welcome("S1"), Follow("m-1"), Follow("m-1"), Follow("m-2")}, 2);
  EXPECT_EQ(h.Run(), kExitOk);
  EXPECT_EQ(h.api.created_for, (std::vector<std::string>{"S1", "S1"}));
  std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("id":"m-1")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("id":"m-2")"), std::string::npos) << lines[1];
}

TEST(EventSubClient, A409OnAFreshSessionDeletesTheOrphanAndSubscribesAgain) {
  StdoutCapture out;
  Harness h({Welcome("S2")});
  h.api.creates = {EventSubApiStatus::kConflict};
  h.api.listed = {
      {"orphan", "channel.follow", "2", "enabled", "dead", R"({"broadcaster_user_id":"7"})", ""},
      {"other", "channel.follow", "2", "enabled", "dead", R"({"broadcaster_user_id":"8"})", ""},
      {"cheer", "channel.cheer", "1", "enabled", "dead", R"({"broadcaster_user_id":"7"})", ""}};
  EXPECT_EQ(h.Run(), kExitOk);
  EXPECT_EQ(h.api.removed, (std::vector<std::string>{"orphan"}));
  EXPECT_EQ(h.api.created_for, (std::vector<std::string>{"S2", "S2"}));
}

TEST(EventSubClient, ACreationThatFailsTwiceIsRetriedUntilItSucceeds) {
  StdoutCapture out;
  Harness h({Welcome("S3")});
  h.api.creates = {EventSubApiStatus::kTransient, EventSubApiStatus::kRateLimited};
  EXPECT_EQ(h.Run(), kExitOk);
  EXPECT_EQ(h.api.created_for.size(), 3u);
}

TEST(EventSubClient, A401RefreshesTheTokenOnceThenEndsWithStatus3) {
  StdoutCapture out;
  Harness h({Welcome("S4")});
  h.api.creates = {EventSubApiStatus::kUnauthorized, EventSubApiStatus::kUnauthorized};
  EXPECT_EQ(h.Run(), kExitCredentials);
  EXPECT_EQ(h.refreshes, 1);
  EXPECT_EQ(h.api.created_for.size(), 2u);
}

TEST(EventSubClient, A401AfterWhichTheRefreshedTokenWorks) {
  StdoutCapture out;
  Harness h({Welcome("S5")});
  h.api.creates = {EventSubApiStatus::kUnauthorized};
  EXPECT_EQ(h.Run(), kExitOk);
  EXPECT_EQ(h.refreshes, 1);
  EXPECT_EQ(h.api.created_for.size(), 2u);
}

TEST(EventSubClient, TheLastRevocationEndsIt) {
  StdoutCapture out;
  Harness a({Welcome("S6"), Revocation("authorization_revoked")});
  EXPECT_EQ(a.Run(), kExitCredentials);
  Harness b({Welcome("S7"), Revocation("user_removed")});
  EXPECT_EQ(b.Run(), kExitFailure);
}

TEST(EventSubClient, A403EndsWithStatus3) {
  StdoutCapture out;
  Harness h({Welcome("S8")});
  h.api.creates = {EventSubApiStatus::kForbidden};
  EXPECT_EQ(h.Run(), kExitCredentials);
}

TEST(EventSubClient, AsAConduitShardItAttachesAfterTheWelcomeAndCreatesWhatTheConduitLacks) {
  StdoutCapture out;
  Harness h({Welcome("S7"), Follow("m-7")}, 2);
  h.opts.conduit_id = "C";
  h.opts.shard = 3;
  // The follow is on the conduit already; a follow of another conduit is not ours.
  h.api.listed = {
      {"x", "channel.cheer", "1", "enabled", "", R"({"broadcaster_user_id":"7"})", "D"},
      {"y", "channel.follow", "2", "enabled", "", R"({"broadcaster_user_id":"7"})", "C"}};
  EXPECT_EQ(h.Run(), kExitOk);
  EXPECT_EQ(h.api.attached, (std::vector<std::string>{"S7"}));
  EXPECT_EQ(h.api.created_for.size(), 1u);  // the cheer only
  EXPECT_EQ(out.Lines().size(), 1u);
}

TEST(EventSubClient, AShardTwitchRefusesEndsWithStatus1) {
  StdoutCapture out;
  Harness h({Welcome("S8")});
  h.opts.conduit_id = "C";
  h.api.attach_status = EventSubApiStatus::kRejected;
  EXPECT_EQ(h.Run(), kExitFailure);
  EXPECT_TRUE(h.api.created_for.empty());
}

}  // namespace
