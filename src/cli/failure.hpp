#pragma once
// How a failed call is reported: the exit status, and the text shown.
//
//   0  success
//   1  the server answered with an error reply (shown as "error: <the whole reply line>")
//   2  usage or input error: a bad flag, an argument that is not JSON, an unreadable TLS file
//   3  no trustworthy reply: cannot connect, TLS handshake refused, connection lost, timeout
//      (the client's own, or the server's DEADLINE_EXCEEDED reply), a reply whose signature
//      does not match
#include <string>

namespace greenrpc {
class Client;
}

namespace greenrpc::cli {

enum ExitCode : int { kOk = 0, kServerError = 1, kUsageError = 2, kNoReply = 3 };

struct Failure {
  int exit_code = kNoReply;
  // The server's error reply line (when server_line), else the CLI's own message.
  std::string text;
  bool server_line = false;

  // "error: <line>" for a server's error reply, "greenrpc: <message>" otherwise.
  std::string display() const { return (server_line ? "error: " : "greenrpc: ") + text; }
};

// The client's built-in exception types drop the code of a few error replies (RPC_ERROR,
// AUTH_ERROR, DEADLINE_EXCEEDED); this maps those codes to a type that keeps it, so that
// failure_of_current_exception() can give back every error reply's whole line.
void keep_error_lines(Client& client);

// Call inside a catch block only: classifies the exception being handled. Records strings only
// (safe in a fiber, which must not park while an exception is being handled).
Failure failure_of_current_exception();

}  // namespace greenrpc::cli
