// Diagnostics on stderr. Each message is formatted whole and written with one write(2), so lines
// from several processes sharing a terminal or a log file never interleave mid-line.
#include "core/log.h"

#include <errno.h>
#include <libwebsockets.h>
#include <poll.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

// How long one diagnostic may wait for a full, non-blocking stderr before the rest is dropped.
constexpr int kMaxStderrWaitMs = 500;

const char* g_program = "servitor";
LogLevel g_level = LogLevel::kInfo;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "?";
}

void Emit(LogLevel level, const char* fmt, va_list ap) {
  if (level > g_level) return;
  char body[2048];
  vsnprintf(body, sizeof body, fmt, ap);
  std::string line = std::string(g_program) + ": " + LevelName(level) + ": " + body;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  line += '\n';
  // stderr may be non-blocking: it shares its file description with a stdout that a command
  // made non-blocking (a terminal). A full stderr is waited for, but briefly: a diagnostic lost
  // to a reader stalled for long is better than an event loop stalled with it.
  const char* p = line.data();
  size_t left = line.size();
  int waited_ms = 0;
  while (left > 0) {
    ssize_t n = write(2, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waited_ms < kMaxStderrWaitMs) {
      struct pollfd pfd = {2, POLLOUT, 0};
      poll(&pfd, 1, 10);
      waited_ms += 10;
    } else {
      break;
    }
  }
}

void LwsEmit(int level, const char* line) {
  LogLevel ours = LogLevel::kDebug;
  if (level & LLL_ERR) {
    ours = LogLevel::kWarning;  // lws "errors" are mostly per-connection events we handle
  } else if (level & LLL_WARN) {
    ours = LogLevel::kDebug;
  }
  std::string text(line);
  // lws prefixes a timestamp "[2026/11/28 18:00:00:0000] E: "; keep what follows.
  size_t colon = text.find("] ");
  if (!text.empty() && text[0] == '[' && colon != std::string::npos) text = text.substr(colon + 2);
  Log(ours, "libwebsockets: %s", text.c_str());
}

}  // namespace

void LogInit(const char* program) { g_program = program; }
const char* LogProgram() { return g_program; }
void LogSetLevel(LogLevel level) { g_level = level; }
LogLevel LogGetLevel() { return g_level; }

void Log(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  Emit(level, fmt, ap);
  va_end(ap);
}

#define DEFINE_LOG_FN(name, level)  \
  void name(const char* fmt, ...) { \
    va_list ap;                     \
    va_start(ap, fmt);              \
    Emit(level, fmt, ap);           \
    va_end(ap);                     \
  }
DEFINE_LOG_FN(LogError, LogLevel::kError)
DEFINE_LOG_FN(LogWarning, LogLevel::kWarning)
DEFINE_LOG_FN(LogInfo, LogLevel::kInfo)
DEFINE_LOG_FN(LogDebug, LogLevel::kDebug)
#undef DEFINE_LOG_FN

void LogRouteLibwebsockets() {
  int mask = LLL_ERR;
  if (g_level >= LogLevel::kDebug) mask |= LLL_WARN | LLL_NOTICE;
  lws_set_log_level(mask, LwsEmit);
}
