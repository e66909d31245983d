// An open-loop HTTP load generator (`deepwatch load`, the demo's traffic and the drills'): it
// sends requests on a schedule (a fixed or ramping rate) whether or not earlier ones have
// answered, as real clients do, so a slow server shows up as latency and errors rather than as
// a politely reduced rate. Keep-alive connections are reused.
//
// Thread contract: run() blocks on its own io_context; stop() and setBodies() are thread-safe;
// on_result and on_second are called on run()'s thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "stats/log_histogram.h"

namespace dw::control {

// One answered (or failed) request, for callers that keep their own timeline (the drill).
struct RequestResult {
  double started = 0;  // Seconds since the start of the run.
  double seconds = 0;  // Until the answer or the failure.
  int status = 0;      // HTTP status; 0 when there was no answer.
  std::string error;   // "503", "connect", "timeout", "reset"; empty for a 2xx.
};

struct LoadOptions {
  std::string url;      // http://host:port/path
  double rate = 10;     // Requests per second at the start.
  double ramp_to = -1;  // When >= 0, the rate moves linearly to this by the end (or by `ramp`).
  // When positive (and ramp_to >= 0), the ramp lasts this long and the rate then holds at
  // ramp_to until the end: a staged load (R10 drills: ramp, then hold).
  Duration ramp{0};
  Duration duration = std::chrono::seconds(10);
  int max_in_flight = 512;  // Beyond this a due request is skipped (and counted).
  Duration timeout = std::chrono::seconds(30);
  // Bodies to send, in turn (JSON). Empty: GET.
  std::vector<std::string> bodies;
  std::vector<std::pair<std::string, std::string>> headers;
  // Called for every request once it is answered or failed.
  std::function<void(const RequestResult&)> on_result;
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

  // Ends the schedule early (from any thread): no new request is sent; run() returns once the
  // outstanding ones are answered.
  void stop() { stopping_.store(true); }

  // Replaces the bodies sent from now on (from any thread): a drill changes the distribution of
  // the input without changing the rate. Ignored when empty.
  void setBodies(std::vector<std::string> bodies);

 private:
  LoadOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> bodies_changed_{false};
  std::mutex bodies_mutex_;
  std::shared_ptr<const std::vector<std::string>> next_bodies_;  // Guarded by bodies_mutex_.
};

}  // namespace dw::control
