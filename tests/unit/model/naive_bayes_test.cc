#include "model/naive_bayes.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::model {
namespace {

using Features = std::vector<std::string>;

// Class 0 is fruit (2 documents), class 1 is animals (3 documents).
NaiveBayes trainTiny(NaiveBayesOptions options) {
  std::vector<Features> documents = {
      {"apple", "banana", "sweet"}, {"apple", "cherry"}, {"dog", "cat"}, {"dog", "mouse"}, {"cat"},
  };
  return NaiveBayes::train(documents, {0, 0, 1, 1, 1}, 2, options);
}

double probabilitySum(const std::vector<double>& log_posterior) {
  double sum = 0;
  for (double lp : log_posterior) {
    sum += std::exp(lp);
  }
  return sum;
}

TEST(NaiveBayesTest, PosteriorSumsToOne) {
  NaiveBayes model = trainTiny({});
  EXPECT_EQ(model.numClasses(), 2);
  for (const Features& features : std::vector<Features>{
           {"apple"}, {"dog", "cat"}, {"apple", "dog"}, {"sweet", "sweet", "sweet"}, {}}) {
    std::vector<double> posterior = model.logPosterior(features);
    ASSERT_EQ(posterior.size(), 2u);
    EXPECT_NEAR(probabilitySum(posterior), 1.0, 1e-9);
    for (double lp : posterior) {
      EXPECT_LE(lp, 0.0);
    }
  }
}

TEST(NaiveBayesTest, PicksTheRightClass) {
  NaiveBayes model = trainTiny({});
  std::vector<double> fruit = model.logPosterior({"apple", "cherry"});
  EXPECT_GT(fruit[0], fruit[1]);
  std::vector<double> animal = model.logPosterior({"dog", "mouse"});
  EXPECT_GT(animal[1], animal[0]);
  // Repeated evidence sharpens the posterior.
  EXPECT_GT(model.logPosterior({"apple", "apple", "apple"})[0], model.logPosterior({"apple"})[0]);
}

TEST(NaiveBayesTest, UnseenFeaturesCarryNoEvidence) {
  NaiveBayes model = trainTiny({});
  // Prior with add-one smoothing of class counts: (2 + 1) / (5 + 2) and (3 + 1) / (5 + 2).
  std::vector<double> prior = model.logPosterior({});
  EXPECT_NEAR(prior[0], std::log(3.0 / 7.0), 1e-9);
  EXPECT_NEAR(prior[1], std::log(4.0 / 7.0), 1e-9);
  std::vector<double> unseen = model.logPosterior({"zebra", "quantum"});
  EXPECT_NEAR(unseen[0], prior[0], 1e-12);
  EXPECT_NEAR(unseen[1], prior[1], 1e-12);
  // Mixed in with known features, unseen ones change nothing either.
  std::vector<double> known = model.logPosterior({"apple"});
  std::vector<double> mixed = model.logPosterior({"zebra", "apple", "quantum"});
  EXPECT_NEAR(mixed[0], known[0], 1e-12);
  EXPECT_NEAR(mixed[1], known[1], 1e-12);
}

TEST(NaiveBayesTest, UniformPriorIgnoresClassFrequencies) {
  NaiveBayes model = trainTiny({.alpha = 1.0, .uniform_prior = true});
  std::vector<double> prior = model.logPosterior({"zebra"});
  EXPECT_NEAR(prior[0], std::log(0.5), 1e-12);
  EXPECT_NEAR(prior[1], std::log(0.5), 1e-12);
  // The evidence still decides.
  std::vector<double> fruit = model.logPosterior({"banana"});
  EXPECT_GT(fruit[0], fruit[1]);
}

TEST(NaiveBayesTest, LighterSmoothingGivesSharperPosterior) {
  NaiveBayes heavy = trainTiny({.alpha = 1.0, .uniform_prior = true});
  NaiveBayes light = trainTiny({.alpha = 0.1, .uniform_prior = true});
  EXPECT_GT(light.logPosterior({"apple"})[0], heavy.logPosterior({"apple"})[0]);
}

TEST(NaiveBayesTest, HandlesManyClasses) {
  std::vector<Features> documents;
  std::vector<int> labels;
  for (int c = 0; c < 5; ++c) {
    documents.push_back({"topic" + std::to_string(c), "common"});
    labels.push_back(c);
  }
  NaiveBayes model = NaiveBayes::train(documents, labels, 5, {});
  for (int c = 0; c < 5; ++c) {
    std::vector<double> posterior = model.logPosterior({"topic" + std::to_string(c)});
    EXPECT_NEAR(probabilitySum(posterior), 1.0, 1e-9);
    for (int other = 0; other < 5; ++other) {
      if (other != c) {
        EXPECT_GT(posterior[c], posterior[other]);
      }
    }
  }
}

}  // namespace
}  // namespace dw::model
