#include "observe/layout.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace dw::observe {
namespace {

TEST(LayoutTest, TrackedCodesHaveTheirOwnSlot) {
  for (size_t i = 0; i < kTrackedCodes.size(); ++i) {
    const int slot = codeSlot(kTrackedCodes[i]);
    EXPECT_EQ(slot, static_cast<int>(i));
    EXPECT_EQ(codeName(slot), std::to_string(kTrackedCodes[i]));
  }
}

TEST(LayoutTest, OtherCodesShareTheLastSlot) {
  for (int status : {0, 201, 302, 418, 451, 501, 599, 999}) {
    EXPECT_EQ(codeSlot(status), kCodeSlots - 1) << status;
  }
  EXPECT_EQ(codeName(kCodeSlots - 1), "other");
}

TEST(LayoutTest, FinishReasonsHaveSlotsAndUnknownIsOther) {
  EXPECT_EQ(finishSlot("stop"), 0);
  EXPECT_EQ(finishSlot("length"), 1);
  EXPECT_EQ(finishSlot("tool_calls"), 2);
  EXPECT_EQ(finishSlot("error"), 7);
  EXPECT_EQ(finishSlot("other"), kFinishSlots - 1);
  EXPECT_EQ(finishSlot("eos"), kFinishSlots - 1);
  EXPECT_EQ(finishSlot(""), kFinishSlots - 1);
}

TEST(LayoutTest, EveryIndexIsDistinctAndInRange) {
  const Layout& layout = Layout::get();
  std::set<int> seen;
  auto use = [&](int index, const std::string& what) {
    EXPECT_GE(index, 0) << what;
    EXPECT_LT(index, layout.size()) << what;
    EXPECT_TRUE(seen.insert(index).second) << what << " reuses index " << index;
  };
  for (int e = 0; e < kEndpoints; ++e) {
    for (int c = 0; c < kCodeSlots; ++c) {
      for (bool stream : {false, true}) {
        use(layout.requests(static_cast<Endpoint>(e), c, stream), "requests");
      }
    }
  }
  use(layout.promptTokens(), "promptTokens");
  use(layout.completionTokens(), "completionTokens");
  use(layout.cachedTokens(), "cachedTokens");
  use(layout.reasoningTokens(), "reasoningTokens");
  const int latency = layout.latencyBuckets().count();
  for (int b = 0; b < latency; ++b) {
    use(layout.duration(b), "duration");
    use(layout.ttft(b), "ttft");
    use(layout.itl(b), "itl");
  }
  use(layout.durationSumMicros(), "durationSumMicros");
  use(layout.ttftSumMicros(), "ttftSumMicros");
  use(layout.itlSumMicros(), "itlSumMicros");
  use(layout.inputRequests(), "inputRequests");
  use(layout.inputAbnormalAny(), "inputAbnormalAny");
  for (int k = 0; k < kAbnormalKinds; ++k) {
    use(layout.abnormal(static_cast<Abnormal>(k)), "abnormal");
  }
  for (int s = 0; s < kScripts; ++s) {
    use(layout.script(static_cast<Script>(s)), "script");
  }
  for (int b = 0; b < kTokenBins; ++b) {
    use(layout.tokenBin(b), "tokenBin");
  }
  const int sizes = layout.sizeBuckets().count();
  for (int b = 0; b < sizes; ++b) {
    use(layout.promptChars(b), "promptChars");
    use(layout.promptTokensHist(b), "promptTokensHist");
    use(layout.messages(b), "messages");
    use(layout.outputTokens(b), "outputTokens");
  }
  use(layout.outputResponses(), "outputResponses");
  use(layout.lowConfidence(), "lowConfidence");
  use(layout.confidenceScored(), "confidenceScored");
  for (int b = 0; b < kConfidenceBins; ++b) {
    use(layout.confidenceBin(b), "confidenceBin");
  }
  for (int f = 0; f < kFinishSlots; ++f) {
    use(layout.finish(f), "finish");
  }
  for (int l = 0; l <= kMaxLabels; ++l) {
    use(layout.label(l), "label");
  }
  // Every counter belongs to exactly one index.
  EXPECT_EQ(static_cast<int>(seen.size()), layout.size());
}

TEST(LayoutTest, LatencyBucketsCoverTheDocumentedRange) {
  const Layout& layout = Layout::get();
  EXPECT_EQ(layout.latencyBuckets().relativeAccuracy(), 0.01);
  EXPECT_EQ(layout.latencyBuckets().value(0), 1e-4);
  EXPECT_EQ(layout.latencyBuckets().value(layout.latencyBuckets().count() - 1), 1e3);
  EXPECT_EQ(layout.sizeBuckets().relativeAccuracy(), 0.05);
}

}  // namespace
}  // namespace dw::observe
