#pragma once
// The conn_state client part, shared by conn_state_client and `conn_state_server --self-test`:
// two clients fill two carts that never mix. Returns false when a result is not the expected one.
#include <cstdio>
#include <string>

#include "api.hpp"

inline void print_cart(const char* who, const std::vector<CartItem>& cart) {
  std::printf("  %s's cart:", who);
  for (const auto& item : cart) std::printf(" %s x%d", item.sku.c_str(), item.quantity);
  std::printf("%s\n", cart.empty() ? " (empty)" : "");
}

inline bool run_client(const std::string& host, std::uint16_t port) {
  bool ok = true;
  auto expect = [&ok](bool condition, const char* what) {
    std::printf("  %s %s\n", condition ? "ok  " : "FAIL", what);
    ok = ok && condition;
  };

  try {
    // Each Client holds one connection (ClientOptions::connections = 1, the default), hence one
    // Session on the server. With connections = N, calls would be spread over N sessions: keep
    // per-connection state to clients with a single connection.
    greenrpc::Client alice{host, port};
    greenrpc::Client bob{host, port};

    expect(alice.call(add_to_cart, "apple", 2) == 2, "alice: add_to_cart(apple, 2) == 2 items");
    expect(bob.call(add_to_cart, "plum", 5) == 5, "bob:   add_to_cart(plum, 5) == 5 items");
    expect(alice.call(add_to_cart, "pear", 1) == 3, "alice: add_to_cart(pear, 1) == 3 items");
    expect(alice.call(add_to_cart, "apple", 1) == 4, "alice: add_to_cart(apple, 1) == 4 items");

    auto alice_cart = alice.call(view_cart);
    auto bob_cart = bob.call(view_cart);
    print_cart("alice", alice_cart);
    print_cart("bob", bob_cart);
    expect(alice_cart == std::vector<CartItem>{{"apple", 3}, {"pear", 1}}, "alice's cart holds only her items");
    expect(bob_cart == std::vector<CartItem>{{"plum", 5}}, "bob's cart holds only his items");

    Order order = alice.call(checkout);
    std::printf("  alice's order #%d: %zu lines\n", order.number, order.items.size());
    expect(order.number == 1 && order.items == alice_cart, "alice: checkout() == order #1 with her cart");
    expect(alice.call(view_cart).empty(), "alice's cart is empty after checkout");
    expect(bob.call(view_cart) == bob_cart, "bob's cart is untouched");

    // Handler errors are per call: the connection and its session survive them.
    try {
      alice.call(checkout);
      expect(false, "alice: checkout() of an empty cart fails");
    } catch (const greenrpc::RemoteError& e) {
      expect(e.code() == "EMPTY_CART", "alice: checkout() of an empty cart fails with EMPTY_CART");
    }
    expect(bob.call(checkout).number == 1, "bob: checkout() == his own order #1");

    // State lives as long as the connection: a new client starts with a new, empty session.
    greenrpc::Client carol{host, port};
    expect(carol.call(view_cart).empty(), "carol (a new connection) starts with an empty cart");
  } catch (const greenrpc::Error& e) {
    std::printf("  FAIL unexpected error: %s\n", e.what());
    return false;
  }
  return ok;
}
