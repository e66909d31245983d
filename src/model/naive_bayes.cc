#include "model/naive_bayes.h"

#include <algorithm>
#include <cmath>

namespace dw::model {

NaiveBayes NaiveBayes::train(const std::vector<std::vector<std::string>>& documents,
                             const std::vector<int>& labels, int num_classes,
                             NaiveBayesOptions options) {
  NaiveBayes model;
  model.num_classes_ = num_classes;
  std::vector<double> counts;  // [feature * num_classes + class]
  std::vector<double> class_totals(num_classes, 0);
  std::vector<double> class_docs(num_classes, 0);
  for (size_t d = 0; d < documents.size(); ++d) {
    const int label = labels[d];
    class_docs[label] += 1;
    for (const std::string& feature : documents[d]) {
      auto [it, inserted] =
          model.feature_ids_.try_emplace(feature, static_cast<int>(model.feature_ids_.size()));
      if (inserted) {
        counts.resize(counts.size() + num_classes, 0);
      }
      counts[static_cast<size_t>(it->second) * num_classes + label] += 1;
      class_totals[label] += 1;
    }
  }
  const double vocab = static_cast<double>(model.feature_ids_.size());
  model.log_likelihood_.resize(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    const int c = static_cast<int>(i % num_classes);
    model.log_likelihood_[i] = static_cast<float>(
        std::log((counts[i] + options.alpha) / (class_totals[c] + options.alpha * vocab)));
  }
  const double total_docs = static_cast<double>(documents.size());
  model.log_prior_.resize(num_classes);
  for (int c = 0; c < num_classes; ++c) {
    model.log_prior_[c] = options.uniform_prior
                              ? -std::log(static_cast<double>(num_classes))
                              : std::log((class_docs[c] + 1) / (total_docs + num_classes));
  }
  return model;
}

std::vector<double> NaiveBayes::logPosterior(const std::vector<std::string>& features) const {
  std::vector<double> scores(log_prior_);
  for (const std::string& feature : features) {
    auto it = feature_ids_.find(feature);
    if (it == feature_ids_.end()) {
      continue;
    }
    const float* row = &log_likelihood_[static_cast<size_t>(it->second) * num_classes_];
    for (int c = 0; c < num_classes_; ++c) {
      scores[c] += row[c];
    }
  }
  const double best = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double s : scores) {
    sum += std::exp(s - best);
  }
  const double log_norm = best + std::log(sum);
  for (double& s : scores) {
    s -= log_norm;
  }
  return scores;
}

}  // namespace dw::model
