#pragma once
// The notes client part, shared by notes_client and `notes_server --self-test`: calls each
// command once or twice. Works on a database that already holds notes. Returns false when a
// result is not the expected one.
#include <algorithm>
#include <cstdio>
#include <string>

#include "api.hpp"

inline bool run_client(const std::string& host, std::uint16_t port) {
  bool ok = true;
  auto expect = [&ok](bool condition, const char* what) {
    std::printf("  %s %s\n", condition ? "ok  " : "FAIL", what);
    ok = ok && condition;
  };
  auto contains = [](const std::vector<Note>& notes, const Note& note) {
    return std::find(notes.begin(), notes.end(), note) != notes.end();
  };

  try {
    greenrpc::Client client{host, port};

    Note groceries = client.call(create_note, "groceries", "milk, eggs, coffee");
    Note ideas = client.call(create_note, "ideas", "RPC over RESP, with msgpack inside");
    std::printf("  created #%lld %s, #%lld %s\n", static_cast<long long>(groceries.id), groceries.title.c_str(),
                static_cast<long long>(ideas.id), ideas.title.c_str());
    expect(groceries.id > 0 && ideas.id > groceries.id && groceries.body == "milk, eggs, coffee",
           "create_note() returns the stored note with a new id");

    std::optional<Note> fetched = client.call(get_note, groceries.id);
    expect(fetched == groceries, "get_note(groceries.id) == groceries");

    std::vector<Note> all = client.call(list_notes);
    std::printf("  list_notes(): %zu notes\n", all.size());
    expect(contains(all, groceries) && contains(all, ideas), "list_notes() holds both notes");

    expect(client.call(delete_note, groceries.id), "delete_note(groceries.id) == true");
    expect(!client.call(get_note, groceries.id).has_value(), "get_note(groceries.id) == nullopt after delete");
    expect(!client.call(delete_note, groceries.id), "delete_note(groceries.id) == false the second time");
    expect(!contains(client.call(list_notes), groceries), "list_notes() no longer holds it");

    try {
      client.call(create_note, "", "no title");
      expect(false, "create_note(\"\", ...) is refused");
    } catch (const greenrpc::RemoteError& e) {
      std::printf("  create_note refused: %s\n", e.what());
      expect(e.code() == "INVALID_NOTE", "create_note(\"\", ...) is refused with INVALID_NOTE");
    }
    client.call(delete_note, ideas.id);  // leave the database as we found it
  } catch (const greenrpc::Error& e) {
    std::printf("  FAIL unexpected error: %s\n", e.what());
    return false;
  }
  return ok;
}
