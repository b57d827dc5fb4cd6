#pragma once
// The Prometheus text exposition format, version 0.0.4, written into a std::string.
//
//   TextWriter w;
//   w.family("greenrpc_server_requests_total", "Requests served, by command and outcome.", "counter");
//   w.sample("greenrpc_server_requests_total", {{"command", "echo"}, {"outcome", "ok"}}, 42);
//   w.family("greenrpc_server_request_duration_seconds", "Time to serve a request.", "histogram");
//   w.histogram("greenrpc_server_request_duration_seconds", {{"command", "echo"}}, bounds, counts, sum);
//   std::string body = w.text();
//
// * A family's `# HELP` and `# TYPE` lines are written once, however often family() is called
//   with its name; the first help and type win.
// * Samples are grouped by family in the output, whatever the order they were written in: a
//   sample joins the family it belongs to (its own name; for a histogram or summary family also
//   name + `_bucket`/`_sum`/`_count`). So several collectors may add series to one family (two
//   servers in one process, each with its own label values) and the text stays valid. A sample
//   with no declared family is written untyped (no HELP/TYPE). Families appear in the order they
//   were first declared (or first sampled); a family with no sample is left out, as the official
//   client libraries do.
// * Counters: in format 0.0.4 the family is named as its samples, `_total` included (what the
//   official clients write: `# TYPE process_cpu_seconds_total counter`).
// * Values: integral values (up to 1e15) without exponent or decimal point, others the shortest
//   text that reads back as the same double; `+Inf`, `-Inf`, `NaN`.
// * Names are checked: a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, a label name
//   [a-zA-Z_][a-zA-Z0-9_]*, and a sample's label names must be distinct; otherwise
//   std::invalid_argument (the Registry then leaves the whole collector out of that scrape).
//   Label values may hold any bytes: backslash, double quote and newline are escaped. The
//   writer does not detect the same series written twice.
// Not thread-safe: one writer per scrape (each collector gets its own, see Registry).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace greenrpc::metrics {

struct Label {
  std::string_view name;
  std::string_view value;
};

class TextWriter {
 public:
  // Declares a family: `type` is "counter", "gauge", "histogram", "summary" or "untyped"
  // (std::invalid_argument otherwise). Declaring it again does nothing but make it the current
  // family again.
  void family(std::string_view name, std::string_view help, std::string_view type);

  // One sample line: name{labels} value.
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::span<const Label> labels, double value);

  // One histogram series: `name_bucket{labels...,le="b"}` for every bound (cumulative counts),
  // `le="+Inf"`, then `name_sum` and `name_count`. `upper_bounds` strictly increasing and finite
  // (+Inf is added here); `bucket_counts` holds one count per bound (observations in
  // (previous bound, bound], not cumulative) plus one last count for (last bound, +Inf), so
  // bucket_counts.size() == upper_bounds.size() + 1. The count is the sum of bucket_counts.
  // std::invalid_argument when the sizes or bounds are wrong, or a label is named "le".
  void histogram(std::string_view name, std::span<const Label> labels, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> bucket_counts, double sum);
  void histogram(std::string_view name, std::initializer_list<Label> labels, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> bucket_counts, double sum) {
    histogram(name, std::span<const Label>(labels.begin(), labels.size()), upper_bounds, bucket_counts, sum);
  }

  // Adds everything `other` holds: its samples join the families of the same name here (whose
  // HELP/TYPE stay), its other families follow in their order.
  void merge(const TextWriter& other);

  // The exposition text so far (valid until the writer changes).
  const std::string& text() const;
  // No sample written yet.
  bool empty() const noexcept { return samples_ == 0; }

  // How a value is written ("42", "0.25", "1e-06", "+Inf", "NaN"); also used for `le`.
  static void append_value(std::string& out, double value);
  // A label value with backslash, double quote and newline escaped.
  static void append_escaped_label_value(std::string& out, std::string_view value);

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string type;  // empty: untyped, no HELP/TYPE lines
    std::string body;  // the sample lines
  };
  Family& family_for_sample(std::string_view sample_name);
  Family& add_family(std::string_view name, std::string_view help, std::string_view type);
  static bool belongs(const Family& f, std::string_view sample_name);
  // name{labels[,le="..."]} value\n
  static void append_line(std::string& out, std::string_view name, std::span<const Label> labels,
                          const std::string* le, double value);

  std::vector<Family> families_;
  std::unordered_map<std::string, std::size_t> index_;  // family name -> families_
  std::size_t current_ = static_cast<std::size_t>(-1);
  std::size_t samples_ = 0;
  mutable std::string text_;
  mutable bool dirty_ = false;
};

}  // namespace greenrpc::metrics
