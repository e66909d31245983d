// The reference model's tokenizer: word-level for Latin text, character-level for CJK.
//
// Generator tokens keep their leading space (" the", like byte-level BPE vocabularies), so the
// text of a generation is the concatenation of its tokens and `logprobs.bytes` are exact.
// Whitespace is normalised: a run containing a newline becomes one "\n" token, any other run
// becomes the leading space of the next token. Classifier features are lower-cased words, CJK
// characters and CJK character bigrams.
//
// Thread contract: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dw::model {

// Splits text into generator tokens. Punctuation and symbols are one token per code point;
// invalid UTF-8 bytes become U+FFFD.
std::vector<std::string> tokenize(std::string_view text);

// Features for the topic classifier. `cjk_bigrams` adds pairs of adjacent CJK characters.
std::vector<std::string> classifierFeatures(std::string_view text, bool cjk_bigrams);

}  // namespace dw::model
