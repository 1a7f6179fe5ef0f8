// Diagnostics on stderr. Each message is formatted whole and written with one write(2), so lines
// from several processes sharing a terminal or a log file never interleave mid-line.
#include "core/log.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/time.h"

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
    case LogLevel::kTrace:
      return "trace";
  }
  return "?";
}

void Emit(LogLevel level, const char* fmt, va_list ap) {
  if (level > g_level) return;
  char body[2048];
  vsnprintf(body, sizeof body, fmt, ap);
  std::string_view text(body);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::string line = std::string(g_program) + ": " + LevelName(level) + ": " + LogEscape(text);
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

// The library line last printed, and how often it came since.
struct Repeats {
  std::string line;
  int64_t window_start = 0;
  int count = 0;       // in this window
  int suppressed = 0;  // not printed
  LogLevel level = LogLevel::kDebug;
  std::string library;
} g_repeats;

void FlushRepeats() {
  if (g_repeats.suppressed == 0) return;
  Log(g_repeats.level, "%s: the message before was repeated %d more times",
      g_repeats.library.c_str(), g_repeats.suppressed);
  g_repeats.suppressed = 0;
}

// The length of the UTF-8 sequence at |p| (|n| bytes left), 0 if it is not one.
size_t Utf8Length(const unsigned char* p, size_t n) {
  size_t len = *p < 0x80           ? 1
               : (*p >> 5) == 0x6  ? 2
               : (*p >> 4) == 0xE  ? 3
               : (*p >> 3) == 0x1E ? 4
                                   : 0;
  if (len == 0 || len > n || (len == 2 && *p < 0xC2)) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
  }
  return len;
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

void LogLibraryLine(const char* library, LogLevel level, const char* line) {
  if (level > g_level) return;
  int64_t now = MonotonicMs();
  if (line == g_repeats.line && library == g_repeats.library &&
      now - g_repeats.window_start < kLogRepeatWindowMs) {
    if (++g_repeats.count > kLogRepeatBurst) {
      ++g_repeats.suppressed;
      return;
    }
  } else {
    FlushRepeats();
    g_repeats.line = line;
    g_repeats.library = library;
    g_repeats.level = level;
    g_repeats.window_start = now;
    g_repeats.count = 1;
  }
  Log(level, "%s: %s", library, line);
}

std::string LogEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  char buf[8];
  for (size_t i = 0; i < n;) {
    unsigned char c = p[i];
    size_t len = Utf8Length(p + i, n - i);
    if (len == 2 && c == 0xC2 && p[i + 1] < 0xA0) {  // C1: U+0080 to U+009F
      snprintf(buf, sizeof buf, "\\u%04x", p[i + 1]);
      out += buf;
    } else if (len > 1) {
      out.append(text.substr(i, len));
    } else if (len == 1 && c >= 0x20 && c != 0x7F) {
      out += static_cast<char>(c);
    } else {
      len = 1;
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case 0x1B:
          out += "\\e";
          break;
        default:
          snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
      }
    }
    i += len;
  }
  return out;
}
