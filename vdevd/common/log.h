// Logging to stderr or syslog, with a process-wide level; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

namespace vdev {

// Values are syslog priorities so the syslog target needs no mapping.
enum class LogLevel { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6, kDebug = 7 };
enum class LogTarget { kStderr, kSyslog };

// Accepts "err", "error", "warning", "notice", "info", "debug" or a number 0-7.
std::optional<LogLevel> ParseLogLevel(std::string_view text);

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void SetLogTarget(LogTarget target, const char* ident);
inline bool LogEnabled(LogLevel level) { return level <= GetLogLevel(); }

void Log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

// One function per level so the compiler checks every format string.
#define VDEV_PRINTF __attribute__((format(printf, 1, 2)))
void LogError(const char* format, ...) VDEV_PRINTF;
void LogWarning(const char* format, ...) VDEV_PRINTF;
void LogNotice(const char* format, ...) VDEV_PRINTF;
void LogInfo(const char* format, ...) VDEV_PRINTF;
void LogDebug(const char* format, ...) VDEV_PRINTF;
#undef VDEV_PRINTF

}  // namespace vdev
