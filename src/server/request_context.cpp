#include "greenrpc/server/request_context.hpp"

#include "server_core.hpp"

namespace greenrpc {

void RequestContext::request_server_stop() const {
  // Handlers run on their server's worker threads, which know their core.
  if (ServerCore* core = ServerCore::serving_on_this_thread()) core->request_stop();
}

}  // namespace greenrpc
