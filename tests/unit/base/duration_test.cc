#include "base/duration.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace dw {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

Duration parsed(std::string_view text) {
  StatusOr<Duration> result = parseDuration(text);
  EXPECT_TRUE(result.ok()) << text << ": " << result.status().toString();
  return result.ok() ? *result : Duration(-1);
}

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(parsed("7ns"), nanoseconds(7));
  EXPECT_EQ(parsed("100us"), microseconds(100));
  EXPECT_EQ(parsed("250ms"), milliseconds(250));
  EXPECT_EQ(parsed("5s"), seconds(5));
  EXPECT_EQ(parsed("2m"), minutes(2));
  EXPECT_EQ(parsed("1h"), hours(1));
}

TEST(DurationTest, ParsesFractionsAndZero) {
  EXPECT_EQ(parsed("1.5s"), milliseconds(1500));
  EXPECT_EQ(parsed("0.25ms"), microseconds(250));
  EXPECT_EQ(parsed("0"), Duration::zero());
  EXPECT_EQ(parsed("0s"), Duration::zero());
}

TEST(DurationTest, RejectsMalformedText) {
  for (std::string_view text : {"", "5", "-1s", "1x", "abc", "s", "1.5", "1 s", "1S", "1sec"}) {
    StatusOr<Duration> result = parseDuration(text);
    EXPECT_FALSE(result.ok()) << "accepted '" << text << "'";
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << text;
    }
  }
}

TEST(DurationTest, RejectsTooLarge) { EXPECT_FALSE(parseDuration("1000000h").ok()); }

TEST(DurationTest, FormatsShortestUnit) {
  EXPECT_EQ(formatDuration(Duration::zero()), "0s");
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(formatDuration(seconds(5)), "5s");
  EXPECT_EQ(formatDuration(seconds(90)), "1.5m");
  EXPECT_EQ(formatDuration(minutes(2)), "2m");
  EXPECT_EQ(formatDuration(hours(3)), "3h");
  EXPECT_EQ(formatDuration(microseconds(100)), "100us");
  EXPECT_EQ(formatDuration(nanoseconds(7)), "7ns");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (Duration d : {Duration::zero(), Duration(nanoseconds(7)), Duration(microseconds(100)),
                     Duration(milliseconds(250)), Duration(milliseconds(1500)),
                     Duration(seconds(5)), Duration(seconds(90)), Duration(minutes(2)),
                     Duration(hours(1)), Duration(microseconds(1500))}) {
    std::string text = formatDuration(d);
    EXPECT_EQ(parsed(text), d) << text;
  }
  for (std::string_view text : {"250ms", "1.5s", "2m", "1h", "100us", "7ns"}) {
    EXPECT_EQ(formatDuration(parsed(text)), text);
  }
}

// Bug: formatDuration promises "the shortest exact rendering", but renders a duration that is
// not a whole number of its unit with fmt's "{:g}" (6 significant digits), which loses precision:
// 1234567ms becomes "20.5761m" and 100000001ns becomes "100ms". Enable once fixed.
TEST(DurationTest, FormatIsExactForDurationsNeedingManyDigits) {
  for (Duration d : {Duration(milliseconds(1234567)), Duration(nanoseconds(100000001))}) {
    std::string text = formatDuration(d);
    EXPECT_EQ(parsed(text), d) << text;
  }
}

TEST(DurationTest, ToSecondsConvertsToDouble) {
  EXPECT_DOUBLE_EQ(toSeconds(milliseconds(1500)), 1.5);
  EXPECT_DOUBLE_EQ(toSeconds(Duration::zero()), 0.0);
}

}  // namespace
}  // namespace dw
