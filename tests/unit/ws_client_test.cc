// The shared WebSocket client (ws/ws_client.h) against a small libwebsockets server run in a
// thread of its own: reassembly and the size cap, close codes, reconnect with backoff, the
// watchdog, and make-before-break over two connections with a storm of handovers slowed down.
#include "ws/ws_client.h"

#include <gtest/gtest.h>
#include <libwebsockets.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "ws_test_server.h"

namespace {

// Records what the client reports; |on_opened| etc. let a test steer it.
struct Recorder : WsClientListener {
  std::vector<std::string> messages;
  std::vector<WsCloseInfo> closed;
  std::vector<int> opened;
  int reconnects_left = 0;
  std::function<void(int)> on_opened;
  std::function<void(int, std::string_view)> on_message;
  std::function<bool(int)> on_closed;  // true: handled

  void OnOpened(int slot) override {
    opened.push_back(slot);
    if (on_opened) on_opened(slot);
  }
  void OnMessage(int slot, std::string_view text) override {
    messages.emplace_back(text);
    if (on_message) on_message(slot, text);
  }
  bool OnClosed(int slot, const WsCloseInfo& info) override {
    closed.push_back(info);
    if (on_closed && on_closed(slot)) return false;
    if (reconnects_left-- > 0) return true;
    client->Drain(0);
    return false;
  }
};

WsClientOptions OptionsFor(const TestServer& server) {
  WsClientOptions o;
  o.url.host = "127.0.0.1";
  o.url.port = server.port;
  o.url.path = "/";
  o.display_url = "ws://127.0.0.1/";
  o.backoff = BackoffPolicy{10, 40, 0};
  o.max_message = 16;
  return o;
}

TEST(WsClient, ReassemblesSkipsOverLongAndReportsTheClose) {
  TestServer server;
  server.script = {"one", "t|w|o", "x|xxxxxxxx|xxxxxxxxxx", "three"};
  server.close_code = 1011;
  server.Start();
  Recorder r;
  WsClient client(OptionsFor(server), &r);
  EXPECT_EQ(client.Run(), 0);
  EXPECT_EQ(r.messages, (std::vector<std::string>{"one", "two", "three"}));
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_TRUE(r.closed[0].opened);
  EXPECT_EQ(r.closed[0].close_code, 1011);
}

TEST(WsClient, ReconnectsWithBackoffWhenTheListenerAsks) {
  TestServer server;
  server.script = {"hi"};
  server.Start();
  Recorder r;
  r.reconnects_left = 2;
  WsClient client(OptionsFor(server), &r);
  int64_t t0 = MonotonicMs();
  EXPECT_EQ(client.Run(), 0);
  EXPECT_GE(MonotonicMs() - t0, 10 + 20);  // two delays: 10 ms, then 20 ms
  EXPECT_EQ(r.messages, (std::vector<std::string>{"hi", "hi", "hi"}));
  EXPECT_EQ(client.connections(), 3);
  EXPECT_EQ(server.connections, 3);
}

TEST(WsClient, AFailedConnectIsReportedUnopened) {
  TestServer server;
  server.Start();
  WsClientOptions o = OptionsFor(server);
  server.Join();
  Recorder r;
  WsClient client(o, &r);
  EXPECT_EQ(client.Run(), 0);
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_FALSE(r.closed[0].opened);
  EXPECT_FALSE(r.closed[0].error.empty());
}

TEST(WsClient, TheWatchdogCutsASilentConnection) {
  TestServer server;
  server.hold = true;
  server.Start();
  Recorder r;
  WsClient client(OptionsFor(server), &r);
  r.on_opened = [&](int slot) { client.Watch(slot, 100, "nothing for 0.1s"); };
  int64_t t0 = MonotonicMs();
  EXPECT_EQ(client.Run(), 0);
  EXPECT_GE(MonotonicMs() - t0, 100);
  ASSERT_EQ(r.closed.size(), 1u);
  EXPECT_EQ(r.closed[0].error, "nothing for 0.1s");
}

TEST(WsClient, HandoverKeepsTheOldConnectionUntilTheListenerClosesIt) {
  TestServer server;
  server.script = {"m"};
  server.hold = true;
  server.Start();
  Recorder r;
  WsClientOptions o = OptionsFor(server);
  o.handover_burst = 2;
  WsClient client(o, &r);
  std::vector<int64_t> opened_at;
  // Each connection's message: the one before it is still open (make before break) and is closed
  // now; once it has gone, the next handover.
  r.on_message = [&](int slot, std::string_view) {
    opened_at.push_back(MonotonicMs());
    EXPECT_EQ(slot, client.active());
    if (opened_at.size() == 1) {
      EXPECT_TRUE(client.Handover());
      EXPECT_FALSE(client.Handover());  // one at a time
      return;
    }
    EXPECT_TRUE(client.open(1 - slot));
    client.Close(1 - slot);
  };
  r.on_closed = [&](int slot) {
    if (slot == client.active()) return false;
    if (opened_at.size() == 4) {
      client.Drain(0);
    } else {
      EXPECT_TRUE(client.Handover());
    }
    return true;
  };
  EXPECT_EQ(client.Run(), 0);
  ASSERT_EQ(opened_at.size(), 4u);
  EXPECT_EQ(server.connections, 4);
  EXPECT_TRUE(r.closed.size() >= 3u);
  // The third handover in the window came after a backoff delay (10 ms), the first two at once.
  EXPECT_GE(opened_at[3] - opened_at[2], 10);
}

TEST(WsClient, HandoverToAUrlGoesThereOnceThenBackToItsOwn) {
  TestServer server;
  server.script = {"m"};
  server.hold = true;
  server.Start();
  Recorder r;
  WsClient client(OptionsFor(server), &r);
  std::string err;
  int messages = 0;
  r.on_message = [&](int slot, std::string_view) {
    ++messages;
    if (messages == 1) {
      EXPECT_FALSE(client.Handover("http://127.0.0.1/", &err));
      EXPECT_FALSE(err.empty());
      EXPECT_FALSE(client.Handover("wss://127.0.0.1/", &err));  // no TLS set up
      std::string url = "ws://127.0.0.1:" + std::to_string(server.port) + "/next?challenge=x";
      EXPECT_TRUE(client.Handover(url, &err)) << err;
    } else if (messages == 2) {
      client.Close(1 - slot);  // the old one
      client.Close(slot);      // and this one: the next connection is a plain reconnect
    } else {
      client.Drain(0);
    }
  };
  r.on_closed = [&](int slot) { return slot != client.active() || messages >= 3; };
  r.reconnects_left = 1;
  EXPECT_EQ(client.Run(), 0);
  std::lock_guard<std::mutex> g(server.paths_lock);
  ASSERT_EQ(server.paths.size(), 3u);
  EXPECT_EQ(server.paths[0], "/");
  EXPECT_EQ(server.paths[1], "/next");
  EXPECT_EQ(server.paths[2], "/");
}

}  // namespace
