#include "security/pii_detectors.h"

#include <gtest/gtest.h>

namespace dw::security::pii {
namespace {

TEST(PiiValidatorsTest, ResidentIdChecksumDateAndRegion) {
  EXPECT_TRUE(residentIdValid("11010519491231002X"));
  EXPECT_TRUE(residentIdValid("11010519491231002x"));
  EXPECT_TRUE(residentIdValid("440304199001011233"));
  EXPECT_TRUE(residentIdValid("110101199003077571"));
  EXPECT_TRUE(residentIdValid("310115198002290013"));   // 1980-02-29, a leap day
  EXPECT_FALSE(residentIdValid("110105194912310021"));  // bad check character
  EXPECT_FALSE(residentIdValid("310115198102290010"));  // 1981-02-29
  EXPECT_FALSE(residentIdValid("110105209912310029"));  // born in the future
  EXPECT_FALSE(residentIdValid("000105194912310024"));  // no such region
  EXPECT_TRUE(residentIdValid("110105491231002"));      // legacy 15 digits
  EXPECT_FALSE(residentIdValid("110105490230002"));     // legacy, Feb 30
}

TEST(PiiValidatorsTest, LuhnAndCardScore) {
  EXPECT_TRUE(luhnValid("6222021234567890128"));
  EXPECT_TRUE(luhnValid("6217000000000000004"));
  EXPECT_FALSE(luhnValid("6222021234567890123"));
  EXPECT_FALSE(luhnValid(""));
  // Catalog row 29: weak 0.3, +0.35 with context (floor 0.4), threshold 0.5.
  EXPECT_DOUBLE_EQ(bankCardScore("4111111111111111", false, false), 0.3);
  EXPECT_DOUBLE_EQ(bankCardScore("4111111111111111", false, true), 0.65);
  EXPECT_DOUBLE_EQ(bankCardScore("6222021234567890128", false, false), 0.6);
  EXPECT_DOUBLE_EQ(bankCardScore("4111111111111112", false, true), 0.0);
}

TEST(PiiValidatorsTest, DatesMobilesAndAddresses) {
  EXPECT_TRUE(validBirthDate(2000, 2, 29));
  EXPECT_FALSE(validBirthDate(1900, 2, 29));
  EXPECT_FALSE(validBirthDate(1999, 4, 31));
  EXPECT_TRUE(mainlandMobileValid("13812345678"));
  EXPECT_FALSE(mainlandMobileValid("12812345678"));
  EXPECT_TRUE(ipv4Valid("192.168.0.1"));
  EXPECT_FALSE(ipv4Valid("999.1.1.1"));
  EXPECT_FALSE(ipv4Valid("1.2.3"));
  EXPECT_FALSE(ipv4Valid("1.2.3.4.5"));
  EXPECT_TRUE(ipv6Valid("2001:db8::1"));
  EXPECT_TRUE(ipv6Valid("::ffff:10.0.0.1"));
  EXPECT_FALSE(ipv6Valid("12:30:45"));
}

TEST(PiiValidatorsTest, EntropyOfUniformAndRepeatedText) {
  EXPECT_DOUBLE_EQ(shannonEntropy("aaaaaaaa"), 0.0);
  EXPECT_DOUBLE_EQ(shannonEntropy("abcdefgh"), 3.0);
  EXPECT_GT(shannonEntropy("Xy7#kP9$mQ2!vR4w"), 3.5);
}

TEST(PiiNormalizedTextTest, FullWidthAndEscapesMapBackToOriginalOffsets) {
  const std::string original = "a１３b\\n\\u0031c";
  const NormalizedText norm(original);
  ASSERT_FALSE(norm.identity());
  EXPECT_EQ(norm.text(), std::string("a13b") + kEscapeMark + "1c");
  EXPECT_EQ(norm.toOriginal(1), 1u);
  EXPECT_EQ(norm.toOriginal(2), 4u);
  EXPECT_EQ(norm.toOriginal(3), 7u);
  EXPECT_EQ(norm.toOriginal(5), 10u);
  EXPECT_EQ(norm.toOriginal(7), original.size());
  EXPECT_TRUE(NormalizedText("plain 中文 text").identity());
}

TEST(PiiDetectorTest, TypeNamesRoundTrip) {
  for (size_t i = 0; i < kPiiTypeCount; ++i) {
    const auto type = static_cast<PiiType>(i);
    EXPECT_EQ(parsePiiType(piiTypeName(type)), type);
  }
  EXPECT_EQ(parsePiiType("nope"), std::nullopt);
}

TEST(PiiDetectorTest, OpenPemBlockIsReportedUntilItsEndLine) {
  const std::string header = "x -----BEGIN RSA PRIVATE KEY-----\nMIIB";
  EXPECT_EQ(PiiDetector::openPemBlock(header), 2u);
  EXPECT_EQ(PiiDetector::openPemBlock(header + "\n-----END RSA PRIVATE KEY-----"),
            std::string_view::npos);
  EXPECT_EQ(PiiDetector::openPemBlock("no key here"), std::string_view::npos);
}

}  // namespace
}  // namespace dw::security::pii
