// Cheap features of one request's input (R1.1), computed while the gateway reads the request
// body for routing: characters and approximate tokens, message count, the script mix, a hashed
// token histogram (the vocabulary profile that drift is measured on), and abnormal-input flags.
//
// Approximate tokens: a run of letters or digits is one token, every CJK character and every
// other symbol is one, as the reference model counts them; upstream tokenizers differ, but drift
// compares the gateway's counts with its own baseline, so the approximation cancels out.
//
// Thread contract: an InputScanner belongs to one request on one worker.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "observe/layout.h"

namespace dw::observe {

struct InputLimits {
  uint32_t max_prompt_tokens = 32768;  // Above: over_length.
  uint32_t max_char_run = 64;          // The same character this many times in a row: repetition.
  uint32_t max_token_run = 16;         // The same token this many times in a row: repetition.
  uint32_t scan_bytes = 64 * 1024;     // Text beyond this is counted, not examined.
};

class InputScanner {
 public:
  explicit InputScanner(const InputLimits& limits) : limits_(&limits) {}

  void addMessage() { ++messages_; }
  // Examines one piece of text (a message's content, a prompt, an embedding input).
  void addText(std::string_view text);
  void flag(Abnormal kind) { flags_ |= 1U << static_cast<int>(kind); }

  uint32_t chars() const { return chars_; }
  uint32_t tokens() const { return tokens_; }
  uint32_t messages() const { return messages_; }
  const std::array<uint32_t, kScripts>& scripts() const { return scripts_; }
  const std::array<uint32_t, kTokenBins>& tokenBins() const { return token_bins_; }
  // The abnormal flags, emptiness and length included (bit i is Abnormal(i)).
  uint32_t abnormal() const;

 private:
  void endWord();
  void countToken(uint64_t hash);

  const InputLimits* limits_;
  uint32_t chars_ = 0;
  uint32_t tokens_ = 0;
  uint32_t messages_ = 0;
  uint32_t scanned_bytes_ = 0;
  uint32_t flags_ = 0;
  std::array<uint32_t, kScripts> scripts_{};
  std::array<uint32_t, kTokenBins> token_bins_{};
  uint64_t word_hash_ = 0;
  bool in_word_ = false;
  char32_t last_char_ = 0;
  uint32_t char_run_ = 0;
  uint64_t last_token_ = 0;
  uint32_t token_run_ = 0;
};

}  // namespace dw::observe
