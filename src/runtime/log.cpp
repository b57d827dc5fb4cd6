#include "greenrpc/runtime/log.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

// The installed sink. `custom` lets the default path skip the shared pointer's lock and count.
struct SinkSlot {
  std::atomic<bool> custom{false};
  std::atomic<std::shared_ptr<const LogSink>> sink;
};

SinkSlot& sink_slot() noexcept {
  static SinkSlot& slot = *new SinkSlot;  // never destroyed: a record may come during exit
  return slot;
}

// Inside a sink on this thread: records logged meanwhile go to the default sink (no recursion).
thread_local int t_in_sink = 0;

std::uint64_t this_thread_id() noexcept {
  thread_local const std::uint64_t id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
  return id;
}

// The kernel keeps the name (pthread_setname_np may come after the first record): asked each time.
std::string_view this_thread_name(char (&buf)[17]) noexcept {
  std::memset(buf, 0, sizeof buf);
  if (::prctl(PR_GET_NAME, buf, 0, 0, 0) != 0) return {};
  return std::string_view(buf, ::strnlen(buf, 16));
}

bool needs_quotes(std::string_view v) noexcept {
  if (v.empty()) return true;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

// Control characters as \n, \r, \t, \xHH; with `quoted`, '"' and '\' escaped too.
void append_escaped(std::string& out, std::string_view v, bool quoted) {
  static const char hex[] = "0123456789abcdef";
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += ch;
    } else {
      out += ch;
    }
  }
}

void deliver(const LogRecord& record) noexcept {
  SinkSlot& slot = sink_slot();
  if (t_in_sink == 0 && slot.custom.load(std::memory_order_acquire)) {
    std::shared_ptr<const LogSink> sink = slot.sink.load(std::memory_order_acquire);
    if (sink && *sink) {
      ++t_in_sink;
      try {
        (*sink)(record);
      } catch (...) {  // a sink's failure is not greenrpc's caller's
      }
      --t_in_sink;
      return;
    }
  }
  default_log_sink(record);
}

}  // namespace

void set_log_level(LogLevel level) noexcept { current_level().store(level, std::memory_order_relaxed); }
LogLevel log_level() noexcept { return current_level().load(std::memory_order_relaxed); }

std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "?";
}

LogField::LogField(std::string_view k, double v) : key(k) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  value.assign(buf, ec == std::errc() ? end : buf);
}

void set_log_sink(LogSink sink) {
  SinkSlot& slot = sink_slot();
  std::shared_ptr<const LogSink> next = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  const bool custom = next != nullptr;
  if (!custom) slot.custom.store(false, std::memory_order_release);
  std::shared_ptr<const LogSink> previous = slot.sink.exchange(std::move(next), std::memory_order_acq_rel);
  if (custom) slot.custom.store(true, std::memory_order_release);
  if (!previous || t_in_sink > 0) return;  // from inside a sink: this thread holds one, do not wait for it
  // Threads that loaded the previous sink hold a reference while they call it: wait for them.
  for (unsigned spins = 0; previous.use_count() > 1; ++spins) {
    if (spins < 64)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::atomic_thread_fence(std::memory_order_acquire);  // their calls happen before its destruction
}

void append_log_line(std::string& out, const LogRecord& record) {
  static const char* const names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  const auto secs = std::chrono::system_clock::to_time_t(record.time);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(record.time.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char head[96];
  const int level = static_cast<int>(record.level);
  const int n = std::snprintf(head, sizeof head, "%02d:%02d:%02d.%03d greenrpc %s [%llu] ", tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<int>(ms < 0 ? ms + 1000 : ms),
                              names[level >= 0 && level <= 4 ? level : 4],
                              static_cast<unsigned long long>(record.thread_id));
  if (n > 0) out.append(head, static_cast<std::size_t>(n) < sizeof head ? static_cast<std::size_t>(n) : sizeof head - 1);
  append_escaped(out, record.message, /*quoted=*/false);
  for (const LogField& f : record.fields) {
    out += ' ';
    out += f.key;
    out += '=';
    if (needs_quotes(f.value)) {
      out += '"';
      append_escaped(out, f.value, /*quoted=*/true);
      out += '"';
    } else {
      out += f.value;
    }
  }
}

void default_log_sink(const LogRecord& record) noexcept {
  try {
    std::string line;  // not thread_local: a record may come from a thread_local's destructor
    line.reserve(128 + record.message.size());
    append_log_line(line, record);
    line += '\n';
    // One call per line keeps lines from different threads whole (stdio's lock).
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {  // out of memory: the record is lost
  }
}

void log_record(LogLevel level, std::string_view message, std::span<const LogField> fields) noexcept {
  char name[17];
  LogRecord record;
  record.level = level;
  record.time = std::chrono::system_clock::now();
  record.message = message;
  record.fields = fields;
  // The default line has no use for the name (a syscall): asked only for a custom sink.
  if (t_in_sink == 0 && sink_slot().custom.load(std::memory_order_relaxed)) record.thread = this_thread_name(name);
  record.thread_id = this_thread_id();
  deliver(record);
}

void log_line(LogLevel level, std::string_view message) noexcept { log_record(level, message, {}); }

bool LogLimiter::admit() noexcept {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t next = next_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t start = next > now ? next : now;
    if (start - now > tolerance_ns_) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (next_.compare_exchange_weak(next, start + interval_ns_, std::memory_order_relaxed)) return true;
  }
}

bool log_limiter_admit(LogLimiter& limiter, LogLevel level, std::string_view key) noexcept {
  if (!limiter.admit()) return false;
  if (const std::uint64_t suppressed = limiter.take_suppressed(); suppressed > 0) {
    try {
      log_fields(level, std::to_string(suppressed) + " similar messages suppressed",
                 {{"key", key}, {"suppressed", suppressed}});
    } catch (...) {
    }
  }
  return true;
}

}  // namespace greenrpc
