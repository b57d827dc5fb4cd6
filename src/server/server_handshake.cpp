#include "server_handshake.hpp"

#include "greenrpc/runtime/errors.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/tls/tls_error.hpp"
#include "server_metrics.hpp"

namespace greenrpc {

HandshakeResult server_handshake(ByteStream& stream, Deadline deadline, WorkerMetrics& metrics, std::uint64_t conn) {
  std::string failure;  // recorded in catch blocks, reported after them
  bool refused = false;  // refused or timed out (a peer closing during it is not worth a warning)
  bool stopping = false;
  std::size_t tls_failure = 0;  // its metrics label
  try {
    stream.handshake(deadline);
    return {true, {}};
  } catch (const CancelledError&) {
    stopping = true;
  } catch (const TimeoutError& e) {
    failure = e.what();
    refused = true;
    tls_failure = kTlsTimeoutIndex;
  } catch (const TlsError& e) {
    failure = e.what();
    refused = true;
    tls_failure = tls_failure_index(e.reason());
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (stopping) return {false, "server stopping"};
  if (!refused) return {false, failure.empty() ? "closed during its handshake" : "closed during its handshake: " + failure};
  metrics.tls_handshake_failures[tls_failure].add();
  GREENRPC_LOG_LIMITED(warn, "tls_handshake_failed", "TLS handshake failed",
                       {{"conn", conn}, {"peer", stream.peer().to_string()}, {"reason", failure}});
  return {false, "TLS handshake failed: " + failure};
}

}  // namespace greenrpc
