// UTF-8 decoding and script classes, shared by the reference model's tokenizer and (later) the
// gateway's input features. Invalid bytes never stop decoding: each one decodes to U+FFFD and
// is reported, so hostile input is measured rather than rejected halfway.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dw::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Decodes the code point at text[*pos] and advances *pos past it. An invalid or truncated
// sequence (overlong forms, surrogates and values above U+10FFFF included) yields kReplacement,
// advances by one byte and sets *invalid when given.
char32_t decode(std::string_view text, size_t* pos, bool* invalid = nullptr);

// Appends the UTF-8 encoding of `cp` to `out`.
void append(std::string& out, char32_t cp);

// True when every byte sequence of `text` is valid UTF-8.
bool isValid(std::string_view text);

// Han ideographs, CJK punctuation and full-width forms, kana and hangul: scripts that the
// tokenizer splits one character per token.
bool isCjk(char32_t cp);

// Unicode letters and digits of the Latin, Greek and Cyrillic blocks (the scripts of the English
// corpora and their loanwords).
bool isWordChar(char32_t cp);

}  // namespace dw::utf8
