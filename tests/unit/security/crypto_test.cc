#include "security/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace dw::security {
namespace {

TEST(CryptoTest, Sha256MatchesTheKnownVector) {
  EXPECT_EQ(toHex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(toHex(sha256({"a", "", "bc"})), toHex(sha256("abc")));
}

TEST(CryptoTest, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(toHex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, HexRoundTripsAndRejectsBadInput) {
  const Digest d = sha256("x");
  Digest back{};
  ASSERT_TRUE(fromHex(toHex(d), &back));
  EXPECT_EQ(back, d);
  EXPECT_FALSE(fromHex("abc", &back));
  EXPECT_FALSE(fromHex(std::string(64, 'g'), &back));
}

TEST(CryptoTest, ConstantTimeEqualComparesContentAndSize) {
  EXPECT_TRUE(constantTimeEqual("secret", "secret"));
  EXPECT_FALSE(constantTimeEqual("secret", "secreT"));
  EXPECT_FALSE(constantTimeEqual("secret", "secrets"));
}

TEST(CryptoTest, RandomBelowStaysInRangeAndCoversIt) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = randomBelow(7);
    ASSERT_LT(v, 7u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 7u);
}

}  // namespace
}  // namespace dw::security
