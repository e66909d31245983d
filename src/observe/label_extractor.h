// Takes the label of an output for the label drift index (R1.2): the whole content (the
// reference model's classification answers), the finish reason, a field of JSON content, or a
// regular expression's first group. Labels outside the configured set count as "other", so the
// label dimension stays bounded.
//
// Thread contract: immutable after construction; safe to share between workers.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "observe/config.h"
#include "observe/output_scanner.h"

namespace re2 {
class RE2;
}

namespace dw::observe {

class LabelExtractor {
 public:
  static StatusOr<std::unique_ptr<LabelExtractor>> create(const LabelConfig& config);
  ~LabelExtractor();

  // The label slot of an output: the index of its label in the configured values, or
  // otherSlot() when it has none of them.
  int slot(const OutputFeatures& output) const;
  int otherSlot() const { return static_cast<int>(values_.size()); }
  const std::vector<std::string>& values() const { return values_; }

 private:
  LabelExtractor() = default;
  int lookup(std::string_view label) const;

  LabelConfig config_;
  std::vector<std::string> values_;
  std::unique_ptr<re2::RE2> regex_;
};

}  // namespace dw::observe
