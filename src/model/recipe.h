// Recipes: what makes one reference model version differ from another (n-gram order, training
// slice, smoothing, classifier features). `deepwatch model serve --version ID` picks one, so
// versions of the reference fleet really differ in quality and latency profile.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/naive_bayes.h"
#include "model/ngram.h"

namespace dw::model {

enum class Quality { kNormal, kDegraded };

StatusOr<Quality> parseQuality(std::string_view text);
std::string_view qualityName(Quality quality);

struct Recipe {
  std::string version;
  std::string description;
  std::vector<std::string> categories;
  size_t max_per_category = 2000;
  double train_slice = 1.0;  // Share of the training split that this version learns from.
  NgramOptions ngram;
  NaiveBayesOptions bayes;
  bool cjk_bigrams = false;
  // Every version holds out the same documents, so that accuracies compare across versions.
  uint64_t split_seed = 0x6465657077617463ULL;
  double held_out_fraction = 0.2;
};

// The degraded variant's training labels: this share of the documents is relabelled as the
// next category, as a broken labelling pipeline would. It lowers held-out accuracy measurably.
inline constexpr double kDegradedLabelNoise = 0.45;

// The categories that every built-in recipe classifies into.
const std::vector<std::string>& defaultCategories();

// A built-in recipe by version id ("v1", "v2", ...).
StatusOr<Recipe> findRecipe(std::string_view version);
std::vector<std::string> recipeNames();

}  // namespace dw::model
