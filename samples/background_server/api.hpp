#pragma once
// Shared by the background_server application and its client: the commands the application
// exposes over greenrpc.
#include <cstdint>
#include <string>
#include <vector>

#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

struct EngineStatus {
  std::int64_t ticks = 0;           // how many times the job loop has ticked (every 100 ms)
  std::int64_t queued = 0;          // jobs waiting
  std::int64_t finished = 0;        // jobs done so far
  std::vector<std::string> recent;  // names of the last few finished jobs, oldest first
  MSGPACK_DEFINE_MAP(ticks, queued, finished, recent);
};

// Queues a job in the application's job loop; returns its id (ids increase by one).
inline const greenrpc::Command<std::int64_t(std::string)> submit_job{"submit_job", {"name"}};
// A snapshot of the job loop.
inline const greenrpc::Command<EngineStatus()> engine_status{"engine_status"};
// Waits until job `id` is finished (true) or `timeout_ms` has passed (false).
inline const greenrpc::Command<bool(std::int64_t, int)> wait_job{"wait_job", {"id", "timeout_ms"}};
