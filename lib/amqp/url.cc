// AMQP URL parsing: a thin owner of amqp_parse_url()'s results, the redacted form for logs, and
// the check for a password in a URL's text.
#include "amqp/url.h"

#include <amqp.h>

#include <vector>

namespace {

// "user:password@host:port" of "scheme://user:password@host:port/vhost".
std::string Authority(const std::string& text) {
  size_t start = text.find("://");
  if (start == std::string::npos) return "";
  start += 3;
  return text.substr(start, text.find('/', start) - start);
}

}  // namespace

bool ParseAmqpUrl(const std::string& text, AmqpUrl* url, std::string* err) {
  if (text.rfind("amqp://", 0) != 0 && text.rfind("amqps://", 0) != 0) {
    *err = "not an amqp:// or amqps:// URL";
    return false;
  }
  std::string authority = Authority(text);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority.erase(0, at + 1);
  if (authority.empty() || authority[0] == ':') {
    *err = "no host";
    return false;
  }
  std::vector<char> buf(text.begin(), text.end());
  buf.push_back('\0');
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  int rc = amqp_parse_url(buf.data(), &info);
  if (rc != AMQP_STATUS_OK) {
    *err = std::string("malformed URL: ") + amqp_error_string2(rc);
    return false;
  }
  if (info.host == nullptr || *info.host == '\0') {
    *err = "malformed URL: no host";
    return false;
  }
  url->tls = info.ssl != 0;
  url->user = info.user ? info.user : "";
  url->password = info.password ? info.password : "";
  url->host = info.host;
  url->port = info.port;
  url->vhost = (info.vhost && *info.vhost) ? info.vhost : "/";
  return true;
}

bool AmqpUrlHasPassword(const std::string& text) {
  std::string authority = Authority(text);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return false;
  size_t colon = authority.find(':');
  return colon < at && colon + 1 < at;
}

std::string RedactedUrl(const AmqpUrl& url) {
  std::string vhost;
  for (char c : url.vhost) {
    if (c == '/' || c == '%' || c == '@' || c == ':' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789abcdef";
      vhost += '%';
      vhost += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      vhost += kHex[static_cast<unsigned char>(c) & 0xf];
    } else {
      vhost += c;
    }
  }
  return std::string(url.tls ? "amqps://" : "amqp://") + url.user + "@" + url.host + ":" +
         std::to_string(url.port) + "/" + vhost;
}
