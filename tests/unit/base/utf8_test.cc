#include "base/utf8.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::utf8 {
namespace {

struct Decoded {
  std::vector<char32_t> code_points;
  bool invalid = false;
};

Decoded decodeAll(std::string_view text) {
  Decoded out;
  for (size_t pos = 0; pos < text.size();) {
    out.code_points.push_back(decode(text, &pos, &out.invalid));
  }
  return out;
}

TEST(Utf8Test, DecodesOneToFourByteSequences) {
  struct Case {
    std::string_view text;
    char32_t cp;
  };
  for (Case c : {Case{"A", U'A'}, Case{"\xC3\xA9", U'\u00E9'}, Case{"\xE5\xBA\x8A", U'\u5E8A'},
                 Case{"\xF0\x9F\x98\x80", U'\U0001F600'}, Case{"\xF4\x8F\xBF\xBF", 0x10FFFF}}) {
    size_t pos = 0;
    bool invalid = false;
    EXPECT_EQ(decode(c.text, &pos, &invalid), c.cp);
    EXPECT_EQ(pos, c.text.size());
    EXPECT_FALSE(invalid);
  }
}

TEST(Utf8Test, DecodesMixedTextWithoutInvalid) {
  Decoded d = decodeAll("a\xC3\xA9\xE5\xBA\x8A\xF0\x9F\x98\x80z");
  EXPECT_EQ(d.code_points, (std::vector<char32_t>{U'a', 0xE9, 0x5E8A, 0x1F600, U'z'}));
  EXPECT_FALSE(d.invalid);
}

TEST(Utf8Test, InvalidSequencesYieldReplacementAndAdvanceOneByte) {
  for (std::string_view bad : {
           std::string_view("\xC0\x80"),          // Overlong NUL.
           std::string_view("\xE0\x80\xAF"),      // Overlong '/'.
           std::string_view("\xF0\x80\x80\xAF"),  // Overlong '/' in four bytes.
           std::string_view("\xED\xA0\x80"),      // Surrogate U+D800.
           std::string_view("\xED\xBF\xBF"),      // Surrogate U+DFFF.
           std::string_view("\xF4\x90\x80\x80"),  // Above U+10FFFF.
           std::string_view("\xE5\xBA"),          // Truncated.
           std::string_view("\xF0\x9F\x98"),      // Truncated.
           std::string_view("\x80"),              // Stray continuation.
           std::string_view("\xBF"),              // Stray continuation.
           std::string_view("\xE5\x41"),          // Lead byte followed by ASCII 'A'.
           std::string_view("\xF8\x88\x80\x80"),  // Five-byte lead.
           std::string_view("\xFF"),
       }) {
    size_t pos = 0;
    bool invalid = false;
    EXPECT_EQ(decode(bad, &pos, &invalid), kReplacement);
    EXPECT_EQ(pos, 1u);
    EXPECT_TRUE(invalid);
    EXPECT_FALSE(isValid(bad));
  }
}

TEST(Utf8Test, DecodingContinuesAfterInvalidByte) {
  Decoded d = decodeAll(
      "a\xFF"
      "b");
  EXPECT_EQ(d.code_points, (std::vector<char32_t>{U'a', kReplacement, U'b'}));
  EXPECT_TRUE(d.invalid);
}

TEST(Utf8Test, DecodeWithoutInvalidFlagStillReplaces) {
  size_t pos = 0;
  EXPECT_EQ(decode("\x80", &pos), kReplacement);
  EXPECT_EQ(pos, 1u);
}

TEST(Utf8Test, AppendEncodesEveryLength) {
  for (char32_t cp : {char32_t{0x41}, char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF},
                      char32_t{0x800}, char32_t{0x5E8A}, char32_t{0xFFFD}, char32_t{0x10000},
                      char32_t{0x1F600}, char32_t{0x10FFFF}}) {
    std::string encoded;
    append(encoded, cp);
    size_t pos = 0;
    bool invalid = false;
    EXPECT_EQ(decode(encoded, &pos, &invalid), cp);
    EXPECT_EQ(pos, encoded.size());
    EXPECT_FALSE(invalid);
  }
  std::string out;
  append(out, 0x5E8A);
  EXPECT_EQ(out, "\xE5\xBA\x8A");
}

TEST(Utf8Test, IsValidAcceptsWellFormedText) {
  EXPECT_TRUE(isValid(""));
  EXPECT_TRUE(isValid("plain ascii"));
  EXPECT_TRUE(isValid("caf\xC3\xA9 \xE5\xBA\x8A\xE5\x89\x8D \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValid("caf\xC3"));
}

TEST(Utf8Test, IsCjkCoversHanKanaHangulAndNotLatin) {
  EXPECT_TRUE(isCjk(0x5E8A));   // 床
  EXPECT_TRUE(isCjk(0x4E00));   // 一
  EXPECT_TRUE(isCjk(0x3042));   // あ (hiragana)
  EXPECT_TRUE(isCjk(0x30A2));   // ア (katakana)
  EXPECT_TRUE(isCjk(0xAC00));   // 가 (hangul)
  EXPECT_TRUE(isCjk(0x3002));   // 。
  EXPECT_TRUE(isCjk(0xFF0C));   // ，
  EXPECT_TRUE(isCjk(0x20000));  // Extension B.
  EXPECT_FALSE(isCjk(U'a'));
  EXPECT_FALSE(isCjk(U'Z'));
  EXPECT_FALSE(isCjk(U'1'));
  EXPECT_FALSE(isCjk(U','));
  EXPECT_FALSE(isCjk(0xE9));  // é
  EXPECT_FALSE(isCjk(0x1F600));
}

TEST(Utf8Test, IsWordCharCoversLatinGreekCyrillicDigits) {
  EXPECT_TRUE(isWordChar(U'a'));
  EXPECT_TRUE(isWordChar(U'Q'));
  EXPECT_TRUE(isWordChar(U'7'));
  EXPECT_TRUE(isWordChar(U'\''));
  EXPECT_TRUE(isWordChar(0xE9));   // é
  EXPECT_TRUE(isWordChar(0x3B1));  // α
  EXPECT_TRUE(isWordChar(0x436));  // ж
  EXPECT_FALSE(isWordChar(0xD7));  // ×
  EXPECT_FALSE(isWordChar(0xF7));  // ÷
  EXPECT_FALSE(isWordChar(U' '));
  EXPECT_FALSE(isWordChar(U','));
  EXPECT_FALSE(isWordChar(0x5E8A));
}

}  // namespace
}  // namespace dw::utf8
