// PII desensitization (R7): finds personal data and secrets in request and response text and
// replaces them (mask, keyed hash, or block), on whole bodies and on streams.
//
// Thread contract: a PiiScanner is immutable after create(); its const methods are thread-safe
// and one scanner is shared by all io workers. A PiiStreamRedactor belongs to one stream (one
// worker) and is not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "security/pii_detectors.h"

namespace dw::security {

enum class PiiMode { kMask, kHash, kBlock };

using PiiCounts = std::array<uint64_t, kPiiTypeCount>;

struct PiiOptions {
  std::vector<PiiType> types;  // empty: all
  PiiMode mode = PiiMode::kMask;
  std::string hash_key;  // HMAC key for kHash (same value -> same token); required for kHash
};

// Detects and replaces PII. Replacement tokens (R7, catalog row 22: at most 4 trailing chars):
//   kMask, kBlock: "[EMAIL]", "[RESIDENT_ID]", "[IP_ADDRESS]", "[PASSPORT]", "[SECRET]"; phones
//     and cards keep their last 4 digits, "[PHONE:***5678]", "[BANK_CARD:***0128]".
//   kHash: "[PHONE:" + the first 12 hex digits of HMAC-SHA-256(hash_key, normalised value) + "]"
//     (the value with separators and a +86 prefix removed, e-mails lower-cased), so the same
//     value gives the same token under one key and unrelated tokens under another.
// Tokens use only [A-Za-z0-9_:*[]-], so they are safe inside JSON strings.
class PiiScanner {
 public:
  // Fails with kInvalidArgument for kHash without a hash_key.
  static StatusOr<std::shared_ptr<const PiiScanner>> create(PiiOptions options);

  // Findings in `text` (byte ranges of the original text), sorted and non-overlapping.
  std::vector<PiiFinding> find(std::string_view text) const;
  // The text with every finding replaced; counts (may be null) are incremented per type.
  std::string redact(std::string_view text, PiiCounts* counts) const;
  // True when find() would return anything (the kBlock decision and a quick check).
  bool containsAny(std::string_view text) const;
  // The stream redactor's hold-back, in normalised bytes (an escape or a full-width character
  // counts once): the longest span of a finding or scan match other than a PEM block, plus the
  // bytes after it that decide it. In original bytes it is at most 6 times that ("\u0041").
  size_t carryBytes() const;
  const PiiOptions& options() const { return options_; }

  // The replacement for `value` (the original bytes of a finding of `type`).
  std::string replacement(PiiType type, std::string_view value) const;

 private:
  friend class PiiStreamRedactor;
  PiiScanner(PiiOptions options, std::unique_ptr<const pii::PiiDetector> detector);
  // find() on an already normalised text, ignoring the candidates that start before `from`
  // (original offset: the stream's left context, which was emitted already) before overlaps are
  // resolved. `scan` (may be null) is passed to the detector (pii::ScanState).
  std::vector<PiiFinding> findIn(const pii::NormalizedText& norm, size_t from,
                                 pii::ScanState* scan) const;

  PiiOptions options_;
  uint32_t enabled_ = 0;
  std::unique_ptr<const pii::PiiDetector> detector_;
};

// Redacts a stream (SSE chunks) so that a value split across chunks is still caught (catalog
// row 32): it holds back carryBytes() normalised bytes of the tail, more while a finding or an
// open PEM block that starts before that point is not complete, never emits a split UTF-8
// sequence or JSON escape, and keeps some of the emitted text as the left context of what
// follows: the context-word window, and the text back to where each sequential secret scan
// stands, which it resumes there (pii::ScanState), so that a match that started in emitted text
// hides what it hides in the whole text, no more and no less.
// The concatenation of feed() and finish() outputs equals scanner->redact() of the whole
// stream. Thread contract: one per stream, not thread-safe.
class PiiStreamRedactor {
 public:
  explicit PiiStreamRedactor(std::shared_ptr<const PiiScanner> scanner);

  // What is safe to emit now.
  std::string feed(std::string_view chunk, PiiCounts* counts);
  // The rest; the redactor is empty afterwards and may be reused.
  std::string finish(PiiCounts* counts);

  // Bytes received and not yet emitted.
  size_t pendingBytes() const { return pending_.size(); }

 private:
  std::string drain(bool final, PiiCounts* counts);

  std::shared_ptr<const PiiScanner> scanner_;
  std::string context_;  // the tail of what was emitted (left context: "卡号", "password=")
  std::string pending_;  // received, not yet emitted
  // Where the token and the key=value scans resume, as offsets into context_ + pending_.
  size_t secrets_resume_ = 0;
  size_t key_values_resume_ = 0;
};

}  // namespace dw::security
