// Fuzzes PII desensitization (R7, R10): security::PiiScanner's normalisation (full-width forms,
// JSON escapes), its detectors and validators, and the stream redactor that the gateway runs on
// SSE responses.
//
// Properties: findings are in bounds, sorted and non-overlapping, and redact() counts each one;
// as pii_scanner.h promises, a stream redacted piece by piece (the first byte chooses the piece
// size) comes out exactly as the whole text redacted at once, with the same counts.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "security/pii_scanner.h"

namespace {

std::shared_ptr<const dw::security::PiiScanner> makeScanner() {
  auto scanner = dw::security::PiiScanner::create({});
  DW_FUZZ_CHECK(scanner.ok());
  return *scanner;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) {
    return 0;
  }
  static const std::shared_ptr<const dw::security::PiiScanner> scanner = makeScanner();
  const size_t piece = 1 + 4 * size_t{data[0]};
  std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
  // The stream redactor holds back carryBytes() normalised bytes (up to 6 times as many bytes of
  // JSON escapes) and only then starts cutting: an odd second byte repeats the input past a few
  // times that, so that findings and the secret scans' matches meet the cuts.
  std::string text = input;
  if (data[1] & 1) {
    while (text.size() < 6 * scanner->carryBytes()) {
      text += input;
    }
  }

  const std::vector<dw::security::PiiFinding> findings = scanner->find(text);
  size_t last_end = 0;
  for (const dw::security::PiiFinding& f : findings) {
    DW_FUZZ_CHECK(f.begin >= last_end);
    DW_FUZZ_CHECK(f.begin < f.end);
    DW_FUZZ_CHECK(f.end <= text.size());
    last_end = f.end;
  }
  DW_FUZZ_CHECK(scanner->containsAny(text) == !findings.empty());

  dw::security::PiiCounts counts{};
  const std::string redacted = scanner->redact(text, &counts);
  uint64_t total = 0;
  for (uint64_t c : counts) {
    total += c;
  }
  DW_FUZZ_CHECK(total == findings.size());

  dw::security::PiiStreamRedactor stream(scanner);
  dw::security::PiiCounts stream_counts{};
  std::string streamed;
  for (std::string_view rest = text; !rest.empty();) {
    const std::string_view part = rest.substr(0, piece);
    streamed += stream.feed(part, &stream_counts);
    rest.remove_prefix(part.size());
  }
  streamed += stream.finish(&stream_counts);
  DW_FUZZ_CHECK(stream.pendingBytes() == 0);
  DW_FUZZ_CHECK(streamed == redacted);
  DW_FUZZ_CHECK(stream_counts == counts);
  return 0;
}
