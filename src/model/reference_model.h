// The reference model: a trained n-gram generator and naive Bayes topic classifier behind one
// interface, so that the server, `model eval` and the tests see the same thing.
//
// Thread contract: immutable after train(); every method is const and safe from any thread.
// A Generation is a per-request object owned by one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "model/corpus.h"
#include "model/naive_bayes.h"
#include "model/ngram.h"
#include "model/recipe.h"
#include "model/vocabulary.h"

namespace dw::model {

struct TokenAlternative {
  std::string token;
  double logprob = 0;
};

struct GeneratedToken {
  std::string text;
  double logprob = 0;
  std::vector<TokenAlternative> top;  // Filled when the request asked for top_logprobs.
};

struct GenerationParams {
  int max_tokens = 64;
  double temperature = 1.0;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  int top_logprobs = 0;
  // A chat answer does not start with the space that joins a continued word to the prompt; a
  // text completion keeps it, since it is appended to the prompt.
  bool trim_leading_space = false;
};

class ReferenceModel;

// One generation in progress, token by token, so that a streaming server can pace it.
class Generation {
 public:
  // Produces the next token; false when the generation has finished (see finishReason()).
  bool next(GeneratedToken* out);
  // "stop" (end of text or a stop sequence) or "length" (max_tokens reached).
  std::string_view finishReason() const { return finish_reason_; }
  int generatedTokens() const { return generated_; }

 private:
  friend class ReferenceModel;
  Generation(const ReferenceModel& model, std::vector<int> history, GenerationParams params);

  const ReferenceModel* model_;
  std::vector<int> history_;
  GenerationParams params_;
  Random random_;
  std::string text_;     // Everything generated so far.
  size_t emitted_ = 0;   // How much of text_ next() has returned.
  GeneratedToken held_;  // The logprobs of the token behind text not yet returned.
  std::vector<Candidate> scratch_;
  int generated_ = 0;
  std::string_view finish_reason_;
};

struct Classification {
  // Labels with their log posteriors, most probable first.
  std::vector<TokenAlternative> ranked;
  const std::string& label() const { return ranked.front().token; }
  double logprob() const { return ranked.front().logprob; }
};

struct Evaluation {
  size_t documents = 0;
  double accuracy = 0;
  double perplexity = 0;
  std::vector<double> per_class_accuracy;
};

class ReferenceModel {
 public:
  // Trains both qualities of `recipe` on `corpus`. Takes seconds.
  static StatusOr<std::unique_ptr<ReferenceModel>> train(const Corpus& corpus,
                                                         const Recipe& recipe);

  const Recipe& recipe() const { return recipe_; }
  const std::vector<std::string>& labels() const { return labels_; }
  const std::vector<Document>& heldOut() const { return held_out_; }
  size_t trainingDocuments() const { return training_documents_; }

  // Tokens in `text` as the generator counts them (usage.prompt_tokens).
  int countTokens(std::string_view text) const;

  // Starts a generation that continues `prompt`.
  Generation generate(std::string_view prompt, GenerationParams params) const;

  Classification classify(std::string_view text, Quality quality) const;

  // A unit-length vector of `dimensions` from signed feature hashing.
  std::vector<float> embed(std::string_view text, int dimensions) const;

  Evaluation evaluate(const std::vector<Document>& documents, Quality quality) const;

 private:
  friend class Generation;
  ReferenceModel() = default;

  Recipe recipe_;
  std::vector<std::string> labels_;
  Vocabulary vocabulary_;
  NgramModel generator_;
  NaiveBayes classifier_;
  NaiveBayes degraded_classifier_;
  std::vector<Document> held_out_;
  size_t training_documents_ = 0;
};

}  // namespace dw::model
