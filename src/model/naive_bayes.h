// Multinomial naive Bayes over bag-of-feature counts: the reference model's topic classifier.
//
// Thread contract: immutable after train(); safe to share between threads.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace dw::model {

struct NaiveBayesOptions {
  double alpha = 1.0;          // Additive (Lidstone) smoothing of feature counts.
  bool uniform_prior = false;  // Ignore class frequencies (the corpora are unbalanced).
};

class NaiveBayes {
 public:
  static NaiveBayes train(const std::vector<std::vector<std::string>>& documents,
                          const std::vector<int>& labels, int num_classes,
                          NaiveBayesOptions options);

  int numClasses() const { return num_classes_; }

  // Normalised log posteriors, one per class (log-sum-exp is zero). Features never seen in
  // training carry no evidence and are skipped.
  std::vector<double> logPosterior(const std::vector<std::string>& features) const;

 private:
  int num_classes_ = 0;
  std::unordered_map<std::string, int> feature_ids_;
  std::vector<float> log_likelihood_;  // [feature * num_classes_ + class]
  std::vector<double> log_prior_;
};

}  // namespace dw::model
