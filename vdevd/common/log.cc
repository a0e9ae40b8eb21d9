#include "common/log.h"

#include "common/numbers.h"

#include <syslog.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace vdev {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kNotice};
std::atomic<LogTarget> g_target{LogTarget::kStderr};
std::mutex g_stderr_mutex;

const char* LevelPrefix(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error: ";
    case LogLevel::kWarning: return "warning: ";
    case LogLevel::kDebug: return "debug: ";
    default: return "";
  }
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "err" || text == "error") return LogLevel::kError;
  if (text == "warning" || text == "warn") return LogLevel::kWarning;
  if (text == "notice") return LogLevel::kNotice;
  if (text == "info") return LogLevel::kInfo;
  if (text == "debug") return LogLevel::kDebug;
  int number = ParseNumber<int>(text).value_or(-1);
  if (number < 0 || number > 7) return std::nullopt;
  // Levels below "err" (emerg, alert, crit) behave as err: we never log at those.
  if (number < 3) number = 3;
  return static_cast<LogLevel>(number);
}

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

void SetLogTarget(LogTarget target, const char* ident) {
  if (target == LogTarget::kSyslog) openlog(ident, LOG_PID | LOG_CONS, LOG_DAEMON);
  g_target = target;
}

static void LogV(LogLevel level, const char* format, va_list args) {
  if (!LogEnabled(level)) return;
  char buffer[2048];
  vsnprintf(buffer, sizeof(buffer), format, args);
  if (g_target == LogTarget::kSyslog) {
    syslog(static_cast<int>(level), "%s", buffer);
    return;
  }
  std::lock_guard lock(g_stderr_mutex);
  fprintf(stderr, "%s%s\n", LevelPrefix(level), buffer);
}

void Log(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  LogV(level, format, args);
  va_end(args);
}

#define VDEV_DEFINE_LOG(name, level)          \
  void name(const char* format, ...) {        \
    va_list args;                             \
    va_start(args, format);                   \
    LogV(level, format, args);                \
    va_end(args);                             \
  }
VDEV_DEFINE_LOG(LogError, LogLevel::kError)
VDEV_DEFINE_LOG(LogWarning, LogLevel::kWarning)
VDEV_DEFINE_LOG(LogNotice, LogLevel::kNotice)
VDEV_DEFINE_LOG(LogInfo, LogLevel::kInfo)
VDEV_DEFINE_LOG(LogDebug, LogLevel::kDebug)
#undef VDEV_DEFINE_LOG

}  // namespace vdev
