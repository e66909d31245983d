// A/B experiments between versions of one model (R6): the configuration behind
// `POST /admin/v1/experiments`, sticky assignment of clients to arms, and the statistical
// verdict on the objective
//
//   Score = w_a * Accuracy + w_l * (1 / Latency) + w_r * Resource_Efficiency
//
// with the weights {0.6, 0.3, 0.1} of the specification by default. docs/design/experiments.md
// explains the choices; in short, each term is made comparable across arms:
//   - Accuracy: the proportion of correct probe and feedback outcomes (0/1), in [0, 1].
//   - 1 / Latency: control_p50 / arm_p50 of end-to-end latency (time to first token for
//     streams), so 1.0 for the control and 1.25 for an arm whose median is 20% lower.
//   - Resource efficiency: the arm's tokens per replica-second over the control's, so 1.0 for
//     the control. When no arm reports replica-seconds the term is 1.0 for every arm.
//
// Decision rule of judge(), in order:
//   1. Not enough data while any arm has fewer than min_samples.requests requests.
//   2. Stop for harm when a treatment breaks a guardrail with confidence: the lower bound of its
//      error-rate difference (treatment - control) is above max_error_increase, or the lower
//      bound of its P99 ratio (treatment / control) is above max_p99_ratio (the P99 guardrail
//      needs min_samples.requests latencies in both arms). Guardrails need only the request
//      minimum, so that a harmful arm is stopped without waiting for accuracy observations.
//   3. Not enough data while any arm has fewer than min_samples.requests latencies or
//      min_samples.accuracy accuracy observations.
//   4. A winner when a score difference's interval excludes 0: a treatment whose lower bound is
//      above 0 wins (the best point estimate among several such); the control wins when every
//      treatment's upper bound is below 0.
//   5. Otherwise no difference yet: an interval that contains 0 never declares a winner.
// The intervals are percentile bootstraps at `confidence`; with k treatments the comparisons
// use 1 - (1 - confidence) / k (Bonferroni), so the chance of any false winner stays at most
// 1 - confidence. Each replicate resamples every arm jointly: its latencies (for P50 and P99),
// its accuracy outcomes, and its error count (binomial on the request count, since errors are
// counted, not listed). Resource efficiency is a ratio of totals over the whole window and is
// held fixed: its interval is the point.
//
// Thread contract: pure functions; judge() advances the Random& it is given, so call it from the
// thread that owns that Random (the control thread).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/random.h"
#include "base/status.h"

namespace dw::control {

// Where the sticky key of a request comes from.
struct StickyConfig {
  enum class Source { kApiKey, kHeader };
  Source source = Source::kApiKey;
  std::string header;  // The header's name when source is kHeader (lower case).
};

struct ScoreWeights {
  double accuracy = 0.6;
  double latency = 0.3;
  double efficiency = 0.1;
};

struct MinSamples {
  uint64_t requests = 200;  // Requests (and latencies) per arm.
  uint64_t accuracy = 100;  // Probe and feedback outcomes per arm.
};

struct Guardrails {
  double max_error_increase = 0.01;  // Error rate at most one point above the control's.
  double max_p99_ratio = 1.5;        // P99 latency at most 1.5x the control's.
};

struct ExperimentConfig {
  std::string model;
  std::string control;                  // The control arm's version.
  std::vector<std::string> treatments;  // At least one; distinct from each other and the control.
  // Traffic percentages in arm order (control first, then treatments), summing to 100.
  std::vector<double> split;
  StickyConfig sticky;
  ScoreWeights weights;
  MinSamples min_samples;
  double confidence = 0.95;
  int resamples = 2000;
  Guardrails guardrails;

  // The arms' versions: the control, then the treatments.
  std::vector<std::string> arms() const;
};

// What one arm observed during the experiment.
struct ArmSamples {
  std::vector<uint8_t> correct;     // Probe and feedback outcomes, 1 for correct.
  std::vector<double> latencies_s;  // Per answered request: end-to-end, or TTFT for streams.
  double tokens = 0;                // Tokens produced over the window.
  double replica_seconds = 0;       // Replica-seconds the arm held over the same window.
  uint64_t requests = 0;            // All requests, including the failed ones.
  uint64_t errors = 0;
};

// A point estimate with its confidence interval; NaN where undefined (no samples).
struct TermEstimate {
  double value = 0;
  double low = 0;
  double high = 0;
};

struct ArmVerdict {
  std::string version;
  uint64_t requests = 0;
  uint64_t accuracy_observations = 0;
  TermEstimate accuracy;
  TermEstimate latency;     // control_p50 / arm_p50.
  TermEstimate efficiency;  // Tokens per replica-second over the control's.
  TermEstimate score;
  double p50_s = 0;
  double p99_s = 0;
  double error_rate = 0;
};

// One treatment against the control.
struct Comparison {
  std::string treatment;
  TermEstimate score_difference;       // Treatment - control.
  TermEstimate error_rate_difference;  // Treatment - control.
  TermEstimate p99_ratio;              // Treatment / control.
};

struct Verdict {
  enum class Decision { kWinner, kNoDifferenceYet, kNotEnoughData, kStopForHarm };
  Decision decision = Decision::kNotEnoughData;
  std::string winner;                   // A version when decision is kWinner, else empty.
  std::vector<std::string> harmful;     // Treatments that broke a guardrail.
  std::vector<ArmVerdict> arms;         // In config.arms() order.
  std::vector<Comparison> comparisons;  // One per treatment, in order.
  // The deciding comparison's score difference: the winner's, else the best treatment's.
  TermEstimate score_difference;
  double confidence = 0;             // Of the comparisons, after the Bonferroni correction.
  std::vector<std::string> reasons;  // Why, in sentences, for the operator.
};

// "winner", "no_difference_yet", "not_enough_data", "stop_for_harm".
std::string_view decisionName(Verdict::Decision decision);

// Judges the experiment on the samples of each arm, keyed by version (a missing arm has no
// samples). Runs config.resamples joint bootstrap replicates.
Verdict judge(const ExperimentConfig& config, const std::map<std::string, ArmSamples>& samples,
              Random& random);

// The verdict as the admin API returns it; undefined numbers are null.
nlohmann::json toJson(const Verdict& verdict);

// Parses the body of `POST /admin/v1/experiments`: {"model", "control", "treatments" (or
// "treatment"), "split" {version: percent}, "sticky" {"source": "api_key" | "header", "header"},
// "weights" {"accuracy", "latency", "efficiency"}, "min_samples" {"requests", "accuracy"},
// "confidence", "resamples", "guardrails" {"max_error_increase", "max_p99_ratio"}}. Only model,
// control and a treatment are required; an omitted split is even. kInvalidArgument naming the
// field otherwise, including for unknown fields.
StatusOr<ExperimentConfig> experimentFromJson(const nlohmann::json& body);

// The arm (version) of a client, by a stable hash of its key seeded with the model's name: the
// same key gets the same arm in every process and run, and the share of keys per arm follows
// the split. Requires a valid config (as experimentFromJson returns).
std::string assignArm(const ExperimentConfig& config, std::string_view client_key);

}  // namespace dw::control
