// Fault switches of the reference model: what the demo, the drills and the integration tests use
// to make a replica slow, failing, crashing, hanging, loading slowly or less accurate. Set by
// flags at start and changed at run time through `POST /fault`.
//
// Thread contract: a Faults value is owned by the server's worker thread.
#pragma once

#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/random.h"
#include "base/status.h"
#include "model/recipe.h"

namespace dw::model {

enum class LatencyDistribution { kFixed, kUniform, kNormal, kExponential };

StatusOr<LatencyDistribution> parseLatencyDistribution(std::string_view text);

struct Faults {
  // Added before the first token of each request. kFixed: exactly `latency`; kUniform: in
  // latency +- jitter; kNormal: mean latency, deviation jitter; kExponential: mean latency.
  Duration latency{0};
  Duration jitter{0};
  LatencyDistribution distribution = LatencyDistribution::kFixed;
  // Share of inference requests answered with `error_status` instead.
  double error_rate = 0;
  int error_status = 500;
  // When positive, the process kills itself (SIGKILL) on that many more inference requests.
  int crash_after = 0;
  // Inference requests wait without an answer until the hang is cleared.
  bool hang = false;
  // The engine is gone but the process lives (vLLM's /health answers 500 then): /health and
  // inference requests answer 503, so health checks take the replica out (R5 L2 drills).
  bool unavailable = false;
  Quality quality = Quality::kNormal;
};

// Applies a `POST /fault` body to `current`. Fields: latency ("200ms"), jitter, distribution,
// error_rate, error_status, crash ("now" or {"after": N}), hang, quality, and "clear": true to
// reset everything first. Unknown fields are errors, so a typo is not silently ignored.
// `*crash_now` is set when the body asks for an immediate crash.
StatusOr<Faults> applyFaultJson(const Faults& current, std::string_view body, bool* crash_now);

std::string faultsJson(const Faults& faults);

// The added latency for one request.
Duration sampleLatency(const Faults& faults, Random& random);

}  // namespace dw::model
