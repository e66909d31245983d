#include "model/recipe.h"

#include <fmt/format.h>

namespace dw::model {
namespace {

std::vector<Recipe> builtInRecipes() {
  std::vector<Recipe> recipes;
  {
    Recipe r;
    r.version = "v0";
    r.description = "bigram generator, 30% of the training split, Witten-Bell; the old release";
    r.train_slice = 0.3;
    r.ngram = {.order = 2, .discount = 0};
    r.bayes = {.alpha = 1.0, .uniform_prior = false};
    recipes.push_back(r);
  }
  {
    Recipe r;
    r.version = "v1";
    r.description = "trigram generator, Witten-Bell; word and CJK character features";
    r.ngram = {.order = 3, .discount = 0};
    r.bayes = {.alpha = 1.0, .uniform_prior = false};
    recipes.push_back(r);
  }
  {
    Recipe r;
    r.version = "v2";
    r.description =
        "4-gram generator, absolute discounting 0.75; CJK bigram features, lighter smoothing";
    r.ngram = {.order = 4, .discount = 0.75};
    r.bayes = {.alpha = 0.1, .uniform_prior = true};
    r.cjk_bigrams = true;
    recipes.push_back(r);
  }
  for (Recipe& r : recipes) {
    r.categories = defaultCategories();
  }
  return recipes;
}

}  // namespace

StatusOr<Quality> parseQuality(std::string_view text) {
  if (text == "normal") {
    return Quality::kNormal;
  }
  if (text == "degraded") {
    return Quality::kDegraded;
  }
  return invalidArgument(fmt::format("quality '{}' is not 'normal' or 'degraded'", text));
}

std::string_view qualityName(Quality quality) {
  return quality == Quality::kNormal ? "normal" : "degraded";
}

const std::vector<std::string>& defaultCategories() {
  static const std::vector<std::string> kCategories = {
      "chinese", "tang300", "computers", "science", "people", "politics", "work", "art"};
  return kCategories;
}

StatusOr<Recipe> findRecipe(std::string_view version) {
  for (Recipe& recipe : builtInRecipes()) {
    if (recipe.version == version) {
      return std::move(recipe);
    }
  }
  return notFound(fmt::format("no recipe for version '{}' (known: {})", version,
                              fmt::join(recipeNames(), ", ")));
}

std::vector<std::string> recipeNames() {
  std::vector<std::string> names;
  for (const Recipe& recipe : builtInRecipes()) {
    names.push_back(recipe.version);
  }
  return names;
}

}  // namespace dw::model
