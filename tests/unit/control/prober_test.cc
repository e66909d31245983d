#include "control/prober.h"

#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/random.h"

namespace dw::control {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Golden-set files in a fresh directory under the system temp directory, removed at the end.
class ProberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dw_prober_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` to a new file and returns its path.
  std::string write(const std::string& content) {
    const std::string path = (dir_ / ("golden" + std::to_string(files_++) + ".jsonl")).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // The one case of a one-line golden set; fails the test when it does not load.
  ProbeCase loadOne(const std::string& line) {
    StatusOr<std::vector<ProbeCase>> cases = loadGoldenSet(write(line + "\n"));
    EXPECT_TRUE(cases.ok()) << cases.status().toString();
    if (!cases.ok() || cases->size() != 1) {
      ADD_FAILURE() << "expected exactly one case from " << line;
      return ProbeCase();
    }
    return (*cases)[0];
  }

  // The error message that `content` must produce.
  std::string errorOf(const std::string& content, StatusCode code = StatusCode::kInvalidArgument) {
    StatusOr<std::vector<ProbeCase>> cases = loadGoldenSet(write(content));
    EXPECT_FALSE(cases.ok()) << "accepted:\n" << content;
    if (cases.ok()) {
      return "";
    }
    EXPECT_EQ(cases.status().code(), code) << cases.status().toString();
    return cases.status().message();
  }

  std::filesystem::path dir_;
  int files_ = 0;
};

TEST_F(ProberTest, LoadsEveryMatchKindAndSkipsBlankLines) {
  const std::string path =
      write(R"({"messages": [{"role": "system", "content": "Be brief."}, )"
            R"({"role": "user", "content": "Capital of France?"}], "expected": "Paris"})"
            "\n"
            "\n"
            R"({"prompt": "Say yes", "expected": "yes", "match": "contains"})"
            "\n"
            R"({"prompt": "Digits", "expected": "^[0-9]+$", "match": "regex"})"
            "\n"
            R"({"prompt": "Mood?", "expected": "positive", "match": "label"})"
            "\n");
  StatusOr<std::vector<ProbeCase>> cases = loadGoldenSet(path);
  ASSERT_TRUE(cases.ok()) << cases.status().toString();
  ASSERT_EQ(cases->size(), 4u);

  EXPECT_EQ((*cases)[0].match, ProbeCase::Match::kExact);  // The default.
  EXPECT_EQ((*cases)[0].expected, "Paris");
  EXPECT_EQ((*cases)[1].match, ProbeCase::Match::kContains);
  EXPECT_EQ((*cases)[1].expected, "yes");
  EXPECT_EQ((*cases)[2].match, ProbeCase::Match::kRegex);
  EXPECT_NE((*cases)[2].regex, nullptr);
  EXPECT_EQ((*cases)[3].match, ProbeCase::Match::kLabel);
  EXPECT_EQ((*cases)[3].expected, "positive");
  for (const ProbeCase& probe : *cases) {
    if (probe.match != ProbeCase::Match::kRegex) {
      EXPECT_EQ(probe.regex, nullptr);
    }
  }
}

TEST_F(ProberTest, MessagesAreCopiedIntoTheRequest) {
  ProbeCase probe =
      loadOne(R"({"messages": [{"role": "system", "content": "Be brief."}, )"
              R"({"role": "user", "content": "Capital of France?"}], "expected": "Paris"})");
  json request = json::parse(probe.request, nullptr, false);
  ASSERT_TRUE(request.is_object()) << probe.request;
  EXPECT_EQ(request["messages"], json::parse(R"([{"role": "system", "content": "Be brief."},
                                                 {"role": "user", "content": "Capital of France?"}])"));
  EXPECT_EQ(request["temperature"], 0);  // Deterministic answers by default.
  EXPECT_FALSE(request.contains("model"));
  EXPECT_FALSE(request.contains("expected"));
  EXPECT_FALSE(request.contains("match"));
}

TEST_F(ProberTest, PromptBecomesOneUserMessage) {
  ProbeCase probe = loadOne(R"({"prompt": "Say yes", "expected": "yes"})");
  json request = json::parse(probe.request, nullptr, false);
  ASSERT_TRUE(request.is_object()) << probe.request;
  EXPECT_EQ(request["messages"], json::parse(R"([{"role": "user", "content": "Say yes"}])"));
}

TEST_F(ProberTest, PassesSamplingKeysThrough) {
  ProbeCase probe =
      loadOne(R"({"prompt": "p", "expected": "e", "max_tokens": 5, "temperature": 0.5, )"
              R"("deepwatch": {"fault": "none"}, "other": 1})");
  json request = json::parse(probe.request, nullptr, false);
  ASSERT_TRUE(request.is_object()) << probe.request;
  EXPECT_EQ(request["max_tokens"], 5);
  EXPECT_EQ(request["temperature"], 0.5);
  EXPECT_EQ(request["deepwatch"], json::parse(R"({"fault": "none"})"));
  EXPECT_FALSE(request.contains("other"));
}

TEST_F(ProberTest, InvalidJsonNamesFileAndLine) {
  const std::string content = R"({"prompt": "a", "expected": "b"})"
                              "\n"
                              "{not json\n";
  std::string message = errorOf(content);
  EXPECT_THAT(message, HasSubstr(".jsonl:2: "));
  EXPECT_THAT(message, HasSubstr("\"expected\""));
}

TEST_F(ProberTest, UnknownMatchNamesTheLine) {
  const std::string content = R"({"prompt": "a", "expected": "b"})"
                              "\n\n"
                              R"({"prompt": "a", "expected": "b", "match": "fuzzy"})"
                              "\n";
  std::string message = errorOf(content);
  EXPECT_THAT(message, HasSubstr(".jsonl:3: "));
  EXPECT_THAT(message, HasSubstr("\"match\" must be exact, contains, regex or label"));
}

TEST_F(ProberTest, RejectsBadRegex) {
  EXPECT_THAT(errorOf(R"({"prompt": "a", "expected": "(unclosed", "match": "regex"})"
                      "\n"),
              HasSubstr(".jsonl:1: bad regex"));
}

TEST_F(ProberTest, RejectsMissingOrNonStringExpected) {
  EXPECT_THAT(errorOf(R"({"prompt": "a"})"
                      "\n"),
              HasSubstr("a probe needs a string \"expected\""));
  EXPECT_THAT(errorOf(R"({"prompt": "a", "expected": 4})"
                      "\n"),
              HasSubstr("a probe needs a string \"expected\""));
  EXPECT_THAT(errorOf("[1, 2]\n"), HasSubstr("a probe needs a string \"expected\""));
}

TEST_F(ProberTest, RejectsProbeWithoutMessagesOrPrompt) {
  EXPECT_THAT(errorOf(R"({"expected": "b"})"
                      "\n"),
              HasSubstr("a probe needs \"messages\" or \"prompt\""));
  EXPECT_THAT(errorOf(R"({"messages": "hi", "expected": "b"})"
                      "\n"),
              HasSubstr("a probe needs \"messages\" or \"prompt\""));
  EXPECT_THAT(errorOf(R"({"prompt": 3, "expected": "b"})"
                      "\n"),
              HasSubstr("a probe needs \"messages\" or \"prompt\""));
}

TEST_F(ProberTest, RejectsNonStringMatchWithoutThrowing) {
  // A non-string "match" is an error naming the line, not an exception from the JSON library.
  std::string message;
  EXPECT_NO_THROW(message = errorOf(R"({"prompt": "a", "expected": "b", "match": 1})"
                                    "\n"));
  EXPECT_THAT(message, HasSubstr(".jsonl:1: "));
}

TEST_F(ProberTest, EmptyFileIsAnError) {
  EXPECT_THAT(errorOf(""), HasSubstr("is empty"));
  EXPECT_THAT(errorOf("\n\n"), HasSubstr("is empty"));
}

TEST_F(ProberTest, MissingFileIsNotFound) {
  StatusOr<std::vector<ProbeCase>> cases = loadGoldenSet((dir_ / "absent.jsonl").string());
  ASSERT_FALSE(cases.ok());
  EXPECT_EQ(cases.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(cases.status().message(), HasSubstr("absent.jsonl"));
}

TEST_F(ProberTest, ExactMatchTrimsWhitespaceAndIsCaseSensitive) {
  ProbeCase probe = loadOne(R"({"prompt": "p", "expected": " Paris "})");
  EXPECT_TRUE(probeMatches(probe, "Paris"));
  EXPECT_TRUE(probeMatches(probe, "\n  Paris\t\n"));
  EXPECT_FALSE(probeMatches(probe, "paris"));
  EXPECT_FALSE(probeMatches(probe, "Paris."));
  EXPECT_FALSE(probeMatches(probe, "The answer is Paris"));
  EXPECT_FALSE(probeMatches(probe, ""));
}

TEST_F(ProberTest, LabelMatchComparesTheTrimmedAnswer) {
  ProbeCase probe = loadOne(R"({"prompt": "p", "expected": "positive", "match": "label"})");
  EXPECT_TRUE(probeMatches(probe, "positive"));
  EXPECT_TRUE(probeMatches(probe, " positive\n"));
  EXPECT_FALSE(probeMatches(probe, "negative"));
  EXPECT_FALSE(probeMatches(probe, "positive, mostly"));
}

TEST_F(ProberTest, ContainsMatchFindsSubstring) {
  ProbeCase probe = loadOne(R"({"prompt": "p", "expected": "Paris", "match": "contains"})");
  EXPECT_TRUE(probeMatches(probe, "The capital is Paris."));
  EXPECT_TRUE(probeMatches(probe, "Paris"));
  EXPECT_FALSE(probeMatches(probe, "The capital is paris."));
  EXPECT_FALSE(probeMatches(probe, "Pari"));
}

TEST_F(ProberTest, RegexMatchIsPartialUnlessAnchored) {
  ProbeCase anchored = loadOne(R"({"prompt": "p", "expected": "^[0-9]+$", "match": "regex"})");
  EXPECT_TRUE(probeMatches(anchored, "42"));
  EXPECT_FALSE(probeMatches(anchored, "42 apples"));
  EXPECT_FALSE(probeMatches(anchored, ""));

  ProbeCase partial = loadOne(R"({"prompt": "p", "expected": "Par+is", "match": "regex"})");
  EXPECT_TRUE(probeMatches(partial, "I think Parrris."));
  EXPECT_FALSE(probeMatches(partial, "Pais"));
}

TEST(ProberAccuracyTest, ValueIsCorrectOverTotal) {
  EXPECT_DOUBLE_EQ((Accuracy{3, 4}).value(), 0.75);
  EXPECT_DOUBLE_EQ((Accuracy{0, 5}).value(), 0.0);
  EXPECT_DOUBLE_EQ((Accuracy{7, 7}).value(), 1.0);
}

TEST(ProberAccuracyTest, ValueIsNanWithoutResults) { EXPECT_TRUE(std::isnan(Accuracy{}.value())); }

TEST(ProberStateTest, NewProberHasNoResults) {
  asio::io_context io;
  std::map<std::string, std::vector<ProbeCase>> cases;
  cases["chat"].push_back(ProbeCase());
  Prober prober(io, {ProbeConfig{"chat", "golden.jsonl"}}, std::move(cases));
  EXPECT_TRUE(prober.probes("chat"));
  EXPECT_FALSE(prober.probes("other"));
  EXPECT_TRUE(prober.versions().empty());
  Accuracy accuracy = prober.accuracy("chat", "v1");
  EXPECT_EQ(accuracy.total, 0u);
  EXPECT_TRUE(std::isnan(accuracy.value()));
}

TEST(PairedChangeTest, McNemarStatisticWithContinuityCorrection) {
  EXPECT_EQ((PairedChange{.total = 50, .lost = 0, .gained = 0}).z(), 0);
  EXPECT_NEAR((PairedChange{.total = 50, .lost = 10, .gained = 0}).z(), 9 / std::sqrt(10.0), 1e-12);
  EXPECT_NEAR((PairedChange{.total = 50, .lost = 12, .gained = 4}).z(), 7 / 4.0, 1e-12);
  EXPECT_LT((PairedChange{.total = 50, .lost = 2, .gained = 6}).z(), 0);
  EXPECT_NEAR((PairedChange{.total = 50, .lost = 12, .gained = 2}).drop(), 0.2, 1e-12);
}

// A deterministic version that answers 60% of 1000 cases right, probed 20,000 times at random:
// the case mix of a window swings its accuracy, but paired with first answers it never changes.
TEST(ProberPairingTest, AnUnchangedVersionShowsNoChangeHoweverOftenItIsTested) {
  asio::io_context io;
  Prober prober(io, {}, {});
  const std::pair<std::string, std::string> key("chat", "v1");
  Random random(7);
  std::vector<bool> truth(1000);
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = random.uniform() < 0.6;
  }
  double lowest = 1;
  double highest = 0;
  for (int i = 0; i < 20000; ++i) {
    const size_t c = random.below(truth.size());
    prober.record(key, c, truth[c], truth.size(), 200);
    if (i >= 200 && i % 30 == 0) {
      const Accuracy recent = prober.accuracy("chat", "v1", 30);
      lowest = std::min(lowest, recent.value());
      highest = std::max(highest, recent.value());
      const PairedChange change = prober.change("chat", "v1", 30);
      ASSERT_EQ(change.lost, 0u);
      ASSERT_EQ(change.gained, 0u);
    }
  }
  // What the unpaired test saw: windows of 30 from 0.3 to 0.9 on an unchanged version.
  EXPECT_LT(lowest, 0.4);
  EXPECT_GT(highest, 0.8);
  EXPECT_EQ(prober.change("chat", "v1", 30).total, 30u);
}

TEST(ProberPairingTest, ADegradedVersionLosesTheCasesItGotRight) {
  asio::io_context io;
  Prober prober(io, {}, {});
  const std::pair<std::string, std::string> key("chat", "v1");
  Random random(11);
  std::vector<bool> truth(300);
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = random.uniform() < 0.65;
  }
  for (int i = 0; i < 3000; ++i) {
    const size_t c = random.below(truth.size());
    prober.record(key, c, truth[c], truth.size(), 200);
  }
  // Degraded: half of the right answers turn wrong, a few wrong ones turn right.
  for (size_t i = 0; i < truth.size(); ++i) {
    truth[i] = truth[i] ? random.uniform() < 0.5 : random.uniform() < 0.1;
  }
  for (int i = 0; i < 60; ++i) {
    const size_t c = random.below(truth.size());
    prober.record(key, c, truth[c], truth.size(), 200);
  }
  const PairedChange change = prober.change("chat", "v1", 60);
  EXPECT_EQ(change.total, 60u);
  EXPECT_GT(change.lost, 10u);
  EXPECT_GT(change.drop(), 0.15);
  EXPECT_GT(change.z(), 2.33);  // Past the 99% one-sided critical value.
  prober.reset("chat", "v1");
  EXPECT_EQ(prober.change("chat", "v1", 30).total, 0u);
}

}  // namespace
}  // namespace dw::control
