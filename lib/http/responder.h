// The HTTP side of a libwebsockets server, for ws-serve's page and /healthz and for twitch-hook's
// webhook: the request's method, whole responses (HEAD gets GET's headers without the body),
// static files under a root, and request bodies collected up to a bound. Called from the lws
// callbacks of protocols[0]; every function works on one connection (wsi).
#pragma once

#include <libwebsockets.h>

#include <cstddef>
#include <string>
#include <string_view>

/// The methods told apart. Everything else is kOther, to be answered 405.
enum class HttpMethod { kGet, kHead, kPost, kOther };

/// The method of the request |wsi| is reading (valid in LWS_CALLBACK_HTTP).
HttpMethod RequestMethod(struct lws* wsi);

/// "GET", "HEAD", "POST" or "request", for log lines.
const char* MethodName(HttpMethod method);

/// Whether a connection carries another request after a response.
enum class HttpThen { kKeepAlive, kClose };

/// Writes a whole response: status, Content-Type |type|, Content-Length, Cache-Control: no-store,
/// Allow: |allow| when not null, Connection: close when |then| is kClose (so that a keep-alive
/// client does not send its next request on a connection about to close), and |body| unless the
/// request is HEAD. False when the headers do not fit or the write fails; the connection should
/// then be closed (callback returns -1), as after a kClose response.
bool HttpWriteResponse(struct lws* wsi, unsigned status, const char* type, std::string_view body,
                       HttpThen then, const char* allow = nullptr);

/// HttpWriteResponse() and the end of the transaction (keep-alive). Returns what the lws callback
/// returns: 0 to go on with the connection, -1 to close it.
int HttpRespond(struct lws* wsi, unsigned status, const char* type, std::string_view body,
                const char* allow = nullptr);

/// A short text/plain response ("not found\n" and the like) for |status|, with Allow for 405.
/// |allow| names the methods that are allowed. Returns what the lws callback returns.
int HttpRespondStatus(struct lws* wsi, unsigned status, const char* allow = "GET, HEAD");

/// Serves the file that request path |path| names under |root| (a real path; empty: no files):
/// 200 with its content type, 403 for a path that tries to leave the root, 404 otherwise (see
/// http/static_files.h). Logs the outcome at debug level. Returns what the lws callback returns.
int HttpServeStatic(struct lws* wsi, const std::string& root, const std::string& path);

/// How many bytes have been taken from |wsi|'s TCP socket so far: the kernel's count of bytes
/// received, less what still waits in the socket to be read. Set in |taken|; false when it cannot
/// be told: not a TCP socket, or the peer has closed its side (its FIN would be in the count).
/// Unchanged between two points means that libwebsockets read nothing from the socket between
/// them, so what it parsed in between was already in its own buffers (pipelined).
bool HttpBytesTaken(struct lws* wsi, unsigned long long* taken);

/// A request body (POST) taken from LWS_CALLBACK_HTTP_BODY chunks, up to a bound: beyond it,
/// nothing more is kept and TooLarge() tells, so the request can be answered 413.
class HttpBody {
 public:
  explicit HttpBody(size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Adds a chunk; false once the body went over the bound (the chunk is not kept).
  bool Append(const void* data, size_t len);
  /// The body so far.
  const std::string& data() const { return data_; }
  bool TooLarge() const { return too_large_; }
  /// Empties it for the next request on the connection.
  void Clear();

 private:
  size_t max_bytes_;
  std::string data_;
  bool too_large_ = false;
};
