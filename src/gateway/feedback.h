// User feedback on answers (R6): POST /v1/feedback {request_id, score | label} counts toward
// the accuracy of the version that answered the request.
//
// Attribution without a lock or an allocation per request: every worker remembers, for each
// answer it relayed, which metrics series (model version) gave it, in a direct-mapped table of
// atomics that only that worker writes (one relaxed store per request). A feedback call, on any
// worker, looks the request id up in every worker's table and takes the entry, so each answer is
// rated once. A slot is reused by a later request whose id hashes to it, so a worker remembers
// about `observe.feedback_memory` recent answers (2 MiB per worker by default).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dw::observe {
class ExpositionWriter;
struct SeriesName;
}  // namespace dw::observe

namespace dw::gateway {

class ServedLedger {
 public:
  // `slots` is rounded up to a power of two; `seed` keys the hash of request ids.
  ServedLedger(size_t slots, uint64_t seed);

  // Owner worker only: `series` (observe::seriesId) answered `request_id`.
  void record(std::string_view request_id, int series);
  // Any thread: the series that answered `request_id`; nullopt when unknown or forgotten.
  // take() also forgets it, so that an answer is rated once.
  std::optional<int> find(std::string_view request_id) const;
  std::optional<int> take(std::string_view request_id);

  size_t slots() const { return mask_ + 1; }

 private:
  size_t mask_;
  uint64_t seed_;
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
};

// One judgement as sent by a client.
struct FeedbackInput {
  std::string request_id;
  bool positive = false;        // Counts as a correct answer toward accuracy.
  std::optional<double> score;  // In [0, 1] when sent as a score.
  std::string label;            // The label as sent, when sent as a label.
};

// Parses and validates a POST /v1/feedback body: {"request_id": "...", "score": 0..1} or
// {"request_id": "...", "label": "good" | "bad" | ...}. The error names the field.
struct FeedbackError {
  std::string message;
  std::string param;
};
std::optional<FeedbackInput> parseFeedback(std::string_view body, FeedbackError* error);

// Totals per series, for /metrics and for experiments. Rare path: a mutex is fine.
class FeedbackBook {
 public:
  struct Tally {
    uint64_t positive = 0;
    uint64_t negative = 0;
    uint64_t scored = 0;
    double score_sum = 0;
  };

  void add(int series, const FeedbackInput& input);
  Tally tally(int series) const;
  std::vector<std::pair<int, Tally>> all() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Tally> by_series_;
};

// What the gateway shares between its workers for feedback: one ledger per worker and the book.
class Feedback {
 public:
  Feedback(int workers, size_t slots_per_worker, uint64_t seed);

  ServedLedger& ledger(int worker) { return *ledgers_[worker]; }
  // The series that answered `request_id` on any worker; take() at most once.
  std::optional<int> find(std::string_view request_id) const;
  std::optional<int> take(std::string_view request_id);
  FeedbackBook& book() { return book_; }
  const FeedbackBook& book() const { return book_; }

 private:
  std::vector<std::unique_ptr<ServedLedger>> ledgers_;
  FeedbackBook book_;
};

// deepseek_feedback_total{model,version,verdict} and deepseek_feedback_score_{sum,count}.
// `name` resolves a series to its model and version; false skips it.
void writeFeedbackMetrics(observe::ExpositionWriter& w, const std::string& ns,
                          const FeedbackBook& book,
                          const std::function<bool(int, observe::SeriesName*)>& name);

}  // namespace dw::gateway
