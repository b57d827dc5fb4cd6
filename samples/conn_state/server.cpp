// The conn_state server: every connection gets its own Session (a shopping cart), made by the
// App's state factory when the connection opens and dropped when it closes. Handlers reach it
// through greenrpc::ConnState<Session>.
//   conn_state_server [--host H] [--port N]   serves until Ctrl-C (default 127.0.0.1:7777)
//   conn_state_server --self-test             serves on a free port, runs the client part, exits 0/1
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "api.hpp"
#include "client.hpp"

// Per-connection state. It never needs a lock: a connection's requests are handled one at a time
// (in order, even when the client pipelines them), and no other connection can see it.
struct Session {
  std::map<std::string, int> cart;  // sku -> quantity
  int orders = 0;
};

static int item_count(const Session& s) {
  int n = 0;
  for (const auto& [sku, quantity] : s.cart) n += quantity;
  return n;
}

greenrpc::App make_app() {
  greenrpc::App app;

  // Called once per connection, on the worker thread that accepted it. Any copyable type works;
  // ConnState<T> must name the same type.
  app.state_factory([] { return Session{}; });

  // ConnState<Session> is filled by the framework (it is not a wire argument): the command still
  // takes exactly two arguments, sku and quantity. It is a handle: modify the session through it.
  app.command(add_to_cart, [](greenrpc::ConnState<Session> session, std::string sku, int quantity) {
    if (quantity <= 0) throw greenrpc::CommandError("INVALID_QUANTITY", "quantity must be positive");
    session->cart[sku] += quantity;
    return item_count(*session);
  });

  app.command(view_cart, [](greenrpc::ConnState<Session> session) {
    std::vector<CartItem> items;
    for (const auto& [sku, quantity] : session->cart) items.push_back({sku, quantity});
    return items;
  });

  app.command(checkout, [](greenrpc::ConnState<Session> session, const greenrpc::RequestContext& request) {
    if (session->cart.empty()) throw greenrpc::CommandError("EMPTY_CART", "nothing to check out");
    std::printf("[server] connection %llu checks out %d items\n",
                static_cast<unsigned long long>(request.connection_id()), item_count(*session));
    Order order{++session->orders, {}};
    for (const auto& [sku, quantity] : session->cart) order.items.push_back({sku, quantity});
    session->cart.clear();
    return order;
  });
  return app;
}

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;  // 127.0.0.1:7777 by default
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") self_test = true;
    else if (arg == "--port" && i + 1 < argc) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) options.host = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--self-test]\n", argv[0]);
      return 2;
    }
  }

  greenrpc::App app = make_app();
  if (self_test) {
    options.port = 0;  // any free port
    greenrpc::Server server = app.start_background(options);
    bool ok = run_client(options.host, server.port());
    server.stop();
    std::printf("conn_state self-test %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
  }
  std::printf("conn_state server on %s:%u\n", options.host.c_str(), options.port);
  std::fflush(stdout);
  app.run(options);  // until Ctrl-C / SIGTERM
}
