#pragma once
// Leveled logging with key=value fields and a pluggable sink.
//
// The level starts from the GREENRPC_LOG environment variable (debug, info, warn, error, off;
// default warn) and can be changed at run time (set_log_level). Each record goes to the sink: by
// default one line on stderr,
//
//   12:00:00.123 greenrpc DEBUG [4242] connection closed conn=7 peer=127.0.0.1:5000 reason="peer closed"
//
// An application routes greenrpc's logs into its own logger with set_log_sink:
//
//   greenrpc::set_log_sink([](const greenrpc::LogRecord& r) { my_logger.log(r.level, r.message, r.fields); });
//
// Logging never parks a fiber and never throws. Formatting happens only when the level is
// enabled: use the macros below rather than log_line() directly.
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace greenrpc {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void set_log_level(LogLevel level) noexcept;
LogLevel log_level() noexcept;
inline bool log_enabled(LogLevel level) noexcept { return level >= log_level(); }
// "debug", "info", "warn", "error", "off".
std::string_view log_level_name(LogLevel level) noexcept;

// One key=value field of a record. The key is a string that outlives the call (a literal); the
// value is text, made from a string, a number or a bool. Values are never secrets: passwords,
// auth secrets, signatures and key material are not logged, anywhere.
struct LogField {
  std::string_view key;
  std::string value;

  LogField(std::string_view k, std::string v) noexcept : key(k), value(std::move(v)) {}
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <class T>
    requires(std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, char8_t> &&
             !std::same_as<T, char16_t> && !std::same_as<T, char32_t> && !std::same_as<T, wchar_t>)
  LogField(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  LogField(std::string_view k, double v);  // shortest text that reads back the same
};

// What a sink receives. Every view is valid only during the call: copy what must outlive it.
struct LogRecord {
  LogLevel level = LogLevel::info;
  std::chrono::system_clock::time_point time;
  std::string_view message;
  std::span<const LogField> fields;
  std::string_view thread;      // the thread's name (greenrpc's workers: "greenrpc-w0", ...); a custom sink's only
  std::uint64_t thread_id = 0;  // the kernel's thread id (gettid)
};

// A sink is called from whichever thread logs — greenrpc's worker threads, often from inside a
// fiber — so it must be thread-safe, must not park the fiber (no fiber mutex, no greenrpc
// client call, no blocking that waits on another fiber of the same thread) and should be quick:
// a blocking write to a file or a pipe is what the default sink does. An exception from a sink
// is swallowed. A record logged from inside the sink (through greenrpc) goes to the default sink.
using LogSink = std::function<void(const LogRecord&)>;

// Installs `sink` for every thread; nullptr restores the default (stderr). Thread-safe, callable
// while other threads log. Returns once no thread is still inside the previous sink, which is
// then destroyed, so what it captured may go away after this returns (called from inside a
// sink, it does not wait). Records being delivered meanwhile go to either sink.
void set_log_sink(LogSink sink);
// The default sink: format_log_line() and a newline, written to stderr in one call (lines from
// different threads stay whole). Usable from a custom sink, e.g. to tee.
void default_log_sink(const LogRecord& record) noexcept;
// "HH:MM:SS.mmm greenrpc LEVEL [tid] message key=value ..." (UTC; no newline). A value is quoted
// when it is empty or holds a space, '=', '"', '\' or a control character; inside quotes '"'
// and '\' are escaped with '\', and control characters as \n, \r, \t or \xHH. Control characters
// in the message are escaped likewise, so no record can forge a second line.
void append_log_line(std::string& out, const LogRecord& record);

// The record's entry points; prefer the macros. Never throw.
void log_line(LogLevel level, std::string_view message) noexcept;
void log_record(LogLevel level, std::string_view message, std::span<const LogField> fields) noexcept;
inline void log_fields(LogLevel level, std::string_view message) noexcept { log_line(level, message); }
inline void log_fields(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) noexcept {
  log_record(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

// A token bucket for lines an attacker can provoke at will (failed handshakes, refused
// connections): `burst` lines at once, then `per_second`. Lock-free: one atomic compare-exchange
// per line admitted, an atomic increment per line refused.
class LogLimiter {
 public:
  constexpr LogLimiter(unsigned per_second = 10, unsigned burst = 10) noexcept
      : interval_ns_(1'000'000'000 / static_cast<std::int64_t>(per_second ? per_second : 1)),
        tolerance_ns_(static_cast<std::int64_t>(burst ? burst - 1 : 0) * interval_ns_) {}
  // True when a line may go out now; otherwise counts it as suppressed.
  bool admit() noexcept;
  // The lines refused since the last call (resets the count).
  std::uint64_t take_suppressed() noexcept { return suppressed_.exchange(0, std::memory_order_relaxed); }

 private:
  std::int64_t interval_ns_;
  std::int64_t tolerance_ns_;
  std::atomic<std::int64_t> next_{0};  // when the bucket is full again (steady clock, ns): GCRA's theoretical arrival time
  std::atomic<std::uint64_t> suppressed_{0};
};

// limiter.admit(); when admitted after refusals, first logs "<N> similar messages suppressed"
// (fields: key=<key>, suppressed=<N>) at `level`. For GREENRPC_LOG_LIMITED.
bool log_limiter_admit(LogLimiter& limiter, LogLevel level, std::string_view key) noexcept;

}  // namespace greenrpc

// The macros format their arguments only when the level is enabled, and never throw (a failed
// allocation drops the record).
//
// A message: GREENRPC_LOG(debug, "conn " + std::to_string(id));
#define GREENRPC_LOG(level, ...)                                                 \
  do {                                                                           \
    if (::greenrpc::log_enabled(::greenrpc::LogLevel::level)) {                  \
      try {                                                                      \
        ::greenrpc::log_line(::greenrpc::LogLevel::level, (__VA_ARGS__));        \
      } catch (...) {                                                            \
      }                                                                          \
    }                                                                            \
  } while (0)

// A message and key=value fields:
//   GREENRPC_LOG_FIELDS(debug, "request", {{"peer", peer}, {"command", name}, {"ms", ms}});
#define GREENRPC_LOG_FIELDS(level, message, ...)                                           \
  do {                                                                                     \
    if (::greenrpc::log_enabled(::greenrpc::LogLevel::level)) {                            \
      try {                                                                                \
        ::greenrpc::log_fields(::greenrpc::LogLevel::level, (message), __VA_ARGS__);       \
      } catch (...) {                                                                      \
      }                                                                                    \
    }                                                                                      \
  } while (0)

// Rate-limited, per call site: at most 10 lines a second (a burst of 10), the rest counted and
// reported by one "<N> similar messages suppressed" line (key=<key>) before the next line that
// goes out. `key` names the kind of line; the fields are optional:
//   GREENRPC_LOG_LIMITED(warn, "tls_handshake_failed", "TLS handshake failed", {{"peer", peer}, {"reason", why}});
#define GREENRPC_LOG_LIMITED(level, key, message, ...)                                                     \
  do {                                                                                                     \
    static constinit ::greenrpc::LogLimiter greenrpc_log_limiter_;                                         \
    if (::greenrpc::log_enabled(::greenrpc::LogLevel::level) &&                                            \
        ::greenrpc::log_limiter_admit(greenrpc_log_limiter_, ::greenrpc::LogLevel::level, (key))) {       \
      try {                                                                                                \
        ::greenrpc::log_fields(::greenrpc::LogLevel::level, (message)__VA_OPT__(, ) __VA_ARGS__);          \
      } catch (...) {                                                                                      \
      }                                                                                                    \
    }                                                                                                      \
  } while (0)
