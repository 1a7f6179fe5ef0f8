// Diagnostics on stderr, one per line: "<command>: <level>: <what>: <why>".
// Data never goes through here; stdout is for data only (output.h).
#pragma once

#include <string>

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

/// Sets the program name that prefixes every message. Call once at start-up.
void LogInit(const char* program);

/// The program name given to LogInit().
const char* LogProgram();

/// Messages above |level| are not printed. Default: kInfo, which shows the few events a user wants
/// to see (listening address, connection lost, reconnecting); -q: errors only; -v: kDebug.
void LogSetLevel(LogLevel level);
LogLevel LogGetLevel();

/// Prints "<program>: <level>: <message>" when |level| is enabled. printf-style.
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void LogError(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogWarning(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogInfo(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void LogDebug(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// Routes libwebsockets' own log lines into this logger (errors and warnings; more with -vv).
void LogRouteLibwebsockets();
