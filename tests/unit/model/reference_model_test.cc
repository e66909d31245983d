#include "model/reference_model.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/corpus.h"
#include "model/recipe.h"

namespace dw::model {
namespace {

// Trains v1 on the installed fortune corpus once for the whole suite (training takes seconds).
class ReferenceModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    StatusOr<Recipe> recipe = findRecipe("v1");
    ASSERT_TRUE(recipe.ok()) << recipe.status().toString();
    StatusOr<Corpus> corpus =
        loadCorpus(kDefaultFortuneDir, recipe->categories, recipe->max_per_category);
    ASSERT_TRUE(corpus.ok()) << corpus.status().toString();
    StatusOr<std::unique_ptr<ReferenceModel>> model = ReferenceModel::train(*corpus, *recipe);
    ASSERT_TRUE(model.ok()) << model.status().toString();
    model_ = std::move(model).value().release();
  }

  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(model_, nullptr) << "training failed in SetUpTestSuite"; }

  struct Result {
    std::string text;
    std::vector<GeneratedToken> tokens;
    std::string finish_reason;
  };

  static Result run(std::string_view prompt, const GenerationParams& params) {
    Generation generation = model_->generate(prompt, params);
    Result result;
    GeneratedToken token;
    while (generation.next(&token)) {
      result.text += token.text;
      result.tokens.push_back(token);
    }
    result.finish_reason = std::string(generation.finishReason());
    // Text that may begin a stop sequence is held back and returned with a later token, and a
    // token cut to nothing by a stop sequence is counted but not returned: never more pieces
    // than tokens.
    EXPECT_GE(generation.generatedTokens(), static_cast<int>(result.tokens.size()));
    return result;
  }

  static ReferenceModel* model_;
};

ReferenceModel* ReferenceModelTest::model_ = nullptr;

TEST(RecipeTest, UnknownVersionIsNotFound) {
  StatusOr<Recipe> recipe = findRecipe("nope");
  ASSERT_FALSE(recipe.ok());
  EXPECT_EQ(recipe.status().code(), StatusCode::kNotFound);
}

TEST(RecipeTest, BuiltInVersionsExistWithDefaultCategories) {
  for (const char* version : {"v0", "v1", "v2"}) {
    StatusOr<Recipe> recipe = findRecipe(version);
    ASSERT_TRUE(recipe.ok()) << version;
    EXPECT_EQ(recipe->version, version);
    EXPECT_EQ(recipe->categories, defaultCategories());
  }
}

TEST_F(ReferenceModelTest, KeepsRecipeLabelsAndHeldOutSplit) {
  EXPECT_EQ(model_->recipe().version, "v1");
  EXPECT_EQ(model_->labels(), defaultCategories());
  EXPECT_FALSE(model_->heldOut().empty());
  EXPECT_GT(model_->trainingDocuments(), model_->heldOut().size());
}

TEST_F(ReferenceModelTest, HeldOutAccuracyOfV1IsAtLeastSixtyPercent) {
  Evaluation evaluation = model_->evaluate(model_->heldOut(), Quality::kNormal);
  EXPECT_EQ(evaluation.documents, model_->heldOut().size());
  // Measured 0.658 on the Debian fortunes and fortunes-zh packages.
  EXPECT_GE(evaluation.accuracy, 0.60);
  EXPECT_EQ(evaluation.per_class_accuracy.size(), model_->labels().size());
}

TEST_F(ReferenceModelTest, DegradedQualityIsMeasurablyWorse) {
  Evaluation normal = model_->evaluate(model_->heldOut(), Quality::kNormal);
  Evaluation degraded = model_->evaluate(model_->heldOut(), Quality::kDegraded);
  // Measured about 0.36-0.37 against 0.658.
  EXPECT_LE(degraded.accuracy, normal.accuracy - 0.15);
}

TEST_F(ReferenceModelTest, PerplexityIsFiniteAndBounded) {
  Evaluation evaluation = model_->evaluate(model_->heldOut(), Quality::kNormal);
  EXPECT_TRUE(std::isfinite(evaluation.perplexity));
  EXPECT_GT(evaluation.perplexity, 1.0);
  EXPECT_LT(evaluation.perplexity, 400.0);
}

TEST_F(ReferenceModelTest, ClassifiesTangPoemAsChinese) {
  Classification result = model_->classify("床前明月光，疑是地上霜。", Quality::kNormal);
  ASSERT_EQ(result.ranked.size(), model_->labels().size());
  EXPECT_TRUE(result.label() == "chinese" || result.label() == "tang300") << result.label();
  double sum = 0;
  for (size_t i = 0; i < result.ranked.size(); ++i) {
    sum += std::exp(result.ranked[i].logprob);
    if (i > 0) {
      EXPECT_GE(result.ranked[i - 1].logprob, result.ranked[i].logprob);
    }
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_EQ(result.logprob(), result.ranked.front().logprob);
}

TEST_F(ReferenceModelTest, CountTokensMatchesTokenizer) {
  EXPECT_EQ(model_->countTokens("Hello, world!"), 4);
  EXPECT_EQ(model_->countTokens(""), 0);
}

TEST_F(ReferenceModelTest, SameSeedGivesSameGeneration) {
  GenerationParams params;
  params.max_tokens = 40;
  params.temperature = 1.0;
  params.seed = 1234;
  Result first = run("The computer", params);
  Result second = run("The computer", params);
  EXPECT_FALSE(first.tokens.empty());
  EXPECT_EQ(first.text, second.text);
  EXPECT_EQ(first.finish_reason, second.finish_reason);
  ASSERT_EQ(first.tokens.size(), second.tokens.size());
  for (size_t i = 0; i < first.tokens.size(); ++i) {
    EXPECT_EQ(first.tokens[i].logprob, second.tokens[i].logprob);
  }
}

TEST_F(ReferenceModelTest, DifferentSeedsGiveDifferentGenerations) {
  GenerationParams params;
  params.max_tokens = 40;
  std::vector<std::string> texts;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    params.seed = seed;
    texts.push_back(run("The", params).text);
  }
  bool any_different = false;
  for (const std::string& text : texts) {
    any_different = any_different || text != texts.front();
  }
  EXPECT_TRUE(any_different);
}

TEST_F(ReferenceModelTest, MaxTokensIsRespectedWithFinishReasonLength) {
  GenerationParams params;
  params.max_tokens = 8;
  int reached_length = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    params.seed = seed;
    Result result = run("The", params);
    EXPECT_LE(result.tokens.size(), 8u);
    if (result.tokens.size() == 8u) {
      EXPECT_EQ(result.finish_reason, "length") << "seed " << seed;
      ++reached_length;
    } else {
      EXPECT_EQ(result.finish_reason, "stop") << "seed " << seed;
    }
  }
  EXPECT_GT(reached_length, 0);
}

TEST_F(ReferenceModelTest, FinishedGenerationStaysFinished) {
  GenerationParams params;
  params.max_tokens = 2;
  params.seed = 3;
  Generation generation = model_->generate("The", params);
  GeneratedToken token;
  while (generation.next(&token)) {
  }
  std::string_view reason = generation.finishReason();
  EXPECT_FALSE(reason.empty());
  EXPECT_FALSE(generation.next(&token));
  EXPECT_EQ(generation.finishReason(), reason);
}

TEST_F(ReferenceModelTest, StopSequenceCutsTextWithFinishReasonStop) {
  GenerationParams params;
  params.max_tokens = 60;
  params.seed = 77;
  Result full = run("Computers", params);
  ASSERT_GE(full.tokens.size(), 6u) << full.text;
  // A stop string taken from the middle of the unconstrained text: the same seed draws the same
  // tokens, so the constrained text is the unconstrained one cut before the first occurrence.
  std::string stop = full.tokens[4].text;
  params.stop = {"\x01never appears\x01", stop};
  Result cut = run("Computers", params);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.text.find(stop), std::string::npos);
}

// Bug: Generation::next (src/model/reference_model.cc) only cuts the token that completes a stop
// sequence; when the sequence spans tokens, the tokens holding its start were already returned.
// With seed 77 and prompt "Computers" the text is " are useless. I say ..."; stop " say" + the
// next token yields " are useless. I say" instead of " are useless. I". Enable once next() holds
// back text that may be the start of a stop sequence.
TEST_F(ReferenceModelTest, StopSequenceSpanningTokensIsNotReturnedInPart) {
  GenerationParams params;
  params.max_tokens = 60;
  params.seed = 77;
  Result full = run("Computers", params);
  ASSERT_GE(full.tokens.size(), 6u) << full.text;
  std::string stop = full.tokens[4].text + full.tokens[5].text;
  params.stop = {stop};
  Result cut = run("Computers", params);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
}

TEST_F(ReferenceModelTest, StopSequenceInsideATokenCutsWithinIt) {
  GenerationParams params;
  params.max_tokens = 60;
  params.seed = 5;
  Result full = run("The", params);
  // The last byte of the first multi-byte token after the first one: the stop string starts
  // inside a token, so that token is cut rather than dropped.
  std::string stop;
  for (size_t i = 1; i < full.tokens.size() && stop.empty(); ++i) {
    const std::string& text = full.tokens[i].text;
    if (text.size() >= 2 && static_cast<unsigned char>(text.back()) < 0x80) {
      stop = text.substr(text.size() - 1);
    }
  }
  ASSERT_FALSE(stop.empty()) << full.text;
  params.stop = {stop};
  Result cut = run("The", params);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
}

TEST_F(ReferenceModelTest, LogprobsAreNonPositiveAndAlternativesSorted) {
  GenerationParams params;
  params.max_tokens = 30;
  params.seed = 11;
  params.top_logprobs = 5;
  Result result = run("The meaning of life", params);
  ASSERT_FALSE(result.tokens.empty());
  for (const GeneratedToken& token : result.tokens) {
    EXPECT_LE(token.logprob, 0.0);
    EXPECT_TRUE(std::isfinite(token.logprob));
    ASSERT_FALSE(token.top.empty());
    EXPECT_LE(token.top.size(), 5u);
    EXPECT_LE(token.logprob, token.top.front().logprob);
    for (size_t i = 0; i < token.top.size(); ++i) {
      EXPECT_LE(token.top[i].logprob, 0.0);
      if (i > 0) {
        EXPECT_GE(token.top[i - 1].logprob, token.top[i].logprob);
      }
    }
  }
}

TEST_F(ReferenceModelTest, NoAlternativesUnlessAsked) {
  GenerationParams params;
  params.max_tokens = 5;
  params.seed = 2;
  for (const GeneratedToken& token : run("The", params).tokens) {
    EXPECT_TRUE(token.top.empty());
  }
}

TEST_F(ReferenceModelTest, TemperatureZeroIsGreedyAndSeedIndependent) {
  GenerationParams params;
  params.max_tokens = 20;
  params.temperature = 0;
  params.seed = 1;
  Result a = run("The", params);
  params.seed = 999;
  Result b = run("The", params);
  EXPECT_EQ(a.text, b.text);
}

TEST_F(ReferenceModelTest, TrimLeadingSpaceDropsOnlyTheFirstSpace) {
  GenerationParams params;
  params.max_tokens = 20;
  params.seed = 4;
  Result kept = run("Hello", params);
  params.trim_leading_space = true;
  Result trimmed = run("Hello", params);
  ASSERT_FALSE(kept.text.empty());
  if (kept.text.front() == ' ') {
    EXPECT_EQ(trimmed.text, kept.text.substr(1));
  } else {
    EXPECT_EQ(trimmed.text, kept.text);
  }
}

double norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) {
    sum += static_cast<double>(x) * x;
  }
  return std::sqrt(sum);
}

TEST_F(ReferenceModelTest, EmbeddingsAreUnitLengthOfRequestedDimension) {
  for (int dimensions : {1, 16, 256, 1536}) {
    std::vector<float> v = model_->embed("The quick brown fox jumps over the lazy dog", dimensions);
    ASSERT_EQ(v.size(), static_cast<size_t>(dimensions));
    EXPECT_NEAR(norm(v), 1.0, 1e-5) << dimensions;
  }
  EXPECT_NEAR(norm(model_->embed("床前明月光", 64)), 1.0, 1e-5);
}

TEST_F(ReferenceModelTest, IdenticalTextsEmbedIdentically) {
  EXPECT_EQ(model_->embed("hello world", 128), model_->embed("hello world", 128));
  EXPECT_NE(model_->embed("hello world", 128), model_->embed("quantum chromodynamics", 128));
}

}  // namespace
}  // namespace dw::model
