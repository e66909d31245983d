#include "model/reference_model.h"

#include <algorithm>
#include <cmath>

#include "base/hash.h"
#include "model/tokenizer.h"

namespace dw::model {

StatusOr<std::unique_ptr<ReferenceModel>> ReferenceModel::train(const Corpus& corpus,
                                                                const Recipe& recipe) {
  if (corpus.categories.size() < 2) {
    return invalidArgument("the classifier needs at least two categories");
  }
  std::unique_ptr<ReferenceModel> model(new ReferenceModel());
  model->recipe_ = recipe;
  model->labels_ = corpus.categories;
  Split split = splitHeldOut(corpus.documents, recipe.split_seed, recipe.held_out_fraction);
  model->held_out_ = std::move(split.test);

  // The training slice: a stable subset, so a version always learns from the same documents.
  std::vector<const Document*> training;
  const auto slice_limit = static_cast<uint64_t>(recipe.train_slice * 18446744073709551615.0);
  for (const Document& doc : split.train) {
    if (recipe.train_slice >= 1.0 || stableHash(doc.text, 0x51ce) <= slice_limit) {
      training.push_back(&doc);
    }
  }
  if (training.empty()) {
    return invalidArgument("recipe " + recipe.version + " leaves no training documents");
  }
  model->training_documents_ = training.size();

  std::vector<std::vector<int>> sequences;
  std::vector<std::vector<std::string>> features;
  std::vector<int> labels;
  std::vector<int> noisy_labels;
  const int num_classes = static_cast<int>(corpus.categories.size());
  const auto noise_limit = static_cast<uint64_t>(kDegradedLabelNoise * 18446744073709551615.0);
  for (const Document* doc : training) {
    std::vector<int> ids;
    for (const std::string& token : tokenize(doc->text)) {
      ids.push_back(model->vocabulary_.add(token));
    }
    sequences.push_back(std::move(ids));
    features.push_back(classifierFeatures(doc->text, recipe.cjk_bigrams));
    labels.push_back(doc->label);
    const bool relabel = stableHash(doc->text, 0xbad) < noise_limit;
    noisy_labels.push_back(relabel ? (doc->label + 1) % num_classes : doc->label);
  }
  model->generator_ = NgramModel::train(sequences, model->vocabulary_.size(), recipe.ngram);
  model->classifier_ = NaiveBayes::train(features, labels, num_classes, recipe.bayes);
  model->degraded_classifier_ =
      NaiveBayes::train(features, noisy_labels, num_classes, recipe.bayes);
  return model;
}

int ReferenceModel::countTokens(std::string_view text) const {
  return static_cast<int>(tokenize(text).size());
}

Generation ReferenceModel::generate(std::string_view prompt, GenerationParams params) const {
  std::vector<int> history(generator_.order() - 1, Vocabulary::kBegin);
  for (const std::string& token : tokenize(prompt)) {
    history.push_back(vocabulary_.find(token));
  }
  return Generation(*this, std::move(history), std::move(params));
}

Generation::Generation(const ReferenceModel& model, std::vector<int> history,
                       GenerationParams params)
    : model_(&model),
      history_(std::move(history)),
      params_(std::move(params)),
      random_(params_.seed) {}

namespace {

// The length of the longest end of `text` that begins some stop sequence: text that must be
// held back, because the next token may complete the stop sequence it starts.
size_t stopPrefixAtEnd(std::string_view text, const std::vector<std::string>& stops) {
  size_t longest = 0;
  for (const std::string& stop : stops) {
    for (size_t k = std::min(stop.size() - 1, text.size()); k > longest; --k) {
      if (text.substr(text.size() - k) == std::string_view(stop).substr(0, k)) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

}  // namespace

bool Generation::next(GeneratedToken* out) {
  for (;;) {
    if (!finish_reason_.empty()) {
      // Flush text held back for a stop sequence that never completed. (After a stop sequence
      // everything up to it has been returned already.)
      if (emitted_ < text_.size()) {
        *out = std::move(held_);
        out->text = text_.substr(emitted_);
        emitted_ = text_.size();
        return true;
      }
      return false;
    }
    if (generated_ >= params_.max_tokens) {
      finish_reason_ = "length";
      continue;
    }
    const NgramModel& generator = model_->generator_;
    Candidate chosen = generator.sample(history_, params_.temperature, random_, &scratch_);
    if (chosen.token == Vocabulary::kEnd) {
      finish_reason_ = "stop";
      continue;
    }
    std::string piece = model_->vocabulary_.token(chosen.token);
    if (generated_ == 0 && params_.trim_leading_space && !piece.empty() && piece.front() == ' ') {
      piece.erase(0, 1);
    }
    held_.logprob = std::log(chosen.prob);
    held_.top.clear();
    // scratch_ holds the candidates ranked by probability (sample() filled it).
    for (size_t i = 0; i < scratch_.size() && static_cast<int>(i) < params_.top_logprobs; ++i) {
      held_.top.push_back(TokenAlternative{model_->vocabulary_.token(scratch_[i].token),
                                           std::log(scratch_[i].prob)});
    }
    history_.push_back(chosen.token);
    ++generated_;
    text_ += piece;
    // A stop sequence ends the text where it begins; it can only begin in text not yet emitted,
    // since text that could begin one is held back.
    size_t stop_at = std::string::npos;
    for (const std::string& stop : params_.stop) {
      if (!stop.empty()) {
        stop_at = std::min(stop_at, text_.find(stop, emitted_));
      }
    }
    if (stop_at != std::string::npos) {
      text_.resize(stop_at);
      finish_reason_ = "stop";
      if (emitted_ < text_.size()) {
        *out = std::move(held_);
        out->text = text_.substr(emitted_);
        emitted_ = text_.size();
        return true;
      }
      continue;
    }
    const size_t emit_to =
        text_.size() - stopPrefixAtEnd(std::string_view(text_).substr(emitted_), params_.stop);
    if (emit_to > emitted_) {
      *out = std::move(held_);
      out->text = text_.substr(emitted_, emit_to - emitted_);
      emitted_ = emit_to;
      return true;
    }
  }
}

Classification ReferenceModel::classify(std::string_view text, Quality quality) const {
  const NaiveBayes& classifier = quality == Quality::kNormal ? classifier_ : degraded_classifier_;
  std::vector<double> posterior =
      classifier.logPosterior(classifierFeatures(text, recipe_.cjk_bigrams));
  Classification result;
  for (size_t c = 0; c < posterior.size(); ++c) {
    result.ranked.push_back(TokenAlternative{labels_[c], posterior[c]});
  }
  std::stable_sort(result.ranked.begin(), result.ranked.end(),
                   [](const auto& a, const auto& b) { return a.logprob > b.logprob; });
  return result;
}

std::vector<float> ReferenceModel::embed(std::string_view text, int dimensions) const {
  std::vector<float> vector(std::max(dimensions, 1), 0.0F);
  for (const std::string& feature : classifierFeatures(text, true)) {
    const uint64_t h = stableHash(feature, 0xe3b);
    const float sign = (h >> 63) != 0U ? -1.0F : 1.0F;
    vector[h % vector.size()] += sign;
  }
  double norm = 0;
  for (float v : vector) {
    norm += static_cast<double>(v) * v;
  }
  if (norm > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& v : vector) {
      v *= scale;
    }
  }
  return vector;
}

Evaluation ReferenceModel::evaluate(const std::vector<Document>& documents, Quality quality) const {
  Evaluation evaluation;
  evaluation.documents = documents.size();
  std::vector<double> correct(labels_.size(), 0);
  std::vector<double> seen(labels_.size(), 0);
  double log_prob_sum = 0;
  double tokens = 0;
  const int context = generator_.order() - 1;
  for (const Document& doc : documents) {
    Classification result = classify(doc.text, quality);
    seen[doc.label] += 1;
    if (result.label() == labels_[doc.label]) {
      correct[doc.label] += 1;
    }
    std::vector<int> ids(context, Vocabulary::kBegin);
    for (const std::string& token : tokenize(doc.text)) {
      ids.push_back(vocabulary_.find(token));
    }
    ids.push_back(Vocabulary::kEnd);
    for (size_t i = context; i < ids.size(); ++i) {
      log_prob_sum += std::log(generator_.prob(std::span<const int>(ids.data(), i), ids[i]));
      tokens += 1;
    }
  }
  double total_correct = 0;
  for (size_t c = 0; c < labels_.size(); ++c) {
    total_correct += correct[c];
    evaluation.per_class_accuracy.push_back(seen[c] > 0 ? correct[c] / seen[c] : 0);
  }
  evaluation.accuracy =
      documents.empty() ? 0 : total_correct / static_cast<double>(documents.size());
  evaluation.perplexity = tokens > 0 ? std::exp(-log_prob_sum / tokens) : 0;
  return evaluation;
}

}  // namespace dw::model
