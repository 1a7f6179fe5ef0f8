// libFuzzer target for twitch-hook's request path: one HTTP request, built from the input, sent
// through one end of a loopback TCP connection (TCP as in use: its keep-alive answers need it)
// whose other end twitch-hook's own server (MakeWebhookHarness: its lws callbacks, HookServer,
// WebhookHandler, the EventSub mapping, the output queue) has adopted as an accepted connection.
// The first byte picks the request's shape:
//   bit 0: the signature is the input's (else the harness signs id + timestamp + body with the
//          server's secret, so that the body reaches the JSON and the mapping);
//   bit 1: the timestamp is now (else the input's);
//   bits 2-3: POST, GET, PUT, HEAD;  bit 4: a path other than --path;
//   bit 5: no Content-Length (chunked);  bit 6: the rest is the whole request, bytes as they are.
// Otherwise the rest is "ID\nTIMESTAMP\nTYPE\nSIGNATURE\nBODY". Our end's writes are shut down
// 50 rounds after the request; the loop is serviced without waiting until the server has closed
// the connection, a bounded number of rounds. Invariants: no
// crash or sanitizer finding; the server answers with an HTTP/1.x status line (in the version the
// request named: corpus/webhook/http-version) or closes; a POST that the harness signed with a
// current timestamp is never refused for its signature or its timestamp; the connection always
// ends.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/log.h"
#include "core/time.h"
#include "twitch/webhook.h"
#include "twitch/webhook_server.h"
#include "ws_loopback.h"

namespace {

constexpr const char* kSecret = "fuzzing-secret-0123";

ServerHarness* Harness() {
  static ServerHarness* harness = [] {
    LogInit("twitch-hook");
    LogSetLevel(LogLevel::kError);
    // The events go to stdout: nowhere, here.
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, 1) < 0) abort();
    close(null);
    HookOptions opts;
    opts.secret = kSecret;
    opts.request_timeout = 5;
    auto h = MakeWebhookHarness(opts);
    if (!h) abort();
    return h.release();
  }();
  return harness;
}

std::string_view Field(std::string_view* rest) {
  size_t nl = rest->find('\n');
  std::string_view f = rest->substr(0, nl);
  rest->remove_prefix(nl == std::string_view::npos ? rest->size() : nl + 1);
  return f;
}

// A header value that reaches the server as it was sent: printable, no white space at its ends.
bool Plain(const std::string& v) {
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return v.empty() || (v.front() != ' ' && v.back() != ' ');
}

std::string Request(uint8_t shape, std::string_view rest, bool* plain) {
  if (shape & 64) return std::string(rest);
  std::string id(Field(&rest)), timestamp(Field(&rest)), type(Field(&rest));
  *plain = Plain(id) && Plain(type) && id.size() < 256 && type.size() < 256;
  std::string signature(Field(&rest));
  std::string_view body = rest;
  if (shape & 2) timestamp = FormatRfc3339Millis(NowMillis());
  if (!(shape & 1)) signature = WebhookSignature(kSecret, id, timestamp, body);
  static const char* const kMethods[] = {"POST", "GET", "PUT", "HEAD"};
  std::string r = std::string(kMethods[(shape >> 2) & 3]) + " " +
                  (shape & 16 ? "/elsewhere" : "/eventsub") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  r += "Twitch-Eventsub-Message-Id: " + id + "\r\n";
  r += "Twitch-Eventsub-Message-Timestamp: " + timestamp + "\r\n";
  r += "Twitch-Eventsub-Message-Type: " + type + "\r\n";
  r += "Twitch-Eventsub-Message-Signature: " + signature + "\r\n";
  r += "Content-Type: application/json\r\n";
  if (shape & 32) {
    char chunk[32];
    snprintf(chunk, sizeof chunk, "%zx\r\n", body.size());
    r += std::string("Transfer-Encoding: chunked\r\n\r\n") + chunk;
    r.append(body.data(), body.size());
    r += "\r\n0\r\n\r\n";
  } else {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    r.append(body.data(), body.size());
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  ServerHarness* harness = Harness();
  const uint8_t shape = data[0];
  bool plain = false;
  std::string request =
      Request(shape, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1), &plain);
  // Signed by us, current, complete and to the hook: a refusal can only be about the body.
  const bool trusted = plain && (shape & (1 | 2 | 12 | 16 | 32 | 64)) == 2;
  // sv[0] ours, sv[1] the server's: a loopback TCP connection.
  static int port = 0;
  static int listener = ws_loopback::Bind(true, &port);
  int sv[2];
  sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sv[0] < 0 || connect(sv[0], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) abort();
  sv[1] = ws_loopback::Accept(listener);
  if (sv[1] < 0) abort();
  int buf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (!harness->Adopt(sv[1])) abort();  // lws closes sv[1] itself when it fails
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  size_t off = 0;
  std::string answer;
  bool closed = false;
  char sink[4096];
  // Our writes are shut down 50 rounds after the whole request went: a keep-alive answer, and
  // what the server then does with a request pipelined behind it, come before our FIN, as they
  // do for a client that keeps its connection.
  bool shut = false;
  int sent_round = -1;
  if (request.empty()) shut = shutdown(sv[0], SHUT_WR) == 0;  // corpus/webhook/empty
  for (int round = 0; !closed && round < 20000; ++round) {
    if (off < request.size()) {
      ssize_t n = send(sv[0], request.data() + off, request.size() - off, MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) off = request.size();  // the server closed: not read
      if (off == request.size()) sent_round = round;
    }
    if (!shut && sent_round >= 0 && round - sent_round >= 50) {
      shutdown(sv[0], SHUT_WR);
      shut = true;
    }
    if (harness->Service() < 0) abort();
    ssize_t n;
    while ((n = read(sv[0], sink, sizeof sink)) > 0) {
      if (answer.size() < 4096) answer.append(sink, static_cast<size_t>(n));
    }
    if (n == 0 || (n < 0 && errno != EAGAIN)) closed = true;
  }
  if (!closed) abort();  // the server kept a finished request's connection open
  close(sv[0]);
  // lws answers in the version the request named (HTTP/1.0, or 1.1 for one it cannot read).
  if (!answer.empty() && answer.compare(0, 7, "HTTP/1.") != 0) abort();
  if (trusted && answer.size() >= 12 && answer.compare(8, 4, " 403") == 0) abort();
  return 0;
}
