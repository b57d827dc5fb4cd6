#include "greenrpc/runtime/fiber_properties.hpp"

#include <boost/fiber/context.hpp>
#include <new>

#include "greenrpc/runtime/reactor.hpp"

namespace greenrpc {

FiberProperties* FiberProperties::current(bool create) noexcept {
  if (!Reactor::current()) return nullptr;
  boost::fibers::context* ctx = boost::fibers::context::active();
  if (ctx->is_context(boost::fibers::type::dispatcher_context)) return nullptr;
  auto* props = static_cast<FiberProperties*>(ctx->get_properties());  // only greenrpc sets them
  if (!props && create) {
    props = new (std::nothrow) FiberProperties(ctx);
    if (props) ctx->set_properties(props);  // owned (and deleted) by the context
  }
  return props;
}

}  // namespace greenrpc
