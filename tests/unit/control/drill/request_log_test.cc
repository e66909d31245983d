#include "control/drill/request_log.h"

#include <gtest/gtest.h>

namespace dw::control::drill {
namespace {

// Ten requests a second from `from` to `to`, each taking `latency`; `failing` decides which fail.
void steady(RequestLog& log, double from, double to, double latency,
            bool (*failing)(double) = nullptr) {
  for (double t = from; t < to; t += 0.1) {
    log.add({t, latency, failing == nullptr || !failing(t), ""});
  }
}

TEST(RequestLogTest, WindowCountsRequestsFailuresAndP99OfTheAnswered) {
  RequestLog log;
  for (int i = 0; i < 100; ++i) {
    log.add({1.0 + i * 0.01, i == 99 ? 2.0 : 0.05, true, ""});
  }
  log.add({1.5, 0.001, false, "503"});
  log.add({5.0, 0.05, false, "reset"});  // Outside [1, 3).
  const WindowStats w = log.window(1, 3);
  EXPECT_EQ(w.requests, 101u);
  EXPECT_EQ(w.failed, 1u);
  EXPECT_EQ(w.errors.at("503"), 1u);
  EXPECT_EQ(w.errors.count("reset"), 0u);
  EXPECT_DOUBLE_EQ(w.p99, 0.05);  // The 99th of 100 answered requests, not the slowest one.
  EXPECT_NEAR(w.availability(), 100.0 / 101, 1e-12);
  EXPECT_DOUBLE_EQ(log.window(10, 20).availability(), 1.0);
}

TEST(RequestLogTest, RestoredAtIsTheEndOfTheLastFailureBeforeACleanStretch) {
  RequestLog log;
  steady(log, 0, 20, 0.05, [](double t) { return t >= 5 && t < 8; });
  // The last failure started at ~7.9 s and ended 0.05 s later; 3 s clean after it.
  auto restored = log.restoredAt(4, 3, 20);
  ASSERT_TRUE(restored.has_value());
  EXPECT_NEAR(*restored, 7.95, 0.11);
  // Not yet: the clean stretch has not been seen.
  EXPECT_FALSE(log.restoredAt(4, 3, 9).has_value());
  // Nothing failed after 10 s: restored at once.
  EXPECT_DOUBLE_EQ(*log.restoredAt(10, 3, 20), 10);
}

TEST(RequestLogTest, AFailureInsideTheCleanStretchMovesIt) {
  RequestLog log;
  steady(log, 0, 30, 0.05, [](double t) { return (t >= 5 && t < 6) || (t >= 7.5 && t < 7.6); });
  auto restored = log.restoredAt(0, 3, 30);
  ASSERT_TRUE(restored.has_value());
  EXPECT_GT(*restored, 7.5);
  EXPECT_LT(*restored, 7.8);
}

TEST(RequestLogTest, NoRequestsIsNeverRestored) {
  RequestLog log;
  EXPECT_FALSE(log.restoredAt(0, 3, 100).has_value());
}

TEST(RequestLogTest, LatencyBelowAtFindsTheFirstQuietWindow) {
  RequestLog log;
  steady(log, 0, 10, 1.5);  // Slow.
  steady(log, 10, 30, 0.05);
  auto at = log.latencyBelowAt(0, 5, 0.8, 5, 30);
  ASSERT_TRUE(at.has_value());
  EXPECT_DOUBLE_EQ(*at, 15);  // The window [10, 15) is the first without a slow request.
  EXPECT_FALSE(log.latencyBelowAt(0, 5, 0.8, 5, 12).has_value());
  EXPECT_FALSE(log.latencyBelowAt(0, 5, 0.8, 1000, 30).has_value());  // Too few requests.
}

TEST(RequestLogTest, PerSecondSplitsAnsweredFromFailed) {
  RequestLog log;
  log.add({0.2, 0.1, true, ""});
  log.add({0.7, 0.3, false, "timeout"});
  log.add({2.5, 0.2, true, ""});
  const auto seconds = log.perSecond(3);
  ASSERT_EQ(seconds.size(), 3u);
  EXPECT_EQ(seconds[0].ok, 1u);
  EXPECT_EQ(seconds[0].failed, 1u);
  EXPECT_DOUBLE_EQ(seconds[0].max_seconds, 0.3);
  EXPECT_EQ(seconds[1].ok + seconds[1].failed, 0u);
  EXPECT_EQ(seconds[2].ok, 1u);
}

}  // namespace
}  // namespace dw::control::drill
