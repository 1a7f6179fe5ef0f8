// libFuzzer target for the WebSocket frames a ws-serve client sends, read by a real libwebsockets
// server context made as ws-serve makes its own (explicit vhost, UTF-8 validation, the same
// per-session size and 64 KiB receive buffer), fed through one end of a socketpair that the
// vhost adopts as an accepted connection. The first byte picks the input's shape: odd, the rest
// is the whole request (HTTP parser and upgrade included); even, a fixed upgrade request comes
// first and, once the server has answered it, the rest is the frame stream. Our end's writes are
// shut down after the input, so the server sees end of input and closes; the loop is serviced
// without waiting (data is already there) until it has, a bounded number of rounds. Invariants: no
// crash or sanitizer finding; each text message is valid UTF-8 once complete (but see below);
// fragments never overrun the receive buffer; the connection is always closed and destroyed, so
// nothing leaks from one input to the next. ws-serve's own callbacks (lib/ws/server.cc) have no
// entry point to adopt a socket, so they are not reached: this is the library under ws-serve's
// settings.
#include <fcntl.h>
#include <libwebsockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/utf8.h"

namespace {

struct Session {
  std::string message;
};

bool g_destroyed = false;
bool g_established = false;

int Callback(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* s = static_cast<Session*>(user);
  switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
      new (s) Session();
      g_established = true;
      return 0;
    case LWS_CALLBACK_RECEIVE:
      if (len > 65536) abort();
      if (s->message.size() < 1 << 20) s->message.append(static_cast<const char*>(in), len);
      if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
        // libwebsockets 4.1.6 checks UTF-8 frame by frame and lets through a sequence left
        // incomplete by an empty final fragment, which ws-serve therefore checks itself
        // (Server::OnReceive); any other invalid message is a finding.
        if (!lws_frame_is_binary(wsi) && s->message.size() < 1 << 20 && len > 0 &&
            !IsValidUtf8(s->message)) {
          abort();
        }
        s->message.clear();
      }
      return 0;
    case LWS_CALLBACK_CLOSED:
      s->~Session();
      return 0;
    case LWS_CALLBACK_HTTP:
      return -1;  // ws-serve answers plain HTTP too, but that is not this target's concern
    case LWS_CALLBACK_WSI_DESTROY:
      g_destroyed = true;
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const struct lws_protocols kProtocols[] = {
    {"servitor", Callback, sizeof(Session), 1024, 0, nullptr, 65536},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

const char kUpgrade[] =
    "GET /?token=t HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Origin: http://127.0.0.1:8080\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

struct lws_context* g_context = nullptr;

struct lws_vhost* Vhost() {
  static struct lws_vhost* vhost = [] {
    lws_set_log_level(0, nullptr);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.port = CONTEXT_PORT_NO_LISTEN;
    struct lws_context* context = lws_create_context(&info);
    if (!context) abort();
    g_context = context;
    info.protocols = kProtocols;
    info.vhost_name = "default";
    struct lws_vhost* v = lws_create_vhost(context, &info);
    if (!v) abort();
    return v;
  }();
  return vhost;
}

// Writes all of |data|, waiting when the socket is full (the size cap keeps that rare).
bool WriteAll(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = send(fd, data, size, MSG_NOSIGNAL);  // the server may have closed already
    if (n < 0 && errno == EAGAIN) {
      if (lws_service(g_context, -1) < 0) return false;
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  struct lws_vhost* vhost = Vhost();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  int buf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  const bool whole = data[0] & 1;
  g_destroyed = false;
  g_established = false;
  if (!lws_adopt_socket_vhost(vhost, sv[1])) abort();  // closes sv[1] itself when it fails
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  char sink[4096];
  if (!whole) {
    // The frames follow the 101 answer, as a client sends them (RFC 6455 4.1), so they reach the
    // server's ordinary read path rather than what was left over from the upgrade request.
    if (!WriteAll(sv[0], reinterpret_cast<const uint8_t*>(kUpgrade), sizeof kUpgrade - 1)) abort();
    for (int round = 0; !g_established && !g_destroyed && round < 1000; ++round) {
      if (lws_service(g_context, -1) < 0) abort();
    }
    if (!g_established) abort();
    while (read(sv[0], sink, sizeof sink) > 0) {
    }
  }
  (void)WriteAll(sv[0], data + 1, size - 1);  // what is refused after a close is not read
  shutdown(sv[0], SHUT_WR);
  for (int round = 0; !g_destroyed && round < 10000; ++round) {
    if (lws_service(g_context, -1) < 0) abort();
    while (read(sv[0], sink, sizeof sink) > 0) {
    }
    if (round == 1000) close(sv[0]), sv[0] = -1;  // a server that waits for our reading
  }
  if (!g_destroyed) abort();
  if (sv[0] >= 0) close(sv[0]);
  return 0;
}
