#include "detect/rule.h"

#include <fmt/format.h>

namespace dw::detect {

StatusOr<std::pair<std::string, std::vector<Matcher>>> parseSelector(std::string_view text) {
  size_t brace = text.find('{');
  std::string name(text.substr(0, brace));
  while (!name.empty() && name.back() == ' ') {
    name.pop_back();
  }
  if (name.empty()) {
    return invalidArgument(fmt::format("'{}' names no metric", text));
  }
  std::vector<Matcher> matchers;
  if (brace == std::string_view::npos) {
    return std::make_pair(std::move(name), std::move(matchers));
  }
  if (text.back() != '}') {
    return invalidArgument(fmt::format("'{}' has no closing brace", text));
  }
  std::string_view body = text.substr(brace + 1, text.size() - brace - 2);
  size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && (body[i] == ' ' || body[i] == ',')) {
      ++i;
    }
    if (i >= body.size()) {
      break;
    }
    size_t start = i;
    while (i < body.size() &&
           (std::isalnum(static_cast<unsigned char>(body[i])) || body[i] == '_')) {
      ++i;
    }
    Matcher m;
    m.label = std::string(body.substr(start, i - start));
    if (body.substr(i, 2) == "=~") {
      m.op = Matcher::Op::kRegex;
      i += 2;
    } else if (body.substr(i, 2) == "!~") {
      m.op = Matcher::Op::kNotRegex;
      i += 2;
    } else if (body.substr(i, 2) == "!=") {
      m.op = Matcher::Op::kNotEqual;
      i += 2;
    } else if (i < body.size() && body[i] == '=') {
      m.op = Matcher::Op::kEqual;
      i += 1;
    } else {
      return invalidArgument(
          fmt::format("'{}': expected =, !=, =~ or !~ after '{}'", text, m.label));
    }
    if (m.label.empty() || i >= body.size() || body[i] != '"') {
      return invalidArgument(fmt::format("'{}': a matcher needs a label and a quoted value", text));
    }
    size_t end = body.find('"', i + 1);
    if (end == std::string_view::npos) {
      return invalidArgument(fmt::format("'{}': unterminated value", text));
    }
    m.value = std::string(body.substr(i + 1, end - i - 1));
    i = end + 1;
    matchers.push_back(std::move(m));
  }
  return std::make_pair(std::move(name), std::move(matchers));
}

std::vector<RuleConfig> defaultRules(const std::string& ns, const std::string& window) {
  auto metric = [&](std::string_view suffix) { return ns + "_" + std::string(suffix); };
  auto in_window = [&] { return Matcher{"window", Matcher::Op::kEqual, window}; };
  std::vector<RuleConfig> rules;
  auto add = [&](RuleConfig rule) { rules.push_back(std::move(rule)); };
  {
    RuleConfig r;
    r.name = "LatencyP99High";
    r.metric = metric("latency_p99_seconds");
    r.matchers = {in_window()};
    r.warning = 0.5;  // R2.1
    r.critical = 0.8;
    r.for_duration = std::chrono::seconds(30);
    r.min_samples = 20;
    r.annotations = {{"summary",
                      "P99 latency of {{ $labels.model }} {{ $labels.version }} is "
                      "{{ $value }} s over {{ $labels.window }}"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "InputDistributionShift";
    r.metric = metric("input_kl_divergence");
    r.warning = 0.3;  // R2.2
    r.critical = 0.5;
    r.for_duration = std::chrono::seconds(30);
    r.group_by = {"alertname", "model", "feature"};
    r.annotations = {{"summary",
                      "Input {{ $labels.feature }} of {{ $labels.model }} drifted: "
                      "KL {{ $value }} against the baseline"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "ErrorRatioHigh";
    r.metric = metric("error_ratio");
    r.matchers = {in_window()};
    r.warning = 0.05;
    r.critical = 0.2;
    r.for_duration = std::chrono::seconds(30);
    r.min_samples = 20;
    r.annotations = {{"summary", "{{ $value }} of {{ $labels.model }}'s requests failed"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "AbnormalInputRatioHigh";
    r.metric = metric("input_abnormal_ratio");
    r.matchers = {in_window()};
    r.warning = 0.1;
    r.critical = 0.3;
    r.for_duration = std::chrono::minutes(1);
    r.annotations = {{"summary", "{{ $value }} of {{ $labels.model }}'s inputs are abnormal"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "LabelDrift";
    r.metric = metric("output_label_drift_index");
    r.warning = 0.2;  // PSI: 0.1-0.25 moderate, above 0.25 significant.
    r.critical = 0.5;
    r.for_duration = std::chrono::minutes(1);
    r.annotations = {{"summary", "Output labels of {{ $labels.model }} drifted: PSI {{ $value }}"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "LowConfidenceRatioHigh";
    r.metric = metric("output_low_confidence_ratio");
    r.matchers = {in_window()};
    r.warning = 0.3;
    r.critical = 0.5;
    r.for_duration = std::chrono::minutes(1);
    r.annotations = {
        {"summary", "{{ $value }} of {{ $labels.model }}'s answers have low confidence"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "ReplicaDown";
    r.metric = metric("replica_up");
    r.below = true;
    r.critical = 0.5;
    r.for_duration = std::chrono::seconds(15);
    r.group_by = {"alertname", "model", "version"};
    r.annotations = {{"summary",
                      "Replica {{ $labels.replica }} of {{ $labels.model }} "
                      "{{ $labels.version }} fails its health checks"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "GpuMemoryPressure";
    r.metric = metric("resource_kv_cache_usage_ratio");
    r.warning = 0.9;
    r.critical = 0.97;
    r.for_duration = std::chrono::minutes(2);
    r.annotations = {{"summary", "KV cache of {{ $labels.replica }} is {{ $value }} full"}};
    add(r);
  }
  {
    RuleConfig r;
    r.name = "QueueLengthHigh";
    r.metric = metric("queue_length");
    r.warning = 50;
    r.critical = 200;
    r.for_duration = std::chrono::minutes(1);
    r.annotations = {{"summary", "{{ $value }} requests wait for {{ $labels.model }}"}};
    add(r);
  }
  for (RuleConfig& r : rules) {
    r.labels["source"] = "deepwatch";
  }
  return rules;
}

}  // namespace dw::detect
