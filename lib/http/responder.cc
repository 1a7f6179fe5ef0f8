// The HTTP side of a libwebsockets server (see responder.h).
#include "http/responder.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "core/log.h"
#include "http/static_files.h"

namespace {

// TCP_ESTABLISHED of <netinet/tcp.h>, whose struct tcp_info (without tcpi_bytes_received) cannot
// be included beside <linux/tcp.h>'s.
constexpr unsigned kTcpEstablished = 1;

// Room for the status line and the headers this file writes.
constexpr size_t kHeaderRoom = 1024;

bool AddHeader(struct lws* wsi, const char* name, const char* value, unsigned char** p,
               unsigned char* end) {
  return lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(name),
                                     reinterpret_cast<const unsigned char*>(value),
                                     static_cast<int>(strlen(value)), p, end) == 0;
}

const char* StatusText(unsigned status) {
  switch (status) {
    case 400:
      return "bad request\n";
    case 401:
      return "unauthorized\n";
    case 403:
      return "forbidden\n";
    case 404:
      return "not found\n";
    case 405:
      return "method not allowed\n";
    case 413:
      return "request body too large\n";
    case 503:
      return "service unavailable\n";
    default:
      return "error\n";
  }
}

}  // namespace

HttpMethod RequestMethod(struct lws* wsi) {
  // HEAD has a token of its own; it is told first, as the request that is answered like a GET.
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0) return HttpMethod::kHead;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0) return HttpMethod::kGet;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) return HttpMethod::kPost;
  return HttpMethod::kOther;
}

const char* MethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kOther:
      break;
  }
  return "request";
}

bool HttpWriteResponse(struct lws* wsi, unsigned status, const char* type, std::string_view body,
                       HttpThen then, const char* allow) {
  std::vector<unsigned char> buf(LWS_PRE + kHeaderRoom + body.size());
  unsigned char* start = buf.data() + LWS_PRE;
  unsigned char* p = start;
  unsigned char* end = buf.data() + buf.size() - body.size() - 1;
  if (lws_add_http_common_headers(wsi, status, type, body.size(), &p, end)) return false;
  if (!AddHeader(wsi, "cache-control:", "no-store", &p, end)) return false;
  if (allow && !AddHeader(wsi, "allow:", allow, &p, end)) return false;
  if (then == HttpThen::kClose && !AddHeader(wsi, "connection:", "close", &p, end)) return false;
  if (lws_finalize_http_header(wsi, &p, end)) return false;
  if (RequestMethod(wsi) != HttpMethod::kHead) {
    memcpy(p, body.data(), body.size());
    p += body.size();
  }
  int n = static_cast<int>(p - start);
  return lws_write(wsi, start, n, LWS_WRITE_HTTP_HEADERS) == n;
}

int HttpRespond(struct lws* wsi, unsigned status, const char* type, std::string_view body,
                const char* allow) {
  if (!HttpWriteResponse(wsi, status, type, body, HttpThen::kKeepAlive, allow)) return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int HttpRespondStatus(struct lws* wsi, unsigned status, const char* allow) {
  return HttpRespond(wsi, status, "text/plain; charset=utf-8", StatusText(status),
                     status == 405 ? allow : nullptr);
}

int HttpServeStatic(struct lws* wsi, const std::string& root, const std::string& path) {
  const char* method = MethodName(RequestMethod(wsi));
  std::string file;
  unsigned status = 404;
  if (!root.empty()) {
    switch (ResolveStaticFile(root, path, &file)) {
      case FileLookup::kFound:
        status = 200;
        break;
      case FileLookup::kNotFound:
        break;
      case FileLookup::kForbidden:
        status = 403;
        break;
    }
  }
  if (status != 200) {
    LogDebug("%s %s: %u", method, path.c_str(), status);
    return HttpRespondStatus(wsi, status);
  }
  LogDebug("%s %s: %s", method, path.c_str(), file.c_str());
  // HEAD: lws_serve_http_file() sends the headers alone.
  int n = lws_serve_http_file(wsi, file.c_str(), ContentTypeFor(file), nullptr, 0);
  if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi))) return -1;
  return 0;
}

bool HttpBytesTaken(struct lws* wsi, unsigned long long* taken) {
  int fd = lws_get_socket_fd(wsi);
  struct tcp_info info;
  memset(&info, 0, sizeof info);
  socklen_t len = sizeof info;
  int waiting = 0;
  if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received ||
      info.tcpi_state != kTcpEstablished || ioctl(fd, SIOCINQ, &waiting) != 0) {
    return false;
  }
  *taken = info.tcpi_bytes_received - static_cast<unsigned long long>(waiting);
  return true;
}

bool HttpBody::Append(const void* data, size_t len) {
  if (too_large_ || data_.size() + len > max_bytes_) {
    too_large_ = true;
    data_.clear();
    return false;
  }
  data_.append(static_cast<const char*>(data), len);
  return true;
}

void HttpBody::Clear() {
  data_.clear();
  too_large_ = false;
}
