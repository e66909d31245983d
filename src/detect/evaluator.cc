#include "detect/evaluator.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace dw::detect {

std::string_view eventKindName(AlertEvent::Kind kind) {
  switch (kind) {
    case AlertEvent::Kind::kFired:
      return "fired";
    case AlertEvent::Kind::kEscalated:
      return "escalated";
    case AlertEvent::Kind::kDeescalated:
      return "deescalated";
    case AlertEvent::Kind::kResolved:
      return "resolved";
  }
  return "fired";
}

struct Evaluator::CompiledMatcher {
  Matcher matcher;
  std::unique_ptr<re2::RE2> regex;
};

// One rule applied to one series.
struct Evaluator::Instance {
  Alert alert;
  LabelSet series_labels;
  Severity pending = Severity::kNone;
  TimePoint pending_since{};
  bool seen = false;  // Matched at the current evaluation.
  // The dynamic band's state.
  double mean = 0;
  double variance = 0;
  uint64_t observations = 0;
  std::deque<double> history;
};

Evaluator::~Evaluator() = default;

StatusOr<std::unique_ptr<Evaluator>> Evaluator::create(std::vector<RuleConfig> rules,
                                                       std::string ns, Duration tick) {
  std::unique_ptr<Evaluator> evaluator(new Evaluator());
  for (const RuleConfig& rule : rules) {
    if (!rule.warning && !rule.critical && !rule.dynamic) {
      return invalidArgument(fmt::format("rule {}: needs warning, critical or dynamic", rule.name));
    }
    std::vector<CompiledMatcher> compiled;
    for (const Matcher& m : rule.matchers) {
      CompiledMatcher c{m, nullptr};
      if (m.op == Matcher::Op::kRegex || m.op == Matcher::Op::kNotRegex) {
        RE2::Options options;
        options.set_log_errors(false);
        c.regex = std::make_unique<re2::RE2>("^(?:" + m.value + ")$", options);
        if (!c.regex->ok()) {
          return invalidArgument(
              fmt::format("rule {}: bad regex for {}: {}", rule.name, m.label, c.regex->error()));
        }
      }
      compiled.push_back(std::move(c));
    }
    evaluator->matchers_.push_back(std::move(compiled));
  }
  evaluator->rules_ = std::move(rules);
  evaluator->ns_ = std::move(ns);
  evaluator->tick_ = tick;
  return evaluator;
}

namespace {

std::string_view labelOf(const observe::PromSample& sample, std::string_view name) {
  for (const auto& [label, value] : sample.labels) {
    if (label == name) {
      return value;
    }
  }
  return {};
}

std::string fillTemplate(const std::string& text, const LabelSet& labels, double value) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    size_t close = text.find("}}", open);
    if (close == std::string::npos) {
      out.append(text, open, std::string::npos);
      break;
    }
    std::string expr = text.substr(open + 2, close - open - 2);
    expr.erase(0, expr.find_first_not_of(' '));
    expr.erase(expr.find_last_not_of(' ') + 1);
    if (expr == "$value") {
      out += fmt::format("{:.4g}", value);
    } else if (expr.starts_with("$labels.")) {
      auto it = labels.find(expr.substr(8));
      if (it != labels.end()) {
        out += it->second;
      }
    }
    i = close + 2;
  }
  return out;
}

}  // namespace

bool Evaluator::matches(size_t rule, const observe::PromSample& sample) const {
  if (sample.name != rules_[rule].metric) {
    return false;
  }
  for (const CompiledMatcher& c : matchers_[rule]) {
    const std::string_view value = labelOf(sample, c.matcher.label);
    switch (c.matcher.op) {
      case Matcher::Op::kEqual:
        if (value != c.matcher.value) {
          return false;
        }
        break;
      case Matcher::Op::kNotEqual:
        if (value == c.matcher.value) {
          return false;
        }
        break;
      case Matcher::Op::kRegex:
        if (!re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *c.regex)) {
          return false;
        }
        break;
      case Matcher::Op::kNotRegex:
        if (re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *c.regex)) {
          return false;
        }
        break;
    }
  }
  return true;
}

std::vector<AlertEvent> Evaluator::evaluate(const std::vector<observe::PromSample>& samples,
                                            TimePoint now) {
  std::vector<AlertEvent> events;
  // Request counts per window, for min_samples: keyed by model/version/window.
  std::map<std::tuple<std::string, std::string, std::string>, double> window_requests;
  const std::string requests_name = ns_ + "_window_requests";
  for (const auto& s : samples) {
    if (s.name == requests_name) {
      window_requests[{std::string(labelOf(s, "model")), std::string(labelOf(s, "version")),
                       std::string(labelOf(s, "window"))}] = s.value;
    }
  }
  for (auto& [key, instance] : instances_) {
    instance->seen = false;
    if (instance->alert.state == AlertState::kResolved) {
      instance->alert.state = AlertState::kInactive;  // Reported once.
    }
  }
  for (size_t r = 0; r < rules_.size(); ++r) {
    const RuleConfig& rule = rules_[r];
    for (const observe::PromSample& sample : samples) {
      if (!matches(r, sample) || std::isnan(sample.value)) {
        continue;
      }
      LabelSet series_labels(sample.labels.begin(), sample.labels.end());
      auto& slot = instances_[{r, fingerprint(series_labels)}];
      if (!slot) {
        slot = std::make_unique<Instance>();
        slot->series_labels = series_labels;
        slot->alert.rule = rule.name;
      }
      Instance& in = *slot;
      in.seen = true;
      const double v = sample.value;
      in.alert.value = v;
      if (rule.min_samples > 0) {
        auto it = window_requests.find(
            {series_labels["model"], series_labels["version"], series_labels["window"]});
        if (it == window_requests.end() || it->second < rule.min_samples) {
          continue;  // Too few requests to judge: keep the state as it is.
        }
      }
      // Thresholds: static tiers, or the dynamic band learned from this series' history.
      // NaN: no such tier.
      double warning = rule.warning.value_or(NAN);
      double critical = rule.critical.value_or(NAN);
      if (rule.dynamic) {
        const DynamicBand& band = *rule.dynamic;
        const double n =
            std::max(1.0, static_cast<double>(band.window / std::max(tick_, Duration(1))));
        double center = NAN;
        double spread = NAN;
        if (band.method == DynamicBand::Method::kEwma) {
          center = in.mean;
          spread = std::sqrt(in.variance);
        } else if (!in.history.empty()) {
          std::vector<double> sorted(in.history.begin(), in.history.end());
          std::sort(sorted.begin(), sorted.end());
          center = sorted[sorted.size() / 2];
          std::vector<double> deviations;
          for (double x : sorted) {
            deviations.push_back(std::fabs(x - center));
          }
          std::sort(deviations.begin(), deviations.end());
          spread = 1.4826 * deviations[deviations.size() / 2];  // MAD as a standard deviation.
        }
        if (in.observations >= band.warmup && !std::isnan(center)) {
          const double sign = rule.below ? -1 : 1;
          const double w = center + sign * band.k_warning * spread;
          const double c = center + sign * band.k_critical * spread;
          // A band never alerts on values the static tiers call normal.
          auto floor = [&](double band_value, std::optional<double> fixed) {
            if (!fixed) {
              return band_value;
            }
            return rule.below ? std::min(band_value, *fixed) : std::max(band_value, *fixed);
          };
          warning = floor(w, rule.warning);
          // Without a static critical tier, the static warning floors both bands.
          critical = floor(c, rule.critical ? rule.critical : rule.warning);
        } else {
          warning = NAN;
          critical = NAN;
        }
        // Learn from the value (after judging it, so an anomaly does not hide itself at once).
        const double alpha = 2.0 / (n + 1.0);
        if (in.observations == 0) {
          in.mean = v;
          in.variance = 0;
        } else {
          const double delta = v - in.mean;
          in.mean += alpha * delta;
          in.variance = (1 - alpha) * (in.variance + alpha * delta * delta);
        }
        in.history.push_back(v);
        while (in.history.size() > static_cast<size_t>(n)) {
          in.history.pop_front();
        }
        ++in.observations;
      }
      auto beyond = [&](double t, double margin) {
        if (std::isnan(t)) {
          return false;
        }
        const double slack = std::fabs(t) * margin;
        return rule.below ? v < t - slack : v > t + slack;
      };
      // The severity the value calls for; a firing alert keeps its tier until the value is
      // past the threshold by the hysteresis margin.
      Severity desired = Severity::kNone;
      if (beyond(critical, 0)) {
        desired = Severity::kCritical;
      } else if (beyond(warning, 0)) {
        desired = Severity::kWarning;
      }
      if (in.alert.state == AlertState::kFiring && desired < in.alert.severity) {
        const double h = -rule.hysteresis;  // Clear only when the value is this far inside.
        if (in.alert.severity == Severity::kCritical && beyond(critical, h)) {
          desired = Severity::kCritical;
        } else if (desired == Severity::kNone && beyond(warning, h)) {
          desired = Severity::kWarning;
        } else if (desired == Severity::kNone && in.alert.severity == Severity::kCritical &&
                   std::isnan(warning) && beyond(critical, h)) {
          desired = Severity::kCritical;
        }
      }
      Alert& alert = in.alert;
      auto relabel = [&](Severity severity) {
        alert.labels = in.series_labels;
        alert.labels.erase("__name__");
        for (const auto& [k, val] : rule.labels) {
          alert.labels[k] = val;
        }
        alert.labels["alertname"] = rule.name;
        alert.labels["severity"] = std::string(severityName(severity));
        alert.annotations.clear();
        for (const auto& [k, text] : rule.annotations) {
          alert.annotations[k] = fillTemplate(text, alert.labels, v);
        }
        alert.fingerprint = fingerprint(alert.labels);
      };
      if (alert.state == AlertState::kFiring) {
        if (desired == Severity::kNone) {
          alert.state = AlertState::kResolved;
          alert.resolved_at = now;
          events.push_back({AlertEvent::Kind::kResolved, alert, alert.severity});
          in.pending = Severity::kNone;
        } else if (desired != alert.severity) {
          // A firing alert changes tier at once: it has already waited its `for`.
          const Severity previous = alert.severity;
          alert.severity = desired;
          relabel(desired);
          events.push_back(
              {desired > previous ? AlertEvent::Kind::kEscalated : AlertEvent::Kind::kDeescalated,
               alert, previous});
        } else {
          relabel(desired);
          in.pending = Severity::kNone;
        }
        continue;
      }
      // Not firing: inactive or pending.
      if (desired == Severity::kNone) {
        alert.state = AlertState::kInactive;
        in.pending = Severity::kNone;
        continue;
      }
      if (alert.state != AlertState::kPending) {
        alert.state = AlertState::kPending;
        in.pending_since = now;
      }
      in.pending = desired;
      if (now - in.pending_since >= rule.for_duration) {
        alert.state = AlertState::kFiring;
        alert.severity = desired;
        alert.active_since = now;
        relabel(desired);
        events.push_back({AlertEvent::Kind::kFired, alert, Severity::kNone});
        in.pending = Severity::kNone;
      }
    }
  }
  // A firing alert whose series disappeared resolves, as Prometheus resolves it; the state of a
  // series gone and inactive is forgotten, so that series which come and go (replicas) do not
  // grow the map.
  std::erase_if(instances_, [](const auto& item) {
    return !item.second->seen && item.second->alert.state == AlertState::kInactive;
  });
  for (auto& [key, instance] : instances_) {
    if (!instance->seen && instance->alert.state == AlertState::kFiring) {
      instance->alert.state = AlertState::kResolved;
      instance->alert.resolved_at = now;
      events.push_back({AlertEvent::Kind::kResolved, instance->alert, instance->alert.severity});
    } else if (!instance->seen && instance->alert.state == AlertState::kPending) {
      instance->alert.state = AlertState::kInactive;
    }
  }
  return events;
}

std::vector<Alert> Evaluator::alerts() const {
  std::vector<Alert> out;
  for (const auto& [key, instance] : instances_) {
    if (instance->alert.state == AlertState::kFiring ||
        instance->alert.state == AlertState::kResolved) {
      out.push_back(instance->alert);
    }
  }
  return out;
}

}  // namespace dw::detect
