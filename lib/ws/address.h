// Addresses on the command line of ws-serve (--listen HOST:PORT) and ws-cat (ws:// and wss://
// URLs), parsed into the pieces libwebsockets wants.
#pragma once

#include <string>

/// Parses "HOST:PORT" ("[::1]:PORT" for IPv6; PORT 0 means any free port). Returns false with
/// |err| when it is not one.
bool ParseListenAddress(const std::string& text, std::string* host, int* port, std::string* err);

/// A WebSocket URL split up.
struct WsUrl {
  bool tls = false;  ///< wss://
  std::string host;  ///< without brackets for IPv6
  int port = 0;      ///< 80/443 when the URL has none
  std::string path;  ///< path and query, at least "/"
};

/// Parses "ws://host[:port][/path][?query]" or "wss://...". Returns false with |err| otherwise.
bool ParseWsUrl(const std::string& text, WsUrl* url, std::string* err);
