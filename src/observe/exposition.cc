#include "observe/exposition.h"

#include <fmt/format.h>

#include <cmath>

namespace dw::observe {
namespace {

void appendEscaped(std::string& out, std::string_view value, bool is_help) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && !is_help) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

ExpositionFormat negotiateFormat(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos
             ? ExpositionFormat::kOpenMetrics
             : ExpositionFormat::kPrometheusText;
}

std::string_view contentType(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics ? kOpenMetricsContentType
                                                  : kPrometheusTextContentType;
}

void ExpositionWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  // Each family gets its own buffer, so that its samples stay together however the caller
  // interleaves them (both formats require a family's lines to be contiguous).
  auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
  if (!inserted) {
    out_ = &families_[it->second];
    return;
  }
  families_.emplace_back();
  out_ = &families_.back();
  if (format_ == ExpositionFormat::kOpenMetrics) {
    // OpenMetrics: TYPE before HELP, and a counter family is named without "_total".
    if (type == "counter" && name.ends_with("_total")) {
      name.remove_suffix(6);
    }
    *out_ += "# TYPE ";
    *out_ += name;
    out_->push_back(' ');
    *out_ += type == "untyped" ? "unknown" : type;
    *out_ += "\n# HELP ";
    *out_ += name;
    out_->push_back(' ');
    appendEscaped(*out_, help, true);
    out_->push_back('\n');
    return;
  }
  *out_ += "# HELP ";
  *out_ += name;
  out_->push_back(' ');
  appendEscaped(*out_, help, true);
  *out_ += "\n# TYPE ";
  *out_ += name;
  out_->push_back(' ');
  *out_ += type;
  out_->push_back('\n');
}

void ExpositionWriter::select(std::string_view sample_name) {
  auto find = [&](std::string_view name) -> std::string* {
    auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &families_[it->second];
  };
  std::string* family = find(sample_name);
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (family == nullptr && sample_name.ends_with(suffix)) {
      family = find(sample_name.substr(0, sample_name.size() - suffix.size()));
    }
  }
  out_ = family != nullptr ? family : &loose_;
}

std::string ExpositionWriter::release() {
  std::string out;
  for (std::string& family : families_) {
    out += family;
  }
  out += loose_;
  if (format_ == ExpositionFormat::kOpenMetrics) {
    out += "# EOF\n";
  }
  families_.clear();
  index_.clear();
  loose_.clear();
  out_ = &loose_;
  return out;
}

void ExpositionWriter::writeLabels(std::span<const Label> labels, std::string_view extra_name,
                                   std::string_view extra_value) {
  if (labels.size() == 0 && extra_name.empty()) {
    return;
  }
  out_->push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) {
      out_->push_back(',');
    }
    first = false;
    *out_ += name;
    *out_ += "=\"";
    appendEscaped(*out_, value, false);
    out_->push_back('"');
  };
  for (const auto& [name, value] : labels) {
    one(name, value);
  }
  if (!extra_name.empty()) {
    one(extra_name, extra_value);
  }
  out_->push_back('}');
}

void ExpositionWriter::writeValue(double value) {
  out_->push_back(' ');
  if (std::isnan(value)) {
    *out_ += "NaN";
  } else if (std::isinf(value)) {
    *out_ += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    *out_ += fmt::format("{}", static_cast<int64_t>(value));
  } else {
    *out_ += fmt::format("{}", value);
  }
  out_->push_back('\n');
}

void ExpositionWriter::sample(std::string_view name, Labels labels, double value) {
  select(name);
  *out_ += name;
  writeLabels(std::span<const Label>(labels.begin(), labels.size()));
  writeValue(value);
}

void ExpositionWriter::sampleList(std::string_view name, const std::vector<Label>& labels,
                                  double value) {
  select(name);
  *out_ += name;
  writeLabels(labels);
  writeValue(value);
}

void ExpositionWriter::histogram(std::string_view name, Labels labels,
                                 const stats::BucketHistogram& histogram) {
  select(name);
  const std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  const auto& bounds = histogram.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += histogram.bucketCount(i);
    std::string le = i < bounds.size() ? fmt::format("{}", bounds[i]) : "+Inf";
    *out_ += bucket_name;
    writeLabels(std::span<const Label>(labels.begin(), labels.size()), "le", le);
    writeValue(static_cast<double>(cumulative));
  }
  *out_ += name;
  *out_ += "_sum";
  writeLabels(std::span<const Label>(labels.begin(), labels.size()));
  writeValue(histogram.sum());
  *out_ += name;
  *out_ += "_count";
  writeLabels(std::span<const Label>(labels.begin(), labels.size()));
  writeValue(static_cast<double>(histogram.count()));
}

}  // namespace dw::observe
