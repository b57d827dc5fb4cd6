#include "builtin_commands.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <openssl/rand.h>

#include "greenrpc/rpc/error_codes.hpp"
#include "greenrpc/runtime/log.hpp"
#include "greenrpc/server/request_context.hpp"

namespace greenrpc {
namespace {


constexpr std::string_view kVersion = "0.1.0";

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Redis' rule for connection names (CLIENT SETNAME and HELLO ... SETNAME).
bool valid_client_name(std::string_view name) {
  return std::none_of(name.begin(), name.end(), [](char ch) { return ch < '!' || ch > '~'; });
}
constexpr std::string_view kBadClientName = "Client names cannot contain spaces, newlines or special characters.";

void wrong_arity(BuiltinCall& c) {
  std::string msg = "wrong number of arguments for '";
  for (char ch : c.args[0]) msg += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  msg += "' command";
  c.reply.redis_error(error_code::generic, msg);
}

void ping(BuiltinCall& c) {
  if (c.args.size() == 1) return c.reply.simple("PONG");
  if (c.args.size() == 2) return c.reply.bulk(c.args[1]);
  wrong_arity(c);
}

void echo(BuiltinCall& c) {
  if (c.args.size() != 2) return wrong_arity(c);
  c.reply.bulk(c.args[1]);
}

void quit(BuiltinCall& c) {
  c.reply.simple("OK");
  c.close_after = true;
}

// Authenticates with the App's auth function; false (and a reply written) on failure.
bool authenticate(BuiltinCall& c, std::string_view user, std::string_view password) {
  const auto& auth = c.core.app().authenticate;
  if (!auth) {
    c.reply.error(error_code::permission_denied, "this server has no authentication configured");
    return false;
  }
  std::any value;
  std::string failure;
  try {
    const RequestContext context(c.conn.id, c.conn.peer, "auth", c.conn.worker, c.conn.tls);
    value = auth(context, user, password);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    c.reply.error(error_code::unexpected_error, "auth function failed: " + failure);
    return false;
  }
  if (!value.has_value()) {
    if (c.metrics) c.metrics->auth_failures[static_cast<std::size_t>(AuthFailure::auth)].add();
    // Neither the password nor the user name (a password typed in the wrong field) is logged.
    GREENRPC_LOG_LIMITED(warn, "auth_failed", "AUTH refused", {{"conn", c.conn.id}, {"peer", c.conn.peer.to_string()}});
    c.reply.error(error_code::permission_denied, std::nullopt);  // Tino's bare refusal
    return false;
  }
  c.conn.auth = std::move(value);
  return true;
}

void auth(BuiltinCall& c) {
  if (c.args.size() == 2) {
    if (authenticate(c, "default", c.args[1])) c.reply.simple("OK");
  } else if (c.args.size() == 3) {
    if (authenticate(c, c.args[1], c.args[2])) c.reply.simple("OK");
  } else {
    wrong_arity(c);
  }
}

// The connection's nonce, made on first use: signed requests are bound to it, so a request
// captured here is worthless on any other connection.
void nonce(BuiltinCall& c) {
  if (c.args.size() != 1) return wrong_arity(c);
  ensure_nonce(c.conn);
  c.reply.bulk(c.conn.nonce);
}

void hello(BuiltinCall& c) {
  std::size_t i = 1;
  if (c.args.size() > 1) {
    std::string_view v = c.args[1];
    int proto = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), proto);
    if (ec != std::errc() || p != v.data() + v.size()) return c.reply.redis_error(error_code::generic, "Protocol version is not an integer or out of range");
    if (proto != 2) return c.reply.redis_error("NOPROTO", "sorry, this protocol version is not supported");
    i = 2;
  }
  while (i < c.args.size()) {
    if (iequals(c.args[i], "AUTH") && i + 2 < c.args.size()) {
      if (!authenticate(c, c.args[i + 1], c.args[i + 2])) return;
      i += 3;
    } else if (iequals(c.args[i], "SETNAME") && i + 1 < c.args.size()) {
      if (!valid_client_name(c.args[i + 1])) return c.reply.redis_error(error_code::generic, kBadClientName);
      c.conn.name = std::string(c.args[i + 1]);
      i += 2;
    } else {
      return c.reply.redis_error(error_code::generic, "Syntax error in HELLO option '" + std::string(c.args[i]) + "'");
    }
  }
  // RESP2 has no maps: a flat array of alternating keys and values, as Redis sends.
  c.reply.array_header(14);
  c.reply.bulk("server");
  c.reply.bulk("greenrpc");
  c.reply.bulk("version");
  c.reply.bulk(kVersion);
  c.reply.bulk("proto");
  c.reply.integer(2);
  c.reply.bulk("id");
  c.reply.integer(static_cast<std::int64_t>(c.conn.id));
  c.reply.bulk("mode");
  c.reply.bulk("standalone");
  c.reply.bulk("role");
  c.reply.bulk("master");
  c.reply.bulk("modules");
  c.reply.array_header(0);
}

void client(BuiltinCall& c) {
  if (c.args.size() < 2) return wrong_arity(c);
  std::string_view sub = c.args[1];
  if (iequals(sub, "SETNAME") && c.args.size() == 3) {
    if (!valid_client_name(c.args[2])) return c.reply.redis_error(error_code::generic, kBadClientName);
    c.conn.name = std::string(c.args[2]);
    return c.reply.simple("OK");
  }
  if (iequals(sub, "GETNAME") && c.args.size() == 2)
    return c.conn.name.empty() ? c.reply.nil() : c.reply.bulk(c.conn.name);
  if (iequals(sub, "ID") && c.args.size() == 2) return c.reply.integer(static_cast<std::int64_t>(c.conn.id));
  if (iequals(sub, "SETINFO") && c.args.size() == 4) return c.reply.simple("OK");
  c.reply.redis_error(error_code::generic, "unknown subcommand or wrong number of arguments for '" + std::string(sub) +
                          "'. Try CLIENT HELP.");
}

void select(BuiltinCall& c) {
  if (c.args.size() != 2) return wrong_arity(c);
  if (c.args[1] != "0") return c.reply.redis_error(error_code::generic, "DB index is out of range");
  c.reply.simple("OK");
}

// Redis's commandstats and errorstats, from the metrics' counters summed over the workers.
// Rejected: refused before the handler ran (arguments, auth, signature, deadline, a stop);
// failed: the handler ran and failed.
std::string commandstats(const ServerCore& core) {
  const std::size_t commands = core.command_labels();
  const OutcomeTable& outcomes = core.outcomes();
  const std::size_t n_outcomes = outcomes.size();
  std::vector<std::uint64_t> calls(commands * OutcomeTable::kMax, 0), ns(commands, 0);
  core.for_each_worker([&](const WorkerMetrics& m, unsigned, std::uint64_t) {
    for (std::size_t c = 0; c < commands; ++c) {
      ns[c] += m.latency_ns(c);
      for (std::size_t o = 0; o < n_outcomes; ++o) calls[c * OutcomeTable::kMax + o] += m.requests(c, o);
      calls[c * OutcomeTable::kMax + OutcomeTable::kOther] += m.requests(c, OutcomeTable::kOther);
    }
  });
  auto rejected_code = [](std::string_view code) {
    return code == error_code::invalid_command || code == error_code::num_arg_mismatch ||
           code == error_code::invalid_msgpack || code == error_code::validation_error ||
           code == error_code::permission_denied || code == error_code::auth_error ||
           code == error_code::deadline_exceeded || code == error_code::shutting_down;
  };
  std::string text = "# Commandstats\r\n";
  for (std::size_t c = 0; c + 1 < commands; ++c) {  // the unknown names are errorstats' INVALID_COMMAND
    std::uint64_t total = 0, rejected = 0, failed = 0;
    for (std::size_t o = 0; o < OutcomeTable::kMax; ++o) {
      const std::uint64_t k = calls[c * OutcomeTable::kMax + o];
      if (k == 0) continue;
      total += k;
      if (o == 0) continue;
      (o < n_outcomes && rejected_code(outcomes.name(o)) ? rejected : failed) += k;
    }
    if (total == 0) continue;
    const std::uint64_t usec = ns[c] / 1000;
    char per_call[32];
    const std::uint64_t executed = total - rejected;
    std::snprintf(per_call, sizeof per_call, "%.2f",
                  executed ? static_cast<double>(usec) / static_cast<double>(executed) : 0.0);
    text += "cmdstat_" + std::string(core.command_label(c)) + ":calls=" + std::to_string(total - rejected) +
            ",usec=" + std::to_string(usec) + ",usec_per_call=" + per_call + ",rejected_calls=" +
            std::to_string(rejected) + ",failed_calls=" + std::to_string(failed) + "\r\n";
  }
  return text;
}

std::string errorstats(const ServerCore& core) {
  const OutcomeTable& outcomes = core.outcomes();
  std::vector<std::uint64_t> count(OutcomeTable::kMax, 0);
  core.for_each_worker([&](const WorkerMetrics& m, unsigned, std::uint64_t) {
    for (std::size_t c = 0; c < m.commands(); ++c)
      for (std::size_t o = 1; o < OutcomeTable::kMax; ++o) count[o] += m.requests(c, o);
  });
  const std::size_t published = outcomes.size();  // names below this are written
  std::string text = "# Errorstats\r\n";
  for (std::size_t o = 1; o < OutcomeTable::kMax; ++o) {
    if (count[o] == 0 || (o >= published && o != OutcomeTable::kOther)) continue;
    const std::string_view name = o == OutcomeTable::kOther ? "other" : outcomes.name(o);
    text += "errorstat_" + std::string(name) + ":count=" + std::to_string(count[o]) + "\r\n";
  }
  return text;
}

void info(BuiltinCall& c) {
  const ServerCore& core = c.core;
  // INFO [section ...]: Redis's rules for the two sections from the metrics: errorstats is in
  // the default reply, commandstats only when asked for (or "all"/"everything").
  bool only_stats = c.args.size() > 1, want_commandstats = false, want_errorstats = !only_stats, want_rest = !only_stats;
  for (std::size_t i = 1; i < c.args.size(); ++i) {
    std::string s(c.args[i]);
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (s == "commandstats") {
      want_commandstats = true;
    } else if (s == "errorstats") {
      want_errorstats = true;
    } else {
      want_rest = true;  // any other section name: the default sections, as before
      if (s == "all" || s == "everything") want_commandstats = want_errorstats = true;
      if (s == "default") want_errorstats = true;
    }
  }
  if (!want_rest) {
    std::string text;
    if (want_commandstats) text += commandstats(core);
    if (want_errorstats) text += (text.empty() ? "" : "\r\n") + errorstats(core);
    return c.reply.bulk(text);
  }
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - core.started_at()).count();
  std::string text;
  text += "# Server\r\n";
  text += "redis_version:7.0.0\r\n";
  text += "greenrpc_version:" + std::string(kVersion) + "\r\n";
  text += "redis_mode:standalone\r\n";
  text += "tcp_port:" + std::to_string(core.port()) + "\r\n";
  text += "uptime_in_seconds:" + std::to_string(uptime) + "\r\n";
  text += "io_threads_active:" + std::to_string(core.options().workers) + "\r\n";
  text += "\r\n# Clients\r\n";
  text += "connected_clients:" + std::to_string(core.open_connections.load()) + "\r\n";
  text += "maxclients:" + std::to_string(core.options().max_connections) + "\r\n";
  // Idle connections that hold no fiber nor buffer (ServerOptions::release_idle_fibers).
  text += "greenrpc_dormant_clients:" + std::to_string(core.dormant_connections()) + "\r\n";
  text += "\r\n# Persistence\r\nloading:0\r\n";
  text += "\r\n# Stats\r\n";
  text += "total_connections_received:" + std::to_string(core.total_connections.load()) + "\r\n";
  text += "total_commands_processed:" + std::to_string(core.total_commands()) + "\r\n";
  text += "\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n";
  if (want_commandstats) text += "\r\n" + commandstats(core);
  if (want_errorstats) text += "\r\n" + errorstats(core);
  text += "\r\n# Keyspace\r\n";
  c.reply.bulk(text);
}

// ---- COMMAND: answered from the registry ------------------------------------------------------

void command_info_entry(ReplyEncoder& out, std::string_view name, long long arity, bool builtin) {
  out.array_header(10);
  out.bulk(name);
  out.integer(arity);
  out.array_header(builtin ? 2 : 1);
  out.simple(builtin ? "fast" : "greenrpc");
  if (builtin) out.simple("stale");
  out.integer(0);  // first key
  out.integer(0);  // last key
  out.integer(0);  // step
  out.array_header(0);  // ACL categories
  out.array_header(0);  // tips
  out.array_header(0);  // key specs
  out.array_header(0);  // subcommands
}

void user_command_info(ReplyEncoder& out, const CommandInfo& info) {
  command_info_entry(out, info.name, static_cast<long long>(info.arity) + 1, false);
}

void user_command_docs(ReplyEncoder& out, const CommandInfo& info) {
  out.bulk(info.name);
  out.array_header(8);
  out.bulk("summary");
  out.bulk(info.traits.summary.empty() ? "greenrpc command returning " + info.result_type : info.traits.summary);
  out.bulk("since");
  out.bulk(kVersion);
  out.bulk("group");
  out.bulk("greenrpc");
  out.bulk("arguments");
  out.array_header(info.arity);
  for (std::size_t i = 0; i < info.arity; ++i) {
    out.array_header(6);
    out.bulk("name");
    out.bulk(info.arg_names.empty() ? "arg" + std::to_string(i) : info.arg_names[i]);
    out.bulk("type");
    out.bulk("string");
    out.bulk("display_text");
    out.bulk("msgpack " + (i < info.arg_types.size() ? info.arg_types[i] : std::string("value")));
  }
}

void builtin_docs(ReplyEncoder& out, const BuiltinCommand& b) {
  out.bulk(b.name);
  out.array_header(6);
  out.bulk("summary");
  out.bulk(b.summary);
  out.bulk("since");
  out.bulk(kVersion);
  out.bulk("group");
  out.bulk("connection");
}

const BuiltinCommand* find_builtin(std::string_view name) {
  for (const auto& b : builtin_commands())
    if (iequals(b.name, name)) return &b;
  return nullptr;
}

// The built-ins a user command does not shadow.
std::vector<const BuiltinCommand*> visible_builtins(const CommandRegistry& registry) {
  std::vector<const BuiltinCommand*> out;
  for (const auto& b : builtin_commands())
    if (!registry.find_lower(b.name)) out.push_back(&b);
  return out;
}

void command(BuiltinCall& c) {
  const CommandRegistry& registry = c.core.app().registry;
  const auto user = registry.all();
  const auto builtins = visible_builtins(registry);
  // Every command's name: the visible built-ins, then the user's.
  auto all_names = [&] {
    std::vector<std::string_view> names;
    for (const BuiltinCommand* b : builtins) names.push_back(b->name);
    for (const CommandInfo* info : user) names.push_back(info->name);
    return names;
  };
  if (c.args.size() == 1) {
    c.reply.array_header(user.size() + builtins.size());
    for (const BuiltinCommand* b : builtins) command_info_entry(c.reply, b->name, b->arity, true);
    for (const CommandInfo* info : user) user_command_info(c.reply, *info);
    return;
  }
  std::string_view sub = c.args[1];
  if (iequals(sub, "COUNT")) return c.reply.integer(static_cast<std::int64_t>(user.size() + builtins.size()));
  if (iequals(sub, "INFO") || iequals(sub, "DOCS")) {
    bool docs = iequals(sub, "DOCS");
    // More names than there are commands can only repeat some: refused, so a small request
    // cannot ask for a reply many times the size of the whole table.
    const std::size_t known = user.size() + builtins.size();
    if (c.args.size() - 2 > known)
      return c.reply.redis_error(error_code::generic, "COMMAND " + std::string(docs ? "DOCS" : "INFO") + " takes at most " +
                                                    std::to_string(known) + " names (the number of commands)");
    std::vector<std::string_view> names(c.args.begin() + 2, c.args.end());
    if (names.empty()) names = all_names();
    // DOCS is a map (flattened in RESP2) that skips unknown names; INFO an array with nulls.
    // Counted first: the array header goes out before its elements.
    std::size_t entries = 0;
    for (std::string_view n : names) {
      if (!docs) ++entries;
      else if (registry.find(n) || find_builtin(n)) entries += 2;
    }
    c.reply.array_header(entries);
    for (std::string_view n : names) {
      const RegisteredCommand* u = registry.find(n);
      const BuiltinCommand* b = u ? nullptr : find_builtin(n);
      if (docs) {
        if (u) user_command_docs(c.reply, *u->info);
        else if (b) builtin_docs(c.reply, *b);
      } else {
        if (u) user_command_info(c.reply, *u->info);
        else if (b) command_info_entry(c.reply, b->name, b->arity, true);
        else c.reply.nil();
      }
    }
    return;
  }
  if (iequals(sub, "LIST")) {
    const auto names = all_names();
    c.reply.array_header(names.size());
    for (std::string_view n : names) c.reply.bulk(n);
    return;
  }
  c.reply.redis_error(error_code::generic, "unknown subcommand '" + std::string(sub) + "'. Try COMMAND HELP.");
}

constexpr BuiltinCommand kBuiltins[] = {
    {"ping", ping, true, -1, "Returns PONG, or the message given."},
    {"quit", quit, true, 1, "Closes the connection after replying OK."},
    {"auth", auth, true, -2, "Authenticates the connection with the App's auth function."},
    {"hello", hello, true, -1, "Handshake; only RESP2 is spoken."},
    {"nonce", nonce, true, 1, "This connection's 16-byte nonce, for signed requests."},
    {"echo", echo, false, 2, "Returns the given string."},
    {"client", client, false, -2, "CLIENT SETNAME | GETNAME | SETINFO | ID."},
    {"select", select, false, 2, "Accepts database 0 only."},
    {"info", info, false, -1, "Server information (Redis INFO format)."},
    {"command", command, false, -1, "Describes the commands of this server."},
};

}  // namespace

std::span<const BuiltinCommand> builtin_commands() { return kBuiltins; }

void ensure_nonce(ConnectionInfo& conn) {
  if (!conn.nonce.empty()) return;
  conn.nonce.resize(envelope::kNonceSize);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(conn.nonce.data()), static_cast<int>(conn.nonce.size())) != 1)
    throw std::runtime_error("greenrpc: RAND_bytes failed");
}

}  // namespace greenrpc
