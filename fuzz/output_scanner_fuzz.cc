// Fuzzes the response feature extraction (R1.2): observe::OutputScanner on a whole JSON body
// (chat.completion, text_completion, error) and on an event stream (SSE) as the gateway relays
// it, piece by piece in the sizes the upstream happened to send.
//
// Property: a stream's features do not depend on how its bytes were split into pieces (an event
// cut across two reads is parsed once, whole). The first byte chooses the piece size.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "observe/output_scanner.h"

namespace {

using dw::observe::OutputFeatures;

bool sameNumber(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool sameFeatures(const OutputFeatures& a, const OutputFeatures& b) {
  return a.has_usage == b.has_usage && a.prompt_tokens == b.prompt_tokens &&
         a.completion_tokens == b.completion_tokens && a.cached_tokens == b.cached_tokens &&
         a.reasoning_tokens == b.reasoning_tokens && a.content_pieces == b.content_pieces &&
         a.content_chars == b.content_chars && sameNumber(a.prob_sum, b.prob_sum) &&
         a.prob_count == b.prob_count && sameNumber(a.entropy_sum, b.entropy_sum) &&
         a.entropy_count == b.entropy_count && a.finish_reason == b.finish_reason &&
         a.error == b.error && a.label_text == b.label_text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  static dw::observe::OutputScanner scanner;
  const size_t piece = 1 + data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);

  OutputFeatures body;
  scanner.scanBody(bytes, &body);
  DW_FUZZ_CHECK(body.label_text.size() <= dw::observe::kLabelTextBytes);
  DW_FUZZ_CHECK(body.prob_count == 0 || (body.confidence() >= 0 && body.confidence() <= 1));

  OutputFeatures whole;
  dw::observe::SseState whole_state;
  const int whole_events = scanner.feed(whole_state, bytes, &whole);

  OutputFeatures split;
  dw::observe::SseState split_state;
  int split_events = 0;
  for (std::string_view rest = bytes; !rest.empty();) {
    const std::string_view part = rest.substr(0, piece);
    split_events += scanner.feed(split_state, part, &split);
    rest.remove_prefix(part.size());
  }
  DW_FUZZ_CHECK(whole_events == split_events);
  DW_FUZZ_CHECK(whole_state.pending == split_state.pending);
  DW_FUZZ_CHECK(sameFeatures(whole, split));
  DW_FUZZ_CHECK(whole.label_text.size() <= dw::observe::kLabelTextBytes);
  return 0;
}
