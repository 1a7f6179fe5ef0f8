// libFuzzer target for twitch-pubsub's live session (lib/twitch/pubsub_client): the real
// RunPubSubClient() on the real shared client (lib/ws/ws_client), connected over loopback TCP
// (ws_loopback.h) to a server that the harness runs in a thread and scripts with the input. The
// client listens to three topics of two channels, PINGs every second and waits one second for a
// PONG (or a RESPONSE), and reconnects after 1 to 2 ms; it has no token provider (an empty
// token). The server reads the client's masked frames on every connection, keeping the nonces of
// its LISTENs and counting its PINGs.
// The input's first line sets the client: its first byte '1', '2' or '3' splits the topics into
// connections of that many (else one connection), its second byte 'r' asks for --raw. Each
// further line is one step of the server:
//   a frame    sent as one text message on the current connection (the first at the start),
//              each "$N" in it replaced by the oldest nonce not used yet on that connection
//              ("none" when the client sent none within 50 ms); when the current connection is
//              gone (or before the first), the one after it is used (waiting 1 s at most for it
//              to come), and so for ? and ! below;
//   +          make the connection after the current one current (waiting 1 s at most for it
//              to come: after RECONNECT, or the next topic group);
//   -          make the connection before the current one current;
//   .          close the current connection (a drop: the client reconnects);
//   ?          wait (1.5 s at most) for the client's next PING on the current connection;
//   !          wait (1.5 s at most) for the client to close the current connection (the PONG's
//              or the LISTEN's deadline).
// A wait that times out ends the script, and so does its third second. Then the harness sends
// SIGTERM, as a supervisor would: the client drains.
// Invariants: no crash or sanitizer finding; the client ends within 10 s of the signal (if it
// has not ended before, by ERR_BADAUTH, AUTH_REVOKED, every topic refused, ...), with 0, 1 or
// 3; and every line written to standard output is an event that passes the schema.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/time.h"
#include "fuzz_stdout.h"
#include "twitch/pubsub_client.h"
#include "ws_loopback.h"

namespace {

constexpr int64_t kScriptMs = 3000;  // no step begins later than this

int g_listen = -1;
int g_port = 0;
int g_done[2] = {-1, -1};  // written by the fuzzer's thread once the client has returned

// One connection the client made, as the server sees it.
struct Peer {
  int fd = -1;  // -1: closed
  std::string rx;
  std::deque<std::string> nonces;  // of its LISTENs, not used yet
  int pings = 0;
};

// Every masked frame complete in |p.rx|: a close is answered by closing, a text frame's nonce
// kept and its PING counted.
void ReadFrames(Peer& p) {
  for (;;) {
    const std::string& b = p.rx;
    if (b.size() < 2) return;
    const unsigned char* u = reinterpret_cast<const unsigned char*>(b.data());
    int opcode = u[0] & 0x0f;
    uint64_t len = u[1] & 0x7f;
    size_t at = 2;
    if (len == 126 || len == 127) {
      size_t n = len == 126 ? 2 : 8;
      if (b.size() < at + n) return;
      len = 0;
      for (size_t i = 0; i < n; ++i) len = len << 8 | u[at + i];
      at += n;
    }
    const bool masked = u[1] & 0x80;
    const size_t mask_at = at;
    if (masked) at += 4;
    if (len > (1u << 20)) abort();  // the client sends nothing that long
    if (b.size() < at + len) return;
    std::string text = b.substr(at, len);
    for (size_t i = 0; masked && i < text.size(); ++i) text[i] ^= b[mask_at + i % 4];
    p.rx.erase(0, at + len);
    if (opcode == 8) {
      close(p.fd);
      p.fd = -1;
      return;
    }
    if (opcode != 1) continue;
    if (text.find("\"PING\"") != std::string::npos) ++p.pings;
    size_t n = text.find("\"nonce\":\"");
    if (n != std::string::npos) {
      n += 9;
      p.nonces.push_back(text.substr(n, text.find('"', n) - n));
    }
  }
}

class Server {
 public:
  explicit Server(std::vector<std::string> steps) : steps_(std::move(steps)) {}

  void Run() {
    // The stop signal goes to the client's thread, whose loop it interrupts, never to this one:
    // here its handler could wake a loop that is being destroyed.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    const int64_t end = MonotonicMs() + kScriptMs;
    for (const std::string& s : steps_) {
      if (done_ || MonotonicMs() > end || !Step(s)) break;
    }
    if (!done_) {
      Until([] { return false; }, 50);  // the client takes in the last frames
      kill(getpid(), SIGTERM);
      if (!Until([] { return false; }, 10000) && !done_) abort();  // it must end
    }
    for (Peer& p : peers_) {
      if (p.fd >= 0) close(p.fd);
    }
  }

 private:
  // One step; false ends the script (a wait that timed out, or the client has returned).
  bool Step(const std::string& s) {
    if (s == "+") return Next();
    if (s == "-") {
      if (cur_ < peers_.size() && cur_ > 0) --cur_;
      return true;
    }
    if (s == "?" || s == "!") {
      while (!Open()) {
        if (!Next()) return false;
      }
      const size_t i = cur_;
      const int pings = peers_[i].pings;
      return Until([&] { return s == "?" ? peers_[i].pings > pings : peers_[i].fd < 0; }, 1500);
    }
    if (s == ".") {
      if (Open()) {
        shutdown(peers_[cur_].fd, SHUT_RDWR);
        close(peers_[cur_].fd);
        peers_[cur_].fd = -1;
      }
      return true;
    }
    while (!Open()) {  // the next connection, one that is there or the next to come
      if (!Next()) return false;
    }
    const size_t i = cur_;
    std::string text;
    for (size_t at = 0;;) {
      size_t n = s.find("$N", at);
      text.append(s, at, n == std::string::npos ? n : n - at);
      if (n == std::string::npos) break;
      Until([&] { return !peers_[i].nonces.empty() || peers_[i].fd < 0; }, 50);
      std::deque<std::string>& nonces = peers_[i].nonces;
      text += nonces.empty() ? "none" : nonces.front();
      if (!nonces.empty()) nonces.pop_front();
      at = n + 2;
    }
    if (peers_[i].fd >= 0) ws_loopback::SendAll(peers_[i].fd, ws_loopback::TextFrame(text));
    return true;
  }

  // The connection after the current one becomes current, once it has come (1 s at most).
  bool Next() {
    const size_t next = cur_ + 1;  // 0 before the first
    if (!Until([&] { return peers_.size() > next; }, 1000)) return false;
    cur_ = next;
    return true;
  }

  bool Open() const { return cur_ < peers_.size() && peers_[cur_].fd >= 0; }

  // Serves every connection until |done| holds (true) or |ms| have passed or the client has
  // returned (false).
  bool Until(const std::function<bool()>& done, int64_t ms) {
    const int64_t end = MonotonicMs() + ms;
    for (;;) {
      if (done()) return true;
      int64_t left = end - MonotonicMs();
      if (done_ || left <= 0) return false;
      Pump(static_cast<int>(left));
    }
  }

  // One poll over the listener, the end pipe and the connections, and what it found.
  void Pump(int ms) {
    std::vector<struct pollfd> fds = {{g_listen, POLLIN, 0}, {g_done[0], POLLIN, 0}};
    std::vector<size_t> which;
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i].fd < 0) continue;
      fds.push_back({peers_[i].fd, POLLIN, 0});
      which.push_back(i);
    }
    if (poll(fds.data(), fds.size(), ms) <= 0) return;
    if (fds[1].revents) done_ = true;
    for (size_t k = 0; k < which.size(); ++k) {
      if (!fds[k + 2].revents) continue;
      Peer& p = peers_[which[k]];
      char buf[4096];
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        continue;
      }
      p.rx.append(buf, static_cast<size_t>(n));
      ReadFrames(p);
    }
    if (fds[0].revents) Accept();
  }

  void Accept() {
    int fd = accept4(g_listen, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::string request = ws_loopback::ReadRequest(fd);
    if (request.find("\r\n\r\n") == std::string::npos) {
      close(fd);
      return;
    }
    ws_loopback::SendAll(fd, ws_loopback::Answer101(request));
    Peer p;
    p.fd = fd;
    p.rx = request.substr(request.find("\r\n\r\n") + 4);  // frames right behind the request
    peers_.push_back(std::move(p));
    ReadFrames(peers_.back());
  }

  std::vector<std::string> steps_;
  std::vector<Peer> peers_;
  size_t cur_ = static_cast<size_t>(-1);
  bool done_ = false;
};

void Init() {
  LogInit("twitch-pubsub");
  LogSetLevel(LogLevel::kError);
  fuzz_stdout::Capture();
  g_listen = ws_loopback::Bind(true, &g_port);
  if (pipe2(g_done, O_CLOEXEC) != 0) abort();
  InstallStopSignals();
}

// Connections an earlier input left in the backlog, and its end mark.
void Clear() {
  struct pollfd p = {g_listen, POLLIN, 0};
  while (poll(&p, 1, 0) > 0) close(accept4(g_listen, nullptr, nullptr, SOCK_CLOEXEC));
  char c;
  struct pollfd d = {g_done[0], POLLIN, 0};
  while (poll(&d, 1, 0) > 0 && read(g_done[0], &c, 1) == 1) {
  }
  ResetStopForTesting();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  static bool init = (Init(), true);
  (void)init;
  Clear();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view head = in.substr(0, nl);
  std::vector<std::string> steps;
  while (nl != std::string_view::npos) {
    size_t from = nl + 1;
    nl = in.find('\n', from);
    std::string_view line = in.substr(from, nl == std::string_view::npos ? nl : nl - from);
    if (!line.empty()) steps.emplace_back(line);
  }
  PubSubClientOptions opts;
  opts.url = "ws://127.0.0.1:" + std::to_string(g_port);
  opts.topics = {"channel-bits-events-v2.777000222", "channel-points-channel-v1.777000222",
                 "channel-subscribe-events-v1.777000223"};
  if (!head.empty() && head[0] >= '1' && head[0] <= '3') {
    opts.per_connection = static_cast<size_t>(head[0] - '0');
  }
  opts.map.raw = head.size() > 1 && head[1] == 'r';
  opts.ping_interval_s = 1;
  opts.pong_timeout_s = 1;
  opts.backoff = BackoffPolicy{1, 2, 0};
  Server server(std::move(steps));
  std::thread thread([&] { server.Run(); });
  int status = RunPubSubClient(opts, nullptr);
  if (write(g_done[1], "x", 1) != 1) abort();
  thread.join();
  if (status != kExitOk && status != kExitFailure && status != kExitCredentials) abort();
  fuzz_stdout::CheckEvents();
  return 0;
}
