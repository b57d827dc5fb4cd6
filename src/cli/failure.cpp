#include "failure.hpp"

#include <exception>
#include <iterator>
#include <string_view>
#include <system_error>
#include <utility>

#include "greenrpc/client/client.hpp"
#include "greenrpc/client/errors.hpp"
#include "greenrpc/net/errors.hpp"
#include "greenrpc/rpc/command_error.hpp"
#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/rpc/error_line.hpp"
#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/tls/tls_error.hpp"

namespace greenrpc::cli {

namespace {

// An error reply with its code, for the codes whose built-in exception types drop it. These codes'
// lines are always "<code> <message as a JSON string>": what() writes it back the same way.
std::string json_layout_line(std::string_view code, const std::string& message) {
  std::string line;
  append_error_line(line, ErrorReport{code, message});
  return line;
}

class ErrorReplyLine : public Error {
 public:
  ErrorReplyLine(std::string_view code, const std::string& message)
      : Error(json_layout_line(code, message)), code_(code) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

constexpr std::string_view kCodesKept[] = {error_code::rpc_error, error_code::auth_error,
                                           error_code::deadline_exceeded};

// Client::map_error<E> constructs E(message): one type per code.
template <std::size_t I>
class KeptCode : public ErrorReplyLine {
 public:
  explicit KeptCode(const std::string& message) : ErrorReplyLine(kCodesKept[I], message) {}
};

template <std::size_t... I>
void map_kept_codes(Client& client, std::index_sequence<I...>) {
  (client.map_error<KeptCode<I>>(std::string(kCodesKept[I])), ...);
}

Failure server_line(std::string line, int exit_code = kServerError) { return {exit_code, std::move(line), true}; }
Failure local(int exit_code, std::string text) { return {exit_code, std::move(text), false}; }

}  // namespace

void keep_error_lines(Client& client) { map_kept_codes(client, std::make_index_sequence<std::size(kCodesKept)>{}); }

Failure failure_of_current_exception() {
  try {
    throw;
  } catch (const ErrorReplyLine& e) {
    // The server gave up on the deadline the client sent: a timeout like the client's own.
    const bool timeout = e.code() == error_code::deadline_exceeded;
    return server_line(e.what(), timeout ? kNoReply : kServerError);
  } catch (const RemoteError& e) {
    return server_line(e.line());
  } catch (const TlsError& e) {
    // A file that cannot be loaded is the caller's mistake; a refused handshake is not.
    if (e.reason() == TlsError::Reason::configuration) return local(kUsageError, std::string("TLS: ") + e.what());
    return local(kNoReply, std::string("TLS: ") + e.what());
  } catch (const AuthError& e) {
    return local(kNoReply, std::string("signing: ") + e.what());
  } catch (const TimeoutError& e) {
    return local(kNoReply, std::string("timeout: ") + e.what());
  } catch (const ConnectionLostError& e) {
    return local(kNoReply, std::string("connection lost: ") + e.what());
  } catch (const ConnectError& e) {
    return local(kNoReply, std::string("cannot connect: ") + e.what());
  } catch (const IoError& e) {
    return local(kNoReply, std::string("connection: ") + e.what());
  } catch (const CommandError& e) {  // not expected from a client; kept whole all the same
    return server_line(e.code() + " " + e.what());
  } catch (const Error& e) {
    return local(kNoReply, e.what());
  } catch (const std::system_error& e) {
    return local(kNoReply, e.what());
  } catch (const std::exception& e) {
    return local(kNoReply, std::string("unexpected failure: ") + e.what());
  } catch (...) {
    return local(kNoReply, "unexpected failure");
  }
}

}  // namespace greenrpc::cli
