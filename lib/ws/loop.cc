// libwebsockets loop plumbing shared by ws-serve and ws-cat (see loop.h).
#include "ws/loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/signals.h"

StdinFlagsRestorer::StdinFlagsRestorer() : flags_(fcntl(0, F_GETFL)) {}

StdinFlagsRestorer::~StdinFlagsRestorer() {
  if (flags_ != -1) fcntl(0, F_SETFL, flags_);
}

namespace {
struct lws* AdoptDuplicate(int fd_to_dup, struct lws_vhost* vhost, const char* protocol,
                           std::string* err) {
  int fd = dup(fd_to_dup);
  if (fd < 0) {
    *err = strerror(errno);
    return nullptr;
  }
  lws_sock_file_fd_type u;
  u.filefd = fd;
  struct lws* wsi =
      lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, u, protocol, nullptr);
  if (!wsi) {
    close(fd);
    *err = "cannot add it to the event loop";
  }
  return wsi;
}
}  // namespace

struct lws* AdoptStdin(struct lws_vhost* vhost, const char* protocol, std::string* err) {
  return AdoptDuplicate(0, vhost, protocol, err);
}

struct lws* AdoptStdout(struct lws_vhost* vhost, const char* protocol, std::string* err) {
  struct lws* wsi = AdoptDuplicate(1, vhost, protocol, err);
  if (wsi) lws_rx_flow_control(wsi, 0);
  return wsi;
}

namespace {
void WakeLoop(void* context) { lws_cancel_service(static_cast<struct lws_context*>(context)); }
}  // namespace

StopWakeup::StopWakeup(struct lws_context* context) { SetStopWakeup(WakeLoop, context); }

StopWakeup::~StopWakeup() { SetStopWakeup(nullptr, nullptr); }

long ReadStdinChunk(struct lws* wsi, char* buf, size_t size, std::string* err) {
  ssize_t n = read(lws_get_socket_fd(wsi), buf, size);
  if (n >= 0) return static_cast<long>(n);
  if (errno == EAGAIN || errno == EINTR) return -1;
  *err = strerror(errno);
  return -2;
}

std::string ReadRestOfStdin() {
  std::string rest;
  char buf[16384];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n > 0) {
      rest.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return rest;
    }
  }
}
