// TextWriter: the exact bytes of the Prometheus text format 0.0.4 — HELP/TYPE once, escaping,
// value formatting, cumulative histogram buckets with +Inf, grouping by family — and names it
// refuses. The process metrics' names and plausibility.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "greenrpc/metrics/process_metrics.hpp"
#include "greenrpc/metrics/text_writer.hpp"

using greenrpc::metrics::Label;
using greenrpc::metrics::TextWriter;

namespace {

std::string value_text(double v) {
  std::string s;
  TextWriter::append_value(s, v);
  return s;
}

// The value of the unlabelled sample `name` in `text`, NaN when absent.
double sample_value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return std::nan("");
}

}  // namespace

TEST(TextWriter, CounterWithHelpAndTypeOnce) {
  TextWriter w;
  w.family("greenrpc_server_requests_total", "Requests served.", "counter");
  w.sample("greenrpc_server_requests_total", {{"command", "echo"}, {"outcome", "ok"}}, 3);
  w.family("greenrpc_server_requests_total", "ignored second help", "gauge");
  w.sample("greenrpc_server_requests_total", {{"command", "echo"}, {"outcome", "TIMEOUT"}}, 1);
  EXPECT_EQ(w.text(),
            "# HELP greenrpc_server_requests_total Requests served.\n"
            "# TYPE greenrpc_server_requests_total counter\n"
            "greenrpc_server_requests_total{command=\"echo\",outcome=\"ok\"} 3\n"
            "greenrpc_server_requests_total{command=\"echo\",outcome=\"TIMEOUT\"} 1\n");
}

TEST(TextWriter, LabelValuesAndHelpAreEscaped) {
  TextWriter w;
  w.family("m", "line one\nback\\slash \"quotes\" stay", "gauge");
  w.sample("m", {{"v", "a\\b\"c\nd"}}, 1);
  EXPECT_EQ(w.text(),
            "# HELP m line one\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE m gauge\n"
            "m{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(TextWriter, ValuesAsPrometheusReadsThem) {
  EXPECT_EQ(value_text(0), "0");
  EXPECT_EQ(value_text(-0.0), "0");
  EXPECT_EQ(value_text(42), "42");
  EXPECT_EQ(value_text(-7), "-7");
  EXPECT_EQ(value_text(1e14), "100000000000000");  // integral: no exponent
  EXPECT_EQ(value_text(123456789012.0), "123456789012");
  EXPECT_EQ(value_text(0.25), "0.25");
  EXPECT_EQ(value_text(0.1), "0.1");  // shortest text that reads back
  EXPECT_EQ(std::stod(value_text(1e-6)), 1e-6);
  EXPECT_EQ(std::stod(value_text(1.0 / 3)), 1.0 / 3);
  EXPECT_EQ(value_text(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(value_text(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(value_text(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(value_text(1e300)), 1e300);
}

TEST(TextWriter, HistogramBucketsAreCumulativeWithInf) {
  TextWriter w;
  w.family("lat_seconds", "Latency.", "histogram");
  const std::array<double, 3> bounds{0.001, 0.01, 2.5};
  const std::array<std::uint64_t, 4> counts{2, 0, 5, 1};  // per bucket, the last is (2.5, +Inf)
  w.histogram("lat_seconds", {{"command", "get"}}, bounds, counts, 7.25);
  w.histogram("lat_seconds", {}, std::span<const double>(), std::array<std::uint64_t, 1>{4}, 0.5);
  EXPECT_EQ(w.text(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{command=\"get\",le=\"0.001\"} 2\n"
            "lat_seconds_bucket{command=\"get\",le=\"0.01\"} 2\n"
            "lat_seconds_bucket{command=\"get\",le=\"2.5\"} 7\n"
            "lat_seconds_bucket{command=\"get\",le=\"+Inf\"} 8\n"
            "lat_seconds_sum{command=\"get\"} 7.25\n"
            "lat_seconds_count{command=\"get\"} 8\n"
            "lat_seconds_bucket{le=\"+Inf\"} 4\n"
            "lat_seconds_sum 0.5\n"
            "lat_seconds_count 4\n");
}

TEST(TextWriter, HistogramArgumentsAreChecked) {
  TextWriter w;
  const std::array<double, 2> bounds{1, 2};
  const std::array<std::uint64_t, 2> too_few{1, 1};
  const std::array<std::uint64_t, 3> counts{1, 1, 1};
  EXPECT_THROW(w.histogram("h", {}, bounds, too_few, 0), std::invalid_argument);
  const std::array<double, 2> decreasing{2, 1};
  EXPECT_THROW(w.histogram("h", {}, decreasing, counts, 0), std::invalid_argument);
  const std::array<double, 2> with_inf{1, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(w.histogram("h", {}, with_inf, counts, 0), std::invalid_argument);
  EXPECT_THROW(w.histogram("h", {{"le", "1"}}, bounds, counts, 0), std::invalid_argument);
  EXPECT_TRUE(w.empty());
}

TEST(TextWriter, SamplesJoinTheirFamilyWhateverTheOrder) {
  // Two collectors' worth of series written interleaved: the text keeps each family together.
  TextWriter w;
  w.family("a_total", "A.", "counter");
  w.sample("a_total", {{"server", "1"}}, 1);
  w.family("b", "B.", "gauge");
  w.sample("b", {{"server", "1"}}, 10);
  w.family("a_total", "A.", "counter");
  w.sample("a_total", {{"server", "2"}}, 2);
  w.sample("b", {{"server", "2"}}, 20);  // no family() call: found by name
  w.family("h", "H.", "histogram");
  w.sample("a_total", {{"server", "3"}}, 3);
  w.sample("h_count", {}, 0);  // a histogram's suffixes find it
  EXPECT_EQ(w.text(),
            "# HELP a_total A.\n# TYPE a_total counter\n"
            "a_total{server=\"1\"} 1\na_total{server=\"2\"} 2\na_total{server=\"3\"} 3\n"
            "# HELP b B.\n# TYPE b gauge\n"
            "b{server=\"1\"} 10\nb{server=\"2\"} 20\n"
            "# HELP h H.\n# TYPE h histogram\n"
            "h_count 0\n");
}

TEST(TextWriter, UndeclaredAndEmptyFamilies) {
  TextWriter w;
  w.family("declared_but_empty", "Never sampled.", "gauge");
  w.sample("untyped_thing", {}, 5);
  w.family("no_help", "", "gauge");
  w.sample("no_help", {}, 1);
  EXPECT_EQ(w.text(), "untyped_thing 5\n# TYPE no_help gauge\nno_help 1\n");
}

TEST(TextWriter, MergeKeepsFamiliesTogether) {
  TextWriter a, b;
  a.family("x_total", "X.", "counter");
  a.sample("x_total", {{"s", "a"}}, 1);
  b.family("y", "Y.", "gauge");
  b.sample("y", {}, 2);
  b.family("x_total", "other help", "counter");
  b.sample("x_total", {{"s", "b"}}, 3);
  a.merge(b);
  EXPECT_EQ(a.text(),
            "# HELP x_total X.\n# TYPE x_total counter\nx_total{s=\"a\"} 1\nx_total{s=\"b\"} 3\n"
            "# HELP y Y.\n# TYPE y gauge\ny 2\n");
}

TEST(TextWriter, InvalidNamesAreRefused) {
  TextWriter w;
  EXPECT_THROW(w.family("1abc", "", "gauge"), std::invalid_argument);
  EXPECT_THROW(w.family("a-b", "", "gauge"), std::invalid_argument);
  EXPECT_THROW(w.family("ok", "", "gaugeish"), std::invalid_argument);
  EXPECT_THROW(w.sample("", {}, 1), std::invalid_argument);
  EXPECT_THROW(w.sample("m", {{"a:b", "x"}}, 1), std::invalid_argument);  // colons: metric names only
  EXPECT_THROW(w.sample("m", {{"", "x"}}, 1), std::invalid_argument);
  EXPECT_THROW(w.sample("m", {{"a", "x"}, {"a", "y"}}, 1), std::invalid_argument);
  EXPECT_TRUE(w.empty());
  w.sample("ns:sub_metric", {{"_ok", "\xff any bytes"}}, 1);
  EXPECT_FALSE(w.empty());
}

TEST(TextWriter, SpanOverloadTakesRuntimeLabels) {
  std::vector<Label> labels{{"a", "1"}, {"b", "2"}};
  TextWriter w;
  w.sample("m", std::span<const Label>(labels), 1.5);
  EXPECT_EQ(w.text(), "m{a=\"1\",b=\"2\"} 1.5\n");
}

TEST(ProcessMetrics, OfficialNamesWithPlausibleValues) {
  TextWriter w;
  greenrpc::metrics::write_process_metrics(w);
  const std::string& t = w.text();
  for (const char* family : {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
                             "process_virtual_memory_bytes gauge", "process_open_fds gauge", "process_max_fds gauge",
                             "process_start_time_seconds gauge"}) {
    EXPECT_NE(t.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family << "\n" << t;
  }
  const double rss = sample_value(t, "process_resident_memory_bytes");
  const double vsz = sample_value(t, "process_virtual_memory_bytes");
  EXPECT_GT(rss, 1 << 20);
  EXPECT_GE(vsz, rss);
  const double start = sample_value(t, "process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600);  // this test process started within the hour
  EXPECT_GE(sample_value(t, "process_cpu_seconds_total"), 0);
  // Open descriptors: one more after opening a file (the reader's own is not counted).
  const double fds = sample_value(t, "process_open_fds");
  EXPECT_GE(fds, 3);
  std::ifstream extra("/proc/self/stat");
  TextWriter again;
  greenrpc::metrics::write_process_metrics(again);
  EXPECT_EQ(sample_value(again.text(), "process_open_fds"), fds + 1);
  EXPECT_GE(sample_value(t, "process_max_fds"), fds);
}
