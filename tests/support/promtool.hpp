#pragma once
// `promtool check metrics` on a scrape's body (Debian's prometheus package): what the official
// linter says of greenrpc's exposition text. Callers skip when promtool is not installed.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace test_support {

inline bool promtool_installed() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

struct PromtoolResult {
  bool accepted = false;
  std::string output;  // what promtool printed
};

inline PromtoolResult promtool_check(const std::string& body) {
  PromtoolResult result;
  char path[] = "/tmp/greenrpc-scrape-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return {false, "mkstemp failed"};
  const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
  ::close(fd);
  if (!written) {
    ::unlink(path);
    return {false, "write failed"};
  }
  const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p) {
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) result.output.append(buf, n);
    const int status = ::pclose(p);
    result.accepted = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  ::unlink(path);
  return result;
}

}  // namespace test_support
