// Command-line addresses (see address.h).
#include "ws/address.h"

#include <cstdlib>

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

bool ParseWsUrl(const std::string& text, WsUrl* url, std::string* err) {
  std::string rest;
  if (text.compare(0, 5, "ws://") == 0) {
    url->tls = false;
    rest = text.substr(5);
  } else if (text.compare(0, 6, "wss://") == 0) {
    url->tls = true;
    rest = text.substr(6);
  } else {
    *err = "'" + text + "': not a ws:// or wss:// URL";
    return false;
  }
  size_t path_at = rest.find_first_of("/?#");
  std::string hostport = rest.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "" : rest.substr(path_at);
  size_t hash = path.find('#');
  if (hash != std::string::npos) path.erase(hash);
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  if (hostport.find('@') != std::string::npos) {
    *err = "'" + text + "': user information in URLs is not supported (use --header)";
    return false;
  }
  std::string port_text;
  if (!SplitHostPort(hostport, &url->host, &port_text)) {
    *err = "'" + text + "': bad host";
    return false;
  }
  if (port_text.empty()) {
    url->port = url->tls ? 443 : 80;
  } else if (!ParsePort(port_text, &url->port) || url->port == 0) {
    *err = "'" + text + "': bad port";
    return false;
  }
  url->path = path;
  return true;
}
