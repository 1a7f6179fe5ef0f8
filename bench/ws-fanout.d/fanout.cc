// Load generator, WebSocket receivers and calibration server for bench/ws-fanout.
//
// bench/ws-fanout builds this file with g++ into a temporary directory; it is
// not part of the servitor library and has no dependency on it, so that the
// measuring side is the same for every server under test.
//
//   fanout gen   --count M --size S [--rate R] [--wait-file F] [--irc-rooms C]
//       writes M lines of S bytes (plus '\n') to stdout, each carrying its
//       sequence number and a CLOCK_MONOTONIC send stamp in nanoseconds:
//       {"seq":N,"t":NS,"pad":"xxxx"}. Flat out (pipe speed) unless --rate.
//       With --irc-rooms C (bench/scale), Twitch IRC raid lines instead, line
//       N to channel #RoomName(N % C), each with the tag id=K-NS, K being the
//       line's number within its channel (N / C) and NS the send stamp.
//   fanout recv  --port P --clients N --count M [--stalled K] [--server-pid PID]
//                [--go-file F] [--idle S] [--deadline S] [--rooms C]
//       opens N WebSocket connections to ws://127.0.0.1:P/ (plus K stalled
//       ones: handshake, tiny SO_RCVBUF, never read), creates F when all are
//       open, then receives until every client has M messages, or nothing
//       came for --idle seconds, or --deadline passed. With --rooms C, client
//       i asks for ws-serve's room /r/RoomName(i % C)/, and a message is an
//       event whose "id" is K-NS (as gen --irc-rooms makes them). Prints one
//       JSON object:
//       delivered messages/s, latency percentiles, loss/reorder counts, the
//       server's CPU (utime+stime) and peak RSS (VmHWM) from /proc.
//   fanout blast [--per-message 1]
//       a trivial broadcast server for calibrating the receivers: stdin lines
//       framed in bulk, one write per client per read of stdin; with
//       --per-message 1, one send() per frame per client, as the servers
//       under test do (the receivers then read small segments). TCP_NODELAY
//       on every socket, as lws, node ws and asyncio set it.
//
// Every loop is bounded by a count or a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "fanout: error: %s: %s\n", what, strerror(errno));
  exit(1);
}

// --name value pairs; every option takes a value.
std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> m;
  for (int i = 2; i + 1 < argc; i += 2) m[argv[i]] = argv[i + 1];
  return m;
}

double Num(const std::map<std::string, std::string>& m, const char* k,
           double def) {
  auto it = m.find(k);
  return it == m.end() ? def : atof(it->second.c_str());
}

std::string Str(const std::map<std::string, std::string>& m, const char* k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, 1000);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// ---------------------------------------------------------------- gen

// The name of room (and Twitch channel) number i: ch0000, ch0001, ...
std::string RoomName(uint64_t i) {
  char name[32];
  snprintf(name, sizeof name, "ch%04llu", (unsigned long long)i);
  return name;
}

// A raid notice to channel |room| whose id tag is "K-T": a real notice's tags, as Twitch sends
// them, so that twitch-irc parses and maps it as it would a live one.
void AppendIrcLine(std::string* out, uint64_t seq, uint64_t t, uint64_t rooms) {
  char line[640];
  int n = snprintf(
      line, sizeof line,
      "@badge-info=;badges=partner/1;color=;display-name=HarborLights;emotes=;"
      "id=%llu-%llu;login=harborlights;mod=0;msg-id=raid;msg-param-displayName=HarborLights;"
      "msg-param-login=harborlights;msg-param-viewerCount=342;room-id=%llu;subscriber=0;"
      "system-msg=342\\sraiders\\sfrom\\sHarborLights\\shave\\sjoined!;"
      "tmi-sent-ts=%llu;user-id=40040046;user-type= :tmi.twitch.tv USERNOTICE #%s\r\n",
      (unsigned long long)(seq / rooms), (unsigned long long)t,
      (unsigned long long)(700000000 + seq % rooms), (unsigned long long)(time(nullptr) * 1000),
      RoomName(seq % rooms).c_str());
  if (n > 0) out->append(line, size_t(n));
}

void AppendLine(std::string* out, uint64_t seq, uint64_t t, size_t size) {
  char head[64];
  int n = snprintf(head, sizeof head, "{\"seq\":%llu,\"t\":%llu,\"pad\":\"",
                   (unsigned long long)seq, (unsigned long long)t);
  size_t pad = size > size_t(n) + 2 ? size - size_t(n) - 2 : 0;
  out->append(head, size_t(n));
  out->append(pad, 'x');
  out->append("\"}\n");
}

int Gen(const std::map<std::string, std::string>& a) {
  uint64_t count = uint64_t(Num(a, "--count", 1000));
  size_t size = size_t(Num(a, "--size", 512));
  double rate = Num(a, "--rate", 0);
  std::string wait_file = Str(a, "--wait-file");
  uint64_t irc_rooms = uint64_t(Num(a, "--irc-rooms", 0));
  signal(SIGPIPE, SIG_IGN);
  if (!wait_file.empty()) {
    struct stat st;
    uint64_t until = NowNs() + uint64_t(Num(a, "--wait", 120) * 1e9);
    while (stat(wait_file.c_str(), &st) != 0) {
      if (NowNs() > until) {
        fprintf(stderr, "fanout gen: error: %s never appeared\n",
                wait_file.c_str());
        return 1;
      }
      usleep(2000);
    }
  }
  std::string buf;
  uint64_t start = NowNs();
  const uint64_t kBatch = rate > 0 ? 1 : 64;
  for (uint64_t seq = 0; seq < count;) {
    if (rate > 0) {
      uint64_t due = start + uint64_t(double(seq) * 1e9 / rate);
      timespec ts{time_t(due / 1000000000u), long(due % 1000000000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) ==
             EINTR) {
      }
    }
    buf.clear();
    uint64_t t = NowNs();
    for (uint64_t i = 0; i < kBatch && seq < count; ++i, ++seq)
      if (irc_rooms > 0)
        AppendIrcLine(&buf, seq, t, irc_rooms);
      else
        AppendLine(&buf, seq, t, size);
    if (!WriteAll(1, buf.data(), buf.size())) {
      fprintf(stderr, "fanout gen: error: stdout closed after %llu lines\n",
              (unsigned long long)seq);
      return 1;
    }
  }
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr, "fanout gen: sent %llu lines in %.3f s, cpu %.3f s\n",
          (unsigned long long)count, double(NowNs() - start) / 1e9,
          double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
              double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  return 0;
}

// ---------------------------------------------------------------- recv

// Latency histogram: 1 µs buckets below 10 ms, 1 ms buckets below 100 s.
struct Histogram {
  std::vector<uint64_t> us = std::vector<uint64_t>(10000);
  std::vector<uint64_t> ms = std::vector<uint64_t>(100000);
  uint64_t over = 0, total = 0, max_ns = 0;

  void Add(uint64_t ns) {
    ++total;
    if (ns > max_ns) max_ns = ns;
    uint64_t u = ns / 1000;
    if (u < us.size())
      ++us[u];
    else if (u / 1000 < ms.size())
      ++ms[u / 1000];
    else
      ++over;
  }
  // Value in µs below which a fraction q of the samples lie.
  double Quantile(double q) const {
    if (total == 0) return -1;
    uint64_t want = uint64_t(q * double(total - 1)) + 1, seen = 0;
    for (size_t i = 0; i < us.size(); ++i)
      if ((seen += us[i]) >= want) return double(i) + 0.5;
    for (size_t i = 0; i < ms.size(); ++i)
      if ((seen += ms[i]) >= want) return double(i) * 1000 + 500;
    return double(max_ns) / 1000;
  }
};

enum State { kConnecting, kHandshake, kOpen, kClosed };

struct Conn {
  int fd = -1;
  State state = kConnecting;
  bool stalled = false;
  bool close_seen = false;
  std::string in;  // an incomplete frame or response carried to the next read
  uint64_t next_seq = 0, received = 0, lost = 0, reordered = 0;
};

struct Totals {
  Histogram lat;
  uint64_t delivered = 0, lost = 0, reordered = 0, bad = 0, closed_early = 0;
  uint64_t first_rx = 0, last_rx = 0;
};

const char kMask[4] = {0x12, 0x34, 0x56, 0x78};

// Sends one small masked control frame (pong or close reply).
void SendControl(int fd, uint8_t opcode, const char* p, size_t n) {
  if (n > 125) n = 125;
  char f[2 + 4 + 125];
  f[0] = char(0x80 | opcode);
  f[1] = char(0x80 | n);
  memcpy(f + 2, kMask, 4);
  for (size_t i = 0; i < n; ++i) f[6 + i] = char(p[i] ^ kMask[i % 4]);
  (void)!send(fd, f, 6 + n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

uint64_t ParseU64(const char** p, const char* end) {
  uint64_t v = 0;
  while (*p < end && **p >= '0' && **p <= '9') v = v * 10 + uint64_t(*(*p)++ - '0');
  return v;
}

// Finds the sequence number and send stamp in a message: {"seq":N,"t":NS,...} from gen, or an
// event whose "id" is "K-NS" (gen --irc-rooms through twitch-irc).
bool ParseStamp(const char* p, size_t n, uint64_t* seq, uint64_t* sent) {
  const char* end = p + n;
  static const char kSeq[] = "{\"seq\":";
  static const char kT[] = ",\"t\":";
  static const char kId[] = "\"id\":\"";
  if (n >= sizeof kSeq && memcmp(p, kSeq, sizeof kSeq - 1) == 0) {
    p += sizeof kSeq - 1;
    *seq = ParseU64(&p, end);
    if (end - p < 5 || memcmp(p, kT, sizeof kT - 1) != 0) return false;
    p += sizeof kT - 1;
  } else {
    const char* id = static_cast<const char*>(memmem(p, n, kId, sizeof kId - 1));
    if (id == nullptr) return false;
    p = id + sizeof kId - 1;
    *seq = ParseU64(&p, end);
    if (p == end || *p++ != '-') return false;
  }
  *sent = ParseU64(&p, end);
  return true;
}

void OnMessage(Conn* c, Totals* t, const char* p, size_t n, uint64_t now) {
  uint64_t seq = 0, sent = 0;
  if (!ParseStamp(p, n, &seq, &sent)) {
    ++t->bad;
    return;
  }
  t->lat.Add(now > sent ? now - sent : 0);
  ++c->received;
  ++t->delivered;
  if (seq == c->next_seq) {
    ++c->next_seq;
  } else if (seq > c->next_seq) {
    c->lost += seq - c->next_seq;
    c->next_seq = seq + 1;
  } else {
    ++c->reordered;
  }
  if (t->first_rx == 0) t->first_rx = now;
  t->last_rx = now;
}

// Consumes complete frames from p[0..n); returns the bytes used.
size_t ParseFrames(Conn* c, Totals* t, const char* p, size_t n, uint64_t now) {
  size_t pos = 0;
  while (n - pos >= 2) {
    const uint8_t* h = reinterpret_cast<const uint8_t*>(p + pos);
    uint8_t opcode = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (n - pos < 4) break;
      len = (uint64_t(h[2]) << 8) | h[3];
      hdr = 4;
    } else if (len == 127) {
      if (n - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | h[2 + i];
      hdr = 10;
    }
    if (h[1] & 0x80) hdr += 4;  // servers must not mask; tolerate it
    if (n - pos < hdr + len) break;
    const char* payload = p + pos + hdr;
    switch (opcode) {
      case 1:
      case 2:
        OnMessage(c, t, payload, size_t(len), now);
        break;
      case 8:
        c->close_seen = true;
        SendControl(c->fd, 8, payload, len >= 2 ? 2 : 0);
        break;
      case 9:
        SendControl(c->fd, 10, payload, size_t(len));
        break;
      default:
        break;  // pong, or a continuation: none of the peers fragments
    }
    pos += hdr + size_t(len);
  }
  return pos;
}

bool ProcStat(int pid, double* cpu_s) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), {});
  size_t rp = s.rfind(')');
  if (rp == std::string::npos) return false;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && (in >> field); ++i) {
    if (i == 14) ut = strtoull(field.c_str(), nullptr, 10);
    if (i == 15) st = strtoull(field.c_str(), nullptr, 10);
  }
  *cpu_s = double(ut + st) / double(sysconf(_SC_CLK_TCK));
  return true;
}

long ProcStatusKb(int pid, const char* key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  size_t kl = strlen(key);
  while (std::getline(f, line))
    if (line.compare(0, kl, key) == 0 && line.size() > kl && line[kl] == ':')
      return atol(line.c_str() + kl + 1);
  return -1;
}

int Connect(int port, bool stalled) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (stalled) {
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(uint16_t(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 &&
      errno != EINPROGRESS)
    Die("connect");
  return fd;
}

int Recv(const std::map<std::string, std::string>& a) {
  int port = int(Num(a, "--port", 0));
  size_t nclients = size_t(Num(a, "--clients", 10));
  size_t nstalled = size_t(Num(a, "--stalled", 0));
  uint64_t count = uint64_t(Num(a, "--count", 1000));
  int server_pid = int(Num(a, "--server-pid", 0));
  double idle_s = Num(a, "--idle", 5), deadline_s = Num(a, "--deadline", 120);
  std::string go_file = Str(a, "--go-file");
  uint64_t rooms = uint64_t(Num(a, "--rooms", 0));
  signal(SIGPIPE, SIG_IGN);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) Die("epoll_create1");
  size_t total = nclients + nstalled;
  std::vector<Conn> conns(total);
  for (size_t i = 0; i < total; ++i) conns[i].stalled = i >= nclients;

  // Phase 1: connect and handshake, at most kInFlight at a time.
  const size_t kInFlight = 64;
  auto request = [&](size_t i) {
    return "GET " + (rooms > 0 ? "/r/" + RoomName(i % rooms) + "/" : std::string("/")) +
           " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n";
  };
  uint64_t t0 = NowNs(), connect_until = t0 + 30000000000ull;
  size_t next = 0, in_flight = 0, n_open = 0, failed = 0;
  std::vector<char> buf(256 * 1024);
  epoll_event evs[256];
  while (n_open + failed < total) {
    while (next < total && in_flight < kInFlight) {
      Conn& c = conns[next];
      c.fd = Connect(port, c.stalled);
      epoll_event ev{EPOLLOUT, {}};
      ev.data.u64 = next++;
      epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
      ++in_flight;
    }
    if (NowNs() > connect_until) break;
    int n = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[evs[i].data.u64];
      if (c.state == kConnecting) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &el);
        const std::string req = request(evs[i].data.u64);
        if (err != 0 || !WriteAll(c.fd, req.data(), req.size())) {
          c.state = kClosed, ++failed, --in_flight;
          close(c.fd);
          continue;
        }
        c.state = kHandshake;
        epoll_event ev{EPOLLIN, {}};
        ev.data.u64 = evs[i].data.u64;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
      } else if (c.state == kHandshake) {
        // A stalled client reads only up to the end of the response headers.
        size_t want = c.stalled ? 1 : buf.size();
        ssize_t r = recv(c.fd, buf.data(), want, 0);
        if (r <= 0) {
          if (r < 0 && errno == EAGAIN) continue;
          c.state = kClosed, ++failed, --in_flight;
          close(c.fd);
          continue;
        }
        c.in.append(buf.data(), size_t(r));
        size_t end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        --in_flight;
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
          fprintf(stderr, "fanout recv: warning: handshake refused: %.40s\n",
                  c.in.c_str());
          c.state = kClosed, ++failed;
          close(c.fd);
          continue;
        }
        c.in.erase(0, end + 4);
        c.state = kOpen;
        ++n_open;
        if (c.stalled) epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      }
    }
  }
  uint64_t t_open = NowNs();
  double cpu0 = 0, cpu1 = 0;
  if (server_pid) ProcStat(server_pid, &cpu0);
  rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);

  // Phase 2: let the generator go, then receive.
  if (!go_file.empty()) {
    int fd = open(go_file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) Die("go file");
    close(fd);
  }
  Totals t;
  uint64_t deadline = NowNs() + uint64_t(deadline_s * 1e9);
  uint64_t idle = uint64_t(idle_s * 1e9), last_activity = NowNs();
  size_t done = 0, healthy_open = 0;
  for (auto& c : conns) healthy_open += (!c.stalled && c.state == kOpen);
  for (auto& c : conns)
    if (!c.stalled && c.state == kOpen && count == 0) ++done;
  while (done < healthy_open) {
    uint64_t now = NowNs();
    if (now > deadline || now - last_activity > idle) break;
    int n = epoll_wait(ep, evs, 256, 100);
    now = NowNs();
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[evs[i].data.u64];
      if (c.state != kOpen) continue;
      ssize_t r = recv(c.fd, buf.data(), buf.size(), 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      last_activity = now;
      if (r <= 0) {
        c.state = kClosed;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        if (c.received < count) ++t.closed_early, ++done;
        continue;
      }
      bool was_done = c.received >= count;
      const char* data = buf.data();
      size_t len = size_t(r);
      if (!c.in.empty()) {
        c.in.append(data, len);
        data = c.in.data();
        len = c.in.size();
      }
      size_t used = ParseFrames(&c, &t, data, len, now);
      if (c.in.empty())
        c.in.assign(data + used, len - used);
      else
        c.in.erase(0, used);
      if (!was_done && c.received >= count) ++done;
    }
  }
  uint64_t t_end = NowNs();
  if (server_pid) ProcStat(server_pid, &cpu1);
  long hwm = server_pid ? ProcStatusKb(server_pid, "VmHWM") : -1;
  long rss = server_pid ? ProcStatusKb(server_pid, "VmRSS") : -1;
  rusage ru1;
  getrusage(RUSAGE_SELF, &ru1);
  auto tv = [](const timeval& v) { return double(v.tv_sec) + v.tv_usec / 1e6; };
  double recv_cpu = tv(ru1.ru_utime) + tv(ru1.ru_stime) - tv(ru0.ru_utime) -
                    tv(ru0.ru_stime);
  size_t complete = 0;
  for (auto& c : conns) {
    if (c.stalled) continue;
    t.lost += c.lost;
    t.reordered += c.reordered;
    if (c.received >= count && c.lost == 0 && c.reordered == 0) ++complete;
  }
  uint64_t expected = uint64_t(healthy_open) * count;
  double window = t.last_rx > t.first_rx ? double(t.last_rx - t.first_rx) / 1e9
                                         : 0;
  double wall = double(t_end - t_open) / 1e9;
  printf(
      "{\"clients\":%zu,\"stalled\":%zu,\"open\":%zu,\"failed\":%zu,"
      "\"connect_s\":%.3f,\"lines\":%llu,\"expected\":%llu,\"delivered\":%llu,"
      "\"complete_clients\":%zu,\"missing\":%llu,\"gaps\":%llu,"
      "\"reordered\":%llu,\"bad\":%llu,\"closed_early\":%llu,"
      "\"window_s\":%.3f,\"msgs_per_s\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"p999_us\":%.1f,\"max_us\":%.1f,\"server_cpu_s\":%.2f,"
      "\"server_cpu_pct\":%.0f,\"server_hwm_kb\":%ld,\"server_rss_kb\":%ld,"
      "\"recv_cpu_s\":%.2f,\"wall_s\":%.3f}\n",
      nclients, nstalled, n_open, failed, double(t_open - t0) / 1e9,
      (unsigned long long)count, (unsigned long long)expected,
      (unsigned long long)t.delivered, complete,
      (unsigned long long)(expected > t.delivered ? expected - t.delivered : 0),
      (unsigned long long)t.lost, (unsigned long long)t.reordered,
      (unsigned long long)t.bad, (unsigned long long)t.closed_early, window,
      window > 0 ? double(t.delivered) / window : 0, t.lat.Quantile(0.5),
      t.lat.Quantile(0.99), t.lat.Quantile(0.999), double(t.lat.max_ns) / 1e3,
      cpu1 - cpu0, wall > 0 ? 100 * (cpu1 - cpu0) / wall : 0, hwm, rss,
      recv_cpu, wall);
  fflush(stdout);
  for (auto& c : conns)
    if (c.fd >= 0 && c.state != kClosed) close(c.fd);
  return n_open == total ? 0 : 1;
}

// ---------------------------------------------------------------- blast

struct Peer {
  int fd = -1;
  bool open = false;
  bool watch_out = false;  // EPOLLOUT is registered
  size_t chunk = 0;        // most bytes per send(); 0: no limit
  std::string in, out;
  size_t off = 0;
};

std::string AcceptKey(const std::string& key) {
  std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_Digest(s.data(), s.size(), md, &mdlen, EVP_sha1(), nullptr);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, md, int(mdlen));
  return std::string(reinterpret_cast<char*>(b64), size_t(n));
}

void Watch(int ep, int fd, uint32_t events, uint64_t key, int op) {
  epoll_event ev{events, {}};
  ev.data.u64 = key;
  epoll_ctl(ep, op, fd, &ev);
}

// Writes what it can; watches EPOLLOUT while something is left.
void Flush(int ep, Peer* p, uint64_t key) {
  while (p->off < p->out.size()) {
    size_t n = p->out.size() - p->off;
    if (p->chunk != 0 && n > p->chunk) n = p->chunk;
    ssize_t w = send(p->fd, p->out.data() + p->off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w <= 0) break;
    p->off += size_t(w);
  }
  if (p->off == p->out.size()) p->out.clear(), p->off = 0;
  bool has = p->off < p->out.size();
  if (p->watch_out != has)
    Watch(ep, p->fd, EPOLLIN | (has ? EPOLLOUT : 0u), key, EPOLL_CTL_MOD);
  p->watch_out = has;
}

int Blast(const std::map<std::string, std::string>& a) {
  bool per_message = Num(a, "--per-message", 0) != 0;
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      listen(lfd, 4096) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &sl) != 0)
    Die("listen");
  fprintf(stderr, "blast: info: listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  const uint64_t kListen = ~0ull, kStdin = ~0ull - 1;
  Watch(ep, lfd, EPOLLIN, kListen, EPOLL_CTL_ADD);
  Watch(ep, 0, EPOLLIN, kStdin, EPOLL_CTL_ADD);
  bool stdin_on = true, eof = false;
  const size_t kHigh = 4 << 20;
  std::vector<Peer> peers;
  std::string pending, frames;
  std::vector<size_t> ends;  // where each frame in |frames| ends
  std::vector<char> buf(256 * 1024);
  epoll_event evs[256];
  // Runs until SIGTERM (the harness stops it), like the peers with keep-open.
  for (;;) {
    int n = epoll_wait(ep, evs, 256, 1000);
    for (int i = 0; i < n; ++i) {
      uint64_t k = evs[i].data.u64;
      if (k == kListen) {
        for (int fd; (fd = accept4(lfd, nullptr, nullptr,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
          int one = 1;  // as lws, node ws and asyncio do
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          peers.emplace_back();
          peers.back().fd = fd;
          Watch(ep, fd, EPOLLIN, peers.size() - 1, EPOLL_CTL_ADD);
        }
      } else if (k == kStdin) {
        ssize_t r = read(0, buf.data(), buf.size());
        if (r == 0) eof = true;
        if (r <= 0) {
          if (eof) epoll_ctl(ep, EPOLL_CTL_DEL, 0, nullptr), stdin_on = false;
          continue;
        }
        pending.append(buf.data(), size_t(r));
        frames.clear();
        ends.clear();
        size_t start = 0;
        for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos;
             start = nl + 1) {
          size_t len = nl - start;
          frames.push_back(char(0x81));
          if (len < 126) {
            frames.push_back(char(len));
          } else {
            frames.push_back(char(126));
            frames.push_back(char(len >> 8));
            frames.push_back(char(len & 0xff));
          }
          frames.append(pending, start, len);
          ends.push_back(frames.size());
        }
        pending.erase(0, start);
        for (size_t j = 0; j < peers.size(); ++j) {
          if (!peers[j].open) continue;
          if (per_message) {  // one send() per frame, as the servers under test do
            // Every line has the same length here, so a frame-sized chunk is one frame.
            peers[j].chunk = ends.empty() ? 0 : ends[0];
            for (size_t f = 0, b = 0; f < ends.size(); b = ends[f++]) {
              peers[j].out.append(frames, b, ends[f] - b);
              Flush(ep, &peers[j], j);
            }
          } else {
            peers[j].out += frames;
            Flush(ep, &peers[j], j);
          }
          if (peers[j].out.size() > kHigh && stdin_on)
            Watch(ep, 0, 0, kStdin, EPOLL_CTL_MOD), stdin_on = false;
        }
      } else {
        Peer& p = peers[k];
        if (evs[i].events & EPOLLOUT) Flush(ep, &p, k);
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          ssize_t r = recv(p.fd, buf.data(), buf.size(), 0);
          if (r == 0 || (r < 0 && errno != EAGAIN)) {
            epoll_ctl(ep, EPOLL_CTL_DEL, p.fd, nullptr);
            close(p.fd);
            p.open = false, p.out.clear(), p.off = 0;
            continue;
          }
          if (r > 0 && !p.open) {
            p.in.append(buf.data(), size_t(r));
            if (p.in.find("\r\n\r\n") == std::string::npos) continue;
            size_t kp = p.in.find("Sec-WebSocket-Key:");
            if (kp == std::string::npos) continue;
            kp += 18;
            while (p.in[kp] == ' ') ++kp;
            std::string key = p.in.substr(kp, p.in.find("\r\n", kp) - kp);
            p.out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                    AcceptKey(key) + "\r\n\r\n";
            p.open = true;
            p.in.clear();
            Flush(ep, &p, k);
          }
        }
      }
    }
    if (!stdin_on && !eof) {
      bool low = true;
      for (auto& p : peers) low = low && p.out.size() <= kHigh / 2;
      if (low) Watch(ep, 0, EPOLLIN, kStdin, EPOLL_CTL_MOD), stdin_on = true;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  auto args = ParseArgs(argc, argv);
  if (cmd == "gen") return Gen(args);
  if (cmd == "recv") return Recv(args);
  if (cmd == "blast") return Blast(args);
  fprintf(stderr, "usage: fanout gen|recv|blast [--option value]...\n");
  return 2;
}
