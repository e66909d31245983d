// Writes the Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, samples
// with escaped label values, classic histograms as _bucket/_sum/_count. Hand-written because it
// is a few lines of string building on a path that runs at every scrape, and it must write from
// our own shards without copying them into another library's registry first.
//
// Thread contract: an ExpositionWriter is used by one thread.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "stats/bucket_histogram.h"

namespace dw::observe {

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

class ExpositionWriter {
 public:
  // type: "counter", "gauge", "histogram", "untyped".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  void histogram(std::string_view name, Labels labels, const stats::BucketHistogram& histogram);

  const std::string& text() const { return out_; }
  std::string release() { return std::move(out_); }

 private:
  void writeLabels(Labels labels, std::string_view extra_name = {},
                   std::string_view extra_value = {});
  void writeValue(double value);

  std::string out_;
};

}  // namespace dw::observe
