// bench/hook's floor: the least an HTTP server can do per webhook request on this machine. One
// thread on epoll, non-blocking sockets, keep-alive; each request's head is read to its blank
// line and its body to its Content-Length, then answered `204 No Content` with
// `Content-Length: 0`. No signature check, no JSON, no output: what the kernel's loopback TCP and
// the load generator (load.cc) cost per request, beside which twitch-hook's and twurple's
// figures are read. Logs "listening on 127.0.0.1:PORT" on stderr; runs until killed.
// Build: c++ -O2 -std=c++17 floor.cc (bench/hook does it).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "floor: error: %s: %s\n", what, strerror(errno));
  exit(1);
}

const char kAnswer[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

// The length of the whole request at the start of |in|: head and body; 0 while it is not all in.
size_t RequestLength(const std::string& in) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t body = 0;
  for (size_t pos = in.find("\r\n"); pos < end; pos = in.find("\r\n", pos + 2)) {
    if (strncasecmp(in.c_str() + pos + 2, "content-length:", 15) == 0) {
      body = strtoul(in.c_str() + pos + 17, nullptr, 10);
    }
  }
  return in.size() >= end + 4 + body ? end + 4 + body : 0;
}

}  // namespace

int main() {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (lfd < 0) Die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) Die("bind");
  if (listen(lfd, 128) < 0) Die("listen");
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  fprintf(stderr, "floor: listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));

  int ep = epoll_create1(0);
  if (ep < 0) Die("epoll_create1");
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, std::string> pending;
  char buf[65536];
  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die("epoll_wait");
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          struct epoll_event cev {};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          pending[c].clear();
        }
        continue;
      }
      std::string& in = pending[fd];
      ssize_t got;
      bool closed = false;
      while ((got = read(fd, buf, sizeof buf)) > 0) in.append(buf, static_cast<size_t>(got));
      if (got == 0 || (got < 0 && errno != EAGAIN)) closed = true;
      // One request at a time per connection (load.cc sends no more), answered whole: the
      // answer is a few bytes on an idle socket, which send() takes at once.
      for (size_t whole; (whole = RequestLength(in)) > 0;) {
        in.erase(0, whole);
        if (send(fd, kAnswer, sizeof kAnswer - 1, MSG_NOSIGNAL) < 0) closed = true;
      }
      if (closed) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        pending.erase(fd);
      }
    }
  }
}
