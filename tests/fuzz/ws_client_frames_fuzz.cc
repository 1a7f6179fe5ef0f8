// libFuzzer target for the WebSocket frames a listener reads: the shared client (lib/ws/ws_client:
// its lws context, callbacks, reassembly and size cap, close handling) connects to a server that
// the harness runs in a thread on a loopback socket (lws's client connects by itself, so it
// cannot be handed one end of a socketpair). The first byte picks the input's shape: odd, the rest
// is the server's whole answer to the handshake (lws's client HTTP parser included); even, a
// correct 101 answer comes first and the rest is the frame stream. The server then shuts down its
// writes and reads until the client has closed. The client never reconnects: its OnClosed ends
// the run. Invariants: no crash or sanitizer finding; the client always ends; every message handed
// to the listener is text within WsClientOptions::max_message (4096 here) that is valid UTF-8
// (lws validates each frame; ws_client reassembles).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "core/exit_status.h"
#include "core/log.h"
#include "core/utf8.h"
#include "ws/ws_client.h"
#include "ws_loopback.h"

namespace {

int g_listen = -1;
int g_port = 0;

void Listen() {
  if (g_listen >= 0) return;
  LogInit("ws-client");
  LogSetLevel(LogLevel::kError);
  int null = open("/dev/null", O_WRONLY);
  if (null < 0 || dup2(null, 1) < 0) abort();
  close(null);
  g_listen = ws_loopback::Bind(true, &g_port);
}

void Serve(bool whole, std::string_view rest) {
  int fd = ws_loopback::Accept(g_listen);
  if (fd < 0) return;
  std::string request = ws_loopback::ReadRequest(fd);
  std::string answer = whole ? std::string() : ws_loopback::Answer101(request);
  answer.append(rest.data(), rest.size());
  ws_loopback::SendAll(fd, answer);
  shutdown(fd, SHUT_WR);
  ws_loopback::Drain(fd);
  close(fd);
}

class Listener : public WsClientListener {
 public:
  void OnOpened(int) override {}
  void OnMessage(int, std::string_view text) override {
    if (text.size() > 4096 || !IsValidUtf8(text)) abort();
  }
  bool OnClosed(int, const WsCloseInfo&) override {
    client->Drain(kExitOk);
    return false;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65536) return 0;
  Listen();
  const bool whole = data[0] & 1;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::thread server(Serve, whole, rest);
  WsClientOptions opts;
  std::string err;
  if (!ParseWsUrl("ws://127.0.0.1:" + std::to_string(g_port) + "/", &opts.url, &err)) abort();
  opts.display_url = "ws://127.0.0.1/";
  opts.max_message = 4096;
  opts.connect_timeout_ms = 5000;
  Listener listener;
  {
    WsClient client(opts, &listener);
    client.Run();
  }
  server.join();
  return 0;
}
