#include "model/tokenizer.h"

#include "base/utf8.h"

namespace dw::model {
namespace {

bool isSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == 0xA0;
}

char32_t lower(char32_t cp) {
  if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)) {
    return cp + 32;
  }
  return cp;
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  bool in_word = false;
  bool pending_space = false;
  auto flush = [&] {
    if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
    in_word = false;
  };
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = utf8::decode(text, &pos);
    if (isSpace(cp)) {
      flush();
      if (cp == '\n') {
        if (tokens.empty() || tokens.back() != "\n") {
          tokens.emplace_back("\n");
        }
        pending_space = false;
      } else if (!tokens.empty() && tokens.back() != "\n") {
        pending_space = true;
      }
      continue;
    }
    if (utf8::isWordChar(cp)) {
      if (!in_word) {
        flush();
        if (pending_space) {
          current.push_back(' ');
        }
        in_word = true;
      }
      utf8::append(current, cp);
    } else {
      // A CJK character or a punctuation mark: a token of its own.
      flush();
      if (pending_space) {
        current.push_back(' ');
      }
      utf8::append(current, cp);
      flush();
    }
    pending_space = false;
  }
  flush();
  while (!tokens.empty() && tokens.back() == "\n") {
    tokens.pop_back();
  }
  return tokens;
}

std::vector<std::string> classifierFeatures(std::string_view text, bool cjk_bigrams) {
  std::vector<std::string> features;
  std::string word;
  char32_t previous_cjk = 0;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = utf8::decode(text, &pos);
    if (utf8::isWordChar(cp) && cp != '\'') {
      utf8::append(word, lower(cp));
      previous_cjk = 0;
      continue;
    }
    if (!word.empty()) {
      features.push_back(std::move(word));
      word.clear();
    }
    // Han ideographs, kana and hangul carry meaning; CJK punctuation and full-width forms do not.
    bool meaningful_cjk =
        utf8::isCjk(cp) && !(cp >= 0x3000 && cp <= 0x303F) && !(cp >= 0xFF00 && cp <= 0xFFEF);
    if (meaningful_cjk) {
      std::string unigram;
      utf8::append(unigram, cp);
      if (cjk_bigrams && previous_cjk != 0) {
        std::string bigram;
        utf8::append(bigram, previous_cjk);
        bigram += unigram;
        features.push_back(std::move(bigram));
      }
      features.push_back(std::move(unigram));
      previous_cjk = cp;
    } else if (cp != '\'') {
      previous_cjk = 0;
    }
  }
  if (!word.empty()) {
    features.push_back(std::move(word));
  }
  return features;
}

}  // namespace dw::model
