#include "observe/label_extractor.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "observe/layout.h"

namespace dw::observe {
namespace {

std::unique_ptr<LabelExtractor> created(const LabelConfig& config) {
  StatusOr<std::unique_ptr<LabelExtractor>> extractor = LabelExtractor::create(config);
  EXPECT_TRUE(extractor.ok()) << extractor.status().toString();
  return extractor.ok() ? std::move(extractor).value() : nullptr;
}

OutputFeatures withContent(std::string text) {
  OutputFeatures out;
  out.label_text = std::move(text);
  return out;
}

OutputFeatures withFinishReason(std::string reason) {
  OutputFeatures out;
  out.finish_reason = std::move(reason);
  return out;
}

LabelConfig config(LabelSource source, std::vector<std::string> values) {
  LabelConfig c;
  c.source = source;
  c.values = std::move(values);
  return c;
}

TEST(LabelExtractorTest, ContentMatchesAValueExactlyAfterTrimming) {
  auto extractor = created(config(LabelSource::kContent, {"positive", "negative", "neutral"}));
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->otherSlot(), 3);
  EXPECT_EQ(extractor->values(), (std::vector<std::string>{"positive", "negative", "neutral"}));
  EXPECT_EQ(extractor->slot(withContent("positive")), 0);
  EXPECT_EQ(extractor->slot(withContent("negative")), 1);
  EXPECT_EQ(extractor->slot(withContent("  neutral\n")), 2);
  EXPECT_EQ(extractor->slot(withContent("\t positive \r\n")), 0);
}

TEST(LabelExtractorTest, ContentThatIsNotExactlyAValueIsOther) {
  auto extractor = created(config(LabelSource::kContent, {"positive", "negative"}));
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->slot(withContent("Positive")), extractor->otherSlot());
  EXPECT_EQ(extractor->slot(withContent("positive.")), extractor->otherSlot());
  EXPECT_EQ(extractor->slot(withContent("The answer is positive")), extractor->otherSlot());
  EXPECT_EQ(extractor->slot(withContent("")), extractor->otherSlot());
  EXPECT_EQ(extractor->slot(withContent("   ")), extractor->otherSlot());
}

TEST(LabelExtractorTest, FinishReasonSource) {
  auto extractor = created(config(LabelSource::kFinishReason, {"stop", "length"}));
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->slot(withFinishReason("stop")), 0);
  EXPECT_EQ(extractor->slot(withFinishReason("length")), 1);
  EXPECT_EQ(extractor->slot(withFinishReason("tool_calls")), 2);
  EXPECT_EQ(extractor->slot(withFinishReason("")), 2);
  // The content does not matter.
  OutputFeatures both = withContent("stop");
  both.finish_reason = "length";
  EXPECT_EQ(extractor->slot(both), 1);
}

TEST(LabelExtractorTest, JsonFieldSource) {
  LabelConfig c = config(LabelSource::kJsonField, {"x", "y"});
  c.field = "label";
  auto extractor = created(c);
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->slot(withContent(R"({"label":"x"})")), 0);
  EXPECT_EQ(extractor->slot(withContent(R"( {"score": 0.9, "label": "y"} )")), 1);
  EXPECT_EQ(extractor->slot(withContent(R"({"label":"z"})")), 2);
  EXPECT_EQ(extractor->slot(withContent(R"({"label":1})")), 2);
  EXPECT_EQ(extractor->slot(withContent(R"({"other":"x"})")), 2);
  EXPECT_EQ(extractor->slot(withContent(R"(["x"])")), 2);
  EXPECT_EQ(extractor->slot(withContent(R"({"label":"x")")), 2);  // Truncated.
  EXPECT_EQ(extractor->slot(withContent("x")), 2);
}

TEST(LabelExtractorTest, RegexWithACaptureGroupTakesTheGroup) {
  LabelConfig c = config(LabelSource::kRegex, {"spam", "ham"});
  c.regex = R"(label:\s*(\w+))";
  auto extractor = created(c);
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->slot(withContent("The label: spam, with confidence")), 0);
  EXPECT_EQ(extractor->slot(withContent("label:ham")), 1);
  EXPECT_EQ(extractor->slot(withContent("label: eggs")), 2);
  EXPECT_EQ(extractor->slot(withContent("no label here")), 2);
}

TEST(LabelExtractorTest, RegexWithoutAGroupTakesTheWholeMatch) {
  LabelConfig c = config(LabelSource::kRegex, {"yes", "no"});
  c.regex = R"(\b(?:yes|no)\b)";
  auto extractor = created(c);
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->slot(withContent("I think yes, definitely")), 0);
  EXPECT_EQ(extractor->slot(withContent("no.")), 1);
  EXPECT_EQ(extractor->slot(withContent("maybe")), 2);
  // The first match wins.
  EXPECT_EQ(extractor->slot(withContent("no, wait, yes")), 1);
}

TEST(LabelExtractorTest, InvalidRegexFailsCreate) {
  LabelConfig c = config(LabelSource::kRegex, {"a"});
  c.regex = "label: (unclosed";
  StatusOr<std::unique_ptr<LabelExtractor>> extractor = LabelExtractor::create(c);
  ASSERT_FALSE(extractor.ok());
  EXPECT_EQ(extractor.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(extractor.status().message().find("regex"), std::string::npos)
      << extractor.status().message();
}

TEST(LabelExtractorTest, AnInvalidRegexIsIgnoredForOtherSources) {
  LabelConfig c = config(LabelSource::kContent, {"a"});
  c.regex = "(unclosed";
  EXPECT_NE(created(c), nullptr);
}

TEST(LabelExtractorTest, AtMostMaxLabelsValues) {
  std::vector<std::string> values;
  for (int i = 0; i < kMaxLabels; ++i) {
    values.push_back("label" + std::to_string(i));
  }
  auto extractor = created(config(LabelSource::kContent, values));
  ASSERT_NE(extractor, nullptr);
  EXPECT_EQ(extractor->otherSlot(), kMaxLabels);
  EXPECT_EQ(extractor->slot(withContent("label31")), 31);

  values.push_back("one too many");
  StatusOr<std::unique_ptr<LabelExtractor>> too_many =
      LabelExtractor::create(config(LabelSource::kContent, values));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kInvalidArgument);
}

TEST(LabelExtractorTest, NoValuesMeansAlwaysOther) {
  for (LabelSource source : {LabelSource::kContent, LabelSource::kFinishReason,
                             LabelSource::kJsonField, LabelSource::kRegex}) {
    LabelConfig c = config(source, {});
    c.field = "label";
    c.regex = "(.*)";
    auto extractor = created(c);
    ASSERT_NE(extractor, nullptr);
    EXPECT_EQ(extractor->otherSlot(), 0);
    OutputFeatures out = withContent(R"({"label":""})");
    out.finish_reason = "";
    EXPECT_EQ(extractor->slot(out), 0);
    EXPECT_EQ(extractor->slot(withContent("")), 0);
  }
}

}  // namespace
}  // namespace dw::observe
