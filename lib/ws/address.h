// Addresses on the command line of ws-serve (--listen HOST:PORT) and ws-cat (ws:// and wss://
// URLs), parsed into the pieces libwebsockets wants.
#pragma once

#include <string>

/// Parses "HOST:PORT" ("[::1]:PORT" for IPv6; PORT 0 means any free port). Returns false with
/// |err| when it is not one.
bool ParseListenAddress(const std::string& text, std::string* host, int* port, std::string* err);

/// Resolves |host| (a name such as "localhost", or an address) to the numeric address to bind:
/// the first that getaddrinfo(3) gives, IPv4 first. Returns false with |err| when it has none.
bool ResolveListenHost(const std::string& host, std::string* numeric, std::string* err);

/// Why a client connection to |host| could not even be started (libwebsockets 4.1 returns no
/// reason when its synchronous name lookup fails): "cannot resolve HOST: <gai_strerror>" when
/// the name does not resolve, else "cannot start connecting". For the failure path only: it
/// looks the name up again, blocking.
std::string ConnectStartFailure(const std::string& host);

/// True when numeric address |host| belongs to this machine (a socket can be bound to it).
/// libwebsockets 4.1 listens on every interface when asked for an address it cannot find, so
/// this is checked first. Returns false with |err| otherwise.
bool IsLocalAddress(const std::string& host, std::string* err);

/// True when numeric |host| is a wildcard address: "0.0.0.0" (every IPv4 address of the machine)
/// or "::" (every IPv4 and IPv6 address).
bool IsWildcardAddress(const std::string& host);

/// True when numeric |host| is an IPv4 address.
bool IsIpv4Address(const std::string& host);

/// The local address of this process's listening TCP socket on |port|, numeric ("127.0.0.1",
/// "::1", "0.0.0.0", "::"; an IPv4-mapped IPv6 address is given as IPv4). Found by looking at
/// the process's own descriptors, so it tells what the kernel bound, whatever a library was
/// asked. Returns false with |err| when there is none or when there are several.
bool ListeningAddress(int port, std::string* host, std::string* err);

/// What the kernel bound is what counts: checks the listening socket on |port| (what the vhost
/// got for |host|:|asked_port|) and logs "listening on HOST:PORT", with the addresses a wildcard
/// exposes. A specific address asked for and another one bound (lws 4.1 binds the wildcard for
/// an address it cannot use) is logged as an error and refused: false. |*wildcard| tells whether
/// the bound address is a wildcard, for the caller's own warning.
bool CheckListeningAddress(const std::string& host, int asked_port, int port, bool* wildcard);

/// True when |origin| (a browser's Origin header, "scheme://host[:port]") names the server that
/// the request's |host_header| (Host: "host[:port]") reached: same scheme (https when |tls|,
/// else http), host (case-insensitive) and port (80 and 443 when left out). "null", a path, user
/// information or an empty Host are never the same origin.
bool IsSameOrigin(const std::string& origin, const std::string& host_header, bool tls);

/// "HOST:PORT", with IPv6 addresses in brackets.
std::string FormatHostPort(const std::string& host, int port);

/// |path| (a URL's path and query) with "after=" |id| added to its query, percent-encoded: how a
/// client names the last event it has to ws-serve (resume).
std::string WithAfter(const std::string& path, const std::string& id);

/// A WebSocket URL split up.
struct WsUrl {
  bool tls = false;  ///< wss://
  std::string host;  ///< without brackets for IPv6
  int port = 0;      ///< 80/443 when the URL has none
  std::string path;  ///< path and query, at least "/"
};

/// Parses "ws://host[:port][/path][?query]" or "wss://...". Returns false with |err| otherwise;
/// |err| shows the URL as DisplayUrl() does, since the query may hold a token.
bool ParseWsUrl(const std::string& text, WsUrl* url, std::string* err);

/// |url| for diagnostics: its query (which may hold a token) and fragment shown as "?...", user
/// information as "***".
std::string DisplayUrl(const std::string& url);
