// Writes the Prometheus text exposition format (version 0.0.4): HELP and TYPE lines, samples
// with escaped label values, classic histograms as _bucket/_sum/_count. Hand-written because it
// is a few lines of string building on a path that runs at every scrape, and it must write from
// our own shards without copying them into another library's registry first.
//
// Thread contract: an ExpositionWriter is used by one thread.
#pragma once

#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stats/bucket_histogram.h"

namespace dw::observe {

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

// The format a scraper asked for in its Accept header: OpenMetrics when it lists it (as
// Prometheus does, with the highest weight), else the 0.0.4 text format.
ExpositionFormat negotiateFormat(std::string_view accept);
std::string_view contentType(ExpositionFormat format);

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

class ExpositionWriter {
 public:
  explicit ExpositionWriter(ExpositionFormat format = ExpositionFormat::kPrometheusText)
      : format_(format) {}

  // type: "counter", "gauge", "histogram", "untyped". A counter's name ends in "_total" (as its
  // samples do); OpenMetrics names the family without it.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  // The same with labels built at run time.
  void sampleList(std::string_view name, const std::vector<Label>& labels, double value);
  void histogram(std::string_view name, Labels labels, const stats::BucketHistogram& histogram);

  // The exposition, terminated as its format requires (OpenMetrics: "# EOF").
  std::string release();

 private:
  void writeLabels(std::span<const Label> labels, std::string_view extra_name = {},
                   std::string_view extra_value = {});
  void writeValue(double value);

  // Points the output at the family a sample belongs to (by name, or minus _bucket, _sum,
  // _count); samples of undeclared families go last.
  void select(std::string_view sample_name);

  ExpositionFormat format_;
  std::deque<std::string> families_;  // Header and samples of each family, in declaration order.
  std::unordered_map<std::string, size_t> index_;
  std::string loose_;
  std::string* out_ = &loose_;
};

}  // namespace dw::observe
