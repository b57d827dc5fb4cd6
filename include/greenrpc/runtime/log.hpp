#pragma once
// Minimal leveled logging to stderr. The level starts from the GREENRPC_LOG environment variable
// (debug, info, warn, error, off; default warn) and can be changed at run time.
#include <string_view>

namespace greenrpc {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
inline bool log_enabled(LogLevel level) noexcept { return level >= log_level(); }
// One line, prefixed with time, level and thread; never parks a fiber.
void log_line(LogLevel level, std::string_view message) noexcept;

}  // namespace greenrpc

// Formats only when the level is enabled. Usage: GREENRPC_LOG(debug, "conn " + std::to_string(id));
#define GREENRPC_LOG(level, ...)                                           \
  do {                                                                     \
    if (::greenrpc::log_enabled(::greenrpc::LogLevel::level))              \
      ::greenrpc::log_line(::greenrpc::LogLevel::level, (__VA_ARGS__));    \
  } while (0)
