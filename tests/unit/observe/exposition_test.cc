#include "observe/exposition.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stats/bucket_histogram.h"

namespace dw::observe {
namespace {

TEST(ExpositionWriterTest, FamilyWritesHelpAndType) {
  ExpositionWriter writer;
  writer.family("dw_requests_total", "counter", "Requests served.");
  EXPECT_EQ(writer.release(),
            "# HELP dw_requests_total Requests served.\n"
            "# TYPE dw_requests_total counter\n");
}

TEST(ExpositionWriterTest, SampleWritesLabelsInOrder) {
  ExpositionWriter writer;
  writer.family("dw_requests_total", "counter", "Requests served.");
  writer.sample("dw_requests_total", {{"route", "chat"}, {"code", "200"}}, 5);
  writer.sample("dw_requests_total", {{"route", "embed"}, {"code", "429"}}, 0);
  EXPECT_EQ(writer.release(),
            "# HELP dw_requests_total Requests served.\n"
            "# TYPE dw_requests_total counter\n"
            "dw_requests_total{route=\"chat\",code=\"200\"} 5\n"
            "dw_requests_total{route=\"embed\",code=\"429\"} 0\n");
}

TEST(ExpositionWriterTest, SampleWithoutLabelsHasNoBraces) {
  ExpositionWriter writer;
  writer.sample("dw_up", {}, 1);
  EXPECT_EQ(writer.release(), "dw_up 1\n");
}

TEST(ExpositionWriterTest, WritesFractionalAndSpecialValues) {
  ExpositionWriter writer;
  writer.sample("a", {}, 0.25);
  writer.sample("b", {}, -3);
  writer.sample("c", {}, std::numeric_limits<double>::infinity());
  writer.sample("d", {}, -std::numeric_limits<double>::infinity());
  writer.sample("e", {}, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(writer.release(), "a 0.25\nb -3\nc +Inf\nd -Inf\ne NaN\n");
}

TEST(ExpositionWriterTest, EscapesLabelValues) {
  ExpositionWriter writer;
  writer.sample("dw_info", {{"path", "C:\\dir"}, {"quote", "say \"hi\""}, {"text", "a\nb"}}, 1);
  EXPECT_EQ(writer.release(),
            "dw_info{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",text=\"a\\nb\"} 1\n");
}

TEST(ExpositionWriterTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  ExpositionWriter writer;
  writer.family("m", "gauge", "A \"quoted\" C:\\path\nsecond line");
  EXPECT_EQ(writer.release(),
            "# HELP m A \"quoted\" C:\\\\path\\nsecond line\n"
            "# TYPE m gauge\n");
}

TEST(ExpositionWriterTest, HistogramEmitsCumulativeBucketsSumAndCount) {
  const std::vector<double> bounds = {0.5, 1, 10};
  stats::BucketHistogram histogram(bounds);
  for (double v : {0.25, 0.5, 0.75, 5.0, 50.0}) {
    histogram.observe(v);
  }
  ExpositionWriter writer;
  writer.family("dw_latency_seconds", "histogram", "Latency.");
  writer.histogram("dw_latency_seconds", {{"model", "m"}}, histogram);
  EXPECT_EQ(writer.release(),
            "# HELP dw_latency_seconds Latency.\n"
            "# TYPE dw_latency_seconds histogram\n"
            "dw_latency_seconds_bucket{model=\"m\",le=\"0.5\"} 2\n"
            "dw_latency_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "dw_latency_seconds_bucket{model=\"m\",le=\"10\"} 4\n"
            "dw_latency_seconds_bucket{model=\"m\",le=\"+Inf\"} 5\n"
            "dw_latency_seconds_sum{model=\"m\"} 56.5\n"
            "dw_latency_seconds_count{model=\"m\"} 5\n");
}

TEST(ExpositionWriterTest, HistogramWithoutLabelsPutsOnlyLeInBraces) {
  const std::vector<double> bounds = {1};
  stats::BucketHistogram histogram(bounds);
  ExpositionWriter writer;
  writer.histogram("h", {}, histogram);
  EXPECT_EQ(writer.release(),
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 0\n"
            "h_sum 0\n"
            "h_count 0\n");
}

TEST(ExpositionWriterTest, ReleaseHandsOverTheText) {
  ExpositionWriter writer;
  writer.sample("x", {}, 1);
  std::string text = writer.release();
  EXPECT_EQ(text, "x 1\n");
}

TEST(ExpositionWriterTest, ContentTypeIsPrometheusText) {
  EXPECT_EQ(kPrometheusTextContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace dw::observe
