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

std::unique_ptr<const PiiDetector> detector() {
  auto created = PiiDetector::create();
  EXPECT_TRUE(created.ok());
  return std::move(*created);
}

constexpr uint32_t kSecretsOnly = 1U << static_cast<int>(PiiType::kSecret);

TEST(PiiDetectorTest, ReportsAPemBlockOpenUntilItsEndLineClosesOrItsLimit) {
  const auto d = detector();
  auto open_pems = [&](const std::string& text) {
    std::vector<PiiFinding> out;
    ScanState state;
    d->detect(text, kSecretsOnly, &out, &state);
    EXPECT_EQ(out.size(), 1u) << text;
    return state.open_pems;
  };
  const std::string header = "x -----BEGIN RSA PRIVATE KEY-----\nMIIB";
  EXPECT_EQ(open_pems(header), std::vector<size_t>{2});
  // The END line is there but not its closing dashes yet: more text may still close it.
  EXPECT_EQ(open_pems(header + "\n-----END RSA PRIVATE KEY---"), std::vector<size_t>{2});
  EXPECT_TRUE(open_pems(header + "\n-----END RSA PRIVATE KEY-----").empty());
  // kMaxPemSpan of body: nothing later can change where the block ends.
  EXPECT_TRUE(open_pems(header + std::string(kMaxPemSpan, 'A')).empty());
}

TEST(PiiDetectorTest, APemBlockHidesNothingAfterItFromTheSecretScan) {
  const auto d = detector();
  // The first block's broken END line runs into the second header, whose block the scan finds
  // too: both are reported, and the scan goes on after each header, not after its block.
  const std::string block = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY---x\n";
  const std::string text = block + "ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6 " + block;
  std::vector<PiiFinding> out;
  ScanState state;
  d->detect(text, kSecretsOnly, &out, &state);
  ASSERT_EQ(state.secret_steps.size(), 3u);
  EXPECT_EQ(state.secret_steps[0].resume,
            std::string_view("-----BEGIN RSA PRIVATE KEY-----").size());
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(state.open_pems, std::vector<size_t>{text.size() - block.size()});
}

TEST(PiiDetectorTest, AJwtLongerThanTheSpanHidesNoSecretInsideIt) {
  const auto d = detector();
  const std::string token = "ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6";
  const std::string text = "eyJ" + std::string(600, 'a') + ".bb.cccccccc-" + token + " end";
  std::vector<PiiFinding> out;
  d->detect(text, kSecretsOnly, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(text.substr(out[0].begin, out[0].end - out[0].begin), token);
  // At the span's length it is one JWT.
  const std::string jwt = "eyJ" + std::string(kMaxSpan - 17, 'a') + ".bb.cccccccccc";
  ASSERT_EQ(jwt.size(), kMaxSpan);
  out.clear();
  d->detect("x " + jwt + " y", kSecretsOnly, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].end - out[0].begin, kMaxSpan);
}

}  // namespace
}  // namespace dw::security::pii
