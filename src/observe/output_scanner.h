// Features of one response (R1.2): usage tokens, content length, token probabilities and
// entropies from logprobs (confidence), the finish reason, and the text a label is taken from.
// Non-streamed bodies are parsed once; streams are parsed event by event from the bytes the
// gateway relays, after it relays them, so observation never delays a chunk.
//
// Thread contract: an OutputScanner is worker-local (it owns a reusable simdjson parser); the
// per-request state (OutputFeatures, SseState) belongs to one request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace dw::observe {

struct OutputFeatures {
  bool has_usage = false;
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t cached_tokens = 0;
  uint64_t reasoning_tokens = 0;
  uint32_t content_pieces = 0;  // Tokens seen in logprobs, or content chunks of a stream.
  uint32_t content_chars = 0;
  double prob_sum = 0;  // Sum of exp(logprob) over the tokens with a logprob.
  uint32_t prob_count = 0;
  double entropy_sum = 0;  // Entropy of the top_logprobs alternatives, summed over tokens.
  uint32_t entropy_count = 0;
  std::string finish_reason;
  bool error = false;
  std::string label_text;  // The content's first bytes (kLabelTextBytes), for label extraction.

  // Mean token probability, or a negative number when the response had no logprobs.
  double confidence() const { return prob_count > 0 ? prob_sum / prob_count : -1; }
};

inline constexpr size_t kLabelTextBytes = 256;

// What a stream's parser carries between relayed pieces: the partial event.
struct SseState {
  std::string pending;
};

class OutputScanner {
 public:
  OutputScanner();
  ~OutputScanner();

  // A whole JSON response body (chat.completion, text_completion, embeddings list, error).
  void scanBody(std::string_view body, OutputFeatures* out);

  // Feeds relayed bytes of an event stream, in order. Returns how many events carried content
  // (a token or more), for time-to-first-token and inter-token latency.
  int feed(SseState& state, std::string_view bytes, OutputFeatures* out);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dw::observe
