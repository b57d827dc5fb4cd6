#pragma once
// Counting this process's threads (/proc/self/task): tests that check no thread is left behind.
#include <dirent.h>

#include <cstddef>
#include <fstream>
#include <string>

namespace greenrpc::test {

// Threads of this process right now.
inline std::size_t thread_count() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// Threads of this process whose name (comm) is `name`.
inline int threads_named(const std::string& name) {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string line;
    if (std::getline(comm, line) && line == name) ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace greenrpc::test
