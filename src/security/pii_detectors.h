// PII detectors and validators (R7, input desensitization): the text normalisation, the
// checksum and format validators, and the candidate search that PiiScanner (pii_scanner.h)
// builds its redaction on. See docs/design/pii.md for the rules and their sources.
//
// Thread contract: free functions are thread-safe; a PiiDetector is immutable after create()
// and its const methods may be called from any number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace re2 {
class RE2;
}

namespace dw::security {

enum class PiiType { kEmail, kPhone, kResidentId, kBankCard, kIpAddress, kPassport, kSecret };
inline constexpr size_t kPiiTypeCount = 7;

// "email", "phone", "resident_id", "bank_card", "ip_address", "passport", "secret".
std::string_view piiTypeName(PiiType type);
std::optional<PiiType> parsePiiType(std::string_view name);

// A byte range [begin, end) of the text it was found in.
struct PiiFinding {
  PiiType type;
  size_t begin;
  size_t end;
};

namespace pii {

// The text the detectors run on: full-width ASCII forms (U+FF01..U+FF5E) and the ideographic
// space (U+3000) become their ASCII counterparts (the NFKC mapping of those blocks), and JSON
// escapes are decoded so that a raw JSON body is scanned like its content: `\uXXXX` becomes the
// character (full-width mapped again), and every other escape (`\n`, `\"`, `\\`...) becomes the
// byte kEscapeMark, which no detector accepts inside a value and which is a boundary.
inline constexpr char kEscapeMark = '\x01';

class NormalizedText {
 public:
  explicit NormalizedText(std::string_view original);

  std::string_view text() const { return identity_ ? original_ : std::string_view(text_); }
  // The byte offset in the original text of normalised offset `pos` (pos <= text().size()).
  size_t toOriginal(size_t pos) const { return identity_ ? pos : offsets_[pos]; }
  // The first normalised offset whose original offset is at or after `original_pos`: its exact
  // inverse where `original_pos` starts a character, an escape or a full-width form.
  size_t toNormalized(size_t original_pos) const;
  // True when the original needed no change (the common case: no copy, no offset table).
  bool identity() const { return identity_; }

 private:
  std::string_view original_;
  bool identity_ = true;
  std::string text_;
  std::vector<uint32_t> offsets_;  // text_.size() + 1 entries
};

// Validators. Each takes the value with separators already removed.
bool luhnValid(std::string_view digits);
// A real Gregorian date with 1900 <= year <= the current year.
bool validBirthDate(int year, int month, int day);
// The first two digits name a province-level region of GB/T 2260.
bool plausibleRegion(std::string_view id);
// 18 characters: region, real birth date, and the GB 11643-1999 check character (X or x
// accepted); 15 digits (the legacy form): region and a real 19YY date.
bool residentIdValid(std::string_view id);
// Mainland mobile: 11 digits, 1[3-9].
bool mainlandMobileValid(std::string_view digits);
bool ipv4Valid(std::string_view text);
bool ipv6Valid(std::string_view text);
// Shannon entropy of the byte distribution, in bits per byte.
double shannonEntropy(std::string_view text);

// The longest span, in normalised bytes, of any finding other than a PEM block.
inline constexpr size_t kMaxSpan = 512;
// The longest PEM private-key block a finding covers (a 4096-bit RSA key is about 3.3 KB).
inline constexpr size_t kMaxPemSpan = 8192;
// How many normalised bytes before a number are searched for a context word ("卡号", "card"):
// about five English words or a dozen CJK characters, as Presidio's five-word prefix.
inline constexpr size_t kContextBytes = 40;

// The scoring rule for bank cards (catalog row 29, after Presidio's CreditCardRecognizer and
// LemmaContextAwareEnhancer): a Luhn failure drops the candidate; a Luhn-valid number scores
// 0.3 (weak), or 0.6 when its form is strong (a UnionPay 62 prefix on 16, 17 or 19 digits; 18
// digits starting 62 look like a Gansu resident ID instead), or written in groups like
// "6222 0212 3456 7890 128"); a context word within kContextBytes before it adds 0.35, with a
// floor of 0.4; the candidate is a finding at >= 0.5. So a bare Luhn-valid 16-digit order id is
// not a card, the same digits after "卡号" are.
double bankCardScore(std::string_view digits, bool grouped, bool has_context);
inline constexpr double kBankCardThreshold = 0.5;

// A match of one of the two sequential secret scans (the token alternation and key=value):
// each scan looks for the leftmost match from where it stands and goes on after it, so a match,
// kept or rejected, hides the matches that start inside it. Offsets are normalised.
struct ScanStep {
  size_t begin;   // where the match starts
  size_t resume;  // where the scan looked next
};

// For a caller that scans a long text piece by piece (PiiStreamRedactor): where each sequential
// scan starts in this piece, what it did, and which PEM blocks may still grow, so that the next
// piece can resume each scan where a scan of the whole text stands. Offsets are normalised.
struct ScanState {
  size_t secrets_from = 0;     // in: where the token scan starts (text before it is context)
  size_t key_values_from = 0;  // in: where the key=value scan starts
  std::vector<ScanStep> secret_steps;     // out, in order
  std::vector<ScanStep> key_value_steps;  // out, in order
  // out: the begins of PEM blocks that more text could extend (no closed END line yet, and
  // shorter than kMaxPemSpan).
  std::vector<size_t> open_pems;
};

// The detectors, with their compiled patterns.
class PiiDetector {
 public:
  static StatusOr<std::unique_ptr<const PiiDetector>> create();
  ~PiiDetector();

  // Appends the findings of the enabled types (bit i of `enabled` is PiiType i) found in
  // `text` (a normalised text), in normalised offsets, unsorted and possibly overlapping.
  // `state` (may be null) says where the sequential scans start and receives what they did.
  // Every match, and so every finding, depends on at most kMaxSpan + 1 bytes from its start
  // (a PEM block on kMaxPemSpan), and on at most kContextBytes before it, apart from the
  // position of the sequential scans.
  void detect(std::string_view text, uint32_t enabled, std::vector<PiiFinding>* out,
              ScanState* state = nullptr) const;

 private:
  PiiDetector() = default;
  void detectNumbers(std::string_view text, uint32_t enabled, std::vector<PiiFinding>* out) const;
  void detectSecrets(std::string_view text, std::vector<PiiFinding>* out, ScanState* state) const;

  std::unique_ptr<re2::RE2> secrets_;
  std::unique_ptr<re2::RE2> key_value_;
};

}  // namespace pii
}  // namespace dw::security
