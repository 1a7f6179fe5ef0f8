// libFuzzer target for the address parsers of ws-serve and ws-cat: the first byte picks TLS, the
// rest splits at '\n' into a --listen address, a ws:// URL, and an Origin and Host header pair for
// IsSameOrigin. Invariants: no crash; a parsed listen address has a port in 0..65535 and formats
// back to text that parses to the same host and port; a parsed URL has a port in 1..65535 and a
// path that starts with '/'; IsSameOrigin takes any pair of strings either way round.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ws/address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool tls = data[0] & 1;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> f;
  for (size_t start = 0;;) {
    size_t nl = in.find('\n', start);
    f.emplace_back(in.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos || f.size() == 4) break;
    start = nl + 1;
  }
  f.resize(4);
  std::string host, err;
  int port = -1;
  if (ParseListenAddress(f[0], &host, &port, &err)) {
    if (port < 0 || port > 65535) abort();
    std::string again_host;
    int again_port = -1;
    if (!ParseListenAddress(FormatHostPort(host, port), &again_host, &again_port, &err)) abort();
    if (again_host != host || again_port != port) abort();
    (void)IsWildcardAddress(host);
    (void)IsIpv4Address(host);
  } else if (err.empty()) {
    abort();
  }
  WsUrl url;
  if (ParseWsUrl(f[1], &url, &err)) {
    if (url.port < 1 || url.port > 65535 || url.path.empty() || url.path[0] != '/') abort();
  }
  (void)IsSameOrigin(f[2], f[3], tls);
  (void)IsSameOrigin(f[3], f[2], !tls);
  (void)IsSameOrigin(f[2], f[2], tls);
  return 0;
}
