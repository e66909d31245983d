// An n-gram language model over token ids: the reference model's text generator.
//
// Probabilities are interpolated down to a uniform distribution over the vocabulary, so every
// token, unknown ones included, has a finite log probability (perplexity on held-out text is
// finite). Two smoothing methods make versions differ for real: Witten-Bell (discount 0) and
// interpolated absolute discounting (0 < discount < 1).
//
// Storage is flat and sorted (one array of n-grams and one of contexts per order), because a
// hash map of vectors takes several times the memory for the same counts.
//
// Thread contract: immutable after train(); safe to share between threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/random.h"

namespace dw::model {

struct NgramOptions {
  int order = 3;
  double discount = 0.0;  // 0: Witten-Bell; otherwise absolute discounting with this D.
};

struct Candidate {
  int token = 0;
  double prob = 0;
};

class NgramModel {
 public:
  // Each sequence is one document's token ids, without start or end markers (train adds them).
  static NgramModel train(const std::vector<std::vector<int>>& sequences, int vocab_size,
                          NgramOptions options);

  int order() const { return options_.order; }

  // P(token | history). `history` holds the preceding ids, oldest first; its start may be padded
  // with Vocabulary::kBegin.
  double prob(std::span<const int> history, int token) const;

  // The tokens worth sampling after `history` with their probabilities: the observed
  // continuations of the longest known contexts plus the most frequent tokens overall (a top-k
  // truncation as real servers apply). Sorted by probability, highest first.
  void candidates(std::span<const int> history, std::vector<Candidate>* out) const;

  // Samples from candidates() sharpened or flattened by `temperature` (0: the most probable).
  Candidate sample(std::span<const int> history, double temperature, Random& random,
                   std::vector<Candidate>* scratch) const;

 private:
  struct Ngram {
    uint64_t context;
    uint32_t token;
    uint32_t count;
  };
  struct Context {
    uint64_t hash;
    uint32_t begin;  // Range in ngrams_[k].
    uint32_t end;
    uint32_t total;
  };

  static uint64_t contextHash(std::span<const int> history, int k);
  const Context* findContext(int k, uint64_t hash) const;
  uint32_t countIn(int k, const Context& context, int token) const;

  NgramOptions options_;
  int vocab_size_ = 0;
  std::vector<std::vector<Ngram>> ngrams_;      // [k]: n-grams whose context has k tokens.
  std::vector<std::vector<Context>> contexts_;  // [k]: sorted by hash.
  std::vector<int> frequent_;                   // Most frequent tokens, most frequent first.
};

}  // namespace dw::model
