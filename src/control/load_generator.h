// An open-loop HTTP load generator (`deepwatch load`, the demo's traffic and the drills'): it
// sends requests on a schedule (a fixed or ramping rate) whether or not earlier ones have
// answered, as real clients do, so a slow server shows up as latency and errors rather than as
// a politely reduced rate. Keep-alive connections are reused.
//
// Thread contract: run() blocks on its own io_context; snapshot() is thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "stats/log_histogram.h"

namespace dw::control {

struct LoadOptions {
  std::string url;      // http://host:port/path
  double rate = 10;     // Requests per second at the start.
  double ramp_to = -1;  // When >= 0, the rate moves linearly to this by the end.
  Duration duration = std::chrono::seconds(10);
  int max_in_flight = 512;  // Beyond this a due request is skipped (and counted).
  Duration timeout = std::chrono::seconds(30);
  // Bodies to send, in turn (JSON). Empty: GET.
  std::vector<std::string> bodies;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct LoadReport {
  uint64_t sent = 0;
  uint64_t ok = 0;                         // 2xx.
  uint64_t skipped = 0;                    // Due while max_in_flight requests were outstanding.
  std::map<std::string, uint64_t> errors;  // "503", "connect", "timeout"...
  double seconds = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;  // Latency of answered requests, seconds.
  std::string toJson() const;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(LoadOptions options);

  // Runs the schedule to its end and waits for the answers. `on_second` is called with the
  // report so far, once a second.
  StatusOr<LoadReport> run(const std::function<void(const LoadReport&)>& on_second = {});

 private:
  LoadOptions options_;
};

}  // namespace dw::control
