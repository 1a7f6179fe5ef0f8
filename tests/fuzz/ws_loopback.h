// The server side of the harnesses that drive the shared WebSocket client (lib/ws/ws_client)
// over loopback TCP: lws's client connects by itself, so it cannot be handed one end of a
// socketpair. Plain sockets, no lws: what the server sends is exactly what the harness decides.
// Every wait is bounded (kWaitMs), so that a client that goes silent ends the input, not the run.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace ws_loopback {

constexpr int kWaitMs = 5000;

// A socket on 127.0.0.1, port 0, listening when |listen_too| (else bound only: connecting to it
// is refused at once); its port in |port|. Aborts when the machine has no loopback.
inline int Bind(bool listen_too, int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      (listen_too && listen(fd, 4) != 0) ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    abort();
  }
  *port = ntohs(a.sin_port);
  return fd;
}

// Waits up to kWaitMs for |fd| to be readable; false on a timeout.
inline bool WaitReadable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, kWaitMs) > 0;
}

// The next connection on |listener|, or -1 when none comes in time.
inline int Accept(int listener) {
  if (!WaitReadable(listener)) return -1;
  return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

// The client's handshake request, up to its blank line (or what came before EOF or a timeout).
inline std::string ReadRequest(int fd) {
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 16384) {
    if (!WaitReadable(fd)) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    request.append(buf, static_cast<size_t>(n));
  }
  return request;
}

// A correct 101 answer to |request| (RFC 6455 4.2.2: the key's SHA-1, base64).
inline std::string Answer101(const std::string& request) {
  std::string key;
  size_t k = request.find("Sec-WebSocket-Key: ");
  if (k == std::string::npos) k = request.find("sec-websocket-key: ");
  if (k != std::string::npos) key = request.substr(k + 19, request.find("\r\n", k) - k - 19);
  std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  unsigned char accept[64];
  int n = EVP_EncodeBlock(accept, digest, sizeof digest);
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         std::string(reinterpret_cast<char*>(accept), static_cast<size_t>(n)) + "\r\n\r\n";
}

// |text| as one unmasked text frame, as a server sends it.
inline std::string TextFrame(std::string_view text) {
  std::string f(1, '\x81');
  size_t n = text.size();
  if (n < 126) {
    f += static_cast<char>(n);
  } else if (n < 65536) {
    f += '\x7e';
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xff);
  } else {
    f += '\x7f';
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((n >> shift) & 0xff);
  }
  f.append(text.data(), text.size());
  return f;
}

// Sends all of |data| (or what the peer takes before it goes).
inline void SendAll(int fd, std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads and drops what comes until EOF or a timeout.
inline void Drain(int fd) {
  char buf[4096];
  while (WaitReadable(fd) && read(fd, buf, sizeof buf) > 0) {
  }
}

}  // namespace ws_loopback
