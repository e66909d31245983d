#include "gateway/feedback.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/hash.h"
#include "observe/aggregator.h"
#include "observe/exposition.h"

namespace dw::gateway {
namespace {

// An entry packs the request id's hash (high 48 bits, the tag) with series + 1 (low 16 bits);
// 0 is an empty slot. The slot index comes from the same hash, so a match needs the tag's bits
// above the index to agree too: with 2^18 slots, 30 bits, one false match in 10^9 lookups.
constexpr uint64_t kSeriesMask = 0xffff;

uint64_t entryOf(uint64_t hash, int series) {
  return (hash & ~kSeriesMask) | static_cast<uint64_t>(series + 1);
}

constexpr std::array<std::string_view, 10> kPositive = {
    "good",    "correct", "positive", "up",  "thumbs_up",
    "helpful", "accept",  "accepted", "yes", "true"};
constexpr std::array<std::string_view, 11> kNegative = {
    "bad",       "incorrect", "wrong",    "negative", "down", "thumbs_down",
    "unhelpful", "reject",    "rejected", "no",       "false"};

bool validRequestId(std::string_view id) {
  return !id.empty() && id.size() <= 200 &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

ServedLedger::ServedLedger(size_t slots, uint64_t seed)
    : mask_(std::bit_ceil(std::max<size_t>(slots, 16)) - 1),
      seed_(seed),
      slots_(std::make_unique<std::atomic<uint64_t>[]>(mask_ + 1)) {}

void ServedLedger::record(std::string_view request_id, int series) {
  const uint64_t hash = stableHash(request_id, seed_);
  slots_[hash & mask_].store(entryOf(hash, series), std::memory_order_relaxed);
}

std::optional<int> ServedLedger::find(std::string_view request_id) const {
  const uint64_t hash = stableHash(request_id, seed_);
  const uint64_t entry = slots_[hash & mask_].load(std::memory_order_relaxed);
  if (entry == 0 || (entry & ~kSeriesMask) != (hash & ~kSeriesMask)) {
    return std::nullopt;
  }
  return static_cast<int>(entry & kSeriesMask) - 1;
}

std::optional<int> ServedLedger::take(std::string_view request_id) {
  const uint64_t hash = stableHash(request_id, seed_);
  std::atomic<uint64_t>& slot = slots_[hash & mask_];
  uint64_t entry = slot.load(std::memory_order_relaxed);
  if (entry == 0 || (entry & ~kSeriesMask) != (hash & ~kSeriesMask)) {
    return std::nullopt;
  }
  // Taken once: a second rating of the same answer finds the slot empty.
  if (!slot.compare_exchange_strong(entry, 0, std::memory_order_relaxed)) {
    return std::nullopt;
  }
  return static_cast<int>(entry & kSeriesMask) - 1;
}

std::optional<FeedbackInput> parseFeedback(std::string_view body, FeedbackError* error) {
  auto fail = [&](std::string message, std::string param) -> std::optional<FeedbackInput> {
    error->message = std::move(message);
    error->param = std::move(param);
    return std::nullopt;
  };
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return fail("The body must be a JSON object.", "");
  }
  FeedbackInput out;
  for (const auto& [key, value] : json.items()) {
    if (key == "request_id") {
      if (!value.is_string() || !validRequestId(value.get_ref<const std::string&>())) {
        return fail(
            "'request_id' must be the x-request-id of an answer (1-200 printable "
            "characters).",
            "request_id");
      }
      out.request_id = value.get<std::string>();
    } else if (key == "score") {
      if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() < 0 ||
          value.get<double>() > 1) {
        return fail("'score' must be a number from 0 (wrong) to 1 (right).", "score");
      }
      out.score = value.get<double>();
    } else if (key == "label") {
      if (!value.is_string()) {
        return fail("'label' must be a string such as \"good\" or \"bad\".", "label");
      }
      std::string label = value.get<std::string>();
      std::transform(label.begin(), label.end(), label.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.label = std::move(label);
    } else if (key != "comment") {
      // A comment is accepted and dropped: free text may carry personal data (R7).
      return fail("Unrecognized request argument supplied: " + key.substr(0, 100), key);
    }
  }
  if (out.request_id.empty()) {
    return fail("Missing required parameter: 'request_id'.", "request_id");
  }
  if (out.score.has_value() == !out.label.empty()) {
    return fail("Send exactly one of 'score' (0 to 1) and 'label' (good or bad).", "score");
  }
  if (out.score) {
    out.positive = *out.score >= 0.5;
  } else if (std::find(kPositive.begin(), kPositive.end(), out.label) != kPositive.end()) {
    out.positive = true;
  } else if (std::find(kNegative.begin(), kNegative.end(), out.label) != kNegative.end()) {
    out.positive = false;
  } else {
    return fail(
        "'label' must be one of good, correct, positive, up, helpful, accept, yes "
        "(a right answer) or bad, incorrect, wrong, negative, down, unhelpful, reject, "
        "no (a wrong one).",
        "label");
  }
  return out;
}

void FeedbackBook::add(int series, const FeedbackInput& input) {
  std::lock_guard lock(mutex_);
  if (series < 0) {
    return;
  }
  if (static_cast<size_t>(series) >= by_series_.size()) {
    by_series_.resize(series + 1);
  }
  Tally& t = by_series_[series];
  ++(input.positive ? t.positive : t.negative);
  if (input.score) {
    ++t.scored;
    t.score_sum += *input.score;
  }
}

FeedbackBook::Tally FeedbackBook::tally(int series) const {
  std::lock_guard lock(mutex_);
  return series >= 0 && static_cast<size_t>(series) < by_series_.size() ? by_series_[series]
                                                                        : Tally{};
}

std::vector<std::pair<int, FeedbackBook::Tally>> FeedbackBook::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<int, Tally>> out;
  for (size_t i = 0; i < by_series_.size(); ++i) {
    if (by_series_[i].positive + by_series_[i].negative > 0) {
      out.emplace_back(static_cast<int>(i), by_series_[i]);
    }
  }
  return out;
}

Feedback::Feedback(int workers, size_t slots_per_worker, uint64_t seed) {
  for (int i = 0; i < workers; ++i) {
    ledgers_.push_back(std::make_unique<ServedLedger>(slots_per_worker, seed));
  }
}

std::optional<int> Feedback::find(std::string_view request_id) const {
  for (const auto& ledger : ledgers_) {
    if (auto series = ledger->find(request_id)) {
      return series;
    }
  }
  return std::nullopt;
}

std::optional<int> Feedback::take(std::string_view request_id) {
  for (auto& ledger : ledgers_) {
    if (auto series = ledger->take(request_id)) {
      return series;
    }
  }
  return std::nullopt;
}

void writeFeedbackMetrics(observe::ExpositionWriter& w, const std::string& ns,
                          const FeedbackBook& book,
                          const std::function<bool(int, observe::SeriesName*)>& name) {
  const std::string total = ns + "_feedback_total";
  const std::string score = ns + "_feedback_score";
  const auto tallies = book.all();
  w.family(total, "counter", "User feedback on answers by model, version and verdict (R6).");
  std::vector<std::pair<observe::SeriesName, FeedbackBook::Tally>> named;
  for (const auto& [series, tally] : tallies) {
    observe::SeriesName n;
    if (name(series, &n)) {
      w.sample(total, {{"model", n.model}, {"version", n.version}, {"verdict", "positive"}},
               static_cast<double>(tally.positive));
      w.sample(total, {{"model", n.model}, {"version", n.version}, {"verdict", "negative"}},
               static_cast<double>(tally.negative));
      named.emplace_back(std::move(n), tally);
    }
  }
  w.family(score, "summary", "Feedback scores (0 to 1) by model and version (R6).");
  for (const auto& [n, tally] : named) {
    w.sample(score + "_sum", {{"model", n.model}, {"version", n.version}}, tally.score_sum);
    w.sample(score + "_count", {{"model", n.model}, {"version", n.version}},
             static_cast<double>(tally.scored));
  }
}

}  // namespace dw::gateway
