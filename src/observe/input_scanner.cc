#include "observe/input_scanner.h"

#include <algorithm>

#include "base/hash.h"
#include "base/utf8.h"

namespace dw::observe {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

}  // namespace

void InputScanner::countToken(uint64_t hash) {
  ++tokens_;
  ++token_bins_[mix64(hash) % kTokenBins];
  if (hash == last_token_) {
    if (++token_run_ >= limits_->max_token_run) {
      flag(Abnormal::kRepetition);
    }
  } else {
    last_token_ = hash;
    token_run_ = 1;
  }
}

void InputScanner::endWord() {
  if (in_word_) {
    countToken(word_hash_);
    in_word_ = false;
  }
}

void InputScanner::addText(std::string_view text) {
  if (scanned_bytes_ >= limits_->scan_bytes) {
    // Past the scan budget: count roughly (bytes as characters, 4 per token), look no further.
    chars_ += static_cast<uint32_t>(text.size());
    tokens_ += static_cast<uint32_t>(text.size() / 4);
    return;
  }
  size_t budget = std::min<size_t>(limits_->scan_bytes - scanned_bytes_, text.size());
  // Never cut a character in two: back off to the start of a UTF-8 sequence.
  while (budget > 0 && budget < text.size() &&
         (static_cast<unsigned char>(text[budget]) & 0xC0) == 0x80) {
    --budget;
  }
  const std::string_view examined = text.substr(0, budget);
  scanned_bytes_ += static_cast<uint32_t>(examined.size());
  for (size_t pos = 0; pos < examined.size();) {
    bool invalid = false;
    const char32_t cp = utf8::decode(examined, &pos, &invalid);
    if (invalid) {
      flag(Abnormal::kInvalidUtf8);
    }
    ++chars_;
    if (cp == last_char_) {
      if (++char_run_ >= limits_->max_char_run && cp != ' ') {
        flag(Abnormal::kRepetition);
      }
    } else {
      last_char_ = cp;
      char_run_ = 1;
    }
    if ((cp < 0x20 && cp != '\n' && cp != '\t' && cp != '\r') || cp == 0x7F ||
        (cp >= 0x80 && cp < 0xA0)) {
      flag(Abnormal::kControlChars);
    }
    if (utf8::isCjk(cp)) {
      ++scripts_[static_cast<int>(Script::kCjk)];
      endWord();
      countToken(mix64(cp));
    } else if (cp >= '0' && cp <= '9') {
      ++scripts_[static_cast<int>(Script::kDigit)];
      if (!in_word_) {
        in_word_ = true;
        word_hash_ = kFnvOffset;
      }
      word_hash_ = (word_hash_ ^ cp) * kFnvPrime;
    } else if (utf8::isWordChar(cp)) {
      ++scripts_[static_cast<int>(Script::kLatin)];
      if (!in_word_) {
        in_word_ = true;
        word_hash_ = kFnvOffset;
      }
      const char32_t lower = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
      word_hash_ = (word_hash_ ^ lower) * kFnvPrime;
    } else {
      endWord();
      if (cp != ' ' && cp != '\n' && cp != '\t' && cp != '\r') {
        ++scripts_[static_cast<int>(Script::kOther)];
        countToken(mix64(cp ^ 0x5eedULL));
      }
    }
  }
  endWord();
  if (text.size() > examined.size()) {
    chars_ += static_cast<uint32_t>(text.size() - examined.size());
    tokens_ += static_cast<uint32_t>((text.size() - examined.size()) / 4);
  }
}

uint32_t InputScanner::abnormal() const {
  uint32_t flags = flags_;
  if (tokens_ == 0) {
    flags |= 1U << static_cast<int>(Abnormal::kEmpty);
  }
  if (tokens_ > limits_->max_prompt_tokens) {
    flags |= 1U << static_cast<int>(Abnormal::kOverLength);
  }
  return flags;
}

}  // namespace dw::observe
