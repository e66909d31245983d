#include "control/experiment.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "base/hash.h"
#include "stats/bootstrap.h"

namespace dw::control {
namespace {

using json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The per-arm quantities one replicate (or the point estimate) measures.
struct ArmDraw {
  double accuracy = kNaN;
  double p50 = kNaN;
  double p99 = kNaN;
  double error_rate = kNaN;
};

// The point estimate of an arm. `buffer` is scratch space for the latency quantiles.
ArmDraw measure(const ArmSamples& samples, std::vector<double>& buffer) {
  ArmDraw draw;
  if (!samples.correct.empty()) {
    const double correct = std::accumulate(samples.correct.begin(), samples.correct.end(), 0.0);
    draw.accuracy = correct / static_cast<double>(samples.correct.size());
  }
  if (!samples.latencies_s.empty()) {
    buffer.assign(samples.latencies_s.begin(), samples.latencies_s.end());
    draw.p50 = stats::quantileInPlace(buffer, 0.5);
    draw.p99 = stats::quantileInPlace(buffer, 0.99);
  }
  if (samples.requests > 0) {
    draw.error_rate = static_cast<double>(samples.errors) / static_cast<double>(samples.requests);
  }
  return draw;
}

// One bootstrap replicate of an arm: its accuracy outcomes and latencies resampled with
// replacement, and its error count drawn binomially (errors are counted, not listed, and the
// binomial is what resampling the requests' 0/1 error flags would give).
ArmDraw resample(const ArmSamples& samples, std::vector<double>& buffer, Random& random) {
  ArmDraw draw;
  if (const uint64_t n = samples.correct.size(); n > 0) {
    uint64_t correct = 0;
    for (uint64_t i = 0; i < n; ++i) {
      correct += samples.correct[random.below(n)] != 0 ? 1 : 0;
    }
    draw.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  }
  if (!samples.latencies_s.empty()) {
    buffer.resize(samples.latencies_s.size());
    stats::resampleInto(samples.latencies_s, buffer, random);
    draw.p50 = stats::quantileInPlace(buffer, 0.5);
    draw.p99 = stats::quantileInPlace(buffer, 0.99);
  }
  if (samples.requests > 0) {
    uint64_t errors = samples.errors;
    // The degenerate rates are fixed points; the distribution needs 0 < p < 1.
    if (errors > 0 && errors < samples.requests) {
      std::binomial_distribution<uint64_t> binomial(
          samples.requests,
          static_cast<double>(samples.errors) / static_cast<double>(samples.requests));
      errors = binomial(random);
    }
    draw.error_rate = static_cast<double>(errors) / static_cast<double>(samples.requests);
  }
  return draw;
}

double weightedScore(const ScoreWeights& w, double accuracy, double latency, double efficiency) {
  return w.accuracy * accuracy + w.latency * latency + w.efficiency * efficiency;
}

TermEstimate toTerm(const stats::Interval& interval) {
  return {interval.estimate, interval.low, interval.high};
}

TermEstimate fixedTerm(double value) { return {value, value, value}; }

std::string formatTerm(const TermEstimate& t) {
  return fmt::format("{:.4f} [{:.4f}, {:.4f}]", t.value, t.low, t.high);
}

json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json termJson(const TermEstimate& t) {
  return {{"value", number(t.value)}, {"low", number(t.low)}, {"high", number(t.high)}};
}

// The index of the comparison with the highest score-difference estimate (NaN last).
size_t bestComparison(const std::vector<Comparison>& comparisons) {
  size_t best = 0;
  for (size_t i = 1; i < comparisons.size(); ++i) {
    const double value = comparisons[i].score_difference.value;
    const double best_value = comparisons[best].score_difference.value;
    if (std::isnan(best_value) || value > best_value) {
      best = i;
    }
  }
  return best;
}

// --- Parsing -------------------------------------------------------------------------------

Status fieldError(std::string_view field, std::string_view problem) {
  return invalidArgument(fmt::format("invalid experiment: '{}' {}", field, problem));
}

Status rejectUnknown(const json& object, std::string_view prefix,
                     const std::set<std::string, std::less<>>& known) {
  for (const auto& item : object.items()) {
    if (known.find(item.key()) == known.end()) {
      return invalidArgument(
          fmt::format("invalid experiment: unknown field '{}{}'", prefix, item.key()));
    }
  }
  return okStatus();
}

StatusOr<std::string> requiredString(const json& body, const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end()) {
    return fieldError(field, "is required");
  }
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return fieldError(field, "must be a non-empty string");
  }
  return it->get<std::string>();
}

// Reads an optional number of `object` into `out`, which keeps its default when absent, and
// checks low <= value <= high.
Status optionalNumber(const json& object, const std::string& key, std::string_view field,
                      double low, double high, double& out) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return okStatus();
  }
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return fieldError(field, "must be a number");
  }
  const double value = it->get<double>();
  if (value < low || value > high) {
    return fieldError(field, fmt::format("must be between {} and {}, got {}", low, high, value));
  }
  out = value;
  return okStatus();
}

// The same for a whole number.
Status optionalCount(const json& object, const std::string& key, std::string_view field,
                     uint64_t low, uint64_t high, uint64_t& out) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return okStatus();
  }
  if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return fieldError(field, "must be a non-negative integer");
  }
  const uint64_t value = it->get<uint64_t>();
  if (value < low || value > high) {
    return fieldError(field, fmt::format("must be between {} and {}, got {}", low, high, value));
  }
  out = value;
  return okStatus();
}

// An optional member that must be an object when present; null when absent.
StatusOr<const json*> optionalObject(const json& body, const std::string& field) {
  const auto it = body.find(field);
  if (it == body.end()) {
    return static_cast<const json*>(nullptr);
  }
  if (!it->is_object()) {
    return fieldError(field, "must be an object");
  }
  return &*it;
}

Status parseArms(const json& body, ExperimentConfig& config) {
  DW_ASSIGN_OR_RETURN(config.control, requiredString(body, "control"));
  const bool has_list = body.contains("treatments");
  const bool has_one = body.contains("treatment");
  if (has_list && has_one) {
    return fieldError("treatment", "cannot be given together with 'treatments'");
  }
  if (has_one) {
    DW_ASSIGN_OR_RETURN(std::string treatment, requiredString(body, "treatment"));
    config.treatments.push_back(std::move(treatment));
  } else if (has_list) {
    const json& list = body["treatments"];
    if (!list.is_array() || list.empty()) {
      return fieldError("treatments", "must be a non-empty array of versions");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string() || list[i].get_ref<const std::string&>().empty()) {
        return fieldError(fmt::format("treatments[{}]", i), "must be a non-empty string");
      }
      config.treatments.push_back(list[i].get<std::string>());
    }
  } else {
    return fieldError("treatments", "is required (at least one version besides the control)");
  }
  std::set<std::string, std::less<>> seen = {config.control};
  for (size_t i = 0; i < config.treatments.size(); ++i) {
    if (!seen.insert(config.treatments[i]).second) {
      return fieldError(has_one ? std::string("treatment") : fmt::format("treatments[{}]", i),
                        fmt::format("repeats version '{}'; each arm needs its own version",
                                    config.treatments[i]));
    }
  }
  return okStatus();
}

Status parseSplit(const json& body, ExperimentConfig& config) {
  const std::vector<std::string> arms = config.arms();
  DW_ASSIGN_OR_RETURN(const json* split, optionalObject(body, "split"));
  if (split == nullptr) {
    config.split.assign(arms.size(), 100.0 / static_cast<double>(arms.size()));
    return okStatus();
  }
  for (const auto& item : split->items()) {
    if (std::find(arms.begin(), arms.end(), item.key()) == arms.end()) {
      return fieldError("split." + item.key(), "names a version that is not an arm");
    }
  }
  config.split.clear();
  double total = 0;
  for (const std::string& arm : arms) {
    const std::string field = "split." + arm;
    if (!split->contains(arm)) {
      return fieldError(field, "is required: the split gives every arm a percentage");
    }
    double percent = 0;
    DW_RETURN_IF_ERROR(optionalNumber(*split, arm, field, 0, 100, percent));
    config.split.push_back(percent);
    total += percent;
  }
  if (std::abs(total - 100) > 1e-6) {
    return fieldError("split", fmt::format("must sum to 100, got {}", total));
  }
  return okStatus();
}

Status parseSticky(const json& body, ExperimentConfig& config) {
  DW_ASSIGN_OR_RETURN(const json* sticky, optionalObject(body, "sticky"));
  if (sticky == nullptr) {
    return okStatus();
  }
  DW_RETURN_IF_ERROR(rejectUnknown(*sticky, "sticky.", {"source", "header"}));
  const auto source_it = sticky->find("source");
  if (source_it != sticky->end() && !source_it->is_string()) {
    return fieldError("sticky.source", R"(must be "api_key" or "header")");
  }
  const std::string source =
      source_it == sticky->end() ? std::string("api_key") : source_it->get<std::string>();
  if (source == "api_key") {
    if (sticky->contains("header")) {
      return fieldError("sticky.header", R"(is only allowed with "source": "header")");
    }
    config.sticky = {StickyConfig::Source::kApiKey, ""};
    return okStatus();
  }
  if (source != "header") {
    return fieldError("sticky.source",
                      fmt::format(R"(must be "api_key" or "header", got "{}")", source));
  }
  const auto header_it = sticky->find("header");
  if (header_it == sticky->end() || !header_it->is_string() ||
      header_it->get_ref<const std::string&>().empty()) {
    return fieldError("sticky.header", "must name the header that carries the client key");
  }
  std::string header = header_it->get<std::string>();
  std::transform(header.begin(), header.end(), header.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  config.sticky = {StickyConfig::Source::kHeader, std::move(header)};
  return okStatus();
}

Status parseTuning(const json& body, ExperimentConfig& config) {
  DW_ASSIGN_OR_RETURN(const json* weights, optionalObject(body, "weights"));
  if (weights != nullptr) {
    DW_RETURN_IF_ERROR(rejectUnknown(*weights, "weights.", {"accuracy", "latency", "efficiency"}));
    ScoreWeights& w = config.weights;
    DW_RETURN_IF_ERROR(
        optionalNumber(*weights, "accuracy", "weights.accuracy", 0, 1e6, w.accuracy));
    DW_RETURN_IF_ERROR(optionalNumber(*weights, "latency", "weights.latency", 0, 1e6, w.latency));
    DW_RETURN_IF_ERROR(
        optionalNumber(*weights, "efficiency", "weights.efficiency", 0, 1e6, w.efficiency));
    if (w.accuracy + w.latency + w.efficiency <= 0) {
      return fieldError("weights", "must not all be zero");
    }
  }
  DW_ASSIGN_OR_RETURN(const json* min_samples, optionalObject(body, "min_samples"));
  if (min_samples != nullptr) {
    DW_RETURN_IF_ERROR(rejectUnknown(*min_samples, "min_samples.", {"requests", "accuracy"}));
    DW_RETURN_IF_ERROR(optionalCount(*min_samples, "requests", "min_samples.requests", 1,
                                     1'000'000'000, config.min_samples.requests));
    DW_RETURN_IF_ERROR(optionalCount(*min_samples, "accuracy", "min_samples.accuracy", 1,
                                     1'000'000'000, config.min_samples.accuracy));
  }
  DW_RETURN_IF_ERROR(
      optionalNumber(body, "confidence", "confidence", 0.5, 0.9999, config.confidence));
  auto resamples = static_cast<uint64_t>(config.resamples);
  DW_RETURN_IF_ERROR(optionalCount(body, "resamples", "resamples", 100, 100'000, resamples));
  config.resamples = static_cast<int>(resamples);
  DW_ASSIGN_OR_RETURN(const json* guardrails, optionalObject(body, "guardrails"));
  if (guardrails != nullptr) {
    DW_RETURN_IF_ERROR(
        rejectUnknown(*guardrails, "guardrails.", {"max_error_increase", "max_p99_ratio"}));
    DW_RETURN_IF_ERROR(optionalNumber(*guardrails, "max_error_increase",
                                      "guardrails.max_error_increase", 0, 1,
                                      config.guardrails.max_error_increase));
    DW_RETURN_IF_ERROR(optionalNumber(*guardrails, "max_p99_ratio", "guardrails.max_p99_ratio", 1,
                                      1000, config.guardrails.max_p99_ratio));
  }
  return okStatus();
}

}  // namespace

std::vector<std::string> ExperimentConfig::arms() const {
  std::vector<std::string> arms = {control};
  arms.insert(arms.end(), treatments.begin(), treatments.end());
  return arms;
}

std::string_view decisionName(Verdict::Decision decision) {
  switch (decision) {
    case Verdict::Decision::kWinner:
      return "winner";
    case Verdict::Decision::kNoDifferenceYet:
      return "no_difference_yet";
    case Verdict::Decision::kNotEnoughData:
      return "not_enough_data";
    case Verdict::Decision::kStopForHarm:
      return "stop_for_harm";
  }
  return "unknown";
}

Verdict judge(const ExperimentConfig& config, const std::map<std::string, ArmSamples>& samples,
              Random& random) {
  static const ArmSamples no_samples;
  const std::vector<std::string> names = config.arms();
  const size_t arms = names.size();
  const size_t treatments = arms - 1;
  std::vector<const ArmSamples*> data;
  for (const std::string& name : names) {
    const auto it = samples.find(name);
    data.push_back(it == samples.end() ? &no_samples : &it->second);
  }

  Verdict verdict;
  verdict.confidence =
      1 - (1 - config.confidence) / static_cast<double>(std::max<size_t>(treatments, 1));

  // Resource efficiency, fixed: tokens per replica-second over the control's. Comparable only
  // when every arm reports replica-seconds and the control produced tokens.
  std::vector<double> efficiency(arms, 1.0);
  const bool efficiency_known =
      std::all_of(data.begin(), data.end(),
                  [](const ArmSamples* s) { return s->replica_seconds > 0 && s->tokens >= 0; }) &&
      data[0]->tokens > 0;
  if (efficiency_known) {
    const double control = data[0]->tokens / data[0]->replica_seconds;
    for (size_t i = 0; i < arms; ++i) {
      efficiency[i] = (data[i]->tokens / data[i]->replica_seconds) / control;
    }
  } else {
    verdict.reasons.emplace_back(
        "resource efficiency is not comparable (an arm reports no replica-seconds, or the "
        "control no tokens); its term is held at 1.0 for every arm");
  }

  // Point estimates.
  std::vector<std::vector<double>> buffers(arms);
  std::vector<ArmDraw> point(arms);
  for (size_t i = 0; i < arms; ++i) {
    point[i] = measure(*data[i], buffers[i]);
  }
  auto latency_term = [](const ArmDraw& control, const ArmDraw& arm) {
    return control.p50 / arm.p50;
  };

  // Joint bootstrap: every replicate resamples every arm once, so the control's draw is shared
  // by the arm terms and by each treatment's differences, as the estimate shares it.
  const size_t resamples = static_cast<size_t>(std::max(config.resamples, 1));
  enum Series { kAccuracy, kLatency, kScore, kArmSeries };
  enum ComparisonSeries { kDifference, kErrorDifference, kP99Ratio, kComparisonSeries };
  std::vector<double> storage((arms * kArmSeries + treatments * kComparisonSeries) * resamples);
  auto arm_series = [&](size_t arm, int series) {
    return std::span<double>(storage).subspan((arm * kArmSeries + series) * resamples, resamples);
  };
  auto comparison_series = [&](size_t treatment, int series) {
    return std::span<double>(storage).subspan(
        (arms * kArmSeries + treatment * kComparisonSeries + series) * resamples, resamples);
  };
  std::vector<ArmDraw> draws(arms);
  std::vector<double> scores(arms);
  for (size_t b = 0; b < resamples; ++b) {
    for (size_t i = 0; i < arms; ++i) {
      draws[i] = resample(*data[i], buffers[i], random);
    }
    for (size_t i = 0; i < arms; ++i) {
      const double latency = latency_term(draws[0], draws[i]);
      scores[i] = weightedScore(config.weights, draws[i].accuracy, latency, efficiency[i]);
      arm_series(i, kAccuracy)[b] = draws[i].accuracy;
      arm_series(i, kLatency)[b] = latency;
      arm_series(i, kScore)[b] = scores[i];
    }
    for (size_t t = 0; t < treatments; ++t) {
      comparison_series(t, kDifference)[b] = scores[t + 1] - scores[0];
      comparison_series(t, kErrorDifference)[b] = draws[t + 1].error_rate - draws[0].error_rate;
      comparison_series(t, kP99Ratio)[b] = draws[t + 1].p99 / draws[0].p99;
    }
  }

  std::vector<double> point_scores(arms);
  for (size_t i = 0; i < arms; ++i) {
    ArmVerdict arm;
    arm.version = names[i];
    arm.requests = data[i]->requests;
    arm.accuracy_observations = data[i]->correct.size();
    const double latency = latency_term(point[0], point[i]);
    point_scores[i] = weightedScore(config.weights, point[i].accuracy, latency, efficiency[i]);
    arm.accuracy = toTerm(
        stats::percentileInterval(point[i].accuracy, arm_series(i, kAccuracy), config.confidence));
    arm.latency =
        toTerm(stats::percentileInterval(latency, arm_series(i, kLatency), config.confidence));
    arm.efficiency = fixedTerm(efficiency[i]);
    arm.score = toTerm(
        stats::percentileInterval(point_scores[i], arm_series(i, kScore), config.confidence));
    arm.p50_s = point[i].p50;
    arm.p99_s = point[i].p99;
    arm.error_rate = point[i].error_rate;
    verdict.arms.push_back(std::move(arm));
  }
  for (size_t t = 0; t < treatments; ++t) {
    Comparison c;
    c.treatment = names[t + 1];
    c.score_difference =
        toTerm(stats::percentileInterval(point_scores[t + 1] - point_scores[0],
                                         comparison_series(t, kDifference), verdict.confidence));
    c.error_rate_difference = toTerm(
        stats::percentileInterval(point[t + 1].error_rate - point[0].error_rate,
                                  comparison_series(t, kErrorDifference), verdict.confidence));
    c.p99_ratio = toTerm(stats::percentileInterval(
        point[t + 1].p99 / point[0].p99, comparison_series(t, kP99Ratio), verdict.confidence));
    verdict.comparisons.push_back(std::move(c));
  }
  if (!verdict.comparisons.empty()) {
    verdict.score_difference =
        verdict.comparisons[bestComparison(verdict.comparisons)].score_difference;
  }

  // 1. Requests, which the guardrails need.
  const MinSamples& min = config.min_samples;
  bool enough = true;
  for (size_t i = 0; i < arms; ++i) {
    if (data[i]->requests < min.requests) {
      verdict.reasons.emplace_back(fmt::format("arm {} has {} requests of the {} needed", names[i],
                                               data[i]->requests, min.requests));
      enough = false;
    }
  }
  if (!enough) {
    verdict.decision = Verdict::Decision::kNotEnoughData;
    return verdict;
  }

  // 2. Guardrails.
  for (size_t t = 0; t < treatments; ++t) {
    const Comparison& c = verdict.comparisons[t];
    bool harmful = false;
    if (c.error_rate_difference.low > config.guardrails.max_error_increase) {
      verdict.reasons.emplace_back(fmt::format(
          "{}: error rate {:.4f} against the control's {:.4f}; the increase {} is above the "
          "margin {} with {:.4g}% confidence",
          c.treatment, point[t + 1].error_rate, point[0].error_rate,
          formatTerm(c.error_rate_difference), config.guardrails.max_error_increase,
          verdict.confidence * 100));
      harmful = true;
    }
    const bool p99_measurable = data[0]->latencies_s.size() >= min.requests &&
                                data[t + 1]->latencies_s.size() >= min.requests;
    if (p99_measurable && c.p99_ratio.low > config.guardrails.max_p99_ratio) {
      verdict.reasons.emplace_back(fmt::format(
          "{}: P99 latency {:.4f}s against the control's {:.4f}s; the ratio {} is above {} "
          "with {:.4g}% confidence",
          c.treatment, point[t + 1].p99, point[0].p99, formatTerm(c.p99_ratio),
          config.guardrails.max_p99_ratio, verdict.confidence * 100));
      harmful = true;
    }
    if (harmful) {
      verdict.harmful.push_back(c.treatment);
    }
  }
  if (!verdict.harmful.empty()) {
    verdict.decision = Verdict::Decision::kStopForHarm;
    return verdict;
  }

  // 3. The samples the score needs.
  for (size_t i = 0; i < arms; ++i) {
    if (data[i]->latencies_s.size() < min.requests) {
      verdict.reasons.emplace_back(fmt::format("arm {} has {} latencies of the {} needed", names[i],
                                               data[i]->latencies_s.size(), min.requests));
      enough = false;
    }
    if (data[i]->correct.size() < min.accuracy) {
      verdict.reasons.emplace_back(
          fmt::format("arm {} has {} accuracy observations of the {} needed", names[i],
                      data[i]->correct.size(), min.accuracy));
      enough = false;
    }
  }
  if (!enough) {
    verdict.decision = Verdict::Decision::kNotEnoughData;
    return verdict;
  }

  // 4. A winner only when an interval excludes 0.
  std::optional<size_t> best_better;
  bool all_worse = true;
  for (size_t t = 0; t < treatments; ++t) {
    const TermEstimate& d = verdict.comparisons[t].score_difference;
    if (d.low > 0 &&
        (!best_better || d.value > verdict.comparisons[*best_better].score_difference.value)) {
      best_better = t;
    }
    all_worse = all_worse && d.high < 0;
  }
  if (best_better) {
    const Comparison& c = verdict.comparisons[*best_better];
    verdict.decision = Verdict::Decision::kWinner;
    verdict.winner = c.treatment;
    verdict.score_difference = c.score_difference;
    verdict.reasons.emplace_back(
        fmt::format("{} beats the control {}: score difference {} excludes 0", c.treatment,
                    config.control, formatTerm(c.score_difference)));
    return verdict;
  }
  if (all_worse && treatments > 0) {
    verdict.decision = Verdict::Decision::kWinner;
    verdict.winner = config.control;
    verdict.reasons.emplace_back(
        fmt::format("the control {} beats every treatment: the best score difference {} is below 0",
                    config.control, formatTerm(verdict.score_difference)));
    return verdict;
  }

  // 5. An interval that contains 0 declares nothing.
  verdict.decision = Verdict::Decision::kNoDifferenceYet;
  verdict.reasons.emplace_back(fmt::format("no difference yet: the score difference {} contains 0",
                                           formatTerm(verdict.score_difference)));
  return verdict;
}

json toJson(const Verdict& verdict) {
  json arms = json::array();
  for (const ArmVerdict& arm : verdict.arms) {
    arms.push_back({{"version", arm.version},
                    {"requests", arm.requests},
                    {"accuracy_observations", arm.accuracy_observations},
                    {"accuracy", termJson(arm.accuracy)},
                    {"latency", termJson(arm.latency)},
                    {"efficiency", termJson(arm.efficiency)},
                    {"score", termJson(arm.score)},
                    {"p50_seconds", number(arm.p50_s)},
                    {"p99_seconds", number(arm.p99_s)},
                    {"error_rate", number(arm.error_rate)}});
  }
  json comparisons = json::array();
  for (const Comparison& c : verdict.comparisons) {
    comparisons.push_back({{"treatment", c.treatment},
                           {"score_difference", termJson(c.score_difference)},
                           {"error_rate_difference", termJson(c.error_rate_difference)},
                           {"p99_ratio", termJson(c.p99_ratio)}});
  }
  return {{"decision", decisionName(verdict.decision)},
          {"winner", verdict.winner.empty() ? json(nullptr) : json(verdict.winner)},
          {"harmful", verdict.harmful},
          {"arms", std::move(arms)},
          {"comparisons", std::move(comparisons)},
          {"score_difference", termJson(verdict.score_difference)},
          {"confidence", number(verdict.confidence)},
          {"reasons", verdict.reasons}};
}

StatusOr<ExperimentConfig> experimentFromJson(const json& body) {
  if (!body.is_object()) {
    return invalidArgument("invalid experiment: the body must be a JSON object");
  }
  DW_RETURN_IF_ERROR(
      rejectUnknown(body, "",
                    {"model", "control", "treatment", "treatments", "split", "sticky", "weights",
                     "min_samples", "confidence", "resamples", "guardrails"}));
  ExperimentConfig config;
  DW_ASSIGN_OR_RETURN(config.model, requiredString(body, "model"));
  DW_RETURN_IF_ERROR(parseArms(body, config));
  DW_RETURN_IF_ERROR(parseSplit(body, config));
  DW_RETURN_IF_ERROR(parseSticky(body, config));
  DW_RETURN_IF_ERROR(parseTuning(body, config));
  return config;
}

std::string assignArm(const ExperimentConfig& config, std::string_view client_key) {
  // Basis points: a split resolves to 0.01%. Seeding with the model keeps the experiments of two
  // models independent, so a client in one's treatment is not always in the other's.
  constexpr uint64_t kBuckets = 10'000;
  const uint64_t bucket = stableHash(client_key, fnv1a64(config.model)) % kBuckets;
  const std::vector<std::string> arms = config.arms();
  double cumulative = 0;
  for (size_t i = 0; i < arms.size() && i < config.split.size(); ++i) {
    cumulative += config.split[i];
    if (static_cast<double>(bucket) < std::round(cumulative * kBuckets / 100)) {
      return arms[i];
    }
  }
  // Rounding can leave the last bucket unassigned; it belongs to the last arm with traffic.
  for (size_t i = std::min(arms.size(), config.split.size()); i-- > 0;) {
    if (config.split[i] > 0) {
      return arms[i];
    }
  }
  return config.control;
}

}  // namespace dw::control
