#include "greenrpc/server/app.hpp"

#include <cxxabi.h>
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <stdexcept>

#include "greenrpc/runtime/log.hpp"
#include "server_core.hpp"

namespace greenrpc {

namespace {

// The C++ name of `type` as a user wrote it: demangled, std::string for libstdc++'s spelling.
std::string cxx_type_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  static const std::string long_string = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
  for (auto at = name.find(long_string); at != std::string::npos; at = name.find(long_string, at))
    name.replace(at, long_string.size(), "std::string");
  return name;
}

std::string parameter_name(const AuthParameter& p) {
  return std::string(p.required ? "greenrpc::AuthRequired<" : "greenrpc::Auth<") + cxx_type_name(*p.value_type) + ">";
}

}  // namespace

App::App() : def_(std::make_shared<AppDefinition>()) {}

void App::check_auth_parameter(const AuthParameter& p, const std::type_info* auth_value_type) {
  if (!auth_value_type || *auth_value_type == *p.value_type) return;
  throw std::invalid_argument(
      "greenrpc: command '" + p.command + "' takes " + parameter_name(p) + ", but the app's auth function " +
      "authenticates with " + cxx_type_name(*auth_value_type) + " values: the two types must be the same, or the " +
      (p.required ? "command would answer PERMISSION_DENIED to every call, even after a good AUTH"
                  : "handler would never see the auth value"));
}

void App::set_auth_value_type(const std::type_info& type) {
  for (const AuthParameter& p : def_->auth_parameters) check_auth_parameter(p, &type);
  def_->auth_value_type = &type;
}

void App::check_auth_function_present() const {
  if (def_->authenticate) return;
  for (const AuthParameter& p : def_->auth_parameters)
    throw std::invalid_argument("greenrpc: command '" + p.command + "' takes " + parameter_name(p) +
                                " but the app has no auth function; register one with App::auth");
}

App& App::on_startup(std::function<void()> hook) {
  def_->on_startup.push_back(std::move(hook));
  return *this;
}

App& App::on_shutdown(std::function<void()> hook) {
  def_->on_shutdown.push_back(std::move(hook));
  return *this;
}

Server App::start_background(const ServerOptions& options) {
  check_auth_function_present();
  auto core = std::make_shared<ServerCore>(def_, options);
  core->start();
  return Server(std::move(core));
}

namespace {
// SIGHUP: the certificate files again; a failure keeps the current ones (logged).
void reload_tls_on_signal(Server& server) {
  if (server.tls_port() == 0) {
    GREENRPC_LOG(warn, "received SIGHUP: no TLS to reload");
    return;
  }
  GREENRPC_LOG(info, "received SIGHUP: reloading the TLS certificate");
  try {
    server.reload_tls();
  } catch (const std::exception&) {  // logged by reload_tls with the reason
  }
}
}  // namespace

void App::run(const ServerOptions& options) {
  // Block the signals before the workers start so that they inherit the mask and only this
  // thread receives them, through sigtimedwait.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reloads the TLS certificate
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
      if (sig == SIGHUP) {
        sig = -1;
        reload_tls_on_signal(server);
      }
    }
    if (sig > 0) GREENRPC_LOG(warn, std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    server.request_stop();
    // A second SIGINT/SIGTERM during the grace period skips the rest of it.
    while (server.running()) {
      siginfo_t info;
      const int again = sigtimedwait(&stop_signals, &info, &slice);
      if (again == SIGHUP) {
        reload_tls_on_signal(server);
      } else if (again > 0) {
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
