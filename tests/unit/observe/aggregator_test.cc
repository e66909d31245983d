#include "observe/aggregator.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "observe/baseline.h"
#include "observe/input_scanner.h"
#include "observe/layout.h"
#include "observe/output_scanner.h"
#include "observe/shard.h"

namespace dw::observe {
namespace {

using std::chrono::seconds;

// Window indices of the configuration below.
constexpr int k2s = 0;
constexpr int k5s = 1;
constexpr int k2m = 2;

const int kV1 = seriesId(0, 0);          // Model "m", version "v1".
const int kV2 = seriesId(0, 1);          // Model "m", version "v2".
const int kOtherModel = seriesId(1, 0);  // Model "n", version "v1".

constexpr int kPositive = 0;
constexpr int kNegative = 1;

const std::vector<std::string> kEnglish = {
    "Summarize this article about the weather in London.",
    "What is the capital of France?",
    "Write a haiku about autumn leaves.",
    "Translate 'good morning' into Spanish, please.",
    "How many legs does a spider have?",
    "Explain recursion to a five year old.",
    "List three prime numbers greater than 100.",
    "Is this review positive or negative: great food, slow service.",
};

const std::vector<std::string> kChinese = {
    "请总结这篇关于伦敦天气的文章。",
    "法国的首都是哪里？",
    "写一首关于秋天落叶的俳句。",
    "请把早上好翻译成西班牙语。",
    "蜘蛛有几条腿？",
    "向五岁的孩子解释递归。",
    "列出三个大于一百的质数。",
    "这条评论是正面还是负面：食物很好，服务很慢。",
};

class AggregatorTest : public ::testing::Test {
 protected:
  AggregatorTest() {
    config_.granularity = seconds(1);
    config_.windows = {seconds(2), seconds(5), seconds(120)};
    config_.drift_window = seconds(2);
    config_.min_samples = 5;
  }

  std::unique_ptr<Aggregator> aggregator(std::vector<const WorkerShard*> shards) {
    return std::make_unique<Aggregator>(config_, std::move(shards),
                                        std::vector<std::string>{"positive", "negative"},
                                        [](int id, SeriesName* name) {
                                          if (id == kV1 || id == kV2) {
                                            *name = {"m", id == kV1 ? "v1" : "v2"};
                                            return true;
                                          }
                                          if (id == kOtherModel) {
                                            *name = {"n", "v1"};
                                            return true;
                                          }
                                          return false;
                                        });
  }

  // Records one request of a series: its input, its response and its output.
  void request(WorkerShard& shard, int series, std::string_view text, double seconds = 0.1,
               int label = kPositive, double confidence = -1) {
    InputScanner input(config_.input);
    input.addMessage();
    input.addText(text);
    recordInput(shard, series, input);
    recordResponse(shard, series, Endpoint::kChat, 200, false, seconds);
    OutputFeatures output;
    output.finish_reason = "stop";
    if (confidence >= 0) {
      output.prob_sum = confidence;
      output.prob_count = 1;
    }
    recordOutput(shard, series, output, label, config_.low_confidence);
  }

  void requests(WorkerShard& shard, int series, const std::vector<std::string>& texts,
                int label = kPositive) {
    for (const std::string& text : texts) {
      request(shard, series, text, 0.1, label);
    }
  }

  static void ticks(Aggregator& aggregator, int n) {
    for (int i = 0; i < n; ++i) {
      aggregator.tick();
    }
  }

  static const SeriesStats* series(const MetricsSnapshot& snapshot, int id) {
    for (const SeriesStats& s : snapshot.series) {
      if (s.id == id) {
        return &s;
      }
    }
    return nullptr;
  }

  static const ModelStats* model(const MetricsSnapshot& snapshot, const std::string& name) {
    for (const ModelStats& m : snapshot.models) {
      if (m.model == name) {
        return &m;
      }
    }
    return nullptr;
  }

  // The requests of model "m" in each window, from the latest snapshot.
  static std::vector<double> windowRequests(const Aggregator& aggregator) {
    auto snapshot = aggregator.snapshot();
    const ModelStats* m = model(*snapshot, "m");
    std::vector<double> out;
    if (m != nullptr) {
      for (const WindowStats& w : m->windows) {
        out.push_back(w.requests);
      }
    }
    return out;
  }

  ObserveConfig config_;
};

TEST_F(AggregatorTest, SnapshotIsNeverNull) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  ASSERT_NE(agg->snapshot(), nullptr);
  EXPECT_TRUE(agg->snapshot()->series.empty());
  agg->tick();
  ASSERT_NE(agg->snapshot(), nullptr);
  EXPECT_EQ(agg->snapshot()->ticks, 1);
  EXPECT_TRUE(agg->snapshot()->series.empty());  // Nothing recorded yet.
}

TEST_F(AggregatorTest, SnapshotNamesWindowsAndLabels) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, kV1, "hello");
  agg->tick();
  auto snapshot = agg->snapshot();
  EXPECT_EQ(snapshot->window_names, (std::vector<std::string>{"2s", "5s", "2m"}));
  EXPECT_EQ(snapshot->drift_window, "2s");
  EXPECT_EQ(snapshot->labels, (std::vector<std::string>{"positive", "negative", "other"}));
  ASSERT_EQ(snapshot->series.size(), 1u);
  EXPECT_EQ(snapshot->series[0].id, kV1);
  EXPECT_EQ(snapshot->series[0].name.model, "m");
  EXPECT_EQ(snapshot->series[0].name.version, "v1");
  EXPECT_EQ(snapshot->series[0].windows.size(), 3u);
  EXPECT_EQ(snapshot->series[0].totals.size(), static_cast<size_t>(Layout::get().size()));
}

TEST_F(AggregatorTest, WindowRequestCountsSlide) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  for (int i = 0; i < 3; ++i) {
    request(shard, kV1, "hello");
  }
  agg->tick();  // Tick 1 holds the three requests.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{3, 3, 3}));
  agg->tick();  // Tick 2.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{3, 3, 3}));
  agg->tick();  // Tick 3: tick 1 leaves the 2s window.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 3, 3}));
  ticks(*agg, 2);  // Tick 5: still in the 5s window.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 3, 3}));
  agg->tick();  // Tick 6: gone from the 5s window too.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 0, 3}));

  // The 2m window is two 60-tick blocks plus the block being filled: tick 1 stays in it until
  // its block expires at tick 180.
  ticks(*agg, 179 - 6);
  EXPECT_EQ(agg->snapshot()->ticks, 179);
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 0, 3}));
  agg->tick();
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 0, 0}));

  // Totals are cumulative.
  const SeriesStats* s = series(*agg->snapshot(), kV1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->totals[Layout::get().requests(Endpoint::kChat, codeSlot(200), false)], 3u);
}

TEST_F(AggregatorTest, RequestsOfLaterTicksSlideIndependently) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, kV1, "one");
  agg->tick();  // Tick 1: 1 request.
  request(shard, kV1, "two");
  request(shard, kV1, "two");
  agg->tick();  // Tick 2: 2 requests.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{3, 3, 3}));
  agg->tick();  // Tick 3: tick 1 leaves the 2s window.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{2, 3, 3}));
  agg->tick();  // Tick 4: tick 2 leaves.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 3, 3}));
  ticks(*agg, 2);  // Tick 6: tick 1 leaves the 5s window.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{0, 2, 3}));
}

TEST_F(AggregatorTest, WindowsSlideOverTheRingManyTimes) {
  // One request per tick for 250 ticks: every window holds its length's worth (the 2m window,
  // two full blocks plus the partial one).
  WorkerShard shard;
  auto agg = aggregator({&shard});
  for (int t = 1; t <= 250; ++t) {
    request(shard, kV1, "x");
    agg->tick();
  }
  // Tick 250: blocks 2 and 3 (ticks 121..240) plus ticks 241..250.
  EXPECT_EQ(windowRequests(*agg), (std::vector<double>{2, 5, 130}));
}

TEST_F(AggregatorTest, QpsIsRequestsOverCoveredSeconds) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  for (int i = 0; i < 3; ++i) {
    request(shard, kV1, "hello");
  }
  agg->tick();
  auto snapshot = agg->snapshot();
  const SeriesStats* s = series(*snapshot, kV1);
  ASSERT_NE(s, nullptr);
  // One tick covered so far.
  EXPECT_DOUBLE_EQ(s->windows[k2s].qps, 3.0);
  EXPECT_DOUBLE_EQ(s->windows[k5s].qps, 3.0);
  EXPECT_DOUBLE_EQ(s->windows[k2m].qps, 3.0);

  agg->tick();
  snapshot = agg->snapshot();
  s = series(*snapshot, kV1);
  EXPECT_DOUBLE_EQ(s->windows[k2s].qps, 1.5);
  EXPECT_DOUBLE_EQ(s->windows[k5s].qps, 1.5);
  EXPECT_DOUBLE_EQ(s->windows[k2m].qps, 1.5);

  ticks(*agg, 68);  // Tick 70: the 2m window covers one block and ten ticks.
  snapshot = agg->snapshot();
  s = series(*snapshot, kV1);
  EXPECT_DOUBLE_EQ(s->windows[k2s].qps, 0.0);
  EXPECT_DOUBLE_EQ(s->windows[k5s].qps, 0.0);
  EXPECT_DOUBLE_EQ(s->windows[k2m].qps, 3.0 / 70);
  const ModelStats* m = model(*snapshot, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->windows[k2m].qps, 3.0 / 70);
}

TEST_F(AggregatorTest, ModelQpsSumsItsVersions) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  for (int i = 0; i < 4; ++i) {
    request(shard, kV1, "hello");
  }
  agg->tick();
  agg->tick();
  request(shard, kV2, "hello");
  request(shard, kV2, "hello");
  agg->tick();  // v1: 4 requests over 3 ticks' 5s coverage; v2: 2 over 1 tick.
  auto snapshot = agg->snapshot();
  const ModelStats* m = model(*snapshot, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(series(*snapshot, kV1)->windows[k5s].qps, 4.0 / 3);
  EXPECT_DOUBLE_EQ(series(*snapshot, kV2)->windows[k5s].qps, 2.0);
  EXPECT_DOUBLE_EQ(m->windows[k5s].qps, 4.0 / 3 + 2.0);
  EXPECT_EQ(m->windows[k5s].requests, 6);
}

TEST_F(AggregatorTest, MergesShardsOfSeveralWorkers) {
  WorkerShard a;
  WorkerShard b;
  auto agg = aggregator({&a, &b});
  request(a, kV1, "from a");
  request(a, kV1, "from a");
  request(b, kV1, "from b");
  request(b, kOtherModel, "from b");
  agg->tick();
  auto snapshot = agg->snapshot();
  ASSERT_EQ(snapshot->series.size(), 2u);
  EXPECT_EQ(series(*snapshot, kV1)->windows[k2s].requests, 3);
  EXPECT_EQ(series(*snapshot, kOtherModel)->windows[k2s].requests, 1);
  ASSERT_NE(model(*snapshot, "n"), nullptr);
  EXPECT_EQ(model(*snapshot, "n")->windows[k2s].requests, 1);
  EXPECT_EQ(model(*snapshot, "m")->windows[k2s].requests, 3);

  request(b, kV1, "later");
  agg->tick();
  snapshot = agg->snapshot();
  EXPECT_EQ(series(*snapshot, kV1)->windows[k2s].requests, 4);
  EXPECT_EQ(series(*snapshot, kV1)->totals[Layout::get().inputRequests()], 4u);
}

TEST_F(AggregatorTest, UnnamedSeriesAreLeftOut) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, seriesId(5, 0), "nobody knows this model");
  agg->tick();
  EXPECT_TRUE(agg->snapshot()->series.empty());
  EXPECT_TRUE(agg->snapshot()->models.empty());
}

TEST_F(AggregatorTest, LatencyQuantilesWithinOnePercent) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  // Durations 1 ms .. 1000 ms; exact quantiles at the lower rank floor(q * 999).
  for (int i = 1; i <= 1000; ++i) {
    recordResponse(shard, kV1, Endpoint::kChat, 200, false, i / 1000.0);
  }
  for (int i = 1; i <= 100; ++i) {
    recordTimeToFirstToken(shard, kV1, i / 100.0);
  }
  agg->tick();
  auto snapshot = agg->snapshot();
  const SeriesStats* s = series(*snapshot, kV1);
  ASSERT_NE(s, nullptr);
  for (int w : {k2s, k5s, k2m}) {
    const WindowStats& stats = s->windows[w];
    EXPECT_NEAR(stats.p50, 0.500, 0.500 * 0.01) << w;
    EXPECT_NEAR(stats.p95, 0.950, 0.950 * 0.01) << w;
    EXPECT_NEAR(stats.p99, 0.990, 0.990 * 0.01) << w;
    // TTFT: 0.01 .. 1.00, ranks floor(q * 99).
    EXPECT_NEAR(stats.ttft_p50, 0.50, 0.50 * 0.01) << w;
    EXPECT_NEAR(stats.ttft_p99, 0.99, 0.99 * 0.01) << w;
  }
  EXPECT_NEAR(model(*snapshot, "m")->windows[k2s].p99, 0.990, 0.990 * 0.01);
}

TEST_F(AggregatorTest, QuantilesAreNanWithoutRequests) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, kV1, "hello");
  ticks(*agg, 3);
  const WindowStats& stats = series(*agg->snapshot(), kV1)->windows[k2s];
  EXPECT_TRUE(std::isnan(stats.p99));
  EXPECT_TRUE(std::isnan(stats.ttft_p50));
  EXPECT_EQ(stats.requests, 0);
}

TEST_F(AggregatorTest, AbnormalRatioNeedsMinSamples) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, kV1, "");  // Empty: abnormal.
  for (int i = 0; i < 3; ++i) {
    request(shard, kV1, "a normal question");
  }
  agg->tick();
  EXPECT_TRUE(std::isnan(model(*agg->snapshot(), "m")->windows[k2s].abnormal_ratio));
  request(shard, kV1, "a fifth question");
  agg->tick();
  auto snapshot = agg->snapshot();
  EXPECT_DOUBLE_EQ(model(*snapshot, "m")->windows[k2s].abnormal_ratio, 1.0 / 5);
  EXPECT_DOUBLE_EQ(series(*snapshot, kV1)->windows[k5s].abnormal_ratio, 1.0 / 5);
  const SeriesStats* s = series(*snapshot, kV1);
  EXPECT_EQ(s->totals[Layout::get().inputAbnormalAny()], 1u);
  EXPECT_EQ(s->totals[Layout::get().abnormal(Abnormal::kEmpty)], 1u);
}

TEST_F(AggregatorTest, ConfidenceRatiosNeedMinSamples) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  request(shard, kV1, "q", 0.1, kPositive, 0.33);
  request(shard, kV1, "q", 0.1, kPositive, 0.33);
  request(shard, kV1, "q", 0.1, kPositive, 0.91);
  request(shard, kV1, "q", 0.1, kPositive, 0.91);
  request(shard, kV1, "q");  // No logprobs: not scored.
  agg->tick();
  EXPECT_TRUE(std::isnan(model(*agg->snapshot(), "m")->windows[k2s].low_confidence_ratio));
  request(shard, kV1, "q", 0.1, kPositive, 0.91);
  agg->tick();
  const WindowStats& stats = model(*agg->snapshot(), "m")->windows[k2s];
  EXPECT_DOUBLE_EQ(stats.low_confidence_ratio, 2.0 / 5);
  // Bin centres: 0.33 -> 0.325, 0.91 -> 0.925.
  EXPECT_NEAR(stats.mean_confidence, (2 * 0.325 + 3 * 0.925) / 5, 1e-12);
}

TEST_F(AggregatorTest, CaptureBaselineNeedsMinSamples) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  for (int i = 0; i < 4; ++i) {
    request(shard, kV1, kEnglish[i]);
  }
  agg->tick();
  StatusOr<Baseline> too_few = agg->captureBaseline("m", "");
  ASSERT_FALSE(too_few.ok());
  EXPECT_EQ(too_few.status().code(), StatusCode::kFailedPrecondition);

  request(shard, kV1, kEnglish[4]);
  agg->tick();
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  EXPECT_EQ(baseline->model, "m");
  EXPECT_EQ(baseline->version, "all");
  EXPECT_EQ(baseline->window, "2s");
  EXPECT_EQ(baseline->requests, 5u);
  EXPECT_GT(baseline->captured_at, 0);
  EXPECT_EQ(baseline->labels, (std::vector<std::string>{"positive", "negative", "other"}));
  for (const char* name : {"script", "vocabulary", "prompt_chars", "prompt_tokens", "messages",
                           "label", "finish_reason", "confidence", "output_tokens"}) {
    EXPECT_EQ(baseline->histograms.count(name), 1u) << name;
  }
  EXPECT_EQ(baseline->histograms.at("script").size(), static_cast<size_t>(kScripts));
  EXPECT_EQ(baseline->histograms.at("label").size(), 3u);
  EXPECT_EQ(baseline->histograms.at("label")[kPositive], 5);
}

TEST_F(AggregatorTest, CaptureBaselineFromANamedWindow) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  requests(shard, kV1, kEnglish);
  ticks(*agg, 3);  // Gone from the 2s window, still in the 5s one.
  EXPECT_FALSE(agg->captureBaseline("m", "").ok());
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "5s");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  EXPECT_EQ(baseline->window, "5s");
  EXPECT_EQ(baseline->requests, kEnglish.size());
  // The 2m window counts its partial block.
  EXPECT_TRUE(agg->captureBaseline("m", "2m").ok());

  StatusOr<Baseline> unknown_window = agg->captureBaseline("m", "7s");
  ASSERT_FALSE(unknown_window.ok());
  EXPECT_EQ(unknown_window.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(agg->captureBaseline("no-such-model", "5s").ok());
}

TEST_F(AggregatorTest, BaselineCoversEveryVersionOfTheModel) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  requests(shard, kV1, std::vector<std::string>(kEnglish.begin(), kEnglish.begin() + 3));
  requests(shard, kV2, std::vector<std::string>(kEnglish.begin() + 3, kEnglish.begin() + 6));
  agg->tick();
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  EXPECT_EQ(baseline->requests, 6u);
}

TEST_F(AggregatorTest, IdenticalTrafficShowsNoDrift) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  requests(shard, kV1, kEnglish);
  agg->tick();
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  EXPECT_FALSE(model(*agg->snapshot(), "m")->has_baseline);
  agg->setBaseline(*baseline);
  ASSERT_NE(agg->baseline("m"), nullptr);
  EXPECT_EQ(agg->baseline("m")->requests, kEnglish.size());
  EXPECT_EQ(agg->baseline("n"), nullptr);

  ticks(*agg, 2);  // The baseline's traffic leaves the drift window.
  requests(shard, kV1, kEnglish);
  agg->tick();
  auto snapshot = agg->snapshot();
  const ModelStats* m = model(*snapshot, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->has_baseline);
  for (const char* feature : {"script", "vocabulary"}) {
    ASSERT_EQ(m->input.count(feature), 1u) << feature;
    const FeatureDrift& d = m->input.at(feature);
    EXPECT_LT(d.kl, 0.05) << feature;
    EXPECT_LT(d.psi, 0.05) << feature;
    EXPECT_LT(d.js, 0.05) << feature;
  }
  for (const char* feature : {"prompt_chars", "prompt_tokens", "messages"}) {
    ASSERT_EQ(m->input.count(feature), 1u) << feature;
    EXPECT_LT(m->input.at(feature).wasserstein, 0.05) << feature;
  }
  for (const char* feature : {"label", "finish_reason"}) {
    ASSERT_EQ(m->output.count(feature), 1u) << feature;
    EXPECT_LT(m->output.at(feature).kl, 0.05) << feature;
    EXPECT_LT(m->output.at(feature).psi, 0.05) << feature;
  }
}

TEST_F(AggregatorTest, ChangedScriptAndLabelsShowDrift) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  requests(shard, kV1, kEnglish, kPositive);
  agg->tick();
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  agg->setBaseline(*baseline);

  ticks(*agg, 2);
  requests(shard, kV1, kChinese, kNegative);
  agg->tick();
  auto snapshot = agg->snapshot();
  const ModelStats* m = model(*snapshot, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_GT(m->input.at("script").kl, 0.3);
  EXPECT_GT(m->input.at("script").psi, 0.3);
  EXPECT_GT(m->input.at("vocabulary").kl, 0.3);
  EXPECT_GT(m->output.at("label").psi, 0.3);
  EXPECT_GT(m->output.at("label").js, 0.3);
  // Unchanged: every answer stopped normally.
  EXPECT_LT(m->output.at("finish_reason").psi, 0.05);
}

TEST_F(AggregatorTest, DriftNeedsMinSamples) {
  WorkerShard shard;
  auto agg = aggregator({&shard});
  requests(shard, kV1, kEnglish);
  agg->tick();
  StatusOr<Baseline> baseline = agg->captureBaseline("m", "");
  ASSERT_TRUE(baseline.ok()) << baseline.status().toString();
  agg->setBaseline(*baseline);
  ticks(*agg, 2);
  request(shard, kV1, kChinese[0], 0.1, kNegative);  // One answer: too few labels.
  agg->tick();
  const ModelStats* m = model(*agg->snapshot(), "m");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(std::isnan(m->output.at("label").psi));
  EXPECT_TRUE(std::isnan(m->input.at("prompt_chars").wasserstein));
}

TEST_F(AggregatorTest, BaselineLabelsAlignByName) {
  // A baseline captured with its labels in another order still compares label by label.
  WorkerShard shard;
  auto agg = aggregator({&shard});
  auto mixed = [&] {
    for (size_t i = 0; i < kEnglish.size(); ++i) {
      request(shard, kV1, kEnglish[i], 0.1, i < 5 ? kPositive : kNegative);
    }
  };
  mixed();
  agg->tick();
  StatusOr<Baseline> captured = agg->captureBaseline("m", "");
  ASSERT_TRUE(captured.ok()) << captured.status().toString();
  ASSERT_EQ(captured->histograms.at("label"), (std::vector<double>{5, 3, 0}));
  Baseline reordered = *captured;
  reordered.labels = {"negative", "positive", "other"};
  reordered.histograms["label"] = {3, 5, 0};
  agg->setBaseline(reordered);
  ticks(*agg, 2);
  mixed();
  agg->tick();
  EXPECT_LT(model(*agg->snapshot(), "m")->output.at("label").psi, 0.01);

  // Compared by position instead, the same counts would drift.
  Baseline misaligned = *captured;
  misaligned.histograms["label"] = {3, 5, 0};
  agg->setBaseline(misaligned);
  ticks(*agg, 2);
  mixed();
  agg->tick();
  EXPECT_GT(model(*agg->snapshot(), "m")->output.at("label").psi, 0.1);
}

}  // namespace
}  // namespace dw::observe
