#pragma once
// The process metrics the official Prometheus client libraries export on Linux, under the same
// names, so existing dashboards and alerts work unchanged:
//   process_cpu_seconds_total      counter  user + system CPU time (/proc/self/stat utime+stime)
//   process_resident_memory_bytes  gauge    resident set size (/proc/self/stat rss x page size)
//   process_virtual_memory_bytes   gauge    virtual memory size (/proc/self/stat vsize)
//   process_open_fds               gauge    open file descriptors (/proc/self/fd)
//   process_max_fds                gauge    the soft RLIMIT_NOFILE
//   process_start_time_seconds     gauge    start time since the Unix epoch (boot time from
//                                           /proc/stat btime + /proc/self/stat starttime)
// A value that cannot be read (no /proc) is left out; nothing throws.
// HttpEndpoint adds them to every /metrics response itself: do not also register this function
// in a Registry that an HttpEndpoint serves, or the series appear twice.
#include "greenrpc/metrics/text_writer.hpp"

namespace greenrpc::metrics {

void write_process_metrics(TextWriter& out);

}  // namespace greenrpc::metrics
