// Addresses on the command lines of ws-serve and ws-cat.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws/address.h"
#include "ws/client.h"
#include "ws/server.h"

TEST(WsAddress, ListenAddress) {
  std::string host, err;
  int port = -1;
  EXPECT_TRUE(ParseListenAddress("127.0.0.1:0", &host, &port, &err));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  EXPECT_TRUE(ParseListenAddress("[::1]:8080", &host, &port, &err));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  EXPECT_FALSE(ParseListenAddress("127.0.0.1", &host, &port, &err));
  EXPECT_FALSE(ParseListenAddress(":80", &host, &port, &err));
  EXPECT_FALSE(ParseListenAddress("h:65536", &host, &port, &err));
  EXPECT_FALSE(ParseListenAddress("h:8o", &host, &port, &err));
  EXPECT_FALSE(ParseListenAddress("::1:80", &host, &port, &err));
  // Found by address_fuzz: what is in brackets must be an IPv6 address.
  EXPECT_FALSE(ParseListenAddress("[[;;]:0", &host, &port, &err));
  EXPECT_FALSE(ParseListenAddress("[localhost]:80", &host, &port, &err));
  EXPECT_NE(err, "");
}

TEST(WsAddress, ListenHostsResolveToNumbers) {
  std::string numeric, err;
  ASSERT_TRUE(ResolveListenHost("127.0.0.1", &numeric, &err));
  EXPECT_EQ(numeric, "127.0.0.1");
  ASSERT_TRUE(ResolveListenHost("::1", &numeric, &err));
  EXPECT_EQ(numeric, "::1");
  ASSERT_TRUE(ResolveListenHost("localhost", &numeric, &err));
  EXPECT_TRUE(numeric == "127.0.0.1" || numeric == "::1") << numeric;
  EXPECT_FALSE(ResolveListenHost("no-such-host.invalid", &numeric, &err));
  EXPECT_NE(err, "");
}

TEST(WsAddress, ConnectStartFailureNamesAnUnresolvableHost) {
  // .invalid never resolves (RFC 6761).
  EXPECT_EQ(ConnectStartFailure("irc.invalid").rfind("cannot resolve irc.invalid: ", 0), 0u);
  EXPECT_EQ(ConnectStartFailure("127.0.0.1"), "cannot start connecting");
}

TEST(WsAddress, LocalAddresses) {
  std::string err;
  EXPECT_TRUE(IsLocalAddress("127.0.0.1", &err));
  EXPECT_TRUE(IsLocalAddress("0.0.0.0", &err));
  EXPECT_FALSE(IsLocalAddress("192.0.2.1", &err));  // TEST-NET-1, never local
  EXPECT_NE(err, "");
  EXPECT_FALSE(IsLocalAddress("localhost", &err));  // names are resolved before
}

TEST(WsAddress, Urls) {
  WsUrl u;
  std::string err;
  ASSERT_TRUE(ParseWsUrl("ws://localhost:8080/?token=a", &u, &err));
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path, "/?token=a");
  ASSERT_TRUE(ParseWsUrl("wss://example.com", &u, &err));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.path, "/");
  ASSERT_TRUE(ParseWsUrl("ws://[::1]/x#frag", &u, &err));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.path, "/x");
  EXPECT_FALSE(ParseWsUrl("http://x/", &u, &err));
  EXPECT_FALSE(ParseWsUrl("ws://:80/", &u, &err));
  EXPECT_FALSE(ParseWsUrl("ws://h:0/", &u, &err));
  EXPECT_FALSE(ParseWsUrl("ws://user:pw@h/", &u, &err));
}

TEST(WsAddress, Headers) {
  std::string name, value, err;
  EXPECT_TRUE(ParseHeader("Authorization: Bearer x", &name, &value, &err));
  EXPECT_EQ(name, "Authorization");
  EXPECT_EQ(value, "Bearer x");
  EXPECT_TRUE(ParseHeader("X-Empty:", &name, &value, &err));
  EXPECT_EQ(value, "");
  EXPECT_FALSE(ParseHeader("no colon", &name, &value, &err));
  EXPECT_FALSE(ParseHeader("bad name: x", &name, &value, &err));
  EXPECT_FALSE(ParseHeader(": x", &name, &value, &err));
}

TEST(WsOrigin, SameOriginComparesSchemeHostAndPort) {
  EXPECT_TRUE(IsSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_TRUE(IsSameOrigin("http://LocalHost:8080", "localhost:8080", false));
  EXPECT_TRUE(IsSameOrigin("http://example.com", "example.com", false));
  EXPECT_TRUE(IsSameOrigin("http://example.com:80", "example.com", false));
  EXPECT_TRUE(IsSameOrigin("https://example.com", "example.com:443", true));
  EXPECT_TRUE(IsSameOrigin("http://[::1]:8080", "[::1]:8080", false));
  EXPECT_FALSE(IsSameOrigin("https://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080", true));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://evil.example", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080.evil.example", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("null", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080/", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://u@127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_FALSE(IsSameOrigin("http://127.0.0.1:8080", "", false));
}

TEST(WildcardAddress, OnlyTheUnspecifiedAddresses) {
  EXPECT_TRUE(IsWildcardAddress("0.0.0.0"));
  EXPECT_TRUE(IsWildcardAddress("::"));
  EXPECT_FALSE(IsWildcardAddress("127.0.0.1"));
  EXPECT_FALSE(IsWildcardAddress("::1"));
  EXPECT_FALSE(IsWildcardAddress("localhost"));
  EXPECT_TRUE(IsIpv4Address("127.0.0.1"));
  EXPECT_FALSE(IsIpv4Address("::1"));
  EXPECT_EQ(FormatHostPort("::1", 80), "[::1]:80");
  EXPECT_EQ(FormatHostPort("127.0.0.1", 80), "127.0.0.1:80");
}

// Binds |host| on a free port and listens; returns the descriptor and sets |port|.
static int ListenOn(int family, const char* host, int* port) {
  int fd = socket(family, SOCK_STREAM, 0);
  struct sockaddr_storage ss = {};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    inet_pton(AF_INET, host, &a->sin_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, host, &a->sin6_addr);
    len = sizeof *a;
  }
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 1) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return fd;
}

TEST(ListeningAddress, TellsWhatTheKernelBound) {
  int port = 0;
  int fd = ListenOn(AF_INET, "127.0.0.1", &port);
  ASSERT_GE(fd, 0);
  std::string host, err;
  EXPECT_TRUE(ListeningAddress(port, &host, &err)) << err;
  EXPECT_EQ(host, "127.0.0.1");
  close(fd);
  fd = ListenOn(AF_INET6, "::", &port);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(ListeningAddress(port, &host, &err)) << err;
  EXPECT_EQ(host, "::");
  close(fd);
  EXPECT_FALSE(ListeningAddress(port, &host, &err));
  EXPECT_NE(err.find("no listening socket"), std::string::npos);
}

TEST(WsAddress, ErrorsAndDiagnosticsNeverShowAQueryOrPassword) {
  WsUrl u;
  std::string err;
  EXPECT_FALSE(ParseWsUrl("ws://127.0.0.1:99999/?token=s3cret", &u, &err));
  EXPECT_EQ(err, "'ws://127.0.0.1:99999/?...': bad port");
  EXPECT_FALSE(ParseWsUrl("ws://user:s3cret@host/", &u, &err));
  EXPECT_EQ(err.find("s3cret"), std::string::npos) << err;
  EXPECT_FALSE(ParseWsUrl("http://x/?token=s3cret", &u, &err));
  EXPECT_EQ(err.find("s3cret"), std::string::npos) << err;
  EXPECT_EQ(DisplayUrl("wss://h:1/p?token=s3cret#x"), "wss://h:1/p?...");
  EXPECT_EQ(DisplayUrl("wss://h:1/p"), "wss://h:1/p");
  EXPECT_EQ(DisplayUrl("ws://u:pw@h/p"), "ws://***@h/p");
  EXPECT_EQ(DisplayUrl("ws://h/a@b"), "ws://h/a@b");
}
