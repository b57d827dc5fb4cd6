#include "greenrpc/metrics/process_metrics.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenrpc::metrics {

namespace {

// The whole of a small /proc file (they report a size of 0, so read until EOF).
std::optional<std::string> read_proc_file(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      text.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    ::close(fd);
    if (n < 0) return std::nullopt;
    return text;
  }
}

std::optional<unsigned long long> to_number(std::string_view s) {
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Seconds since the epoch at boot: /proc/stat's btime (read once; it does not change).
std::optional<unsigned long long> boot_time() {
  static const std::optional<unsigned long long> btime = []() -> std::optional<unsigned long long> {
    auto text = read_proc_file("/proc/stat");
    if (!text) return std::nullopt;
    std::string_view s = *text;
    std::size_t at = s.find("\nbtime ");
    if (at == std::string_view::npos) return std::nullopt;
    s.remove_prefix(at + 7);
    return to_number(s.substr(0, s.find('\n')));
  }();
  return btime;
}

// /proc/self/stat's fields from the 3rd (state) on: the 2nd, (comm), may hold spaces and
// parentheses, so the split starts after its last ')'. Field k (1-based, proc(5)) is [k - 3].
std::vector<std::string_view> stat_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t close = text.rfind(')');
  if (close == std::string_view::npos) return fields;
  text.remove_prefix(close + 1);
  while (!text.empty()) {
    std::size_t start = text.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    std::size_t end = text.find_first_of(" \n");
    fields.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  return fields;
}

std::optional<std::size_t> open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  std::size_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the directory's own descriptor
}

}  // namespace

void write_process_metrics(TextWriter& out) {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (auto text = read_proc_file("/proc/self/stat"); text && ticks > 0) {
    const auto f = stat_fields(*text);
    auto field = [&](std::size_t k) -> std::optional<unsigned long long> {
      return k - 3 < f.size() ? to_number(f[k - 3]) : std::nullopt;
    };
    auto utime = field(14), stime = field(15), starttime = field(22), vsize = field(23), rss = field(24);
    if (utime && stime) {
      out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
      out.sample("process_cpu_seconds_total", {}, static_cast<double>(*utime + *stime) / static_cast<double>(ticks));
    }
    if (rss && page > 0) {
      out.family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
      out.sample("process_resident_memory_bytes", {}, static_cast<double>(*rss) * static_cast<double>(page));
    }
    if (vsize) {
      out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
      out.sample("process_virtual_memory_bytes", {}, static_cast<double>(*vsize));
    }
    if (auto btime = boot_time(); btime && starttime) {
      out.family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
      out.sample("process_start_time_seconds", {},
                 static_cast<double>(*btime) + static_cast<double>(*starttime) / static_cast<double>(ticks));
    }
  }
  if (auto fds = open_fds()) {
    out.family("process_open_fds", "Number of open file descriptors.", "gauge");
    out.sample("process_open_fds", {}, static_cast<double>(*fds));
  }
  if (rlimit lim{}; ::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    out.family("process_max_fds", "Maximum number of open file descriptors.", "gauge");
    out.sample("process_max_fds", {}, static_cast<double>(lim.rlim_cur));  // unlimited: 2^64 - 1, as Go's client
  }
}

}  // namespace greenrpc::metrics
