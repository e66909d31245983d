#include "base/random.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace dw {
namespace {

TEST(RandomTest, SameSeedGivesSameSequence) {
  Random a(1234);
  Random b(1234);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a.next(), b.next()) << "draw " << i;
  }
}

TEST(RandomTest, DifferentSeedsGiveDifferentSequences) {
  Random a(1);
  Random b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) {
    equal += a.next() == b.next() ? 1 : 0;
  }
  EXPECT_EQ(equal, 0);
}

TEST(RandomTest, UniformIsInUnitInterval) {
  Random random(7);
  for (int i = 0; i < 100000; ++i) {
    double u = random.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(RandomTest, UniformMeanIsNearHalf) {
  Random random(99);
  constexpr int kDraws = 100000;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    sum += random.uniform();
  }
  // The standard error of the mean is 1/sqrt(12 * 100000), about 0.0009.
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
}

TEST(RandomTest, BelowStaysInRangeAndCoversIt) {
  Random random(5);
  std::vector<int> seen(10, 0);
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = random.below(10);
    ASSERT_LT(v, 10u);
    ++seen[v];
  }
  for (int count : seen) {
    EXPECT_GT(count, 800);
    EXPECT_LT(count, 1200);
  }
}

TEST(RandomTest, WorksAsUniformRandomBitGenerator) {
  Random a(11);
  Random b(11);
  std::uniform_int_distribution<int> dist(1, 6);
  for (int i = 0; i < 100; ++i) {
    int x = dist(a);
    EXPECT_GE(x, 1);
    EXPECT_LE(x, 6);
    EXPECT_EQ(x, dist(b));
  }
}

}  // namespace
}  // namespace dw
