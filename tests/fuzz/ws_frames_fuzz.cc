// libFuzzer target for the WebSocket frames a ws-serve client sends, read by ws-serve's own server
// (MakeServeHarness: its context and vhost as RunServer() makes them, its lws callbacks, the token
// and origin checks, --relay's reassembly) through one end of a socketpair that the vhost adopts
// as an accepted connection. The first byte picks the input's shape: odd, the rest is the whole
// request (HTTP parser, /healthz and the upgrade checks included); even, a fixed upgrade request
// comes first and, once the server has answered it 101, the rest is the frame stream. Our end's
// writes are shut down after the input, so the server sees end of input and closes; the loop is
// serviced without waiting until it has, a bounded number of rounds. The server runs with --relay
// and --max-line 4096 and its stdout is a pipe that the harness reads. Invariants: no crash or
// sanitizer finding; the connection is always closed; every relayed line is valid UTF-8 without a
// control character, one message a line (libwebsockets 4.1.6 checks UTF-8 frame by frame and lets
// through a sequence left incomplete by an empty final fragment, which ws-serve checks itself).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/log.h"
#include "core/utf8.h"
#include "ws/server.h"

namespace {

const char kUpgrade[] =
    "GET /?token=t HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Origin: http://127.0.0.1:8080\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

int g_relayed = -1;  // the read end of ws-serve's stdout
std::string g_partial;

ServerHarness* Harness() {
  static ServerHarness* harness = [] {
    LogInit("ws-serve");
    LogSetLevel(LogLevel::kError);
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0 || dup2(p[1], 1) < 0) abort();
    close(p[1]);
    g_relayed = p[0];
    ServeOptions opts;
    opts.token = "t";
    opts.relay = true;
    opts.max_line = 4096;
    opts.max_clients = 16;
    auto h = MakeServeHarness(opts);
    if (!h) abort();
    return h.release();
  }();
  return harness;
}

// Reads what ws-serve relayed so far and checks each whole line.
void CheckRelayed() {
  char buf[4096];
  ssize_t n;
  while ((n = read(g_relayed, buf, sizeof buf)) > 0) g_partial.append(buf, static_cast<size_t>(n));
  size_t nl;
  while ((nl = g_partial.find('\n')) != std::string::npos) {
    std::string line = g_partial.substr(0, nl);
    g_partial.erase(0, nl + 1);
    if (line.size() > 4096 || !IsValidUtf8(line) || HasControlCharacter(line)) abort();
  }
}

// Writes all of |data|, servicing the loop when the socket is full.
bool WriteAll(ServerHarness* h, int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);  // the server may have closed already
    if (n < 0 && errno == EAGAIN) {
      if (h->Service() < 0) return false;
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads what the server sent; false once it has closed the connection.
bool Drain(int fd, std::string* seen) {
  char sink[4096];
  ssize_t n;
  while ((n = read(fd, sink, sizeof sink)) > 0) {
    if (seen && seen->size() < 4096) seen->append(sink, static_cast<size_t>(n));
  }
  return n < 0 && errno == EAGAIN;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  ServerHarness* h = Harness();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  int buf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  const bool whole = data[0] & 1;
  if (!h->Adopt(sv[1])) abort();  // closes sv[1] itself when it fails
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  bool open = true;
  if (!whole) {
    // The frames follow the 101 answer, as a client sends them (RFC 6455 4.1), so they reach the
    // server's ordinary read path rather than what was left over from the upgrade request.
    if (!WriteAll(h, sv[0], reinterpret_cast<const uint8_t*>(kUpgrade), sizeof kUpgrade - 1)) {
      abort();
    }
    std::string answer;
    for (int round = 0; open && answer.find("\r\n\r\n") == std::string::npos && round < 1000;
         ++round) {
      if (h->Service() < 0) abort();
      open = Drain(sv[0], &answer);
    }
    if (answer.compare(0, 12, "HTTP/1.1 101") != 0) abort();  // the upgrade is refused
  }
  if (open)
    (void)WriteAll(h, sv[0], data + 1, size - 1);  // what is refused after a close is not read
  shutdown(sv[0], SHUT_WR);
  for (int round = 0; open && round < 10000; ++round) {
    if (h->Service() < 0) abort();
    open = Drain(sv[0], nullptr);
    CheckRelayed();
  }
  if (open) abort();  // the server kept a connection open after its end of input
  close(sv[0]);
  for (int round = 0; round < 3; ++round) h->Service();  // its CLOSED and DESTROY callbacks
  CheckRelayed();
  return 0;
}
