#pragma once
// A RESP reply as JSON. A user command answers with one msgpack value in a bulk string; the
// built-ins (PING, INFO, COMMAND...) answer with RESP types of their own.
#include <string>

#include "greenrpc/protocol/reply_parser.hpp"
#include "json_msgpack.hpp"

namespace greenrpc::cli {

struct ReplyJson {
  Json value;
  // A bulk string that was not one msgpack value (a built-in's text, e.g. INFO): shown as a
  // string, and the caller may say so.
  bool had_text = false;
};

// Bulk strings as msgpack (or, when not msgpack, as text: a JSON string when valid UTF-8, else
// bytes in `format`); simple strings as strings, integers as numbers, nil as null, arrays
// element by element. An error inside an array becomes {"$error": "<line>"}.
ReplyJson reply_to_json(const protocol::RespValue& reply, BytesFormat format);

// Every bulk and simple string as text (the built-ins' replies, e.g. COMMAND DOCS).
Json text_reply_to_json(const protocol::RespValue& reply);

struct OutputFormat {
  BytesFormat bytes = BytesFormat::base64;
  bool pretty = false;
};
// reply_to_json, rendered (one line unless format.pretty); `had_text` as in ReplyJson.
std::string render_reply(const protocol::RespValue& reply, const OutputFormat& format, bool* had_text = nullptr);

bool is_valid_utf8(std::string_view text);

}  // namespace greenrpc::cli
