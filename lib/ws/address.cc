// Command-line addresses (see address.h).
#include "ws/address.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/log.h"

namespace {

bool ParsePort(const std::string& s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  long v = std::strtol(s.c_str(), nullptr, 10);
  if (v > 65535) return false;
  *port = static_cast<int>(v);
  return true;
}

// Splits "host:port" or "[v6]:port"; |port_text| is empty when there is no port.
bool SplitHostPort(const std::string& hp, std::string* host, std::string* port_text) {
  if (!hp.empty() && hp[0] == '[') {
    size_t close = hp.find(']');
    if (close == std::string::npos) return false;
    *host = hp.substr(1, close - 1);
    // Brackets hold an IPv6 address only: "[name]" or "[[x]" would not format back to itself.
    if (host->find(':') == std::string::npos || host->find('[') != std::string::npos) return false;
    std::string rest = hp.substr(close + 1);
    if (rest.empty()) {
      port_text->clear();
      return !host->empty();
    }
    if (rest[0] != ':') return false;
    *port_text = rest.substr(1);
    return !host->empty();
  }
  size_t colon = hp.rfind(':');
  if (colon == std::string::npos) {
    *host = hp;
    port_text->clear();
  } else {
    *host = hp.substr(0, colon);
    *port_text = hp.substr(colon + 1);
    if (host->find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  return !host->empty();
}

}  // namespace

bool ParseListenAddress(const std::string& text, std::string* host, int* port, std::string* err) {
  std::string port_text;
  if (!SplitHostPort(text, host, &port_text) || !ParsePort(port_text, port)) {
    *err = "'" + text + "' is not HOST:PORT";
    return false;
  }
  return true;
}

std::string ConnectStartFailure(const std::string& host) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return "cannot resolve " + host + ": " + gai_strerror(rc);
  freeaddrinfo(res);
  return "cannot start connecting";
}

bool ResolveListenHost(const std::string& host, std::string* numeric, std::string* err) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    *err = host + ": " + gai_strerror(rc);
    return false;
  }
  const struct addrinfo* pick = res;
  for (const struct addrinfo* a = res; a; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  }
  char buf[INET6_ADDRSTRLEN] = "";
  const void* addr =
      pick->ai_family == AF_INET
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(pick->ai_addr)->sin_addr)
          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(pick->ai_addr)->sin6_addr);
  bool ok = inet_ntop(pick->ai_family, addr, buf, sizeof buf) != nullptr;
  freeaddrinfo(res);
  if (!ok) {
    *err = host + ": no usable address";
    return false;
  }
  *numeric = buf;
  return true;
}

bool IsLocalAddress(const std::string& host, std::string* err) {
  struct sockaddr_storage ss = {};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    len = sizeof *v6;
  } else {
    *err = host + ": not a numeric address";
    return false;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0) {
    *err = std::string("socket: ") + strerror(errno);
    return false;
  }
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  if (!ok) *err = host + ": " + strerror(errno);
  close(fd);
  return ok;
}

bool IsWildcardAddress(const std::string& host) {
  struct in6_addr a6;
  struct in_addr a4;
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return a4.s_addr == htonl(INADDR_ANY);
  return inet_pton(AF_INET6, host.c_str(), &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6);
}

bool IsIpv4Address(const std::string& host) {
  struct in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1;
}

bool ListeningAddress(int port, std::string* host, std::string* err) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) {
    *err = std::string("/proc/self/fd: ") + strerror(errno);
    return false;
  }
  int found = 0;
  while (struct dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (*end != '\0' || end == e->d_name || fd == dirfd(dir)) continue;
    struct stat st;
    int listening = 0;
    socklen_t optlen = sizeof listening;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode) ||
        getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 ||
        !listening) {
      continue;
    }
    struct sockaddr_storage ss = {};
    socklen_t len = sizeof ss;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
    char buf[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
      if (ntohs(v4->sin_port) != port) continue;
      inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    } else if (ss.ss_family == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
      if (ntohs(v6->sin6_port) != port) continue;
      if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
        inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], buf, sizeof buf);
      } else {
        inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
      }
    } else {
      continue;
    }
    *host = buf;
    found++;
  }
  closedir(dir);
  if (found == 1) return true;
  *err = found == 0 ? "no listening socket on port " + std::to_string(port)
                    : std::to_string(found) + " listening sockets on port " + std::to_string(port);
  return false;
}

namespace {

// "host[:port]" in lower case with the port made explicit; empty when it is not one.
std::string CanonicalHostPort(const std::string& hp, int default_port) {
  std::string host, port_text;
  int port = default_port;
  if (hp.find_first_of("/@?#\\ ") != std::string::npos || !SplitHostPort(hp, &host, &port_text)) {
    return "";
  }
  if (!port_text.empty() && (!ParsePort(port_text, &port) || port == 0)) return "";
  for (char& c : host) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return FormatHostPort(host, port);
}

}  // namespace

bool IsSameOrigin(const std::string& origin, const std::string& host_header, bool tls) {
  const std::string scheme = tls ? "https://" : "http://";
  if (origin.size() <= scheme.size() || origin.compare(0, scheme.size(), scheme) != 0) {
    return false;
  }
  int default_port = tls ? 443 : 80;
  std::string a = CanonicalHostPort(origin.substr(scheme.size()), default_port);
  std::string b = CanonicalHostPort(host_header, default_port);
  return !a.empty() && a == b;
}

std::string FormatHostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string DisplayUrl(const std::string& url) {
  size_t q = url.find_first_of("?#");
  std::string shown = q == std::string::npos ? url : url.substr(0, q) + "?...";
  size_t scheme = shown.find("://");
  size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  size_t at = shown.find('@', from);
  if (at != std::string::npos && at < shown.find('/', from)) shown.replace(from, at - from, "***");
  return shown;
}

std::string WithAfter(const std::string& path, const std::string& id) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = path + (path.find('?') == std::string::npos ? "?" : "&") + "after=";
  for (unsigned char c : id) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool CheckListeningAddress(const std::string& host, int asked_port, int port, bool* wildcard) {
  *wildcard = false;
  std::string bound, err;
  if (!ListeningAddress(port, &bound, &err)) {
    LogError("listen %s: cannot check the listening socket: %s",
             FormatHostPort(host, asked_port).c_str(), err.c_str());
    return false;
  }
  if (bound != host) {
    LogError("listen %s: bound to %s instead: refusing to serve there",
             FormatHostPort(host, asked_port).c_str(), FormatHostPort(bound, port).c_str());
    return false;
  }
  if (!IsWildcardAddress(bound)) {
    LogInfo("listening on %s", FormatHostPort(bound, port).c_str());
    return true;
  }
  *wildcard = true;
  LogInfo("listening on %s (every %s address of this machine)", FormatHostPort(bound, port).c_str(),
          IsIpv4Address(bound) ? "IPv4" : "IPv4 and IPv6");
  return true;
}

bool ParseWsUrl(const std::string& text, WsUrl* url, std::string* err) {
  const std::string shown = DisplayUrl(text);
  std::string rest;
  if (text.compare(0, 5, "ws://") == 0) {
    url->tls = false;
    rest = text.substr(5);
  } else if (text.compare(0, 6, "wss://") == 0) {
    url->tls = true;
    rest = text.substr(6);
  } else {
    *err = "'" + shown + "': not a ws:// or wss:// URL";
    return false;
  }
  size_t path_at = rest.find_first_of("/?#");
  std::string hostport = rest.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "" : rest.substr(path_at);
  size_t hash = path.find('#');
  if (hash != std::string::npos) path.erase(hash);
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  if (hostport.find('@') != std::string::npos) {
    *err = "'" + shown + "': user information in URLs is not supported (use --header)";
    return false;
  }
  std::string port_text;
  if (!SplitHostPort(hostport, &url->host, &port_text)) {
    *err = "'" + shown + "': bad host";
    return false;
  }
  if (port_text.empty()) {
    url->port = url->tls ? 443 : 80;
  } else if (!ParsePort(port_text, &url->port) || url->port == 0) {
    *err = "'" + shown + "': bad port";
    return false;
  }
  url->path = path;
  return true;
}
