#include "greenrpc/server/app.hpp"

#include <pthread.h>
#include <signal.h>

#include "greenrpc/runtime/log.hpp"
#include "server_core.hpp"

namespace greenrpc {

App::App() : def_(std::make_shared<AppDefinition>()) {}

App& App::on_startup(std::function<void()> hook) {
  def_->on_startup.push_back(std::move(hook));
  return *this;
}

App& App::on_shutdown(std::function<void()> hook) {
  def_->on_shutdown.push_back(std::move(hook));
  return *this;
}

Server App::start_background(const ServerOptions& options) {
  auto core = std::make_shared<ServerCore>(def_, options);
  core->start();
  return Server(std::move(core));
}

void App::run(const ServerOptions& options) {
  // Block the signals before the workers start so that they inherit the mask and only this
  // thread receives them, through sigtimedwait.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  {
    Server server = start_background(options);
    {
      std::lock_guard lock(def_->running_mutex);
      def_->running = &server;
    }
    // Wait in 50 ms slices: a signal, or request_stop() from a handler or another thread.
    const timespec slice{0, 50'000'000};
    int sig = -1;
    while (sig < 0 && !server.stop_requested()) {
      siginfo_t info;
      sig = sigtimedwait(&stop_signals, &info, &slice);
    }
    if (sig > 0) GREENRPC_LOG(warn, std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    server.request_stop();
    // A second SIGINT/SIGTERM during the grace period skips the rest of it.
    while (server.running()) {
      siginfo_t info;
      if (sigtimedwait(&stop_signals, &info, &slice) > 0) {
        GREENRPC_LOG(warn, "second stop signal: skipping the rest of the grace period");
        server.skip_grace();
      }
    }
    {
      std::lock_guard lock(def_->running_mutex);
      def_->running = nullptr;
    }
    server.stop();  // waits for the background stop to finish
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void App::request_stop() {
  std::lock_guard lock(def_->running_mutex);
  if (def_->running) def_->running->request_stop();
}

}  // namespace greenrpc
