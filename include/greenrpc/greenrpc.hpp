#pragma once
// Everything an application needs: the App and its server, the client, special arguments,
// shared command declarations, run_blocking and the fiber-aware waits.
#include "greenrpc/client/client.hpp"
#include "greenrpc/codec/bytes.hpp"
#include "greenrpc/rpc/command.hpp"
#include "greenrpc/runtime/cancel_token.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "greenrpc/runtime/fiber.hpp"
#include "greenrpc/runtime/fiber_deadline.hpp"
#include "greenrpc/runtime/fiber_group.hpp"
#include "greenrpc/runtime/mutex.hpp"
#include "greenrpc/runtime/one_shot_event.hpp"
#include "greenrpc/runtime/run_blocking.hpp"
#include "greenrpc/server/app.hpp"
#include "greenrpc/server/special_args.hpp"
#include "greenrpc/tls/tls_error.hpp"
