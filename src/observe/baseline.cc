#include "observe/baseline.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace dw::observe {

using json = nlohmann::ordered_json;

std::string Baseline::toJson() const {
  json out = {{"model", model},   {"version", version},   {"captured_at", captured_at},
              {"window", window}, {"requests", requests}, {"labels", labels}};
  json histograms_json = json::object();
  for (const auto& [name, counts] : histograms) {
    histograms_json[name] = counts;
  }
  out["histograms"] = std::move(histograms_json);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

StatusOr<Baseline> Baseline::fromJson(std::string_view text) {
  json in = json::parse(text.begin(), text.end(), nullptr, false);
  if (in.is_discarded() || !in.is_object()) {
    return invalidArgument("a baseline must be a JSON object");
  }
  Baseline baseline;
  auto string_field = [&](const char* key, std::string* out, bool required) -> Status {
    auto it = in.find(key);
    if (it == in.end()) {
      return required ? invalidArgument(std::string("baseline: '") + key + "' is required")
                      : okStatus();
    }
    if (!it->is_string()) {
      return invalidArgument(std::string("baseline: '") + key + "' must be a string");
    }
    *out = it->get<std::string>();
    return okStatus();
  };
  DW_RETURN_IF_ERROR(string_field("model", &baseline.model, true));
  DW_RETURN_IF_ERROR(string_field("version", &baseline.version, false));
  DW_RETURN_IF_ERROR(string_field("window", &baseline.window, false));
  if (auto it = in.find("captured_at"); it != in.end() && it->is_number_integer()) {
    baseline.captured_at = it->get<int64_t>();
  }
  if (auto it = in.find("requests"); it != in.end() && it->is_number_unsigned()) {
    baseline.requests = it->get<uint64_t>();
  }
  if (auto it = in.find("labels"); it != in.end()) {
    if (!it->is_array()) {
      return invalidArgument("baseline: 'labels' must be an array of strings");
    }
    for (const auto& label : *it) {
      if (!label.is_string()) {
        return invalidArgument("baseline: 'labels' must be an array of strings");
      }
      baseline.labels.push_back(label.get<std::string>());
    }
  }
  auto histograms = in.find("histograms");
  if (histograms == in.end() || !histograms->is_object()) {
    return invalidArgument("baseline: 'histograms' must be an object of arrays");
  }
  for (auto& [name, values] : histograms->items()) {
    if (!values.is_array()) {
      return invalidArgument("baseline: histogram '" + name + "' must be an array");
    }
    std::vector<double> counts;
    for (const auto& v : values) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
        return invalidArgument("baseline: histogram '" + name +
                               "' must hold finite, non-negative numbers");
      }
      counts.push_back(v.get<double>());
    }
    baseline.histograms[name] = std::move(counts);
  }
  return baseline;
}

}  // namespace dw::observe
