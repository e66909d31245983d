#include "observe/baseline.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace dw::observe {
namespace {

Baseline sample() {
  Baseline b;
  b.model = "m";
  b.version = "v2";
  b.captured_at = 1700000000;
  b.window = "5m";
  b.requests = 1234;
  b.histograms["script"] = {10, 200.5, 3, 0};
  b.histograms["label"] = {7, 1, 0.25};
  b.histograms["empty"] = {};
  b.labels = {"positive", "negative", "other"};
  return b;
}

void expectRejected(std::string_view text) {
  StatusOr<Baseline> parsed = Baseline::fromJson(text);
  EXPECT_FALSE(parsed.ok()) << "accepted " << text;
  if (!parsed.ok()) {
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(BaselineTest, JsonRoundTrip) {
  const Baseline original = sample();
  StatusOr<Baseline> parsed = Baseline::fromJson(original.toJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->model, original.model);
  EXPECT_EQ(parsed->version, original.version);
  EXPECT_EQ(parsed->captured_at, original.captured_at);
  EXPECT_EQ(parsed->window, original.window);
  EXPECT_EQ(parsed->requests, original.requests);
  EXPECT_EQ(parsed->histograms, original.histograms);
  EXPECT_EQ(parsed->labels, original.labels);
  // And again: the text is stable.
  EXPECT_EQ(parsed->toJson(), original.toJson());
}

TEST(BaselineTest, RoundTripKeepsNonAsciiModelNames) {
  Baseline b = sample();
  b.model = "模型-α";
  b.labels = {"正面", "负面", "other"};
  StatusOr<Baseline> parsed = Baseline::fromJson(b.toJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->model, b.model);
  EXPECT_EQ(parsed->labels, b.labels);
}

TEST(BaselineTest, OptionalFieldsTakeDefaults) {
  StatusOr<Baseline> parsed = Baseline::fromJson(R"({"model":"m","histograms":{}})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->model, "m");
  EXPECT_EQ(parsed->version, "all");
  EXPECT_EQ(parsed->captured_at, 0);
  EXPECT_EQ(parsed->requests, 0u);
  EXPECT_TRUE(parsed->histograms.empty());
  EXPECT_TRUE(parsed->labels.empty());
}

TEST(BaselineTest, FromJsonRejectsNonObjects) {
  expectRejected("");
  expectRejected("not json");
  expectRejected("[]");
  expectRejected("[{\"model\":\"m\"}]");
  expectRejected("\"m\"");
  expectRejected("42");
  expectRejected("null");
  expectRejected(R"({"model":"m","histograms":{})");  // Truncated.
}

TEST(BaselineTest, FromJsonRejectsAMissingOrMistypedModel) {
  expectRejected(R"({"histograms":{}})");
  expectRejected(R"({"model":7,"histograms":{}})");
  expectRejected(R"({"model":null,"histograms":{}})");
  expectRejected(R"({"model":"m","version":1,"histograms":{}})");
  expectRejected(R"({"model":"m","window":["5m"],"histograms":{}})");
}

TEST(BaselineTest, FromJsonRejectsNegativeOrNonNumericCounts) {
  expectRejected(R"({"model":"m","histograms":{"script":[1,-2,3]}})");
  expectRejected(R"({"model":"m","histograms":{"script":[1,"2"]}})");
  expectRejected(R"({"model":"m","histograms":{"script":[null]}})");
  expectRejected(R"({"model":"m","histograms":{"script":5}})");
  expectRejected(R"({"model":"m","histograms":[1,2]})");
  expectRejected(R"({"model":"m"})");
}

TEST(BaselineTest, FromJsonRejectsBadLabels) {
  expectRejected(R"({"model":"m","labels":"positive","histograms":{}})");
  expectRejected(R"({"model":"m","labels":["a",1],"histograms":{}})");
}

}  // namespace
}  // namespace dw::observe
