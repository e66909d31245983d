#include "base/hash.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace dw {
namespace {

// Usable at compile time, so split thresholds and keys can be constants.
static_assert(stableHash("deepwatch") == stableHash("deepwatch"));
static_assert(fnv1a64("") == 0xcbf29ce484222325ULL);

TEST(HashTest, Fnv1aMatchesReferenceVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(HashTest, StableHashIsDeterministic) {
  const std::string text = "床前明月光 and some ASCII";
  EXPECT_EQ(stableHash(text), stableHash(text));
  EXPECT_EQ(stableHash(text, 42), stableHash(std::string(text), 42));
  EXPECT_EQ(stableHash("abc", 7), stableHash("abc", 7));
}

TEST(HashTest, StableHashDependsOnSeed) {
  EXPECT_NE(stableHash("abc", 0), stableHash("abc", 1));
  EXPECT_NE(stableHash("abc", 1), stableHash("abc", 2));
  std::set<uint64_t> values;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    values.insert(stableHash("same text", seed));
  }
  EXPECT_EQ(values.size(), 100u);
}

TEST(HashTest, StableHashDistinguishesInputs) {
  EXPECT_NE(stableHash("abc"), stableHash("abd"));
  EXPECT_NE(stableHash(""), stableHash(std::string_view("\0", 1)));
  std::set<uint64_t> values;
  for (int i = 0; i < 1000; ++i) {
    values.insert(stableHash("doc " + std::to_string(i)));
  }
  EXPECT_EQ(values.size(), 1000u);
}

TEST(HashTest, Mix64SpreadsLowBits) {
  // Consecutive inputs land in both halves of the range, so a modulo or threshold is fair.
  int high = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    high += (mix64(i) >> 63) != 0 ? 1 : 0;
  }
  EXPECT_GT(high, 400);
  EXPECT_LT(high, 600);
}

}  // namespace
}  // namespace dw
