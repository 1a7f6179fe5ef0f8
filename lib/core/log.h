// Diagnostics on stderr, one per line: "<command>: <level>: <what>: <why>". Control characters
// in a message (a server's text, a request path) are written escaped, so that nothing a peer sends
// reaches the terminal as a sequence. Data never goes through here; stdout is for data only
// (output.h).
#pragma once

#include <string>
#include <string_view>

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3, kTrace = 4 };

/// Sets the program name that prefixes every message. Call once at start-up.
void LogInit(const char* program);

/// The program name given to LogInit().
const char* LogProgram();

/// Messages above |level| are not printed. Default: kInfo, which shows the few events a user wants
/// to see (listening address, connection lost, reconnecting); -q: errors only; -v: kDebug;
/// -vv: kTrace, which adds the libraries' own notices (libwebsockets').
void LogSetLevel(LogLevel level);
LogLevel LogGetLevel();

/// Prints "<program>: <level>: <message>" when |level| is enabled. printf-style.
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogDebug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// Logs a line of a library's own log (|library|: "libwebsockets"), at |level|. The same line
/// repeated is printed at most kLogRepeatBurst times in kLogRepeatWindowMs; then it is counted,
/// and the count is printed before the next line that differs or that comes after the window.
void LogLibraryLine(const char* library, LogLevel level, const char* line);
constexpr int kLogRepeatBurst = 3;
constexpr int kLogRepeatWindowMs = 10000;

/// |text| with C0 controls (tab and line breaks included), DEL, C1 controls (U+0080 to U+009F)
/// and bytes that are not UTF-8 written as \xNN, \u00NN or \e, \n, \r, \t.
std::string LogEscape(std::string_view text);
