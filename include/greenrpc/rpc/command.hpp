#pragma once
// A command declared once, in a header both sides include, then implemented by the server and
// called by the client with compile-time checked types (the C++ answer to Tino's "import the app
// from the server module"):
//
//   inline const greenrpc::Command<int(int, NumberInput)> add{"add", {"a", "b"}};
//   app.command(add, [](int a, NumberInput b) { return a + b.value; });   // server
//   int r = client.call(add, 1, NumberInput{2});                           // client
#include <cstddef>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "greenrpc/rpc/command_traits.hpp"

namespace greenrpc {

template <class Signature>
class Command;

template <class R, class... A>
class Command<R(A...)> {
 public:
  using result_type = R;
  using args_tuple = std::tuple<std::remove_cvref_t<A>...>;
  static constexpr std::size_t arity = sizeof...(A);

  // `arg_names` (optional) name the arguments in error locations: ["add","b"] instead of ["add",1].
  explicit Command(std::string name, std::vector<std::string> arg_names = {}, CommandTraits traits = {})
      : name_(std::move(name)), arg_names_(std::move(arg_names)), traits_(std::move(traits)) {
    if (!arg_names_.empty() && arg_names_.size() != arity)
      throw std::invalid_argument("greenrpc::Command '" + name_ + "': " + std::to_string(arg_names_.size()) +
                                  " argument names for " + std::to_string(arity) + " arguments");
  }

  const std::string& name() const noexcept { return name_; }
  const std::vector<std::string>& arg_names() const noexcept { return arg_names_; }
  const CommandTraits& traits() const noexcept { return traits_; }
  bool idempotent() const noexcept { return traits_.idempotent; }

 private:
  std::string name_;
  std::vector<std::string> arg_names_;
  CommandTraits traits_;
};

}  // namespace greenrpc
