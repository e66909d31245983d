#include "model/tokenizer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::model {
namespace {

using Tokens = std::vector<std::string>;

std::string join(const Tokens& tokens) {
  std::string out;
  for (const std::string& token : tokens) {
    out += token;
  }
  return out;
}

TEST(TokenizeTest, WordsKeepTheirLeadingSpace) {
  EXPECT_EQ(tokenize("the cat sat"), (Tokens{"the", " cat", " sat"}));
  EXPECT_EQ(tokenize("Over the hill"), (Tokens{"Over", " the", " hill"}));
}

TEST(TokenizeTest, PunctuationIsOneTokenPerMark) {
  EXPECT_EQ(tokenize("Hello, world!"), (Tokens{"Hello", ",", " world", "!"}));
  EXPECT_EQ(tokenize("wait..."), (Tokens{"wait", ".", ".", "."}));
  EXPECT_EQ(tokenize("a - b"), (Tokens{"a", " -", " b"}));
  EXPECT_EQ(tokenize("(x)"), (Tokens{"(", "x", ")"}));
}

TEST(TokenizeTest, ApostrophesStayInsideWords) {
  EXPECT_EQ(tokenize("don't panic"), (Tokens{"don't", " panic"}));
}

TEST(TokenizeTest, EachCjkCharacterIsAToken) {
  EXPECT_EQ(tokenize("床前明月光"), (Tokens{"床", "前", "明", "月", "光"}));
  EXPECT_EQ(tokenize("床前明月光，疑是地上霜。"),
            (Tokens{"床", "前", "明", "月", "光", "，", "疑", "是", "地", "上", "霜", "。"}));
  EXPECT_EQ(tokenize("Li Bai 李白"), (Tokens{"Li", " Bai", " 李", "白"}));
}

TEST(TokenizeTest, NewlineRunsCollapseToOneToken) {
  EXPECT_EQ(tokenize("one\ntwo"), (Tokens{"one", "\n", "two"}));
  EXPECT_EQ(tokenize("one\n\n\ntwo"), (Tokens{"one", "\n", "two"}));
  EXPECT_EQ(tokenize("one  \n \t\n   two"), (Tokens{"one", "\n", "two"}));
}

TEST(TokenizeTest, LeadingAndTrailingWhitespaceIsDropped) {
  EXPECT_EQ(tokenize("   hello  "), (Tokens{"hello"}));
  EXPECT_EQ(tokenize("hello \n\n \n"), (Tokens{"hello"}));
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize(" \n\t ").empty());
}

TEST(TokenizeTest, ConcatenationReproducesNormalisedText) {
  struct Case {
    std::string_view text;
    std::string_view normalised;
  };
  for (Case c : {
           Case{"the cat sat", "the cat sat"},
           Case{"the   cat\tsat", "the cat sat"},
           Case{"  Hello,   world!  ", "Hello, world!"},
           Case{"first line  \n\n  second line", "first line\nsecond line"},
           Case{"床前明月光，\n疑是地上霜。", "床前明月光，\n疑是地上霜。"},
           Case{"A quote: \"Be nice.\" -- Anon", "A quote: \"Be nice.\" -- Anon"},
       }) {
    EXPECT_EQ(join(tokenize(c.text)), c.normalised) << c.text;
  }
}

TEST(TokenizeTest, InvalidBytesBecomeReplacementCharacter) {
  EXPECT_EQ(tokenize("a\xFF"), (Tokens{"a", "\xEF\xBF\xBD"}));
}

TEST(ClassifierFeaturesTest, LowercasesWords) {
  EXPECT_EQ(classifierFeatures("Hello WORLD, Again!", false), (Tokens{"hello", "world", "again"}));
  EXPECT_EQ(classifierFeatures("\xC3\x89t\xC3\xA9", false), (Tokens{"\xC3\xA9t\xC3\xA9"}));  // Été
}

TEST(ClassifierFeaturesTest, EmitsCjkUnigramsWithoutBigramsByDefault) {
  EXPECT_EQ(classifierFeatures("床前明月光", false), (Tokens{"床", "前", "明", "月", "光"}));
}

TEST(ClassifierFeaturesTest, EmitsCjkBigramsWhenEnabled) {
  EXPECT_EQ(classifierFeatures("床前明", true), (Tokens{"床", "床前", "前", "前明", "明"}));
}

TEST(ClassifierFeaturesTest, SkipsCjkPunctuationAndBreaksBigramsThere) {
  EXPECT_EQ(classifierFeatures("月光，疑是。", false), (Tokens{"月", "光", "疑", "是"}));
  EXPECT_EQ(classifierFeatures("月光，疑是。", true),
            (Tokens{"月", "月光", "光", "疑", "疑是", "是"}));
  EXPECT_EQ(classifierFeatures("「天」", false), (Tokens{"天"}));
}

TEST(ClassifierFeaturesTest, MixesWordsAndCjk) {
  EXPECT_EQ(classifierFeatures("Li Bai 李白 wrote", true),
            (Tokens{"li", "bai", "李", "李白", "白", "wrote"}));
  // A Latin word between two CJK characters breaks the bigram.
  EXPECT_EQ(classifierFeatures("李x白", true), (Tokens{"李", "x", "白"}));
}

TEST(ClassifierFeaturesTest, EmptyAndPunctuationOnlyTextHasNoFeatures) {
  EXPECT_TRUE(classifierFeatures("", true).empty());
  EXPECT_TRUE(classifierFeatures("... !? ，。", true).empty());
}

}  // namespace
}  // namespace dw::model
