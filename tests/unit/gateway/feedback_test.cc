#include "gateway/feedback.h"

#include <string>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "observe/aggregator.h"
#include "observe/exposition.h"

namespace dw::gateway {
namespace {

TEST(ServedLedgerTest, RemembersWhichSeriesAnsweredAndForgetsOnTake) {
  ServedLedger ledger(1024, 7);
  ledger.record("req_1", 9);
  ledger.record("req_2", 0);
  EXPECT_EQ(ledger.find("req_1"), 9);
  EXPECT_EQ(ledger.take("req_1"), 9);
  EXPECT_EQ(ledger.take("req_1"), std::nullopt) << "an answer is rated once";
  EXPECT_EQ(ledger.take("req_2"), 0);
  EXPECT_EQ(ledger.find("never-served"), std::nullopt);
}

TEST(ServedLedgerTest, RecentAnswersSurviveAndOldOnesAreForgottenNotMisattributed) {
  ServedLedger ledger(1 << 12, 1);
  EXPECT_EQ(ledger.slots(), 4096u);
  for (int i = 0; i < 100000; ++i) {
    ledger.record(fmt::format("req_{}", i), i % 50);
  }
  int remembered = 0;
  for (int i = 100000 - 1000; i < 100000; ++i) {
    if (auto series = ledger.find(fmt::format("req_{}", i))) {
      EXPECT_EQ(*series, i % 50);
      ++remembered;
    }
  }
  // Direct-mapped: the last 1,000 of 4,096 slots collide rarely (~1 - e^-0.24 = 11% at most).
  EXPECT_GT(remembered, 850);
  for (int i = 0; i < 1000; ++i) {
    auto series = ledger.find(fmt::format("req_{}", i));
    EXPECT_TRUE(!series || *series == i % 50);
  }
}

TEST(ServedLedgerTest, ConcurrentTakesRateAnAnswerOnce) {
  ServedLedger ledger(256, 3);
  ledger.record("req_x", 4);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      if (ledger.take("req_x")) {
        taken.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(taken.load(), 1);
}

TEST(ParseFeedbackTest, AcceptsAScoreOrALabel) {
  FeedbackError error;
  auto score = parseFeedback(R"({"request_id":"req_1","score":0.8})", &error);
  ASSERT_TRUE(score) << error.message;
  EXPECT_EQ(score->request_id, "req_1");
  EXPECT_TRUE(score->positive);
  EXPECT_DOUBLE_EQ(*score->score, 0.8);
  auto low = parseFeedback(R"({"request_id":"req_1","score":0})", &error);
  ASSERT_TRUE(low);
  EXPECT_FALSE(low->positive);
  auto good = parseFeedback(R"({"request_id":"a","label":"Thumbs_Up","comment":"ok"})", &error);
  ASSERT_TRUE(good) << error.message;
  EXPECT_TRUE(good->positive);
  EXPECT_FALSE(good->score);
  auto bad = parseFeedback(R"({"request_id":"a","label":"wrong"})", &error);
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->positive);
}

TEST(ParseFeedbackTest, RefusesBadBodiesNamingTheField) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"([1])", ""},
      {R"({"score":1})", "request_id"},
      {R"({"request_id":"","score":1})", "request_id"},
      {R"({"request_id":"has space","score":1})", "request_id"},
      {R"({"request_id":"a","score":1.5})", "score"},
      {R"({"request_id":"a","score":"1"})", "score"},
      {R"({"request_id":"a"})", "score"},
      {R"({"request_id":"a","score":1,"label":"good"})", "score"},
      {R"({"request_id":"a","label":"meh"})", "label"},
      {R"({"request_id":"a","label":3})", "label"},
      {R"({"request_id":"a","label":"good","user":"x"})", "user"},
      {R"({"request_id":"a",)", ""},
  };
  for (const Case& c : cases) {
    FeedbackError error;
    EXPECT_FALSE(parseFeedback(c.body, &error)) << c.body;
    EXPECT_EQ(error.param, c.param) << c.body;
    EXPECT_FALSE(error.message.empty());
  }
}

TEST(FeedbackBookTest, TalliesPerSeriesAndWritesMetrics) {
  FeedbackBook book;
  FeedbackError error;
  book.add(3, *parseFeedback(R"({"request_id":"a","score":0.9})", &error));
  book.add(3, *parseFeedback(R"({"request_id":"b","label":"bad"})", &error));
  book.add(11, *parseFeedback(R"({"request_id":"c","label":"good"})", &error));
  EXPECT_EQ(book.tally(3).positive, 1u);
  EXPECT_EQ(book.tally(3).negative, 1u);
  EXPECT_EQ(book.tally(3).scored, 1u);
  EXPECT_DOUBLE_EQ(book.tally(3).score_sum, 0.9);
  EXPECT_EQ(book.tally(4).positive, 0u);
  observe::ExpositionWriter w;
  writeFeedbackMetrics(w, "deepseek", book, [](int series, observe::SeriesName* name) {
    if (series == 11) {
      return false;  // A series that no longer exists.
    }
    name->model = "chat";
    name->version = "v" + std::to_string(series);
    return true;
  });
  const std::string text = w.release();
  EXPECT_NE(text.find(R"(deepseek_feedback_total{model="chat",version="v3",verdict="positive"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(deepseek_feedback_total{model="chat",version="v3",verdict="negative"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(deepseek_feedback_score_sum{model="chat",version="v3"} 0.9)"),
            std::string::npos);
  EXPECT_EQ(text.find("v11"), std::string::npos);
}

}  // namespace
}  // namespace dw::gateway
