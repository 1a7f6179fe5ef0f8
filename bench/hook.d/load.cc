// bench/hook's load generator: signed EventSub webhook notifications (channel.follow, each with
// its own message id, signed as Twitch signs them: HMAC-SHA256 of id + timestamp + body) POSTed
// over --concurrency connections, one request at a time on each (no pipelining, as Twitch and
// Node's agent send), flat out (--rate 0) or paced at --rate requests/s. Every request is built
// and signed before the clock starts. One thread, epoll, non-blocking sockets.
//
// A connection is kept while the server keeps it: an answer with `Connection: close`, or a close
// by the server, makes the next request on it open a new one (counted in "connects").
// Latency: from the request's send time (flat out: when it was handed to its connection, a new
// connection's handshake included; paced: its scheduled time, 1/rate apart from the start,
// whatever the answers, so a slow answer delays the ones behind it in the measure too: no
// coordinated omission) to the end of its whole 2xx answer. A request that gets no answer (the
// connection closed first) or another status counts in "other".
//
// Prints one JSON line: requests, ok, other, seconds, rps, p50_ms, p99_ms, connects.
// Build: c++ -O2 -std=c++17 load.cc -lcrypto (bench/hook does it).
// Usage: load --url http://127.0.0.1:PORT/PATH --secret S [--requests N] [--concurrency C]
//             [--rate R]
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/hmac.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace {

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "load: error: %s: %s\n", what, strerror(errno));
  exit(1);
}

std::string Hex(const unsigned char* p, unsigned n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; i++) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

// Date.prototype.toISOString() of now: 2026-12-01T18:00:00.000Z.
std::string IsoNow() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ts.tv_nsec / 1000000));
  return out;
}

// The request the earlier Node generator (load.js) made: the same body, field for field, and the
// same headers.
std::string BuildRequest(const std::string& url, const std::string& hostport,
                         const std::string& path, const std::string& secret, const std::string& ts,
                         int i) {
  std::string id = "bench-" + std::to_string(getpid()) + "-" + std::to_string(i);
  std::string n = std::to_string(i), user = std::to_string(1000 + i);
  std::string body =
      "{\"subscription\":{\"id\":\"sub-1\",\"status\":\"enabled\",\"type\":\"channel.follow\","
      "\"version\":\"2\",\"cost\":0,\"condition\":{\"broadcaster_user_id\":\"777\","
      "\"moderator_user_id\":\"777\"},\"transport\":{\"method\":\"webhook\",\"callback\":\"" +
      url + "\"},\"created_at\":\"" + ts + "\"},\"event\":{\"user_id\":\"" + user +
      "\",\"user_login\":\"viewer" + n + "\",\"user_name\":\"Viewer" + n +
      "\",\"broadcaster_user_id\":\"777\",\"broadcaster_user_login\":\"maple\","
      "\"broadcaster_user_name\":\"Maple\",\"followed_at\":\"" +
      ts + "\"}}";
  std::string signed_part = id + ts + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
       &mac_len);
  return "POST " + path + " HTTP/1.1\r\nHost: " + hostport +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nTwitch-Eventsub-Message-Id: " + id +
         "\r\nTwitch-Eventsub-Message-Retry: 0\r\nTwitch-Eventsub-Message-Type: notification"
         "\r\nTwitch-Eventsub-Message-Signature: sha256=" +
         Hex(mac, mac_len) + "\r\nTwitch-Eventsub-Message-Timestamp: " + ts +
         "\r\nTwitch-Eventsub-Subscription-Type: channel.follow"
         "\r\nTwitch-Eventsub-Subscription-Version: 2\r\n\r\n" +
         body;
}

// What an answer's head says (ParseHead: false while it is not all in).
struct Head {
  int status = 0;
  size_t head_len = 0, content_length = 0;
  bool close = false, chunked = false;
};

bool ParseHead(const std::string& in, Head* h) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  h->head_len = end + 4;
  h->status = in.size() > 12 ? atoi(in.c_str() + 9) : 0;
  h->content_length = 0;
  h->close = false;
  h->chunked = false;
  size_t pos = in.find("\r\n");
  while (pos < end) {
    size_t next = in.find("\r\n", pos + 2);
    std::string line = in.substr(pos + 2, next - pos - 2);
    for (char& c : line) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (line.rfind("content-length:", 0) == 0)
      h->content_length = strtoul(line.c_str() + 15, nullptr, 10);
    if (line.rfind("connection:", 0) == 0 && line.find("close") != std::string::npos)
      h->close = true;
    if (line.rfind("transfer-encoding:", 0) == 0 && line.find("chunked") != std::string::npos)
      h->chunked = true;
    pos = next;
  }
  return true;
}

// The length of the whole answer whose head |h| is at the start of |in|; 0 while it is not all in.
// A chunked body (Node's http server sends one) ends at its last, empty chunk and the trailers'
// blank line.
size_t AnswerLength(const std::string& in, const Head& h) {
  if (!h.chunked)
    return in.size() >= h.head_len + h.content_length ? h.head_len + h.content_length : 0;
  size_t pos = h.head_len;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return 0;
    size_t size = strtoul(in.c_str() + pos, nullptr, 16);
    if (size == 0) {
      size_t end = in.compare(eol, 4, "\r\n\r\n") == 0 ? eol : in.find("\r\n\r\n", eol);
      return end == std::string::npos ? 0 : end + 4;
    }
    pos = eol + 2 + size + 2;
    if (pos > in.size()) return 0;
  }
}

struct Conn {
  int fd = -1;
  uint32_t gen = 0;  // which socket of this slot an epoll event is about
  bool connecting = false;
  int req = -1;  // the request in flight, -1: idle
  size_t sent = 0;
  std::string in;
};

struct Load {
  struct sockaddr_in addr;
  std::vector<std::string> reqs;
  std::vector<int64_t> start;  // ns: when each request counts from
  std::vector<double> lat_ms;
  std::vector<Conn> conns;
  std::deque<int> waiting;  // requests due with no idle connection
  int epfd = -1, next = 0, done = 0, ok = 0, other = 0, connects = 0;
  bool flat = true;  // flat out: a connection takes the next request as soon as it is free

  static uint64_t Key(int ci, uint32_t gen) { return (static_cast<uint64_t>(gen) << 32) | ci; }

  void Open(int ci) {
    Conn& c = conns[ci];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) Die("socket");
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connects++;
    c.gen++;
    c.connecting = connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
    if (c.connecting && errno != EINPROGRESS) Die("connect");
    struct epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = Key(ci, c.gen);
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev) != 0) Die("epoll_ctl");
    c.in.clear();
  }

  void Drop(int ci) {
    Conn& c = conns[ci];
    if (c.fd >= 0) close(c.fd);
    c.fd = -1;
    c.connecting = false;
    c.in.clear();
  }

  void Want(int ci, bool out) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN | EPOLLRDHUP | (out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = Key(ci, conns[ci].gen);
    epoll_ctl(epfd, EPOLL_CTL_MOD, conns[ci].fd, &ev);
  }

  // Hands request |r| to idle connection |ci| and writes what the socket takes.
  void Send(int ci, int r) {
    Conn& c = conns[ci];
    c.req = r;
    c.sent = 0;
    if (c.fd < 0) {
      Open(ci);
      if (c.connecting) return;  // written once connected (EPOLLOUT)
    }
    Write(ci);
  }

  void Write(int ci) {
    Conn& c = conns[ci];
    const std::string& q = reqs[c.req];
    while (c.sent < q.size()) {
      ssize_t n = send(c.fd, q.data() + c.sent, q.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return Fail(ci);
      c.sent += static_cast<size_t>(n);
    }
    Want(ci, c.sent < q.size());
  }

  // The request in flight on |ci| gets no answer: counted, and the connection made anew.
  void Fail(int ci) {
    Conn& c = conns[ci];
    int r = c.req;
    Drop(ci);
    c.req = -1;
    if (r >= 0) Finish(false, r);
    Idle(ci);
  }

  void Finish(bool good, int r) {
    done++;
    if (good) {
      ok++;
      lat_ms.push_back(static_cast<double>(NowNs() - start[r]) / 1e6);
    } else {
      other++;
    }
  }

  // |ci| is free: the next request waiting, or (flat out) the next one at all.
  void Idle(int ci) {
    if (!waiting.empty()) {
      int r = waiting.front();
      waiting.pop_front();
      return Send(ci, r);
    }
    if (flat && next < static_cast<int>(reqs.size())) {
      start[next] = NowNs();
      Send(ci, next++);
    }
  }

  void OnEvent(uint64_t key, uint32_t events) {
    int ci = static_cast<int>(key & UINT32_MAX);
    Conn& c = conns[ci];
    if (c.fd < 0 || c.gen != key >> 32) return;  // about a socket closed since
    if (c.connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) return Fail(ci);
      c.connecting = false;
    }
    if (c.connecting) return;
    if (c.req >= 0 && c.sent < reqs[c.req].size() && (events & EPOLLOUT)) {
      Write(ci);
      if (c.gen != key >> 32) return;  // it failed: a new connection has the request
    }
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
    char buf[16384];
    bool eof = false;
    for (;;) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || errno != EAGAIN) eof = true;
      break;
    }
    Head h;
    size_t whole = 0;
    if (c.req >= 0 && ParseHead(c.in, &h) && (whole = AnswerLength(c.in, h)) > 0) {
      int r = c.req;
      c.req = -1;
      c.in.erase(0, whole);
      Finish(h.status >= 200 && h.status < 300, r);
      if (h.close || eof) Drop(ci);
      return Idle(ci);
    }
    if (eof) {
      if (c.req >= 0) return Fail(ci);
      Drop(ci);  // closed while idle: the next request opens a new one
    }
  }
};

const char* Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = Arg(argc, argv, "--url", "");
  std::string secret = Arg(argc, argv, "--secret", "");
  int total = atoi(Arg(argc, argv, "--requests", "20000"));
  int concurrency = atoi(Arg(argc, argv, "--concurrency", "16"));
  double rate = atof(Arg(argc, argv, "--rate", "0"));
  // http://HOST:PORT/PATH, HOST a numeric IPv4 address.
  if (url.rfind("http://", 0) != 0 || secret.empty() || total <= 0 || concurrency <= 0) {
    fprintf(stderr,
            "usage: load --url http://127.0.0.1:PORT/PATH --secret S [--requests N] "
            "[--concurrency C] [--rate R]\n");
    return 2;
  }
  size_t slash = url.find('/', 7);
  std::string hostport = url.substr(7, slash - 7),
              path = slash == std::string::npos ? "/" : url.substr(slash);
  size_t colon = hostport.rfind(':');
  Load L;
  memset(&L.addr, 0, sizeof L.addr);
  L.addr.sin_family = AF_INET;
  L.addr.sin_port = htons(static_cast<uint16_t>(atoi(hostport.c_str() + colon + 1)));
  if (colon == std::string::npos ||
      inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &L.addr.sin_addr) != 1) {
    fprintf(stderr, "load: error: --url %s: not http://IPV4:PORT/PATH\n", url.c_str());
    return 2;
  }
  std::string ts = IsoNow();
  for (int i = 0; i < total; i++)
    L.reqs.push_back(BuildRequest(url, hostport, path, secret, ts, i));
  L.start.assign(total, 0);
  L.lat_ms.reserve(total);
  L.conns.resize(concurrency);
  L.epfd = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (L.epfd < 0 || tfd < 0) Die("epoll");
  struct epoll_event tev = {};
  tev.events = EPOLLIN;
  tev.data.u64 = UINT64_MAX;
  epoll_ctl(L.epfd, EPOLL_CTL_ADD, tfd, &tev);
  const bool flat = rate <= 0;
  L.flat = flat;
  const int64_t every = flat ? 0 : static_cast<int64_t>(1e9 / rate);
  const int64_t t0 = NowNs();
  if (flat) {
    for (int ci = 0; ci < concurrency; ci++) L.Idle(ci);
  }
  std::vector<struct epoll_event> evs(concurrency + 1);
  while (L.done < total) {
    if (!flat) {
      // Every request due by now: to an idle connection, or to wait for one.
      int64_t now = NowNs();
      while (L.next < total && t0 + L.next * every <= now) {
        int r = L.next++;
        L.start[r] = t0 + r * every;
        L.waiting.push_back(r);
      }
      for (int ci = 0; ci < concurrency && !L.waiting.empty(); ci++) {
        if (L.conns[ci].req < 0) L.Idle(ci);
      }
      if (L.next < total) {
        struct itimerspec its = {};
        int64_t due = t0 + L.next * every;
        its.it_value.tv_sec = due / 1000000000;
        its.it_value.tv_nsec = due % 1000000000;
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
      }
    }
    int n = epoll_wait(L.epfd, evs.data(), static_cast<int>(evs.size()), 60000);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    if (n == 0) {
      fprintf(stderr, "load: error: no answer in 60 s (%d of %d done)\n", L.done, total);
      return 1;
    }
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == UINT64_MAX) {
        uint64_t expirations;
        ssize_t got = read(tfd, &expirations, sizeof expirations);
        (void)got;  // only to rearm it: the loop's top sends what is due
        continue;
      }
      L.OnEvent(evs[i].data.u64, evs[i].events);
    }
  }
  double secs = static_cast<double>(NowNs() - t0) / 1e9;
  std::sort(L.lat_ms.begin(), L.lat_ms.end());
  auto pct = [&](double p) {
    size_t i = std::min(L.lat_ms.size() - 1, static_cast<size_t>(L.lat_ms.size() * p));
    return L.lat_ms[i];
  };
  char p50[32] = "null", p99[32] = "null";
  if (!L.lat_ms.empty()) {
    snprintf(p50, sizeof p50, "%.3f", pct(0.5));
    snprintf(p99, sizeof p99, "%.3f", pct(0.99));
  }
  printf(
      "{\"requests\":%d,\"ok\":%d,\"other\":%d,\"seconds\":%.3f,\"rps\":%ld,\"p50_ms\":%s,"
      "\"p99_ms\":%s,\"connects\":%d}\n",
      total, L.ok, L.other, secs, lround(total / secs), p50, p99, L.connects);
  return 0;
}
