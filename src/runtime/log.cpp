#include "greenrpc/runtime/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unistd.h>
#include <sys/syscall.h>

namespace greenrpc {
namespace {

LogLevel level_from_env() noexcept {
  const char* v = std::getenv("GREENRPC_LOG");
  if (!v) return LogLevel::warn;
  if (!std::strcmp(v, "debug")) return LogLevel::debug;
  if (!std::strcmp(v, "info")) return LogLevel::info;
  if (!std::strcmp(v, "error")) return LogLevel::error;
  if (!std::strcmp(v, "off")) return LogLevel::off;
  return LogLevel::warn;
}

std::atomic<LogLevel>& current_level() noexcept {
  static std::atomic<LogLevel> level{level_from_env()};
  return level;
}

}  // namespace

void set_log_level(LogLevel level) noexcept { current_level().store(level, std::memory_order_relaxed); }
LogLevel log_level() noexcept { return current_level().load(std::memory_order_relaxed); }

void log_line(LogLevel level, std::string_view message) noexcept {
  static const char* const names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  // One fprintf call per line keeps lines from different threads whole.
  std::fprintf(stderr, "%s.%03d greenrpc %s [%ld] %.*s\n", stamp, static_cast<int>(ms),
               names[static_cast<int>(level)], static_cast<long>(::syscall(SYS_gettid)),
               static_cast<int>(message.size()), message.data());
}

}  // namespace greenrpc
