#include "greenrpc/metrics/text_writer.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace greenrpc::metrics {

namespace {

bool is_name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}
bool is_name_char(char c, bool colon_ok) { return is_name_start(c, colon_ok) || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty() || !is_name_start(name.front(), colon_ok)) return false;
  for (char c : name)
    if (!is_name_char(c, colon_ok)) return false;
  return true;
}

void check_metric_name(std::string_view name) {
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
}

void check_labels(std::span<const Label> labels) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!valid_name(labels[i].name, false))
      throw std::invalid_argument("invalid label name '" + std::string(labels[i].name) + "'");
    for (std::size_t j = 0; j < i; ++j)
      if (labels[j].name == labels[i].name)
        throw std::invalid_argument("label '" + std::string(labels[i].name) + "' given twice");
  }
}

bool valid_type(std::string_view type) {
  return type == "counter" || type == "gauge" || type == "histogram" || type == "summary" || type == "untyped";
}

bool has_suffix(std::string_view s, std::string_view prefix, std::string_view suffix) {
  return s.size() == prefix.size() + suffix.size() && s.starts_with(prefix) && s.ends_with(suffix);
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

}  // namespace

void TextWriter::append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result r;
  if (std::fabs(value) < 1e15 && value == std::trunc(value)) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));  // -0.0 becomes "0"
  } else {
    r = std::to_chars(buf, buf + sizeof buf, value);  // shortest text that reads back exactly
  }
  out.append(buf, r.ptr);
}

void TextWriter::append_escaped_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c; break;
    }
  }
}

void TextWriter::append_line(std::string& out, std::string_view name, std::span<const Label> labels,
                             const std::string* le, double value) {
  out += name;
  if (!labels.empty() || le) {
    out += '{';
    bool first = true;
    for (const Label& l : labels) {
      if (!first) out += ',';
      first = false;
      out += l.name;
      out += "=\"";
      append_escaped_label_value(out, l.value);
      out += '"';
    }
    if (le) {
      if (!first) out += ',';
      out += "le=\"";
      out += *le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

TextWriter::Family& TextWriter::add_family(std::string_view name, std::string_view help, std::string_view type) {
  current_ = families_.size();
  families_.push_back(Family{std::string(name), std::string(help), std::string(type), {}});
  index_.emplace(families_.back().name, current_);
  return families_.back();
}

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  check_metric_name(name);
  if (!valid_type(type)) throw std::invalid_argument("invalid metric type '" + std::string(type) + "' for " + std::string(name));
  auto it = index_.find(std::string(name));
  if (it != index_.end()) {
    current_ = it->second;
    Family& f = families_[current_];
    if (f.type.empty()) {  // sampled before it was declared: it gets its header now
      f.help = help;
      f.type = type;
      dirty_ = true;
    }
    return;
  }
  add_family(name, help, type);
}

bool TextWriter::belongs(const Family& f, std::string_view sample_name) {
  if (sample_name == f.name) return true;
  if (f.type != "histogram" && f.type != "summary") return false;
  return has_suffix(sample_name, f.name, "_bucket") || has_suffix(sample_name, f.name, "_sum") ||
         has_suffix(sample_name, f.name, "_count");
}

TextWriter::Family& TextWriter::family_for_sample(std::string_view sample_name) {
  if (current_ < families_.size() && belongs(families_[current_], sample_name)) return families_[current_];
  if (auto it = index_.find(std::string(sample_name)); it != index_.end()) {
    current_ = it->second;
    return families_[current_];
  }
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (sample_name.size() > suffix.size() && sample_name.ends_with(suffix)) {
      auto it = index_.find(std::string(sample_name.substr(0, sample_name.size() - suffix.size())));
      if (it != index_.end() && belongs(families_[it->second], sample_name)) {
        current_ = it->second;
        return families_[current_];
      }
    }
  }
  return add_family(sample_name, {}, {});
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  check_metric_name(name);
  check_labels(labels);
  append_line(family_for_sample(name).body, name, labels, nullptr, value);
  ++samples_;
  dirty_ = true;
}

void TextWriter::histogram(std::string_view name, std::span<const Label> labels, std::span<const double> upper_bounds,
                           std::span<const std::uint64_t> bucket_counts, double sum) {
  check_metric_name(name);
  check_labels(labels);
  const std::string what = "histogram " + std::string(name) + ": ";
  if (bucket_counts.size() != upper_bounds.size() + 1)
    throw std::invalid_argument(what + "bucket_counts needs one count per bound plus one for +Inf");
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) throw std::invalid_argument(what + "bounds must be finite (+Inf is implied)");
    if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1]))
      throw std::invalid_argument(what + "bounds must be strictly increasing");
  }
  for (const Label& l : labels)
    if (l.name == "le") throw std::invalid_argument(what + "a label may not be named \"le\"");

  std::string bucket = std::string(name) + "_bucket";
  std::string& out = family_for_sample(bucket).body;
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i < bucket_counts.size(); ++i) {
    cumulative += bucket_counts[i];
    le.clear();
    if (i < upper_bounds.size())
      append_value(le, upper_bounds[i]);
    else
      le = "+Inf";
    append_line(out, bucket, labels, &le, static_cast<double>(cumulative));
  }
  append_line(out, std::string(name) + "_sum", labels, nullptr, sum);
  append_line(out, std::string(name) + "_count", labels, nullptr, static_cast<double>(cumulative));
  samples_ += bucket_counts.size() + 2;
  dirty_ = true;
}

void TextWriter::merge(const TextWriter& other) {
  for (const Family& theirs : other.families_) {
    if (theirs.body.empty() && theirs.type.empty()) continue;
    auto it = index_.find(theirs.name);
    if (it == index_.end()) {
      Family& mine = add_family(theirs.name, theirs.help, theirs.type);
      mine.body = theirs.body;
    } else {
      Family& mine = families_[it->second];
      if (mine.type.empty() && !theirs.type.empty()) {
        mine.help = theirs.help;
        mine.type = theirs.type;
      }
      mine.body += theirs.body;
    }
  }
  samples_ += other.samples_;
  current_ = static_cast<std::size_t>(-1);
  dirty_ = true;
}

const std::string& TextWriter::text() const {
  if (!dirty_) return text_;
  text_.clear();
  for (const Family& f : families_) {
    if (f.body.empty()) continue;
    if (!f.type.empty()) {
      if (!f.help.empty()) {
        text_ += "# HELP ";
        text_ += f.name;
        text_ += ' ';
        append_help(text_, f.help);
        text_ += '\n';
      }
      text_ += "# TYPE ";
      text_ += f.name;
      text_ += ' ';
      text_ += f.type;
      text_ += '\n';
    }
    text_ += f.body;
  }
  dirty_ = false;
  return text_;
}

}  // namespace greenrpc::metrics
