#include "model/ngram.h"

#include <algorithm>
#include <cmath>

#include "base/hash.h"
#include "model/vocabulary.h"

namespace dw::model {
namespace {

constexpr int kFrequentCandidates = 64;
// The level-1 context of a common word can have thousands of continuations; beyond this many
// the shorter context adds little that the longest one and the frequent tokens do not.
constexpr uint32_t kMaxShortContextCandidates = 512;

}  // namespace

uint64_t NgramModel::contextHash(std::span<const int> history, int k) {
  uint64_t h = 0x51ed270b27e3a5c3ULL ^ static_cast<uint64_t>(k);
  for (size_t i = history.size() - k; i < history.size(); ++i) {
    h = mix64(h ^ static_cast<uint64_t>(history[i] + 1));
  }
  return h;
}

NgramModel NgramModel::train(const std::vector<std::vector<int>>& sequences, int vocab_size,
                             NgramOptions options) {
  NgramModel model;
  model.options_ = options;
  model.vocab_size_ = vocab_size;
  const int order = std::max(1, options.order);
  model.options_.order = order;
  model.ngrams_.resize(order);
  model.contexts_.resize(order);

  std::vector<std::vector<Ngram>> raw(order);
  std::vector<int> padded;
  for (const auto& sequence : sequences) {
    padded.assign(order - 1, Vocabulary::kBegin);
    padded.insert(padded.end(), sequence.begin(), sequence.end());
    padded.push_back(Vocabulary::kEnd);
    for (size_t i = order - 1; i < padded.size(); ++i) {
      std::span<const int> history(padded.data(), i);
      for (int k = 0; k < order; ++k) {
        raw[k].push_back(Ngram{contextHash(history, k), static_cast<uint32_t>(padded[i]), 1});
      }
    }
  }
  for (int k = 0; k < order; ++k) {
    auto& entries = raw[k];
    std::sort(entries.begin(), entries.end(), [](const Ngram& a, const Ngram& b) {
      return a.context != b.context ? a.context < b.context : a.token < b.token;
    });
    auto& ngrams = model.ngrams_[k];
    auto& contexts = model.contexts_[k];
    for (const Ngram& entry : entries) {
      if (!ngrams.empty() && ngrams.back().context == entry.context &&
          ngrams.back().token == entry.token) {
        ++ngrams.back().count;
      } else {
        ngrams.push_back(entry);
      }
    }
    entries = {};
    for (uint32_t i = 0; i < ngrams.size(); ++i) {
      if (contexts.empty() || contexts.back().hash != ngrams[i].context) {
        contexts.push_back(Context{ngrams[i].context, i, i, 0});
      }
      contexts.back().end = i + 1;
      contexts.back().total += ngrams[i].count;
    }
  }
  // The most frequent tokens, from the unigram level (context length 0).
  std::vector<Ngram> unigrams = model.ngrams_[0];
  std::sort(unigrams.begin(), unigrams.end(),
            [](const Ngram& a, const Ngram& b) { return a.count > b.count; });
  for (size_t i = 0; i < unigrams.size() && i < kFrequentCandidates; ++i) {
    model.frequent_.push_back(static_cast<int>(unigrams[i].token));
  }
  return model;
}

const NgramModel::Context* NgramModel::findContext(int k, uint64_t hash) const {
  const auto& contexts = contexts_[k];
  auto it = std::lower_bound(contexts.begin(), contexts.end(), hash,
                             [](const Context& c, uint64_t h) { return c.hash < h; });
  if (it == contexts.end() || it->hash != hash) {
    return nullptr;
  }
  return &*it;
}

uint32_t NgramModel::countIn(int k, const Context& context, int token) const {
  const auto& ngrams = ngrams_[k];
  auto first = ngrams.begin() + context.begin;
  auto last = ngrams.begin() + context.end;
  auto it = std::lower_bound(first, last, static_cast<uint32_t>(token),
                             [](const Ngram& n, uint32_t t) { return n.token < t; });
  return (it != last && it->token == static_cast<uint32_t>(token)) ? it->count : 0;
}

double NgramModel::prob(std::span<const int> history, int token) const {
  double p = 1.0 / static_cast<double>(vocab_size_);
  const int max_k = std::min<int>(options_.order - 1, static_cast<int>(history.size()));
  for (int k = 0; k <= max_k; ++k) {
    const Context* context = findContext(k, contextHash(history, k));
    if (context == nullptr) {
      break;  // A longer context cannot have been seen when this one was not.
    }
    const double total = context->total;
    const double distinct = context->end - context->begin;
    const double count = countIn(k, *context, token);
    if (options_.discount <= 0) {
      p = (count + distinct * p) / (total + distinct);
    } else {
      const double d = options_.discount;
      p = std::max(count - d, 0.0) / total + d * distinct / total * p;
    }
  }
  return p;
}

void NgramModel::candidates(std::span<const int> history, std::vector<Candidate>* out) const {
  out->clear();
  std::vector<int> tokens(frequent_);
  const int max_k = std::min<int>(options_.order - 1, static_cast<int>(history.size()));
  int added_levels = 0;
  for (int k = max_k; k >= 1 && added_levels < 2; --k) {
    const Context* context = findContext(k, contextHash(history, k));
    if (context == nullptr) {
      continue;
    }
    if (added_levels == 1 && context->end - context->begin > kMaxShortContextCandidates) {
      break;
    }
    for (uint32_t i = context->begin; i < context->end; ++i) {
      tokens.push_back(static_cast<int>(ngrams_[k][i].token));
    }
    ++added_levels;
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  out->reserve(tokens.size());
  for (int token : tokens) {
    if (token == Vocabulary::kBegin || token == Vocabulary::kUnknown) {
      continue;
    }
    out->push_back(Candidate{token, prob(history, token)});
  }
  std::sort(out->begin(), out->end(), [](const Candidate& a, const Candidate& b) {
    return a.prob != b.prob ? a.prob > b.prob : a.token < b.token;
  });
}

Candidate NgramModel::sample(std::span<const int> history, double temperature, Random& random,
                             std::vector<Candidate>* scratch) const {
  candidates(history, scratch);
  if (scratch->empty()) {
    return Candidate{Vocabulary::kEnd, prob(history, Vocabulary::kEnd)};
  }
  if (temperature <= 1e-6) {
    return scratch->front();
  }
  // Weights p^(1/T), computed in log space relative to the best candidate to avoid underflow.
  const double inv_t = 1.0 / temperature;
  const double log_best = std::log(scratch->front().prob);
  double total = 0;
  std::vector<double> weights(scratch->size());
  for (size_t i = 0; i < scratch->size(); ++i) {
    weights[i] = std::exp((std::log((*scratch)[i].prob) - log_best) * inv_t);
    total += weights[i];
  }
  double pick = random.uniform() * total;
  for (size_t i = 0; i < scratch->size(); ++i) {
    pick -= weights[i];
    if (pick <= 0) {
      return (*scratch)[i];
    }
  }
  return scratch->back();
}

}  // namespace dw::model
