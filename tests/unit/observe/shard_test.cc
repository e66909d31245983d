#include "observe/shard.h"

#include <cmath>
#include <thread>

#include <gtest/gtest.h>

namespace dw::observe {
namespace {

uint64_t at(const WorkerShard& shard, int series, int index) {
  const std::atomic<uint64_t>* counters = shard.peek(series);
  return counters == nullptr ? 0 : counters[index].load();
}

TEST(SeriesIdTest, PacksModelAndVersion) {
  EXPECT_EQ(seriesId(0, 0), 0);
  EXPECT_EQ(seriesId(0, 3), 3);
  EXPECT_EQ(seriesId(2, 1), 2 * kVersionSlots + 1);
}

TEST(SeriesIdTest, ClampsOutOfRangeModelsAndVersions) {
  EXPECT_EQ(seriesId(3, -1), 3 * kVersionSlots + kNoVersion);
  EXPECT_EQ(seriesId(3, kNoVersion), 3 * kVersionSlots + kNoVersion);
  EXPECT_EQ(seriesId(3, 100), 3 * kVersionSlots + kNoVersion);
  EXPECT_EQ(seriesId(kMaxModels + 5, 0), (kMaxModels - 1) * kVersionSlots);
  EXPECT_LT(seriesId(1000000, 1000), kMaxSeries);
}

TEST(WorkerShardTest, UnrecordedSeriesHaveNoCounters) {
  WorkerShard shard;
  EXPECT_EQ(shard.peek(0), nullptr);
  shard.add(5, Layout::get().inputRequests());
  EXPECT_EQ(shard.peek(0), nullptr);
  ASSERT_NE(shard.peek(5), nullptr);
  EXPECT_EQ(at(shard, 5, Layout::get().inputRequests()), 1u);
  EXPECT_EQ(at(shard, 5, Layout::get().outputResponses()), 0u);
}

TEST(WorkerShardTest, AddAccumulates) {
  WorkerShard shard;
  shard.add(1, 0);
  shard.add(1, 0, 41);
  EXPECT_EQ(at(shard, 1, 0), 42u);
}

TEST(WorkerShardTest, AnotherThreadReadsWhatTheWorkerWrote) {
  WorkerShard shard;
  std::thread worker([&] {
    for (int i = 0; i < 1000; ++i) {
      shard.add(2, 7);
    }
  });
  worker.join();
  EXPECT_EQ(at(shard, 2, 7), 1000u);
}

TEST(RecordTest, RecordResponseCountsTheRequestAndItsDuration) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  recordResponse(shard, 0, Endpoint::kCompletions, 429, true, 0.25);
  recordResponse(shard, 0, Endpoint::kCompletions, 418, true, 0.5);
  EXPECT_EQ(at(shard, 0, layout.requests(Endpoint::kCompletions, codeSlot(429), true)), 1u);
  EXPECT_EQ(at(shard, 0, layout.requests(Endpoint::kCompletions, kCodeSlots - 1, true)), 1u);
  EXPECT_EQ(at(shard, 0, layout.requests(Endpoint::kCompletions, codeSlot(429), false)), 0u);
  EXPECT_EQ(at(shard, 0, layout.duration(layout.latencyBuckets().index(0.25))), 1u);
  EXPECT_EQ(at(shard, 0, layout.durationSumMicros()), 750000u);
}

TEST(RecordTest, RecordTimeToFirstTokenAndInterToken) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  recordTimeToFirstToken(shard, 0, 0.2);
  recordInterToken(shard, 0, 0.01);
  recordInterToken(shard, 0, 0.03);
  EXPECT_EQ(at(shard, 0, layout.ttft(layout.latencyBuckets().index(0.2))), 1u);
  EXPECT_EQ(at(shard, 0, layout.ttftSumMicros()), 200000u);
  EXPECT_EQ(at(shard, 0, layout.itlSumMicros()), 40000u);
}

TEST(RecordTest, RecordInputCountsScriptsBinsFlagsAndSizes) {
  const Layout& layout = Layout::get();
  InputLimits limits;
  InputScanner input(limits);
  input.addMessage();
  input.addMessage();
  input.addText("abc\x01 中文 42");
  WorkerShard shard;
  recordInput(shard, 3, input);
  EXPECT_EQ(at(shard, 3, layout.inputRequests()), 1u);
  EXPECT_EQ(at(shard, 3, layout.inputAbnormalAny()), 1u);
  EXPECT_EQ(at(shard, 3, layout.abnormal(Abnormal::kControlChars)), 1u);
  EXPECT_EQ(at(shard, 3, layout.abnormal(Abnormal::kEmpty)), 0u);
  EXPECT_EQ(at(shard, 3, layout.script(Script::kCjk)), 2u);
  EXPECT_EQ(at(shard, 3, layout.script(Script::kLatin)), 3u);
  EXPECT_EQ(at(shard, 3, layout.script(Script::kDigit)), 2u);
  uint64_t bins = 0;
  for (int b = 0; b < kTokenBins; ++b) {
    bins += at(shard, 3, layout.tokenBin(b));
  }
  EXPECT_EQ(bins, input.tokens());
  const stats::LogBuckets& sizes = layout.sizeBuckets();
  EXPECT_EQ(at(shard, 3, layout.promptChars(sizes.index(input.chars()))), 1u);
  EXPECT_EQ(at(shard, 3, layout.promptTokensHist(sizes.index(input.tokens()))), 1u);
  EXPECT_EQ(at(shard, 3, layout.messages(sizes.index(2))), 1u);
}

TEST(RecordTest, RecordInputOfANormalInputIsNotAbnormal) {
  InputLimits limits;
  InputScanner input(limits);
  input.addText("a perfectly normal question");
  WorkerShard shard;
  recordInput(shard, 0, input);
  EXPECT_EQ(at(shard, 0, Layout::get().inputAbnormalAny()), 0u);
}

TEST(RecordTest, RecordOutputCountsUsageConfidenceFinishAndLabel) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  OutputFeatures output;
  output.has_usage = true;
  output.prompt_tokens = 100;
  output.completion_tokens = 20;
  output.cached_tokens = 64;
  output.reasoning_tokens = 5;
  output.prob_sum = 0.8;  // Confidence 0.4: bin 8, below 0.5.
  output.prob_count = 2;
  output.finish_reason = "length";
  recordOutput(shard, 0, output, 1, 0.5);
  EXPECT_EQ(at(shard, 0, layout.outputResponses()), 1u);
  EXPECT_EQ(at(shard, 0, layout.promptTokens()), 100u);
  EXPECT_EQ(at(shard, 0, layout.completionTokens()), 20u);
  EXPECT_EQ(at(shard, 0, layout.cachedTokens()), 64u);
  EXPECT_EQ(at(shard, 0, layout.reasoningTokens()), 5u);
  EXPECT_EQ(at(shard, 0, layout.outputTokens(layout.sizeBuckets().index(20))), 1u);
  EXPECT_EQ(at(shard, 0, layout.confidenceScored()), 1u);
  EXPECT_EQ(at(shard, 0, layout.confidenceBin(8)), 1u);
  EXPECT_EQ(at(shard, 0, layout.lowConfidence()), 1u);
  EXPECT_EQ(at(shard, 0, layout.finish(finishSlot("length"))), 1u);
  EXPECT_EQ(at(shard, 0, layout.label(1)), 1u);
}

TEST(RecordTest, RecordOutputWithoutLogprobsOrUsage) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  OutputFeatures output;
  output.content_pieces = 7;
  recordOutput(shard, 0, output, -1, 0.5);
  EXPECT_EQ(at(shard, 0, layout.confidenceScored()), 0u);
  EXPECT_EQ(at(shard, 0, layout.lowConfidence()), 0u);
  EXPECT_EQ(at(shard, 0, layout.completionTokens()), 0u);
  // Without usage, the pieces seen stand for the tokens.
  EXPECT_EQ(at(shard, 0, layout.outputTokens(layout.sizeBuckets().index(7))), 1u);
  // No finish reason: "other"; a negative label slot: "other".
  EXPECT_EQ(at(shard, 0, layout.finish(kFinishSlots - 1)), 1u);
  EXPECT_EQ(at(shard, 0, layout.label(kMaxLabels)), 1u);
}

TEST(RecordTest, ErrorsCountAsTheErrorFinishReason) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  OutputFeatures output;
  output.error = true;
  output.finish_reason = "stop";
  recordOutput(shard, 0, output, 100, 0.5);
  EXPECT_EQ(at(shard, 0, layout.finish(finishSlot("error"))), 1u);
  EXPECT_EQ(at(shard, 0, layout.finish(finishSlot("stop"))), 0u);
  EXPECT_EQ(at(shard, 0, layout.label(kMaxLabels)), 1u);  // Out-of-range slots fold into other.
}

TEST(RecordTest, ConfidenceOfOneLandsInTheTopBin) {
  const Layout& layout = Layout::get();
  WorkerShard shard;
  OutputFeatures output;
  output.prob_sum = 3;
  output.prob_count = 3;
  recordOutput(shard, 0, output, 0, 0.5);
  EXPECT_EQ(at(shard, 0, layout.confidenceBin(kConfidenceBins - 1)), 1u);
  EXPECT_EQ(at(shard, 0, layout.lowConfidence()), 0u);
}

}  // namespace
}  // namespace dw::observe
