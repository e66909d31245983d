#include "control/control_config.h"

#include <fmt/format.h>

#include <charconv>

#include "base/yaml_reader.h"

namespace dw::control {

namespace {

// A duration key that must be longer than zero (a zero interval would spin).
Status positiveDuration(YamlMap& map, std::string_view key, Duration* out) {
  DW_RETURN_IF_ERROR(map.duration(key, out));
  if (out->count() <= 0) {
    return yamlError(map.placeOf(key), map.get(key), "must be longer than zero");
  }
  return okStatus();
}

// A whole percentage from 1 to 100, the whole text ("5.5" and "10%" are not).
bool parsePercent(const std::string& text, int* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && *out >= 1 && *out <= 100;
}

}  // namespace

StatusOr<ControlConfig> parseControlConfig(const YAML::Node& node, const std::string& file) {
  ControlConfig config;
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, YamlPlace{&file, "control"}));
  DW_RETURN_IF_ERROR(map.boolean("enabled", &config.enabled));
  DW_RETURN_IF_ERROR(positiveDuration(map, "history_interval", &config.history_interval));
  if (map.has("cluster")) {
    DW_ASSIGN_OR_RETURN(YamlMap c, YamlMap::make(map.get("cluster"), map.placeOf("cluster")));
    ClusterConfig& cc = config.cluster;
    DW_RETURN_IF_ERROR(c.stringList("etcd", &cc.etcd));
    for (const std::string& endpoint : cc.etcd) {
      if (!endpoint.starts_with("http://")) {
        return yamlError(c.placeOf("etcd"), c.get("etcd"),
                         "etcd endpoints must be http://host:port");
      }
    }
    DW_RETURN_IF_ERROR(c.string("prefix", &cc.prefix));
    if (cc.prefix.empty() || cc.prefix.front() != '/' || cc.prefix.back() == '/') {
      return yamlError(c.placeOf("prefix"), c.get("prefix"),
                       "must start with / and not end with one");
    }
    DW_RETURN_IF_ERROR(c.string("name", &cc.name));
    DW_RETURN_IF_ERROR(positiveDuration(c, "lease_ttl", &cc.lease_ttl));
    if (cc.lease_ttl < std::chrono::seconds(2)) {
      return yamlError(c.placeOf("lease_ttl"), c.get("lease_ttl"), "must be at least 2s");
    }
    DW_RETURN_IF_ERROR(positiveDuration(c, "poll", &cc.poll));
    DW_RETURN_IF_ERROR(c.finish());
  } else {
    map.get("cluster");
  }
  YAML::Node probes = map.get("probes");
  if (probes.IsDefined() && !probes.IsNull()) {
    if (!probes.IsSequence()) {
      return yamlError(map.placeOf("probes"), probes, "must be a list");
    }
    for (size_t i = 0; i < probes.size(); ++i) {
      DW_ASSIGN_OR_RETURN(
          YamlMap p,
          YamlMap::make(probes[i], YamlPlace{&file, fmt::format("control.probes[{}]", i)}));
      ProbeConfig probe;
      DW_RETURN_IF_ERROR(p.string("model", &probe.model, true));
      DW_RETURN_IF_ERROR(p.string("file", &probe.file, true));
      DW_RETURN_IF_ERROR(positiveDuration(p, "interval", &probe.interval));
      int64_t v = probe.per_round;
      DW_RETURN_IF_ERROR(p.integer("per_round", 1, 10000, &v));
      probe.per_round = static_cast<int>(v);
      v = probe.window;
      DW_RETURN_IF_ERROR(p.integer("window", 10, 1000000, &v));
      probe.window = static_cast<int>(v);
      DW_RETURN_IF_ERROR(p.finish());
      config.probes.push_back(std::move(probe));
    }
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap r, YamlMap::make(map.get("rollout"), map.placeOf("rollout")));
    RolloutConfig& rc = config.rollout;
    if (r.has("steps")) {
      std::vector<std::string> steps;
      DW_RETURN_IF_ERROR(r.stringList("steps", &steps));
      rc.steps.clear();
      for (const std::string& step : steps) {
        int percent = 0;
        if (!parsePercent(step, &percent) || (!rc.steps.empty() && percent <= rc.steps.back())) {
          return yamlError(r.placeOf("steps"), r.get("steps"),
                           "must be increasing percentages from 1 to 100");
        }
        rc.steps.push_back(percent);
      }
      if (rc.steps.empty() || rc.steps.back() != 100) {
        rc.steps.push_back(100);
      }
    } else {
      r.get("steps");
    }
    DW_RETURN_IF_ERROR(positiveDuration(r, "step_interval", &rc.step_interval));
    int64_t v = rc.min_requests;
    DW_RETURN_IF_ERROR(r.integer("min_requests", 0, 1 << 30, &v));
    rc.min_requests = static_cast<int>(v);
    v = rc.min_probes;
    DW_RETURN_IF_ERROR(r.integer("min_probes", 1, 1 << 30, &v));
    rc.min_probes = static_cast<int>(v);
    DW_RETURN_IF_ERROR(r.number("p99_ratio", 0.1, 100, &rc.p99_ratio));
    DW_RETURN_IF_ERROR(r.duration("p99_slack", &rc.p99_slack));
    DW_RETURN_IF_ERROR(r.number("error_margin", 0, 1, &rc.error_margin));
    DW_RETURN_IF_ERROR(r.number("accuracy_margin", 0, 1, &rc.accuracy_margin));
    v = rc.max_failed_analyses;
    DW_RETURN_IF_ERROR(r.integer("max_failed_analyses", 1, 100, &v));
    rc.max_failed_analyses = static_cast<int>(v);
    DW_RETURN_IF_ERROR(positiveDuration(r, "ready_timeout", &rc.ready_timeout));
    DW_RETURN_IF_ERROR(r.finish());
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap r, YamlMap::make(map.get("recovery"), map.placeOf("recovery")));
    RecoveryConfig& rc = config.recovery;
    DW_RETURN_IF_ERROR(r.boolean("rollback_on_accuracy", &rc.rollback_on_accuracy));
    DW_RETURN_IF_ERROR(r.number("accuracy_margin", 0, 1, &rc.accuracy_margin));
    int64_t v = rc.recent_probes;
    DW_RETURN_IF_ERROR(r.integer("recent_probes", 5, 100000, &v));
    rc.recent_probes = static_cast<int>(v);
    DW_RETURN_IF_ERROR(r.number("confidence", 0.5, 0.9999, &rc.confidence));
    DW_RETURN_IF_ERROR(r.finish());
  }
  DW_RETURN_IF_ERROR(map.finish());
  return config;
}

}  // namespace dw::control
