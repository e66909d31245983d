#include "observe/prom_text.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace dw::observe {
namespace {

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

bool parseValue(std::string_view text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = INFINITY;
    return true;
  }
  if (text == "-Inf") {
    *out = -INFINITY;
    return true;
  }
  if (text == "NaN") {
    *out = NAN;
    return true;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Parses one sample line; false when it is malformed.
bool parseLine(std::string_view line, PromSample* out) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    ++i;
  }
  if (i >= line.size() || !isNameStart(line[i])) {
    return false;
  }
  size_t start = i;
  while (i < line.size() && isNameChar(line[i])) {
    ++i;
  }
  out->name.assign(line.substr(start, i - start));
  out->labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    for (;;) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) {
        ++i;
      }
      if (i >= line.size()) {
        return false;
      }
      if (line[i] == '}') {
        ++i;
        break;
      }
      size_t name_start = i;
      while (i < line.size() && isNameChar(line[i])) {
        ++i;
      }
      if (i == name_start || i >= line.size() || line[i] != '=') {
        return false;
      }
      std::string label(line.substr(name_start, i - name_start));
      ++i;
      if (i >= line.size() || line[i] != '"') {
        return false;
      }
      ++i;
      std::string value;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '\\' && i < line.size()) {
          char e = line[i++];
          value.push_back(e == 'n' ? '\n' : e);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value.push_back(c);
        }
      }
      if (!closed || out->labels.size() >= 64) {
        return false;
      }
      out->labels.emplace_back(std::move(label), std::move(value));
    }
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    ++i;
  }
  size_t value_start = i;
  while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
    ++i;
  }
  return parseValue(line.substr(value_start, i - value_start), &out->value);
}

}  // namespace

std::vector<PromSample> parsePrometheusText(std::string_view text, size_t max_samples) {
  std::vector<PromSample> samples;
  size_t pos = 0;
  PromSample sample;
  while (pos < text.size() && samples.size() < max_samples) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (parseLine(line, &sample)) {
      samples.push_back(sample);
    }
  }
  return samples;
}

EngineResources mapEngineMetrics(const std::vector<PromSample>& samples) {
  EngineResources out;
  auto add = [](double* field, double v) {
    if (std::isfinite(v)) {
      *field = std::isnan(*field) ? v : *field + v;
    }
  };
  double kv_sum = 0;
  int kv_count = 0;
  double gpu_util_sum = 0;
  int gpu_util_count = 0;
  for (const PromSample& s : samples) {
    const std::string& n = s.name;
    if (n == "vllm:num_requests_waiting" || n == "sglang:num_queue_reqs" ||
        n == "llamacpp:requests_deferred") {
      add(&out.queue_length, s.value);
    } else if (n == "vllm:num_requests_running" || n == "sglang:num_running_reqs" ||
               n == "llamacpp:requests_processing") {
      add(&out.running_requests, s.value);
    } else if (n == "vllm:kv_cache_usage_perc" || n == "vllm:gpu_cache_usage_perc" ||
               n == "sglang:token_usage" || n == "llamacpp:kv_cache_usage_ratio") {
      // All 0..1 despite "_perc" (ECOSYSTEM.md 2.4); engines and data-parallel ranks average.
      if (std::isfinite(s.value)) {
        kv_sum += s.value;
        ++kv_count;
      }
    } else if (n == "DCGM_FI_DEV_GPU_UTIL") {
      if (std::isfinite(s.value)) {
        gpu_util_sum += s.value / 100.0;  // Percent.
        ++gpu_util_count;
      }
    } else if (n == "DCGM_FI_DEV_FB_USED") {
      add(&out.gpu_memory_used_bytes, s.value * 1024 * 1024);  // MiB.
    }
  }
  if (kv_count > 0) {
    out.kv_cache_usage_ratio = kv_sum / kv_count;
  }
  if (gpu_util_count > 0) {
    out.gpu_utilization_ratio = gpu_util_sum / gpu_util_count;
  }
  return out;
}

}  // namespace dw::observe
