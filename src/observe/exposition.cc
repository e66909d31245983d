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

void ExpositionWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_.push_back(' ');
  appendEscaped(out_, help, true);
  out_ += "\n# TYPE ";
  out_ += name;
  out_.push_back(' ');
  out_ += type;
  out_.push_back('\n');
}

void ExpositionWriter::writeLabels(Labels labels, std::string_view extra_name,
                                   std::string_view extra_value) {
  if (labels.size() == 0 && extra_name.empty()) {
    return;
  }
  out_.push_back('{');
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) {
      out_.push_back(',');
    }
    first = false;
    out_ += name;
    out_ += "=\"";
    appendEscaped(out_, value, false);
    out_.push_back('"');
  };
  for (const auto& [name, value] : labels) {
    one(name, value);
  }
  if (!extra_name.empty()) {
    one(extra_name, extra_value);
  }
  out_.push_back('}');
}

void ExpositionWriter::writeValue(double value) {
  out_.push_back(' ');
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out_ += fmt::format("{}", static_cast<int64_t>(value));
  } else {
    out_ += fmt::format("{}", value);
  }
  out_.push_back('\n');
}

void ExpositionWriter::sample(std::string_view name, Labels labels, double value) {
  out_ += name;
  writeLabels(labels);
  writeValue(value);
}

void ExpositionWriter::histogram(std::string_view name, Labels labels,
                                 const stats::BucketHistogram& histogram) {
  const std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  const auto& bounds = histogram.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += histogram.bucketCount(i);
    std::string le = i < bounds.size() ? fmt::format("{}", bounds[i]) : "+Inf";
    out_ += bucket_name;
    writeLabels(labels, "le", le);
    writeValue(static_cast<double>(cumulative));
  }
  out_ += name;
  out_ += "_sum";
  writeLabels(labels);
  writeValue(histogram.sum());
  out_ += name;
  out_ += "_count";
  writeLabels(labels);
  writeValue(static_cast<double>(histogram.count()));
}

}  // namespace dw::observe
