// Fuzzes the input feature extraction (R1.1): observe::InputScanner over arbitrary bytes
// (invalid UTF-8, control characters, CJK, long runs), with a scan budget small enough that the
// budget cut, which must never split a UTF-8 sequence, is reached.
//
// The first byte splits the rest into pieces, as a request's several messages are added one by
// one. Properties: counts stay consistent with the bytes given, and the scan budget holds.
#include <cstdint>
#include <numeric>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "observe/input_scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  dw::observe::InputLimits limits;
  limits.max_prompt_tokens = 100;
  limits.max_char_run = 4 + data[0] % 8;
  limits.max_token_run = 2 + data[0] % 4;
  limits.scan_bytes = 16 + data[0];
  const size_t piece = 1 + data[0] % 64;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  dw::observe::InputScanner scanner(limits);
  while (!text.empty()) {
    scanner.addMessage();
    const std::string_view part = text.substr(0, piece);
    scanner.addText(part);
    text.remove_prefix(part.size());
  }
  // A character is at least one byte, and no more tokens than characters are counted.
  DW_FUZZ_CHECK(scanner.chars() <= size - 1);
  DW_FUZZ_CHECK(scanner.tokens() <= scanner.chars());
  const auto& scripts = scanner.scripts();
  DW_FUZZ_CHECK(std::accumulate(scripts.begin(), scripts.end(), uint64_t{0}) <= scanner.chars());
  const auto& bins = scanner.tokenBins();
  DW_FUZZ_CHECK(std::accumulate(bins.begin(), bins.end(), uint64_t{0}) <= scanner.tokens());
  (void)scanner.abnormal();
  return 0;
}
