#include "gateway/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "base/yaml_reader.h"
#include "gateway/memory_guard.h"

namespace dw::gateway {

std::string_view trackName(Track track) {
  switch (track) {
    case Track::kStable:
      return "stable";
    case Track::kCanary:
      return "canary";
    case Track::kStandby:
      return "standby";
  }
  return "stable";
}

namespace {

Status parseUrl(const YamlPlace& place, const YAML::Node& node, const std::string& url,
                ReplicaConfig* out) {
  constexpr std::string_view kScheme = "http://";
  if (!std::string_view(url).starts_with(kScheme)) {
    return yamlError(place, node, "must be an http:// URL (TLS upstreams are not supported yet)");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path.ends_with("/v1")) {
    path.remove_suffix(3);  // The gateway adds /v1 itself.
  }
  size_t colon = authority.rfind(':');
  if (authority.empty() || colon == std::string_view::npos || colon == 0) {
    return yamlError(place, node, "must name a host and a port, e.g. http://127.0.0.1:8000");
  }
  std::string_view port_text = authority.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535) {
      port = -1;
      break;
    }
    port = port * 10 + (c - '0');
  }
  if (port_text.empty() || port <= 0 || port > 65535) {
    return yamlError(place, node, fmt::format("has an invalid port '{}'", port_text));
  }
  out->url = url;
  out->host = std::string(authority.substr(0, colon));
  out->port = static_cast<uint16_t>(port);
  out->path_prefix = std::string(path);
  return okStatus();
}

// `dashboard_dir` is read for the admin listener only (nullptr for the API listener).
Status parseListener(YamlMap& parent, std::string_view key, ListenerConfig* out,
                     std::string* dashboard_dir = nullptr) {
  YAML::Node node = parent.get(key);
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, parent.placeOf(key)));
  DW_RETURN_IF_ERROR(map.string("host", &out->host));
  if (dashboard_dir != nullptr) {
    DW_RETURN_IF_ERROR(map.string("dashboard_dir", dashboard_dir));
  }
  int64_t port = out->port;
  DW_RETURN_IF_ERROR(map.integer("port", 0, 65535, &port));
  out->port = static_cast<uint16_t>(port);
  return map.finish();
}

Status parseInt(YamlMap& map, std::string_view key, int64_t min, int64_t max, int* out) {
  int64_t value = *out;
  DW_RETURN_IF_ERROR(map.integer(key, min, max, &value));
  *out = static_cast<int>(value);
  return okStatus();
}

Status parseVersion(const YAML::Node& node, YamlPlace place, const std::string& model,
                    VersionConfig* out) {
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, place));
  DW_RETURN_IF_ERROR(map.string("id", &out->id, true));
  std::string track = "stable";
  DW_RETURN_IF_ERROR(map.string("track", &track));
  if (track == "stable") {
    out->track = Track::kStable;
  } else if (track == "canary") {
    out->track = Track::kCanary;
  } else if (track == "standby") {
    out->track = Track::kStandby;
  } else {
    return yamlError(map.placeOf("track"), map.get("track"), "must be stable, canary or standby");
  }
  out->weight = out->track == Track::kStandby ? 0 : 100;
  DW_RETURN_IF_ERROR(map.number("weight", 0, 1e9, &out->weight));
  out->upstream_model = model;
  DW_RETURN_IF_ERROR(map.string("upstream_model", &out->upstream_model));
  if (map.has("launch")) {
    DW_ASSIGN_OR_RETURN(YamlMap launch, YamlMap::make(map.get("launch"), map.placeOf("launch")));
    DW_RETURN_IF_ERROR(launch.stringList("command", &out->launch.command));
    if (out->launch.command.empty()) {
      return yamlError(launch.placeOf("command"), launch.node(), "is required");
    }
    std::string ports;
    DW_RETURN_IF_ERROR(launch.string("ports", &ports, true));
    int first = 0;
    int last = 0;
    if (std::sscanf(ports.c_str(), "%d-%d", &first, &last) != 2 || first < 1 || last > 65535 ||
        first > last) {
      return yamlError(launch.placeOf("ports"), launch.get("ports"),
                       "must be a port range such as 8101-8110");
    }
    out->launch.port_first = static_cast<uint16_t>(first);
    out->launch.port_last = static_cast<uint16_t>(last);
    int64_t replicas = out->launch.replicas;
    DW_RETURN_IF_ERROR(launch.integer("replicas", 0, last - first + 1, &replicas));
    out->launch.replicas = static_cast<int>(replicas);
    DW_RETURN_IF_ERROR(launch.string("zone", &out->launch.zone));
    DW_RETURN_IF_ERROR(launch.finish());
  } else {
    map.get("launch");
  }
  if (map.has("autoscale")) {
    DW_ASSIGN_OR_RETURN(YamlMap a, YamlMap::make(map.get("autoscale"), map.placeOf("autoscale")));
    AutoscaleConfig& as = out->autoscale;
    as.enabled = true;
    DW_RETURN_IF_ERROR(a.boolean("enabled", &as.enabled));
    DW_RETURN_IF_ERROR(parseInt(a, "min", 0, 1000, &as.min_replicas));
    DW_RETURN_IF_ERROR(parseInt(a, "max", 1, 1000, &as.max_replicas));
    DW_RETURN_IF_ERROR(a.number("target_qps", 0.001, 1e9, &as.target_qps));
    DW_RETURN_IF_ERROR(a.number("headroom", 0, 0.95, &as.headroom));
    DW_RETURN_IF_ERROR(a.number("target_queue", 0, 1e9, &as.target_queue));
    DW_RETURN_IF_ERROR(a.number("tolerance", 0, 1, &as.tolerance));
    DW_RETURN_IF_ERROR(a.duration("interval", &as.interval));
    DW_RETURN_IF_ERROR(a.duration("scale_down_stabilization", &as.scale_down_stabilization));
    DW_RETURN_IF_ERROR(a.finish());
    if (as.min_replicas > as.max_replicas) {
      return yamlError(map.placeOf("autoscale"), map.get("autoscale"), "min must not exceed max");
    }
    if (!out->launch.enabled()) {
      return yamlError(map.placeOf("autoscale"), map.get("autoscale"),
                       "needs launch: only launched replicas can be scaled");
    }
    if (as.max_replicas > out->launch.port_last - out->launch.port_first + 1) {
      return yamlError(map.placeOf("autoscale"), map.get("autoscale"),
                       "max exceeds the launch port range");
    }
  } else {
    map.get("autoscale");
  }
  YAML::Node replicas = map.get("replicas");
  YamlPlace replicas_place = map.placeOf("replicas");
  const bool has_replicas = replicas.IsSequence() && replicas.size() > 0;
  if (!has_replicas && !out->launch.enabled()) {
    return yamlError(replicas_place, replicas.Mark().is_null() ? node : replicas,
                     "must be a non-empty list of replicas (or the version needs launch)");
  }
  for (size_t i = 0; has_replicas && i < replicas.size(); ++i) {
    YamlPlace replica_place{place.file, fmt::format("{}[{}]", replicas_place.path, i)};
    DW_ASSIGN_OR_RETURN(YamlMap replica, YamlMap::make(replicas[i], replica_place));
    ReplicaConfig config;
    std::string url;
    DW_RETURN_IF_ERROR(replica.string("url", &url, true));
    DW_RETURN_IF_ERROR(parseUrl(replica.placeOf("url"), replica.get("url"), url, &config));
    DW_RETURN_IF_ERROR(replica.string("zone", &config.zone));
    DW_RETURN_IF_ERROR(replica.finish());
    out->replicas.push_back(std::move(config));
  }
  return map.finish();
}

Status parseModel(const YAML::Node& node, YamlPlace place, ModelConfig* out) {
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, place));
  DW_RETURN_IF_ERROR(map.string("name", &out->name, true));
  if (out->name.empty()) {
    return yamlError(map.placeOf("name"), map.get("name"), "must not be empty");
  }
  DW_RETURN_IF_ERROR(map.stringList("aliases", &out->aliases));
  DW_RETURN_IF_ERROR(parseInt(map, "max_concurrency", 1, 1 << 24, &out->max_concurrency));
  DW_RETURN_IF_ERROR(parseInt(map, "max_queue", 0, 1 << 24, &out->max_queue));
  DW_RETURN_IF_ERROR(parseInt(map, "overflow_status", 429, 503, &out->overflow_status));
  if (out->overflow_status != 429 && out->overflow_status != 503) {
    return yamlError(map.placeOf("overflow_status"), map.get("overflow_status"),
                     "must be 429 or 503");
  }
  if (map.has("sticky")) {
    DW_ASSIGN_OR_RETURN(YamlMap sticky, YamlMap::make(map.get("sticky"), map.placeOf("sticky")));
    bool api_key = false;
    DW_RETURN_IF_ERROR(sticky.string("header", &out->sticky_header));
    DW_RETURN_IF_ERROR(sticky.boolean("api_key", &api_key));
    DW_RETURN_IF_ERROR(sticky.finish());
    if (api_key == !out->sticky_header.empty()) {
      return yamlError(map.placeOf("sticky"), map.get("sticky"),
                       "must set exactly one of header or api_key");
    }
    out->sticky = api_key ? StickyBy::kApiKey : StickyBy::kHeader;
  }
  YAML::Node versions = map.get("versions");
  YamlPlace versions_place = map.placeOf("versions");
  if (!versions.IsSequence() || versions.size() == 0) {
    return yamlError(versions_place, versions.Mark().is_null() ? node : versions,
                     "must be a non-empty list of versions");
  }
  std::set<std::string> ids;
  double primary_weight = 0;
  for (size_t i = 0; i < versions.size(); ++i) {
    VersionConfig version;
    YamlPlace version_place{place.file, fmt::format("{}[{}]", versions_place.path, i)};
    DW_RETURN_IF_ERROR(parseVersion(versions[i], version_place, out->name, &version));
    if (!ids.insert(version.id).second) {
      return yamlError(YamlPlace{place.file, version_place.path + ".id"}, versions[i]["id"],
                       fmt::format("version '{}' is defined twice", version.id));
    }
    if (version.track != Track::kStandby) {
      primary_weight += version.weight;
    }
    out->versions.push_back(std::move(version));
  }
  if (primary_weight <= 0) {
    return yamlError(versions_place, versions,
                     "needs a stable or canary version with a weight above 0");
  }
  return map.finish();
}

Status parseObserve(YamlMap& parent, observe::ObserveConfig* out) {
  YAML::Node node = parent.get("observe");
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(node, parent.placeOf("observe")));
  DW_RETURN_IF_ERROR(map.boolean("enabled", &out->enabled));
  DW_RETURN_IF_ERROR(map.string("namespace", &out->ns));
  const bool valid_ns = !out->ns.empty() && !std::isdigit(static_cast<unsigned char>(out->ns[0])) &&
                        std::all_of(out->ns.begin(), out->ns.end(), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                        });
  if (!valid_ns) {
    return yamlError(map.placeOf("namespace"), map.get("namespace"),
                     "must be a Prometheus name prefix ([a-zA-Z_][a-zA-Z0-9_]*)");
  }
  std::string profile = "production";
  DW_RETURN_IF_ERROR(map.string("profile", &profile));
  if (profile == "development") {
    out->granularity = std::chrono::seconds(60);  // R9: minute granularity in development.
  } else if (profile != "production") {
    return yamlError(map.placeOf("profile"), map.get("profile"),
                     "must be production or development");
  }
  DW_RETURN_IF_ERROR(map.duration("granularity", &out->granularity));
  if (out->granularity < std::chrono::milliseconds(100)) {
    return yamlError(map.placeOf("granularity"), map.get("granularity"), "must be at least 100ms");
  }
  if (map.has("windows")) {
    std::vector<std::string> windows;
    DW_RETURN_IF_ERROR(map.stringList("windows", &windows));
    out->windows.clear();
    for (const std::string& text : windows) {
      auto window = parseDuration(text);
      if (!window.ok()) {
        return yamlError(map.placeOf("windows"), map.get("windows"), window.status().message());
      }
      if (*window < out->granularity || window->count() % out->granularity.count() != 0) {
        return yamlError(map.placeOf("windows"), map.get("windows"),
                         "every window must be a multiple of the granularity");
      }
      out->windows.push_back(*window);
    }
    if (out->windows.empty()) {
      return yamlError(map.placeOf("windows"), map.get("windows"), "needs at least one window");
    }
  } else {
    map.get("windows");
  }
  out->drift_window = out->windows.front();
  DW_RETURN_IF_ERROR(map.duration("drift_window", &out->drift_window));
  if (std::find(out->windows.begin(), out->windows.end(), out->drift_window) ==
      out->windows.end()) {
    return yamlError(map.placeOf("drift_window"), map.get("drift_window"),
                     "must be one of the windows");
  }
  int64_t min_samples = out->min_samples;
  DW_RETURN_IF_ERROR(map.integer("min_samples", 1, 1 << 30, &min_samples));
  out->min_samples = static_cast<uint32_t>(min_samples);
  DW_RETURN_IF_ERROR(map.number("smoothing", 1e-12, 1e6, &out->smoothing));
  DW_RETURN_IF_ERROR(map.number("low_confidence", 0, 1, &out->low_confidence));
  DW_RETURN_IF_ERROR(map.boolean("scrape_replicas", &out->scrape_replicas));
  DW_RETURN_IF_ERROR(map.duration("scrape_interval", &out->scrape_interval));
  int64_t feedback_memory = out->feedback_memory;
  DW_RETURN_IF_ERROR(map.integer("feedback_memory", 16, 1 << 26, &feedback_memory));
  out->feedback_memory = static_cast<uint32_t>(feedback_memory);
  {
    DW_ASSIGN_OR_RETURN(YamlMap input, YamlMap::make(map.get("input"), map.placeOf("input")));
    int64_t v = out->input.max_prompt_tokens;
    DW_RETURN_IF_ERROR(input.integer("max_prompt_tokens", 1, 1LL << 31, &v));
    out->input.max_prompt_tokens = static_cast<uint32_t>(v);
    v = out->input.max_char_run;
    DW_RETURN_IF_ERROR(input.integer("max_char_run", 2, 1 << 20, &v));
    out->input.max_char_run = static_cast<uint32_t>(v);
    v = out->input.max_token_run;
    DW_RETURN_IF_ERROR(input.integer("max_token_run", 2, 1 << 20, &v));
    out->input.max_token_run = static_cast<uint32_t>(v);
    uint64_t scan = out->input.scan_bytes;
    DW_RETURN_IF_ERROR(input.bytes("scan_bytes", &scan));
    out->input.scan_bytes = static_cast<uint32_t>(std::min<uint64_t>(scan, 1U << 30));
    DW_RETURN_IF_ERROR(input.finish());
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap labels, YamlMap::make(map.get("labels"), map.placeOf("labels")));
    std::string source = "content";
    DW_RETURN_IF_ERROR(labels.string("source", &source));
    if (source == "content") {
      out->labels.source = observe::LabelSource::kContent;
    } else if (source == "finish_reason") {
      out->labels.source = observe::LabelSource::kFinishReason;
    } else if (source == "json_field") {
      out->labels.source = observe::LabelSource::kJsonField;
    } else if (source == "regex") {
      out->labels.source = observe::LabelSource::kRegex;
    } else {
      return yamlError(labels.placeOf("source"), labels.get("source"),
                       "must be content, finish_reason, json_field or regex");
    }
    DW_RETURN_IF_ERROR(labels.string("field", &out->labels.field));
    DW_RETURN_IF_ERROR(labels.string("regex", &out->labels.regex));
    DW_RETURN_IF_ERROR(labels.stringList("values", &out->labels.values));
    if (out->labels.values.size() > 32) {
      return yamlError(labels.placeOf("values"), labels.get("values"), "at most 32 labels");
    }
    if (out->labels.source == observe::LabelSource::kJsonField && out->labels.field.empty()) {
      return yamlError(labels.placeOf("field"), labels.node(), "is required for json_field");
    }
    if (out->labels.source == observe::LabelSource::kRegex && out->labels.regex.empty()) {
      return yamlError(labels.placeOf("regex"), labels.node(), "is required for regex");
    }
    DW_RETURN_IF_ERROR(labels.finish());
  }
  return map.finish();
}

}  // namespace

StatusOr<GatewayConfig> parseGatewayConfig(std::string_view text, const std::string& file) {
  GatewayConfig config;
  config.file = file;
  DW_ASSIGN_OR_RETURN(YAML::Node root, parseYaml(text, file));
  DW_ASSIGN_OR_RETURN(YamlMap map, YamlMap::make(root, YamlPlace{&config.file, ""}));

  if (map.has("listeners")) {
    DW_ASSIGN_OR_RETURN(YamlMap listeners,
                        YamlMap::make(map.get("listeners"), map.placeOf("listeners")));
    DW_RETURN_IF_ERROR(parseListener(listeners, "api", &config.api));
    DW_RETURN_IF_ERROR(parseListener(listeners, "admin", &config.admin, &config.dashboard_dir));
    DW_RETURN_IF_ERROR(listeners.finish());
  } else {
    map.get("listeners");
  }
  DW_RETURN_IF_ERROR(parseInt(map, "workers", 0, 256, &config.workers));
  DW_RETURN_IF_ERROR(map.duration("drain_timeout", &config.drain_timeout));

  {
    DW_ASSIGN_OR_RETURN(YamlMap limits, YamlMap::make(map.get("limits"), map.placeOf("limits")));
    uint64_t header_bytes = config.limits.max_header_bytes;
    DW_RETURN_IF_ERROR(limits.bytes("max_header_bytes", &header_bytes));
    if (header_bytes < 1024 || header_bytes > 1024 * 1024) {
      return yamlError(limits.placeOf("max_header_bytes"), limits.get("max_header_bytes"),
                       "must be from 1KiB to 1MiB");
    }
    config.limits.max_header_bytes = static_cast<uint32_t>(header_bytes);
    DW_RETURN_IF_ERROR(limits.bytes("max_body_bytes", &config.limits.max_body_bytes));
    int header_count = static_cast<int>(config.limits.max_header_count);
    DW_RETURN_IF_ERROR(parseInt(limits, "max_header_count", 8, 10000, &header_count));
    config.limits.max_header_count = static_cast<uint32_t>(header_count);
    uint64_t line_bytes = config.limits.max_request_line_bytes;
    DW_RETURN_IF_ERROR(limits.bytes("max_request_line_bytes", &line_bytes));
    if (line_bytes > header_bytes && line_bytes == LimitsConfig{}.max_request_line_bytes) {
      line_bytes = header_bytes;  // The default never exceeds a smaller head limit.
    }
    if (line_bytes < 256 || line_bytes > header_bytes) {
      return yamlError(limits.placeOf("max_request_line_bytes"),
                       limits.get("max_request_line_bytes"),
                       "must be from 256 bytes to max_header_bytes");
    }
    config.limits.max_request_line_bytes = static_cast<uint32_t>(line_bytes);
    DW_RETURN_IF_ERROR(
        parseInt(limits, "max_connections", 0, 1 << 24, &config.limits.max_connections));
    DW_RETURN_IF_ERROR(
        limits.bytes("max_buffered_body_bytes", &config.limits.max_buffered_body_bytes));
    DW_RETURN_IF_ERROR(
        limits.bytes("max_buffered_response_bytes", &config.limits.max_buffered_response_bytes));
    if (config.limits.max_buffered_response_bytes < 4096) {
      return yamlError(limits.placeOf("max_buffered_response_bytes"),
                       limits.get("max_buffered_response_bytes"), "must be at least 4KiB");
    }
    if (limits.has("max_memory_bytes") && limits.get("max_memory_bytes").IsScalar() &&
        limits.get("max_memory_bytes").Scalar() == "auto") {
      config.limits.max_memory_bytes = kMemoryLimitAuto;
    } else {
      DW_RETURN_IF_ERROR(limits.bytes("max_memory_bytes", &config.limits.max_memory_bytes));
    }
    DW_RETURN_IF_ERROR(limits.duration("header_timeout", &config.limits.header_timeout));
    DW_RETURN_IF_ERROR(limits.duration("idle_timeout", &config.limits.idle_timeout));
    DW_RETURN_IF_ERROR(limits.duration("send_timeout", &config.limits.send_timeout));
    DW_RETURN_IF_ERROR(limits.finish());
  }
  {
    DW_ASSIGN_OR_RETURN(YamlMap upstream,
                        YamlMap::make(map.get("upstream"), map.placeOf("upstream")));
    {
      DW_ASSIGN_OR_RETURN(YamlMap t,
                          YamlMap::make(upstream.get("timeouts"), upstream.placeOf("timeouts")));
      DW_RETURN_IF_ERROR(t.duration("connect", &config.timeouts.connect));
      DW_RETURN_IF_ERROR(t.duration("first_byte", &config.timeouts.first_byte));
      DW_RETURN_IF_ERROR(t.duration("stream_idle", &config.timeouts.stream_idle));
      DW_RETURN_IF_ERROR(t.duration("request", &config.timeouts.request));
      DW_RETURN_IF_ERROR(t.finish());
    }
    {
      DW_ASSIGN_OR_RETURN(
          YamlMap h, YamlMap::make(upstream.get("health_check"), upstream.placeOf("health_check")));
      auto& hc = config.health_check;
      DW_RETURN_IF_ERROR(h.string("path", &hc.path));
      DW_RETURN_IF_ERROR(h.duration("interval", &hc.interval));
      DW_RETURN_IF_ERROR(h.duration("timeout", &hc.timeout));
      DW_RETURN_IF_ERROR(parseInt(h, "unhealthy_threshold", 1, 100, &hc.unhealthy_threshold));
      DW_RETURN_IF_ERROR(parseInt(h, "healthy_threshold", 1, 100, &hc.healthy_threshold));
      DW_RETURN_IF_ERROR(h.finish());
      if (hc.interval < std::chrono::milliseconds(100)) {
        return yamlError(h.placeOf("interval"), h.get("interval"), "must be at least 100ms");
      }
    }
    {
      DW_ASSIGN_OR_RETURN(YamlMap o, YamlMap::make(upstream.get("outlier_detection"),
                                                   upstream.placeOf("outlier_detection")));
      auto& od = config.outlier;
      DW_RETURN_IF_ERROR(parseInt(o, "consecutive_failures", 1, 1000, &od.consecutive_failures));
      DW_RETURN_IF_ERROR(o.duration("base_ejection", &od.base_ejection));
      DW_RETURN_IF_ERROR(parseInt(o, "max_ejection_percent", 0, 100, &od.max_ejection_percent));
      DW_RETURN_IF_ERROR(o.duration("interval", &od.interval));
      DW_RETURN_IF_ERROR(o.number("latency_factor", 0, 1000, &od.latency_factor));
      DW_RETURN_IF_ERROR(o.duration("latency_min", &od.latency_min));
      DW_RETURN_IF_ERROR(parseInt(o, "latency_min_requests", 1, 1000000, &od.latency_min_requests));
      DW_RETURN_IF_ERROR(o.finish());
      if (od.interval < std::chrono::milliseconds(100)) {
        return yamlError(o.placeOf("interval"), o.get("interval"), "must be at least 100ms");
      }
      if (od.latency_factor > 0 && od.latency_factor < 1) {
        // Below 1 a replica faster than its peers' median would be ejected.
        return yamlError(o.placeOf("latency_factor"), o.get("latency_factor"),
                         "must be 0 (no latency ejection) or at least 1");
      }
    }
    {
      DW_ASSIGN_OR_RETURN(YamlMap r,
                          YamlMap::make(upstream.get("retry"), upstream.placeOf("retry")));
      auto& rc = config.retry;
      DW_RETURN_IF_ERROR(parseInt(r, "max_attempts", 1, 10, &rc.max_attempts));
      DW_RETURN_IF_ERROR(r.number("budget_percent", 0, 100, &rc.budget_percent));
      DW_RETURN_IF_ERROR(
          parseInt(r, "min_retry_concurrency", 0, 1 << 20, &rc.min_retry_concurrency));
      DW_RETURN_IF_ERROR(r.boolean("on_reset", &rc.on_reset));
      DW_RETURN_IF_ERROR(r.finish());
    }
    DW_RETURN_IF_ERROR(upstream.finish());
  }

  DW_RETURN_IF_ERROR(map.string("state_dir", &config.state_dir));
  DW_RETURN_IF_ERROR(map.string("zone", &config.zone));
  {
    DW_ASSIGN_OR_RETURN(config.security,
                        security::parseSecurityConfig(map.get("security"), config.file));
  }
  config.alerting = map.get("alerting");
  config.control = map.get("control");
  DW_RETURN_IF_ERROR(parseObserve(map, &config.observe));

  YAML::Node models = map.get("models");
  YamlPlace models_place = map.placeOf("models");
  if (!models.IsSequence() || models.size() == 0) {
    return yamlError(models_place, models.Mark().is_null() ? root : models,
                     "must be a non-empty list of models");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < models.size(); ++i) {
    ModelConfig model;
    YamlPlace model_place{&config.file, fmt::format("models[{}]", i)};
    DW_RETURN_IF_ERROR(parseModel(models[i], model_place, &model));
    std::vector<std::string> all_names = model.aliases;
    all_names.push_back(model.name);
    for (const std::string& name : all_names) {
      if (!names.insert(name).second) {
        return yamlError(model_place, models[i],
                         fmt::format("the name '{}' is used by two models", name));
      }
    }
    config.models.push_back(std::move(model));
  }
  DW_RETURN_IF_ERROR(map.finish());
  if (config.api.port != 0 && config.api.port == config.admin.port &&
      config.api.host == config.admin.host) {
    return yamlError(map.placeOf("listeners"), map.get("listeners"),
                     "api and admin must listen on different ports");
  }
  return config;
}

ReplicaConfig launchedReplica(uint16_t port, std::string zone) {
  ReplicaConfig replica;
  replica.zone = std::move(zone);
  replica.url = "http://127.0.0.1:" + std::to_string(port);
  replica.host = "127.0.0.1";
  replica.port = port;
  return replica;
}

StatusOr<GatewayConfig> loadGatewayConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return notFound(fmt::format("{}: cannot read the configuration file", path));
  }
  std::stringstream content;
  content << in.rdbuf();
  return parseGatewayConfig(content.str(), path);
}

}  // namespace dw::gateway
