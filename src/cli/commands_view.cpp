#include "commands_view.hpp"

#include <algorithm>
#include <stdexcept>

#include "reply_json.hpp"

namespace greenrpc::cli {

namespace {

constexpr std::string_view kDefaultSummary = "greenrpc command returning ";

// [k1, v1, k2, v2, ...] with string keys -> {k1: v1, ...}; anything else as it is.
Json pairs_to_object(const Json& value) {
  if (!value.is_array() || value.size() % 2 != 0) return value;
  for (std::size_t i = 0; i < value.size(); i += 2)
    if (!value[i].is_string()) return value;
  Json object = Json::object();
  for (std::size_t i = 0; i < value.size(); i += 2) object[value[i].get<std::string>()] = value[i + 1];
  return object;
}

std::string text_of(const Json& value) { return value.is_string() ? value.get<std::string>() : render_json(value); }

std::string argument_type(const Json& argument) {
  for (const char* key : {"display_text", "type"}) {
    auto it = argument.find(key);
    if (it == argument.end()) continue;
    std::string text = text_of(*it);
    if (text.starts_with("msgpack ")) text.erase(0, 8);
    return text;
  }
  return "?";
}

const Json* arguments_of(const Json& fields) {
  auto it = fields.find("arguments");
  return it != fields.end() && it->is_array() ? &*it : nullptr;
}

}  // namespace

bool CommandDoc::is_user_command() const {
  auto it = fields.find("group");
  return it != fields.end() && it->is_string() && it->get<std::string>() == "greenrpc";
}

std::string CommandDoc::summary() const {
  auto it = fields.find("summary");
  return it == fields.end() ? std::string() : text_of(*it);
}

std::optional<std::string> CommandDoc::return_type() const {
  for (const char* key : {"returns", "return_type", "result_type", "reply_type", "result"}) {
    auto it = fields.find(key);
    if (it != fields.end()) return text_of(*it);
  }
  const std::string s = summary();
  if (is_user_command() && s.starts_with(kDefaultSummary)) return s.substr(kDefaultSummary.size());
  return std::nullopt;
}

std::string CommandDoc::signature() const {
  std::string out = name;
  if (const Json* arguments = arguments_of(fields)) {
    out += '(';
    for (std::size_t i = 0; i < arguments->size(); ++i) {
      const Json& a = (*arguments)[i];
      auto n = a.find("name");
      out += (i ? ", " : "") + (n != a.end() ? text_of(*n) : "arg" + std::to_string(i)) + ": " + argument_type(a);
    }
    out += ')';
  }
  if (auto r = return_type()) out += " -> " + *r;
  return out;
}

std::vector<CommandDoc> parse_command_docs(const protocol::RespValue& reply) {
  const Json docs = text_reply_to_json(reply);
  if (!docs.is_array() || docs.size() % 2 != 0)
    throw std::runtime_error("the COMMAND DOCS reply is not a flattened map: " + render_json(docs).substr(0, 200));
  std::vector<CommandDoc> out;
  for (std::size_t i = 0; i < docs.size(); i += 2) {
    if (!docs[i].is_string()) throw std::runtime_error("COMMAND DOCS: a command name is not a string");
    CommandDoc doc;
    doc.name = docs[i].get<std::string>();
    doc.fields = pairs_to_object(docs[i + 1]);
    if (!doc.fields.is_object()) throw std::runtime_error("COMMAND DOCS: the fields of " + doc.name + " are not a map");
    if (auto it = doc.fields.find("arguments"); it != doc.fields.end() && it->is_array())
      for (Json& argument : *it) argument = pairs_to_object(argument);
    out.push_back(std::move(doc));
  }
  return out;
}

std::string render_command_list(const std::vector<CommandDoc>& docs) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 0;
  for (const CommandDoc& doc : docs) {
    std::string summary = doc.summary();
    if (summary.starts_with(kDefaultSummary)) summary.clear();  // the signature says it already
    rows.emplace_back(doc.signature(), std::move(summary));
    width = std::max(width, rows.back().first.size());
  }
  std::string out;
  for (const auto& [signature, summary] : rows) {
    out += signature;
    if (!summary.empty()) out += std::string(width - signature.size() + 2, ' ') + summary;
    out += '\n';
  }
  return out;
}

std::string render_command_doc(const CommandDoc& doc) {
  std::string out = doc.signature() + "\n";
  for (const auto& [key, value] : doc.fields.items()) {
    if (key == "arguments" && value.is_array()) {
      out += "  arguments:";
      if (value.empty()) out += " none";
      out += '\n';
      for (std::size_t i = 0; i < value.size(); ++i) {
        const Json& a = value[i];
        auto n = a.find("name");
        out += "    " + (n != a.end() ? text_of(*n) : "arg" + std::to_string(i)) + ": " + argument_type(a);
        // Fields beyond name/type/display_text, as the server sent them.
        for (const auto& [k, v] : a.items())
          if (k != "name" && k != "type" && k != "display_text") out += "  " + k + "=" + text_of(v);
        out += '\n';
      }
      continue;
    }
    out += "  " + key + ": " + text_of(value) + "\n";
  }
  if (auto r = doc.return_type(); r && !doc.fields.contains("returns")) out += "  returns: " + *r + "\n";
  return out;
}

Json command_list_json(const std::vector<CommandDoc>& docs) {
  Json out = Json::object();
  for (const CommandDoc& doc : docs) out[doc.name] = doc.fields;
  return out;
}

Json command_doc_json(const CommandDoc& doc) {
  Json out = Json::object();
  out["name"] = doc.name;
  for (const auto& [key, value] : doc.fields.items()) out[key] = value;
  return out;
}

}  // namespace greenrpc::cli
