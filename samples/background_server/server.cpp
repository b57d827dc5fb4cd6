// An existing application that embeds a greenrpc server. It already has its own machinery — here a
// job loop on a std::thread that finishes one queued job every 100 ms — and its own main(). It
// starts the server with App::start_background(), which returns at once, and stops it with
// Server::stop() when the application shuts down.
//   background_server [--host H] [--port N]   serves until Ctrl-C; port 0 (the default) picks a
//                                             free port and prints it
//   background_server --self-test             runs the client part against itself, exits 0/1
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "api.hpp"
#include "client.hpp"

using namespace std::chrono_literals;

// The application's own job loop; nothing in it knows about greenrpc. Every public member is
// thread-safe: the job thread, the main thread and the server's worker thread all call them.
class JobEngine {
 public:
  void start() { thread_ = std::thread([this] { loop(); }); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  std::int64_t submit(std::string name) {
    std::lock_guard lock(mutex_);
    queue_.push_back({next_id_, std::move(name)});
    return next_id_++;
  }
  bool finished(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    return id <= last_finished_;  // jobs run in id order
  }
  EngineStatus status() const {
    std::lock_guard lock(mutex_);
    return EngineStatus{ticks_, static_cast<std::int64_t>(queue_.size()), last_finished_,
                        std::vector<std::string>(recent_.begin(), recent_.end())};
  }

 private:
  struct Job {
    std::int64_t id;
    std::string name;
  };

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      // Tick every 100 ms; stop() wakes the loop early.
      if (wake_.wait_for(lock, 100ms, [this] { return stopping_; })) return;
      ++ticks_;
      if (queue_.empty()) continue;
      Job job = std::move(queue_.front());
      queue_.pop_front();
      last_finished_ = job.id;  // the "work" itself is instantaneous here
      recent_.push_back(job.name);
      if (recent_.size() > 5) recent_.pop_front();
      std::printf("[engine] finished job %lld (%s)\n", static_cast<long long>(job.id), job.name.c_str());
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::deque<Job> queue_;
  std::deque<std::string> recent_;
  std::int64_t next_id_ = 1;
  std::int64_t last_finished_ = 0;
  std::int64_t ticks_ = 0;
  std::thread thread_;
};

// The greenrpc side: thin commands over the engine. Handlers run on the server's worker thread
// (fibers), concurrently with the job thread, so every access goes through the engine's mutex —
// taken and released inside each JobEngine call. Holding a std::mutex briefly blocks the worker
// thread for a moment, which is fine; holding it across a park (sleep_for, a client call,
// run_blocking...) is not: another fiber of the same thread that wants the mutex would block the
// thread, and the parked owner could never resume to release it — a deadlock.
greenrpc::App make_app(JobEngine& engine, std::atomic<bool>& shutdown_hook_ran) {
  greenrpc::App app;
  app.command(submit_job, [&engine](std::string name) { return engine.submit(std::move(name)); });
  app.command(engine_status, [&engine] { return engine.status(); });
  app.command(wait_job, [&engine](std::int64_t id, int timeout_ms) {
    auto deadline = greenrpc::Deadline::after(std::chrono::milliseconds(timeout_ms));
    while (!engine.finished(id)) {  // locks and unlocks the engine's mutex
      if (deadline.expired()) return false;
      greenrpc::sleep_for(10ms);  // parks this fiber only, no lock held; other connections go on
    }
    return true;
  });

  // Hooks run on the thread that calls start_background() / stop(): here, main.
  app.on_startup([] { std::printf("[hook] startup: the server is about to listen\n"); });
  app.on_shutdown([&engine, &shutdown_hook_ran] {
    // Runs after every connection is closed and the worker threads are joined.
    std::printf("[hook] shutdown: server stopped, %lld jobs still queued\n",
                static_cast<long long>(engine.status().queued));
    shutdown_hook_ran = true;
  });
  return app;
}

static std::atomic<bool> interrupted{false};  // lock-free, hence safe to set from a signal handler

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") self_test = true;
    else if (arg == "--port" && i + 1 < argc) port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) host = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--self-test]\n", argv[0]);
      return 2;
    }
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, even through a pipe (threads print too)

  // 1. The application starts its own machinery, as it always did.
  JobEngine engine;
  engine.start();

  // 2. It starts the server next to it. start_background() returns once the server listens (or
  //    throws if it cannot); the server runs on its own worker thread(s).
  std::atomic<bool> shutdown_hook_ran{false};
  greenrpc::App app = make_app(engine, shutdown_hook_ran);
  greenrpc::Server server = app.start_background({.host = host, .port = port});
  std::printf("serving on %s:%u\n", host.c_str(), server.port());  // the real port, also for port 0

  // 3. The application's main loop goes on: here it waits for Ctrl-C (or runs the client part).
  bool ok = true;
  if (self_test) {
    ok = run_client(host, server.port());
  } else {
    std::signal(SIGINT, [](int) { interrupted = true; });
    std::signal(SIGTERM, [](int) { interrupted = true; });
    std::printf("try: background_client --port %u   (Ctrl-C to stop)\n", server.port());
    while (!interrupted) std::this_thread::sleep_for(100ms);
  }

  // 4. Shutdown, in reverse order: the server first (it lets in-flight calls finish, closes the
  //    connections, runs the shutdown hooks), then the engine its handlers were using.
  server.stop();
  std::printf("server stopped; shutdown hook ran: %s\n", shutdown_hook_ran ? "yes" : "NO");
  ok = ok && shutdown_hook_ran && !server.running();
  engine.stop();

  if (self_test) std::printf("background_server self-test %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}
