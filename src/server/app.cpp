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
  // thread receives them, through sigwait.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
  {
    Server server = start_background(options);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    GREENRPC_LOG(info, std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    server.stop();
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

}  // namespace greenrpc
