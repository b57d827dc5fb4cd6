#pragma once
// Shared by the conn_state server and client: a shopping cart kept per connection.
#include <string>
#include <vector>

#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

struct CartItem {
  std::string sku;
  int quantity = 0;
  MSGPACK_DEFINE_MAP(sku, quantity);
  friend bool operator==(const CartItem&, const CartItem&) = default;
};

struct Order {
  int number = 0;                // per connection: 1, 2, ...
  std::vector<CartItem> items;
  MSGPACK_DEFINE_MAP(number, items);
};

// Adds to this connection's cart; returns how many items the cart now holds.
inline const greenrpc::Command<int(std::string, int)> add_to_cart{"add_to_cart", {"sku", "quantity"}};
// This connection's cart, sorted by sku.
inline const greenrpc::Command<std::vector<CartItem>()> view_cart{"view_cart"};
// Turns the cart into an order and empties it.
inline const greenrpc::Command<Order()> checkout{"checkout"};
