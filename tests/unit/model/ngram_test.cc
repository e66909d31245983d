#include "model/ngram.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "base/random.h"
#include "model/vocabulary.h"

namespace dw::model {
namespace {

constexpr int kB = Vocabulary::kBegin;
// Ids 0..2 are reserved (unknown, end, begin); the corpus uses 3..8 and 9 is never seen.
constexpr int kVocabSize = 10;
constexpr int kUnseen = 9;

std::vector<std::vector<int>> tinyCorpus() {
  return {{3, 4, 5}, {3, 4, 6}, {4, 5, 7}, {3, 5}, {3, 4, 5, 8}, {6, 6, 6}};
}

std::vector<std::vector<int>> histories() {
  return {{}, {kB, kB}, {kB, 3}, {3, 4}, {4, 5}, {6, 6}, {8, 3}, {kUnseen, kUnseen}, {7}, {0, 0}};
}

class NgramSmoothingTest : public ::testing::TestWithParam<double> {};

TEST_P(NgramSmoothingTest, ProbabilitiesOverVocabularySumToOne) {
  for (int order : {1, 2, 3}) {
    NgramModel model = NgramModel::train(tinyCorpus(), kVocabSize,
                                         NgramOptions{.order = order, .discount = GetParam()});
    for (const std::vector<int>& history : histories()) {
      double sum = 0;
      for (int token = 0; token < kVocabSize; ++token) {
        sum += model.prob(history, token);
      }
      EXPECT_NEAR(sum, 1.0, 1e-9) << "order " << order << ", history size " << history.size();
    }
  }
}

TEST_P(NgramSmoothingTest, UnseenTokensHavePositiveProbability) {
  NgramModel model =
      NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = GetParam()});
  for (const std::vector<int>& history : histories()) {
    EXPECT_GT(model.prob(history, kUnseen), 0.0);
    EXPECT_GT(model.prob(history, Vocabulary::kUnknown), 0.0);
    // 7 is known but never follows "3 4".
    EXPECT_GT(model.prob(std::vector<int>{3, 4}, 7), 0.0);
  }
}

TEST_P(NgramSmoothingTest, ObservedContinuationBeatsUnobserved) {
  NgramModel model =
      NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = GetParam()});
  const std::vector<int> history = {3, 4};
  // "3 4" is followed by 5 twice and 6 once.
  EXPECT_GT(model.prob(history, 5), model.prob(history, 6));
  EXPECT_GT(model.prob(history, 6), model.prob(history, 7));
  EXPECT_GT(model.prob(history, 7), model.prob(history, kUnseen));
}

INSTANTIATE_TEST_SUITE_P(WittenBellAndAbsoluteDiscounting, NgramSmoothingTest,
                         ::testing::Values(0.0, 0.75));

TEST(NgramTest, WittenBellMatchesHandComputedUnigram) {
  // Order 1: P(w) = (c(w) + distinct * 1/V) / (total + distinct).
  NgramModel model =
      NgramModel::train({{3, 3, 4}}, kVocabSize, NgramOptions{.order = 1, .discount = 0});
  // Tokens 3, 3, 4 and the end marker: total 4, distinct 3.
  EXPECT_NEAR(model.prob({}, 3), (2 + 3.0 / kVocabSize) / 7, 1e-12);
  EXPECT_NEAR(model.prob({}, kUnseen), (3.0 / kVocabSize) / 7, 1e-12);
}

TEST(NgramTest, CandidatesAreSortedAndExcludeReservedStartTokens) {
  NgramModel model =
      NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = 0});
  std::vector<Candidate> candidates;
  model.candidates(std::vector<int>{3, 4}, &candidates);
  ASSERT_FALSE(candidates.empty());
  for (size_t i = 0; i < candidates.size(); ++i) {
    EXPECT_NE(candidates[i].token, Vocabulary::kBegin);
    EXPECT_NE(candidates[i].token, Vocabulary::kUnknown);
    EXPECT_DOUBLE_EQ(candidates[i].prob, model.prob(std::vector<int>{3, 4}, candidates[i].token));
    if (i > 0) {
      EXPECT_GE(candidates[i - 1].prob, candidates[i].prob);
    }
  }
  EXPECT_EQ(candidates.front().token, 5);
}

TEST(NgramTest, SampleAtTemperatureZeroReturnsMostProbable) {
  for (double discount : {0.0, 0.75}) {
    NgramModel model =
        NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = discount});
    Random random(1);
    std::vector<Candidate> scratch;
    for (const std::vector<int>& history : histories()) {
      // The most probable token over the whole vocabulary (reserved start tokens excluded).
      int best = -1;
      double best_prob = -1;
      for (int token = 0; token < kVocabSize; ++token) {
        if (token == Vocabulary::kBegin || token == Vocabulary::kUnknown) {
          continue;
        }
        double p = model.prob(history, token);
        if (p > best_prob) {
          best = token;
          best_prob = p;
        }
      }
      Candidate chosen = model.sample(history, 0.0, random, &scratch);
      EXPECT_EQ(chosen.token, best) << "history size " << history.size();
      EXPECT_DOUBLE_EQ(chosen.prob, best_prob);
    }
  }
}

TEST(NgramTest, SamplingWithSeededRandomIsReproducible) {
  NgramModel model =
      NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = 0.75});
  auto run = [&](uint64_t seed) {
    Random random(seed);
    std::vector<Candidate> scratch;
    std::vector<int> history = {kB, kB};
    std::vector<int> drawn;
    for (int i = 0; i < 200; ++i) {
      Candidate c = model.sample(history, 1.0, random, &scratch);
      drawn.push_back(c.token);
      history.push_back(c.token == Vocabulary::kEnd ? kB : c.token);
    }
    return drawn;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(NgramTest, SamplingDrawsMoreThanOneTokenAtTemperatureOne) {
  NgramModel model =
      NgramModel::train(tinyCorpus(), kVocabSize, NgramOptions{.order = 3, .discount = 0});
  Random random(7);
  std::vector<Candidate> scratch;
  std::vector<int> counts(kVocabSize, 0);
  for (int i = 0; i < 2000; ++i) {
    ++counts[model.sample(std::vector<int>{3, 4}, 1.0, random, &scratch).token];
  }
  // 5 is the most probable continuation of "3 4", and 6 follows it too.
  EXPECT_GT(counts[5], counts[6]);
  EXPECT_GT(counts[6], 0);
}

}  // namespace
}  // namespace dw::model
