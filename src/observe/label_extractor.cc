#include "observe/label_extractor.h"

#include <re2/re2.h>

#include <nlohmann/json.hpp>

#include "observe/layout.h"

namespace dw::observe {

LabelExtractor::~LabelExtractor() = default;

StatusOr<std::unique_ptr<LabelExtractor>> LabelExtractor::create(const LabelConfig& config) {
  std::unique_ptr<LabelExtractor> extractor(new LabelExtractor());
  extractor->config_ = config;
  extractor->values_ = config.values;
  if (extractor->values_.size() > static_cast<size_t>(kMaxLabels)) {
    return invalidArgument("at most " + std::to_string(kMaxLabels) + " labels can be tracked");
  }
  if (config.source == LabelSource::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    extractor->regex_ = std::make_unique<re2::RE2>(config.regex, options);
    if (!extractor->regex_->ok()) {
      return invalidArgument("invalid label regex: " + extractor->regex_->error());
    }
  }
  return extractor;
}

int LabelExtractor::lookup(std::string_view label) const {
  for (size_t i = 0; i < values_.size(); ++i) {
    if (values_[i] == label) {
      return static_cast<int>(i);
    }
  }
  return otherSlot();
}

int LabelExtractor::slot(const OutputFeatures& output) const {
  if (values_.empty()) {
    return otherSlot();
  }
  switch (config_.source) {
    case LabelSource::kFinishReason:
      return lookup(output.finish_reason);
    case LabelSource::kContent: {
      std::string_view text = output.label_text;
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
      }
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
      }
      return lookup(text);
    }
    case LabelSource::kJsonField: {
      auto json = nlohmann::json::parse(output.label_text, nullptr, false);
      if (json.is_object()) {
        auto it = json.find(config_.field);
        if (it != json.end() && it->is_string()) {
          return lookup(it->get<std::string>());
        }
      }
      return otherSlot();
    }
    case LabelSource::kRegex: {
      std::string captured;
      if (regex_->NumberOfCapturingGroups() > 0) {
        if (re2::RE2::PartialMatch(output.label_text, *regex_, &captured)) {
          return lookup(captured);
        }
        return otherSlot();
      }
      re2::StringPiece input(output.label_text);
      re2::StringPiece match;
      if (regex_->Match(input, 0, input.size(), re2::RE2::UNANCHORED, &match, 1)) {
        return lookup(std::string_view(match.data(), match.size()));
      }
      return otherSlot();
    }
  }
  return otherSlot();
}

}  // namespace dw::observe
