#include "pipe_mode.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "call_line.hpp"
#include "failure.hpp"
#include "greenrpc/client/client.hpp"
#include "greenrpc/runtime/event_loop_thread.hpp"
#include "json_msgpack.hpp"
#include "line_reader.hpp"

namespace greenrpc::cli {

namespace {

// One input line's call, from the moment it is read until its output line is written.
struct Slot {
  bool done = false;
  std::optional<protocol::RespValue> reply;
  Failure failure;  // when there is no reply
};

// The lines in flight, oldest first. The reader (main thread) appends, the calls (fibers on the
// client's loop) complete, the printer (a thread of its own, so output never waits for input)
// writes the completed head in order.
struct Window {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::shared_ptr<Slot>> slots;
  bool input_done = false;

  void complete(Slot& slot, std::optional<protocol::RespValue> reply, Failure failure) {
    {
      std::lock_guard lock(mutex);
      slot.reply = std::move(reply);
      slot.failure = std::move(failure);
      slot.done = true;
    }
    changed.notify_all();
  }
};

std::string output_line(const Slot& slot, const OutputFormat& format) {
  if (slot.reply) {
    try {
      return render_reply(*slot.reply, OutputFormat{format.bytes, false});
    } catch (const std::exception& e) {
      return "error: greenrpc: cannot show the reply: " + std::string(e.what());
    }
  }
  if (slot.failure.server_line) return "error: " + slot.failure.text;
  return "error: greenrpc: " + slot.failure.text;
}

// The msgpack parts of one input line: [command, arg1, ...]; throws JsonInputError or
// std::invalid_argument with the argument's position.
std::vector<std::string> parts_of(const std::string& text) {
  CallLine call = split_call_line(text);
  std::vector<std::string> parts{std::move(call.command)};
  for (std::size_t i = 0; i < call.arguments.size(); ++i) {
    try {
      parts.push_back(json_argument_to_msgpack(call.arguments[i]));
    } catch (const JsonInputError& e) {
      throw JsonInputError("argument " + std::to_string(i + 1) + " is not valid: " + e.what());
    }
  }
  return parts;
}

}  // namespace

int run_pipe(const PipeSettings& settings) {
  Window window;
  int worst = kOk;
  // The printer: writes each completed head line, flushed, so an interactive user sees each
  // reply as it comes.
  std::thread printer([&] {
    for (;;) {
      std::shared_ptr<Slot> slot;
      {
        std::unique_lock lock(window.mutex);
        window.changed.wait(lock, [&] {
          return (!window.slots.empty() && window.slots.front()->done) || (window.input_done && window.slots.empty());
        });
        if (window.slots.empty()) return;
        slot = std::move(window.slots.front());
        window.slots.pop_front();
      }
      window.changed.notify_all();  // room for the reader
      const std::string line = output_line(*slot, settings.format);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      if (!slot->reply) worst = std::max(worst, slot->failure.exit_code);
    }
  });

  {
    // The loop before the client: the client runs on it and must go first.
    EventLoopThread loop("greenrpc-pipe");
    std::optional<Client> client;
    std::optional<Failure> setup_failure;  // e.g. a TLS file that cannot be loaded: every line fails with it
    try {
      client.emplace(settings.host, settings.port, settings.options, loop);
      keep_error_lines(*client);
    } catch (...) {
      setup_failure = failure_of_current_exception();
    }

    LineReader reader(settings.input_fd);
    std::size_t line_number = 0;
    const std::size_t in_flight = std::max<std::size_t>(settings.in_flight, 1);
    for (;;) {
      std::optional<LineReader::Line> line;
      std::optional<Failure> input_failure;
      try {
        line = reader.next();
      } catch (const std::exception& e) {
        input_failure = Failure{kUsageError, e.what(), false};
      }
      if (!line && !input_failure) break;
      ++line_number;
      const std::string where = "line " + std::to_string(line_number) + ": ";
      std::vector<std::string> parts;
      if (line && !input_failure) {
        if (line->too_long) {
          input_failure = Failure{kUsageError, where + "longer than " + std::to_string(kMaxPipeLine >> 20) + " MiB", false};
        } else if (is_blank_or_comment(line->text)) {
          continue;
        } else {
          try {
            parts = parts_of(line->text);
          } catch (const std::exception& e) {  // JsonInputError, std::invalid_argument
            input_failure = Failure{kUsageError, where + e.what(), false};
          }
        }
      }
      if (!input_failure && setup_failure) input_failure = setup_failure;

      auto slot = std::make_shared<Slot>();
      {
        std::unique_lock lock(window.mutex);
        window.changed.wait(lock, [&] { return window.slots.size() < in_flight; });
        window.slots.push_back(slot);
      }
      if (input_failure) {
        window.complete(*slot, std::nullopt, std::move(*input_failure));
        if (!line) break;  // reading failed: nothing more can be read
        continue;
      }
      loop.spawn_fiber([&window, &client, slot, parts = std::move(parts)] {
        std::vector<std::string_view> views(parts.begin(), parts.end());
        std::optional<protocol::RespValue> reply;
        Failure failure;
        try {
          reply = client->command(views);
        } catch (...) {
          failure = failure_of_current_exception();  // strings only: nothing parks in here
        }
        window.complete(*slot, std::move(reply), std::move(failure));
      });
    }
    {
      std::lock_guard lock(window.mutex);
      window.input_done = true;
    }
    window.changed.notify_all();
    printer.join();  // every slot printed: every call has completed
    client.reset();
  }
  return worst;
}

}  // namespace greenrpc::cli
