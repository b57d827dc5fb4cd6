// greenrpc: the command-line client, as grpcurl is for gRPC.
//
//   greenrpc [flags] call COMMAND [JSON-ARG...]     one call; the reply printed as JSON
//   greenrpc [flags] call --pipe < calls.txt        one call per input line, pipelined
//   greenrpc [flags] commands [--all] [--json]      the server's commands (COMMAND DOCS)
//   greenrpc [flags] describe COMMAND [--json]      one command's arguments, types, result
//
// docs/cli.md describes every flag, the exit status, and the JSON conventions.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "client_flags.hpp"
#include "commands_view.hpp"
#include "failure.hpp"
#include "greenrpc/client/client.hpp"
#include "json_msgpack.hpp"
#include "pipe_mode.hpp"
#include "reply_json.hpp"

#ifndef GREENRPC_VERSION_STRING
#define GREENRPC_VERSION_STRING "unknown"
#endif

namespace {

using namespace greenrpc::cli;

struct Settings {
  ClientFlags flags;
  bool hex = false;
  bool pretty = false;
};

constexpr const char* kFooter = R"(Arguments are JSON, one value per shell word: 1  '"text"'  '{"value": 2}'  '[1, 2]'  null.
Bytes: {"$bytes": "<base64>"} or {"$hex": "<hex>"} is sent as msgpack bin; a bin in a reply
prints as a base64 string (--hex: hex). Flags go before the command name.

Environment: GREENRPC_SECRET and GREENRPC_PASSWORD stand for --secret and --password; prefer
them, as other users can read a process's arguments (ps) but not its environment.

Exit status: 0 success; 1 the server answered with an error reply (printed as "error: <line>");
2 usage or input error; 3 no reply: cannot connect, TLS refused, connection lost, timeout
(the client's or the server's DEADLINE_EXCEEDED), reply signature mismatch.
Full reference: docs/cli.md)";

// The connection and output flags, on the main app and on each subcommand, so that they may be
// written before or after the subcommand's name.
void add_common_flags(CLI::App& app, Settings& s) {
  const char* conn = "Connection";
  app.add_option("--host", s.flags.host, "Server host name or address")->type_name("HOST")->capture_default_str()->group(conn);
  app.add_option("--port", s.flags.port, "Server port")->type_name("PORT")->capture_default_str()->group(conn);
  app.add_option("--secret", s.flags.secret,
                 "Shared secret: sign requests and check replies (HMAC-SHA256) like the greenrpc client. "
                 "Safer: env GREENRPC_SECRET")
      ->type_name("SECRET")
      ->group(conn);
  app.add_option("--user", s.flags.user, "User name for AUTH <user> <password>")->type_name("USER")->group(conn);
  app.add_option("--password", s.flags.password, "Password for AUTH on connect. Safer: env GREENRPC_PASSWORD")
      ->type_name("PASSWORD")
      ->group(conn);
  app.add_option("--timeout", s.flags.timeout,
                 "Per-call timeout, also sent to the server as the call's deadline: 500ms, 2s, 1m, or a "
                 "number of seconds (default: none)")
      ->type_name("DURATION")
      ->group(conn);
  app.add_option("--connect-timeout", s.flags.connect_timeout, "Per connection attempt (default: 5s)")
      ->type_name("DURATION")
      ->group(conn);
  const char* tls = "TLS";
  app.add_flag("--tls", s.flags.tls, "Connect with TLS (implied by every --tls-* flag)")->group(tls);
  app.add_option("--tls-ca", s.flags.tls_ca, "PEM file of the CAs to verify the server with (default: the system's)")
      ->type_name("FILE")
      ->group(tls);
  app.add_option("--tls-cert", s.flags.tls_cert, "PEM client certificate chain (mutual TLS)")->type_name("FILE")->group(tls);
  app.add_option("--tls-key", s.flags.tls_key, "PEM key of --tls-cert")->type_name("FILE")->group(tls);
  app.add_option("--tls-pinned", s.flags.tls_pinned,
                 "PEM certificate the server must present exactly (e.g. self-signed); no CA or name check")
      ->type_name("FILE")
      ->group(tls);
  app.add_option("--tls-server-name", s.flags.tls_server_name,
                 "Name to verify the certificate against and send as SNI (default: --host)")
      ->type_name("NAME")
      ->group(tls);
  const char* out = "Output";
  app.add_flag("--hex", s.hex, "Show bytes (msgpack bin) as hex instead of base64")->group(out);
  app.add_flag("--pretty", s.pretty, "Indented JSON (not with --pipe)")->group(out);
}

std::string shortened(std::string_view text) {
  return text.size() <= 60 ? std::string(text) : std::string(text.substr(0, 57)) + "...";
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "greenrpc: %s\n", message.c_str());
  return kUsageError;
}

void print_line(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fputc('\n', out);
}

// One request on a new connection: its reply, or (printed to stderr) its failure.
std::optional<greenrpc::protocol::RespValue> send(const Settings& s, const greenrpc::ClientOptions& options,
                                                  const std::vector<std::string>& parts, int& exit_code) {
  std::vector<std::string_view> views(parts.begin(), parts.end());
  std::optional<greenrpc::protocol::RespValue> reply;
  std::optional<Failure> failure;
  try {
    greenrpc::Client client{s.flags.host, s.flags.port, options};
    keep_error_lines(client);
    reply = client.command(views);
  } catch (...) {
    failure = failure_of_current_exception();
  }
  if (failure) {
    print_line(stderr, failure->display());
    exit_code = failure->exit_code;
  }
  return reply;
}

int run_call(const Settings& s, const greenrpc::ClientOptions& options, const std::vector<std::string>& words) {
  if (words.empty()) return usage_error("call: which command? (greenrpc call COMMAND [JSON-ARG...], or --pipe)");
  if (words[0].starts_with("-"))
    return usage_error("call: unknown flag " + shortened(words[0]) + " (see greenrpc call --help)");
  std::vector<std::string> parts{words[0]};
  for (std::size_t i = 1; i < words.size(); ++i) {
    try {
      parts.push_back(json_argument_to_msgpack(words[i]));
    } catch (const JsonInputError& e) {
      return usage_error("argument " + std::to_string(i) + " (" + shortened(words[i]) + ") is not valid: " + e.what());
    }
  }
  int exit_code = kOk;
  auto reply = send(s, options, parts, exit_code);
  if (!reply) return exit_code;
  bool had_text = false;
  std::string text;
  try {
    text = render_reply(*reply, OutputFormat{s.hex ? BytesFormat::hex : BytesFormat::base64, s.pretty}, &had_text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greenrpc: cannot show the reply: %s\n", e.what());
    return kNoReply;
  }
  print_line(stdout, text);
  if (had_text) std::fprintf(stderr, "greenrpc: note: the reply is not msgpack (a built-in's text?); shown as a string\n");
  return kOk;
}

std::optional<std::vector<CommandDoc>> command_docs(const Settings& s, const greenrpc::ClientOptions& options,
                                                     std::vector<std::string> parts, int& exit_code) {
  auto reply = send(s, options, parts, exit_code);
  if (!reply) return std::nullopt;
  try {
    return parse_command_docs(*reply);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "greenrpc: %s\n", e.what());
    exit_code = kNoReply;
    return std::nullopt;
  }
}

int run_commands(const Settings& s, const greenrpc::ClientOptions& options, bool all, bool json) {
  int exit_code = kOk;
  auto docs = command_docs(s, options, {"COMMAND", "DOCS"}, exit_code);
  if (!docs) return exit_code;
  if (!all) std::erase_if(*docs, [](const CommandDoc& d) { return !d.is_user_command(); });
  if (json) print_line(stdout, render_json(command_list_json(*docs), s.pretty));
  else std::fputs(render_command_list(*docs).c_str(), stdout);
  return kOk;
}

int run_describe(const Settings& s, const greenrpc::ClientOptions& options, const std::string& name, bool json) {
  int exit_code = kOk;
  auto docs = command_docs(s, options, {"COMMAND", "DOCS", name}, exit_code);
  if (!docs) return exit_code;
  if (docs->empty()) {
    std::fprintf(stderr, "greenrpc: the server has no command named '%s'\n", shortened(name).c_str());
    return kServerError;
  }
  const CommandDoc& doc = docs->front();
  if (json) print_line(stdout, render_json(command_doc_json(doc), s.pretty));
  else std::fputs(render_command_doc(doc).c_str(), stdout);
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"greenrpc: call a greenrpc server from the command line. Arguments are JSON, sent as msgpack; "
               "replies print as JSON."};
  app.name("greenrpc");
  app.require_subcommand(1);
  app.set_version_flag("--version", GREENRPC_VERSION_STRING);
  app.footer(kFooter);
  add_common_flags(app, s);

  CLI::App* call = app.add_subcommand(
      "call", "Call COMMAND with JSON arguments; print the reply as JSON.\n"
              "  greenrpc call [OPTIONS] COMMAND [JSON-ARG...]\n"
              "  greenrpc call [OPTIONS] --pipe < lines-of-COMMAND-JSON-ARG...");
  add_common_flags(*call, s);
  bool pipe = false;
  std::size_t in_flight = 64;
  call->add_flag("--pipe", pipe,
                 "Read one call per line from stdin (COMMAND JSON-ARG...); print one line per call, in order");
  call->add_option("--in-flight", in_flight, "With --pipe: calls sent before their replies are read (1: one at a time)")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}).description(""));
  // Everything from the command name on is left as it is: arguments are JSON ("-1", "[1, 2]"),
  // not flags or CLI11 lists.
  call->prefix_command();

  CLI::App* commands = app.add_subcommand("commands", "List the server's commands (COMMAND DOCS)");
  add_common_flags(*commands, s);
  bool all = false;
  bool commands_json = false;
  commands->add_flag("--all", all, "Include the built-in commands (PING, INFO, ...)");
  commands->add_flag("--json", commands_json, "Print the docs as one JSON object");

  CLI::App* describe = app.add_subcommand("describe", "Show one command's arguments, their types and its result");
  add_common_flags(*describe, s);
  std::string name;
  bool describe_json = false;
  describe->add_option("COMMAND", name, "Command name")->required();
  describe->add_flag("--json", describe_json, "Print the docs as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kOk : kUsageError;
  }

  // From the environment when not given as flags (never echoed anywhere).
  if (s.flags.secret.empty())
    if (const char* v = std::getenv("GREENRPC_SECRET")) s.flags.secret = v;
  if (s.flags.password.empty())
    if (const char* v = std::getenv("GREENRPC_PASSWORD")) s.flags.password = v;

  greenrpc::ClientOptions options;
  try {
    options = client_options(s.flags);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }

  if (*call) {
    std::vector<std::string> words = call->remaining();
    if (pipe) {
      if (!words.empty()) return usage_error("call --pipe reads the calls from stdin: no COMMAND on the command line");
      PipeSettings settings;
      settings.host = s.flags.host;
      settings.port = s.flags.port;
      settings.options = options;
      settings.format = OutputFormat{s.hex ? BytesFormat::hex : BytesFormat::base64, false};
      settings.in_flight = in_flight;
      return run_pipe(settings);
    }
    return run_call(s, options, words);
  }
  if (*commands) return run_commands(s, options, all, commands_json);
  if (*describe) return run_describe(s, options, name, describe_json);
  return usage_error("no subcommand");
}
