#include "model/faults.h"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

namespace dw::model {

using nlohmann::json;

StatusOr<LatencyDistribution> parseLatencyDistribution(std::string_view text) {
  if (text == "fixed") {
    return LatencyDistribution::kFixed;
  }
  if (text == "uniform") {
    return LatencyDistribution::kUniform;
  }
  if (text == "normal") {
    return LatencyDistribution::kNormal;
  }
  if (text == "exponential") {
    return LatencyDistribution::kExponential;
  }
  return invalidArgument(
      fmt::format("distribution '{}' is not fixed, uniform, normal or exponential", text));
}

namespace {

std::string_view distributionName(LatencyDistribution d) {
  switch (d) {
    case LatencyDistribution::kFixed:
      return "fixed";
    case LatencyDistribution::kUniform:
      return "uniform";
    case LatencyDistribution::kNormal:
      return "normal";
    case LatencyDistribution::kExponential:
      return "exponential";
  }
  return "fixed";
}

// An integer field within [min, max]; false for other types, fractions and values out of range
// (checked before any narrowing, so 2^32 + 500 is not read as 500).
bool integerIn(const json& value, int64_t min, int64_t max, int64_t* out) {
  if (!value.is_number_integer()) {
    return false;
  }
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(max)) {
      return false;
    }
    *out = static_cast<int64_t>(v);
    return *out >= min;
  }
  *out = value.get<int64_t>();
  return *out >= min && *out <= max;
}

StatusOr<Duration> durationField(const json& value, std::string_view key) {
  if (value.is_number()) {
    // Milliseconds, bounded like parseDuration (1e18 ns).
    const double ms = value.get<double>();
    if (!(ms >= 0 && ms <= 1e12)) {
      return invalidArgument(fmt::format("'{}' must be from 0 to 1e12 milliseconds", key));
    }
    return Duration(static_cast<int64_t>(ms * 1e6));
  }
  if (!value.is_string()) {
    return invalidArgument(fmt::format("'{}' must be a duration such as \"200ms\"", key));
  }
  auto parsed = parseDuration(value.get<std::string>());
  if (!parsed.ok()) {
    return parsed.status().withContext(key);
  }
  return parsed;
}

}  // namespace

StatusOr<Faults> applyFaultJson(const Faults& current, std::string_view body, bool* crash_now) {
  *crash_now = false;
  json object = json::parse(body.begin(), body.end(), nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return invalidArgument("the fault body must be a JSON object");
  }
  Faults faults = current;
  if (auto it = object.find("clear"); it != object.end()) {
    if (!it->is_boolean()) {
      return invalidArgument("'clear' must be a boolean");
    }
    if (it->get<bool>()) {
      faults = Faults();
    }
  }
  for (auto& [key, value] : object.items()) {
    if (key == "clear") {
      continue;
    }
    if (key == "latency" || key == "jitter") {
      DW_ASSIGN_OR_RETURN(Duration d, durationField(value, key));
      (key == "latency" ? faults.latency : faults.jitter) = d;
    } else if (key == "distribution") {
      if (!value.is_string()) {
        return invalidArgument("'distribution' must be a string");
      }
      DW_ASSIGN_OR_RETURN(faults.distribution, parseLatencyDistribution(value.get<std::string>()));
    } else if (key == "error_rate") {
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1) {
        return invalidArgument("'error_rate' must be a number between 0 and 1");
      }
      faults.error_rate = value.get<double>();
    } else if (key == "error_status") {
      int64_t status = 0;
      if (!integerIn(value, 400, 599, &status)) {
        return invalidArgument("'error_status' must be an HTTP status from 400 to 599");
      }
      faults.error_status = static_cast<int>(status);
    } else if (key == "crash") {
      if (value.is_string() && value.get<std::string>() == "now") {
        *crash_now = true;
      } else if (int64_t after = 0; value.is_object() && value.contains("after") &&
                                    integerIn(value["after"], 0, INT32_MAX, &after)) {
        faults.crash_after = static_cast<int>(after);
      } else {
        return invalidArgument("'crash' must be \"now\" or {\"after\": N}");
      }
    } else if (key == "hang") {
      if (!value.is_boolean()) {
        return invalidArgument("'hang' must be a boolean");
      }
      faults.hang = value.get<bool>();
    } else if (key == "unavailable") {
      if (!value.is_boolean()) {
        return invalidArgument("'unavailable' must be a boolean");
      }
      faults.unavailable = value.get<bool>();
    } else if (key == "quality") {
      if (!value.is_string()) {
        return invalidArgument("'quality' must be \"normal\" or \"degraded\"");
      }
      DW_ASSIGN_OR_RETURN(faults.quality, parseQuality(value.get<std::string>()));
    } else {
      return invalidArgument(fmt::format("unknown fault '{}'", key));
    }
  }
  return faults;
}

std::string faultsJson(const Faults& faults) {
  json out = {
      {"latency", formatDuration(faults.latency)},
      {"jitter", formatDuration(faults.jitter)},
      {"distribution", distributionName(faults.distribution)},
      {"error_rate", faults.error_rate},
      {"error_status", faults.error_status},
      {"crash_after", faults.crash_after},
      {"hang", faults.hang},
      {"unavailable", faults.unavailable},
      {"quality", qualityName(faults.quality)},
  };
  return out.dump();
}

Duration sampleLatency(const Faults& faults, Random& random) {
  const double mean = static_cast<double>(faults.latency.count());
  const double jitter = static_cast<double>(faults.jitter.count());
  double ns = mean;
  switch (faults.distribution) {
    case LatencyDistribution::kFixed:
      break;
    case LatencyDistribution::kUniform:
      ns = mean + (random.uniform() * 2 - 1) * jitter;
      break;
    case LatencyDistribution::kNormal: {
      std::normal_distribution<double> normal(mean, jitter);
      ns = normal(random);
      break;
    }
    case LatencyDistribution::kExponential: {
      ns = mean > 0 ? -mean * std::log(1 - random.uniform()) : 0;
      break;
    }
  }
  return Duration(static_cast<int64_t>(std::max(ns, 0.0)));
}

}  // namespace dw::model
