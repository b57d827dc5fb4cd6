// The notes server: Tino's database example. Every query goes through greenrpc::run_blocking, so
// the blocking SQLite call runs on a pool thread and only the calling fiber waits for it; the
// worker thread keeps serving the other connections meanwhile.
//   notes_server [--host H] [--port N] [--db PATH]   serves until Ctrl-C (default 127.0.0.1:7777;
//                                                    default database: a temp file, removed at exit)
//   notes_server --self-test [--db PATH]             runs the client part against itself, exits 0/1
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "api.hpp"
#include "client.hpp"
#include "notes_db.hpp"

greenrpc::App make_app(NotesDb& db) {
  greenrpc::App app;

  // Validate on the fiber (cheap), query on the pool (blocking). The lambdas given to
  // run_blocking capture `db` by reference: it outlives the server. They take their own copies of
  // the arguments. (With a deadline, run_blocking may return while the job still runs, so the job
  // must then own everything it touches.)
  app.command(create_note, [&db](std::string title, std::string body) {
    if (title.empty()) throw greenrpc::CommandError("INVALID_NOTE", "title must not be empty");
    return greenrpc::run_blocking([&db, title = std::move(title), body = std::move(body)] {
      return db.create(title, body);
    });
  });
  app.command(get_note, [&db](std::int64_t id) { return greenrpc::run_blocking([&db, id] { return db.get(id); }); });
  app.command(list_notes, [&db] { return greenrpc::run_blocking([&db] { return db.list(); }); });
  app.command(delete_note, [&db](std::int64_t id) {
    return greenrpc::run_blocking([&db, id] { return db.remove(id); });
  });
  // A std::runtime_error from SQLite is rethrown by run_blocking in the handler and reaches the
  // client as UNEXPECTED_ERROR <message>; the connection stays open.
  return app;
}

int main(int argc, char** argv) {
  greenrpc::ServerOptions options;  // 127.0.0.1:7777 by default
  std::string db_path;
  bool self_test = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--self-test") self_test = true;
    else if (arg == "--port" && i + 1 < argc) options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (arg == "--host" && i + 1 < argc) options.host = argv[++i];
    else if (arg == "--db" && i + 1 < argc) db_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--host H] [--port N] [--db PATH] [--self-test]\n", argv[0]);
      return 2;
    }
  }
  bool temporary = db_path.empty();
  if (temporary)
    db_path = (std::filesystem::temp_directory_path() / ("greenrpc-notes-" + std::to_string(::getpid()) + ".db")).string();

  int status = 0;
  try {
    NotesDb db(db_path);  // declared before the server: destroyed after it stops
    greenrpc::App app = make_app(db);
    if (self_test) {
      options.port = 0;  // any free port
      greenrpc::Server server = app.start_background(options);
      bool ok = run_client(options.host, server.port());
      server.stop();
      std::printf("notes self-test %s\n", ok ? "passed" : "FAILED");
      status = ok ? 0 : 1;
    } else {
      std::printf("notes server on %s:%u, database %s\n", options.host.c_str(), options.port, db_path.c_str());
      std::fflush(stdout);
      app.run(options);  // until Ctrl-C / SIGTERM
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "notes server: %s\n", e.what());
    status = 1;
  }
  if (temporary) std::filesystem::remove(db_path);
  return status;
}
