// The shape of what the gateway counts per series (a model version): where each counter sits in
// one flat array, so that a worker's shard (atomic counters) and the control thread's totals and
// windows (plain counters) share one layout and merge by index. Every dimension is bounded by
// design (docs/design/metrics.md): status codes, finish reasons and labels outside the tracked
// sets fold into "other".
//
// Thread contract: Layout is immutable after construction; get() is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "stats/log_histogram.h"

namespace dw::observe {

enum class Endpoint : uint8_t { kChat, kCompletions, kEmbeddings };
inline constexpr int kEndpoints = 3;
inline constexpr std::string_view kEndpointNames[] = {"chat", "completions", "embeddings"};

// HTTP statuses counted by their own label value; anything else counts as "other".
inline constexpr std::array<int, 15> kTrackedCodes = {200, 400, 401, 402, 403, 404, 408, 413,
                                                      422, 429, 499, 500, 502, 503, 504};
inline constexpr int kCodeSlots = static_cast<int>(kTrackedCodes.size()) + 1;
int codeSlot(int status);
std::string_view codeName(int slot);  // "200", ..., "other"

enum class Script : uint8_t { kCjk, kLatin, kDigit, kOther };
inline constexpr int kScripts = 4;
inline constexpr std::string_view kScriptNames[] = {"cjk", "latin", "digit", "other"};

// The vocabulary profile: tokens hashed into this many bins (R1.1 input shift).
inline constexpr int kTokenBins = 64;

enum class Abnormal : uint8_t {
  kEmpty,
  kOverLength,
  kInvalidUtf8,
  kControlChars,
  kRepetition,
  kPii,
};
inline constexpr int kAbnormalKinds = 6;
inline constexpr std::string_view kAbnormalNames[] = {
    "empty", "over_length", "invalid_utf8", "control_chars", "repetition", "pii"};

inline constexpr std::string_view kFinishReasons[] = {"stop",
                                                      "length",
                                                      "tool_calls",
                                                      "content_filter",
                                                      "function_call",
                                                      "abort",
                                                      "insufficient_system_resource",
                                                      "error",
                                                      "other"};
inline constexpr int kFinishSlots = 9;
int finishSlot(std::string_view reason);

inline constexpr int kConfidenceBins = 20;  // Mean token probability in steps of 0.05.
inline constexpr int kMaxLabels = 32;       // Configured labels; one more slot for "other".

class Layout {
 public:
  static const Layout& get();

  int size() const { return size_; }
  const stats::LogBuckets& latencyBuckets() const { return latency_; }
  const stats::LogBuckets& sizeBuckets() const { return sizes_; }

  int requests(Endpoint endpoint, int code_slot, bool stream) const {
    return requests_ + (static_cast<int>(endpoint) * kCodeSlots + code_slot) * 2 + (stream ? 1 : 0);
  }
  // All requests of a series' cumulative counters, and those answered 5xx.
  struct RequestTotals {
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  RequestTotals requestTotals(const std::vector<uint64_t>& totals) const;
  int promptTokens() const { return tokens_; }
  int completionTokens() const { return tokens_ + 1; }
  int cachedTokens() const { return tokens_ + 2; }
  int reasoningTokens() const { return tokens_ + 3; }

  // Latency histograms: counts per log bucket, then a sum in microseconds.
  int duration(int bucket) const { return duration_ + bucket; }
  int durationSumMicros() const { return duration_ + latency_.count(); }
  int ttft(int bucket) const { return ttft_ + bucket; }
  int ttftSumMicros() const { return ttft_ + latency_.count(); }
  int itl(int bucket) const { return itl_ + bucket; }
  int itlSumMicros() const { return itl_ + latency_.count(); }

  // Inputs (R1.1).
  int inputRequests() const { return input_; }
  int inputAbnormalAny() const { return input_ + 1; }
  int abnormal(Abnormal kind) const { return input_ + 2 + static_cast<int>(kind); }
  int script(Script s) const { return input_ + 2 + kAbnormalKinds + static_cast<int>(s); }
  int tokenBin(int bin) const { return input_ + 2 + kAbnormalKinds + kScripts + bin; }
  int promptChars(int bucket) const { return prompt_chars_ + bucket; }
  int promptTokensHist(int bucket) const { return prompt_tokens_ + bucket; }
  int messages(int bucket) const { return messages_ + bucket; }

  // Outputs (R1.2).
  int outputResponses() const { return output_; }
  int lowConfidence() const { return output_ + 1; }
  int confidenceScored() const { return output_ + 2; }
  int confidenceBin(int bin) const { return output_ + 3 + bin; }
  int finish(int slot) const { return output_ + 3 + kConfidenceBins + slot; }
  int label(int slot) const { return output_ + 3 + kConfidenceBins + kFinishSlots + slot; }
  int outputTokens(int bucket) const { return output_tokens_ + bucket; }

 private:
  Layout();

  stats::LogBuckets latency_;  // 100 us .. 1000 s, 1% relative error.
  stats::LogBuckets sizes_;    // 1 .. 10^7 (characters, tokens, messages), 5%.
  int requests_ = 0;
  int tokens_ = 0;
  int duration_ = 0;
  int ttft_ = 0;
  int itl_ = 0;
  int input_ = 0;
  int prompt_chars_ = 0;
  int prompt_tokens_ = 0;
  int messages_ = 0;
  int output_ = 0;
  int output_tokens_ = 0;
  int size_ = 0;
};

}  // namespace dw::observe
