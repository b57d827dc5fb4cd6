#pragma once
// Shared by the auth server and client: the user model and the command declarations.
#include <optional>
#include <string>
#include <vector>

#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

// What the server's auth function returns for a good password. Handlers receive it through
// greenrpc::Auth<User> / greenrpc::AuthRequired<User>; whoami also sends it to the client.
struct User {
  std::string name;
  bool admin = false;
  MSGPACK_DEFINE_MAP(name, admin);
};

// Open to everyone: who is this connection authenticated as? (nullopt: nobody)
inline const greenrpc::Command<std::optional<User>()> whoami{"whoami"};
// Authenticated connections only: anything else gets PERMISSION_DENIED.
inline const greenrpc::Command<std::string(std::string)> read_secret{"read_secret", {"key"}};
// Admins only: authentication is checked by the framework, the admin flag by the handler.
inline const greenrpc::Command<std::vector<std::string>()> list_users{"list_users"};
