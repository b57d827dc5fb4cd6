#pragma once
// Shared by the notes server and client: the Note model and the four commands.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <greenrpc/greenrpc.hpp>
#include <msgpack.hpp>

struct Note {
  std::int64_t id = 0;
  std::string title;
  std::string body;
  MSGPACK_DEFINE_MAP(id, title, body);
  friend bool operator==(const Note&, const Note&) = default;
};

inline const greenrpc::Command<Note(std::string, std::string)> create_note{"create_note", {"title", "body"}};
// nullopt (msgpack nil) when there is no such note.
inline const greenrpc::Command<std::optional<Note>(std::int64_t)> get_note{"get_note", {"id"}};
// Every note, oldest first.
inline const greenrpc::Command<std::vector<Note>()> list_notes{"list_notes"};
// true when a note was deleted, false when there was no such note.
inline const greenrpc::Command<bool(std::int64_t)> delete_note{"delete_note", {"id"}};
