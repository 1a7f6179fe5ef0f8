// A scripted HTTP server on 127.0.0.1 for the unit tests of lib/http and its users: a thread of
// the test that answers each connection with the next answer of its script and records the
// requests it got.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/client.h"
#include "ws/loop.h"

namespace {

// One scripted answer: |raw| written after |delay_ms|; |raw| empty closes without answering.
struct Answer {
  std::string raw;
  int delay_ms = 0;
};

std::string Reply(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Answer> script) : script_(std::move(script)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url(const std::string& path = "/x") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Serve() {
    size_t next = 0;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) != 1) continue;
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string req = ReadRequest(c);
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(req);
      }
      Answer a = next < script_.size() ? script_[next++] : Answer{Reply(599, "{}")};
      for (int waited = 0; waited < a.delay_ms && !stop_; waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!a.raw.empty()) (void)!write(c, a.raw.data(), a.raw.size());
      close(c);
    }
  }
  static std::string ReadRequest(int c) {
    std::string req;
    char buf[4096];
    for (;;) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 2000) != 1) break;
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
      size_t end = req.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      size_t cl = req.find("Content-Length: ");
      size_t want = cl == std::string::npos ? 0 : std::stoul(req.substr(cl + 16));
      if (req.size() >= end + 4 + want) break;
    }
    return req;
  }

  std::vector<Answer> script_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

// An lws context with no listener and a timer ticking every 20 ms (|ticks|), for requests and
// watches driven from a loop.
struct TestLoop {
  LwsContextPtr context;
  LoopTimer<TestLoop> tick{};
  int ticks = 0;
  // |fd_limit|: the most descriptors the loop takes (0: lws' default, as the process allows).
  explicit TestLoop(unsigned fd_limit = 0) {
    lws_set_log_level(LLL_ERR, nullptr);
    lws_context_creation_info info = {};
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.fd_limit_per_thread = fd_limit;
    context.reset(lws_create_context(&info));
    tick.owner = this;
    Schedule();
  }
  ~TestLoop() { lws_sul_cancel(&tick.sul); }
  void Schedule() {
    lws_sul_schedule(context.get(), 0, &tick.sul, &TestLoop::OnTick, 20 * LWS_US_PER_MS);
  }
  static void OnTick(lws_sorted_usec_list_t* sul) {
    TestLoop* l = LoopTimer<TestLoop>::OwnerOf(sul);
    ++l->ticks;
    l->Schedule();
  }
  // Services the loop until |done()| or 10 s passed.
  template <typename F>
  void RunUntil(F done) {
    auto t0 = std::chrono::steady_clock::now();
    while (!done() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10)) {
      lws_service(context.get(), 0);
    }
  }
  // Starts |req| on |client| and services the loop until it ended; false after 10 s.
  bool RunOne(HttpClient* client, const HttpRequest& req, HttpResponse* got) {
    bool done = false;
    client->Start(req, [&](HttpResponse r) {
      *got = std::move(r);
      done = true;
    });
    RunUntil([&] { return done; });
    return done;
  }
};

}  // namespace
