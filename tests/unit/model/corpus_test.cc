#include "model/corpus.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

namespace dw::model {
namespace {

TEST(CleanFortuneTextTest, StripsAnsiCsiEscapes) {
  EXPECT_EQ(cleanFortuneText("\x1b[32mGreen title\x1b[m"), "Green title");
  EXPECT_EQ(cleanFortuneText("a\x1b[1;31mb\x1b[0mc"), "abc");
  EXPECT_EQ(cleanFortuneText("\x1b[32m\xE6\x9D\x8E\xE7\x99\xBD\x1b[m"), "\xE6\x9D\x8E\xE7\x99\xBD");
}

TEST(CleanFortuneTextTest, StripsBackspaceOverstrike) {
  EXPECT_EQ(cleanFortuneText("_\bx"), "x");
  EXPECT_EQ(cleanFortuneText("x\bx"), "x");
  EXPECT_EQ(cleanFortuneText("_\bb_\bo_\bl_\bd"), "bold");
  EXPECT_EQ(cleanFortuneText("B\bBo\bol\bld\bd text"), "Bold text");
}

TEST(CleanFortuneTextTest, BackspaceRemovesWholeMultiByteCharacter) {
  // 床 is three bytes; the backspace strikes the whole character, not its last byte.
  EXPECT_EQ(cleanFortuneText("\xE5\xBA\x8A\b\xE5\xBA\x8A"), "\xE5\xBA\x8A");
  EXPECT_EQ(cleanFortuneText("\xC3\xA9\bx"), "x");
  EXPECT_EQ(cleanFortuneText("a\xC3\xA9\b\xC3\xA9"), "a\xC3\xA9");
}

TEST(CleanFortuneTextTest, DropsControlCharactersButKeepsNewlineAndTab) {
  EXPECT_EQ(cleanFortuneText("a\x01"
                             "b\rc\td\ne\x07"),
            "abc\td\ne");
  EXPECT_EQ(cleanFortuneText("line one\r\nline two"), "line one\nline two");
}

TEST(CleanFortuneTextTest, TrimsSurroundingWhitespace) {
  EXPECT_EQ(cleanFortuneText("\n\t  text  \n\n"), "text");
  EXPECT_EQ(cleanFortuneText(" \n\t "), "");
  EXPECT_EQ(cleanFortuneText(""), "");
  EXPECT_EQ(cleanFortuneText("\x1b[m"), "");
}

TEST(SplitFortunesTest, SplitsOnPercentLines) {
  std::vector<std::string> entries =
      splitFortunes("First fortune.\n%\nSecond\n  -- author\n%\n%\nThird 50% off\n%\n");
  EXPECT_EQ(entries,
            (std::vector<std::string>{"First fortune.", "Second\n  -- author", "Third 50% off"}));
}

TEST(SplitFortunesTest, HandlesCrLfAndMissingTrailingSeparator) {
  std::vector<std::string> entries = splitFortunes("one\r\n%\r\ntwo");
  EXPECT_EQ(entries, (std::vector<std::string>{"one", "two"}));
}

TEST(SplitFortunesTest, CleansEntriesAndDropsEmptyOnes) {
  std::vector<std::string> entries = splitFortunes("\x1b[32mtitle\x1b[m\n%\n   \n%\nx\bx\n");
  EXPECT_EQ(entries, (std::vector<std::string>{"title", "x"}));
  EXPECT_TRUE(splitFortunes("").empty());
  EXPECT_TRUE(splitFortunes("%\n%\n").empty());
}

std::vector<Document> numberedDocuments(int n) {
  std::vector<Document> documents;
  for (int i = 0; i < n; ++i) {
    documents.push_back(Document{"document number " + std::to_string(i), i % 3});
  }
  return documents;
}

TEST(SplitHeldOutTest, IsDeterministicAndPartitions) {
  std::vector<Document> documents = numberedDocuments(2000);
  Split a = splitHeldOut(documents, 17, 0.2);
  Split b = splitHeldOut(documents, 17, 0.2);
  ASSERT_EQ(a.test.size(), b.test.size());
  for (size_t i = 0; i < a.test.size(); ++i) {
    EXPECT_EQ(a.test[i].text, b.test[i].text);
    EXPECT_EQ(a.test[i].label, b.test[i].label);
  }
  EXPECT_EQ(a.train.size() + a.test.size(), documents.size());
  std::set<std::string> test_texts;
  for (const Document& doc : a.test) {
    test_texts.insert(doc.text);
  }
  for (const Document& doc : a.train) {
    EXPECT_EQ(test_texts.count(doc.text), 0u) << doc.text;
  }
}

TEST(SplitHeldOutTest, HoldsOutRoughlyTheRequestedFraction) {
  std::vector<Document> documents = numberedDocuments(5000);
  for (double fraction : {0.1, 0.2, 0.5}) {
    Split split = splitHeldOut(documents, 99, fraction);
    const double share = static_cast<double>(split.test.size()) / documents.size();
    // Binomial standard deviation is at most 0.007 for n = 5000.
    EXPECT_NEAR(share, fraction, 0.03) << fraction;
  }
  EXPECT_TRUE(splitHeldOut(documents, 99, 0.0).test.empty());
}

// Bug: splitHeldOut (src/model/corpus.cc) computes its threshold as
// static_cast<uint64_t>(fraction * 18446744073709551615.0); at fraction 1.0 the double is 2^64,
// out of uint64_t's range (undefined behaviour), and on x86-64 the threshold becomes 0, so
// nothing is held out instead of everything. Enable once fixed.
TEST(SplitHeldOutTest, HoldsOutEverythingAtFractionOne) {
  std::vector<Document> documents = numberedDocuments(100);
  Split split = splitHeldOut(documents, 1, 1.0);
  EXPECT_EQ(split.test.size(), documents.size());
  EXPECT_TRUE(split.train.empty());
}

TEST(SplitHeldOutTest, SameTextLandsOnSameSideRegardlessOfCompany) {
  std::vector<Document> all = numberedDocuments(500);
  std::vector<Document> half(all.begin(), all.begin() + 250);
  Split from_all = splitHeldOut(all, 3, 0.3);
  Split from_half = splitHeldOut(half, 3, 0.3);
  std::set<std::string> held_out_all;
  for (const Document& doc : from_all.test) {
    held_out_all.insert(doc.text);
  }
  for (const Document& doc : from_half.test) {
    EXPECT_EQ(held_out_all.count(doc.text), 1u) << doc.text;
  }
}

TEST(SplitHeldOutTest, SeedChangesTheSplit) {
  std::vector<Document> documents = numberedDocuments(1000);
  Split a = splitHeldOut(documents, 1, 0.2);
  Split b = splitHeldOut(documents, 2, 0.2);
  std::set<std::string> a_texts;
  for (const Document& doc : a.test) {
    a_texts.insert(doc.text);
  }
  size_t shared = 0;
  for (const Document& doc : b.test) {
    shared += a_texts.count(doc.text);
  }
  EXPECT_LT(shared, b.test.size());
}

// A fresh directory under the system temp directory, removed at the end of the test.
class LoadCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("dw_corpus_test_") + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void writeFile(const std::string& name, const std::string& content) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << content;
  }

  std::filesystem::path dir_;
};

TEST_F(LoadCorpusTest, ReadsCategoriesWithLabels) {
  writeFile("alpha", "a one\n%\na two\n%\n");
  writeFile("beta", "b one\n%\nb two\n%\nb three\n");
  StatusOr<Corpus> corpus = loadCorpus(dir_.string(), {"alpha", "beta"}, 100);
  ASSERT_TRUE(corpus.ok()) << corpus.status().toString();
  EXPECT_EQ(corpus->categories, (std::vector<std::string>{"alpha", "beta"}));
  ASSERT_EQ(corpus->documents.size(), 5u);
  EXPECT_EQ(corpus->documents[0].text, "a one");
  EXPECT_EQ(corpus->documents[0].label, 0);
  EXPECT_EQ(corpus->documents[1].text, "a two");
  EXPECT_EQ(corpus->documents[1].label, 0);
  EXPECT_EQ(corpus->documents[2].text, "b one");
  EXPECT_EQ(corpus->documents[2].label, 1);
  EXPECT_EQ(corpus->documents[4].text, "b three");
  EXPECT_EQ(corpus->documents[4].label, 1);
}

TEST_F(LoadCorpusTest, CapsEntriesPerCategoryWithStableChoice) {
  std::string many;
  for (int i = 0; i < 10; ++i) {
    many += "entry " + std::to_string(i) + "\n%\n";
  }
  writeFile("alpha", many);
  writeFile("beta", "b one\n%\nb two\n");
  StatusOr<Corpus> first = loadCorpus(dir_.string(), {"alpha", "beta"}, 3);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_EQ(first->documents.size(), 5u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(first->documents[i].label, 0);
    EXPECT_EQ(first->documents[i].text.rfind("entry ", 0), 0u);
  }
  EXPECT_EQ(first->documents[3].label, 1);
  EXPECT_EQ(first->documents[4].label, 1);

  StatusOr<Corpus> second = loadCorpus(dir_.string(), {"alpha", "beta"}, 3);
  ASSERT_TRUE(second.ok());
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(first->documents[i].text, second->documents[i].text);
  }
}

TEST_F(LoadCorpusTest, ContentHashIsStableAndTracksContent) {
  writeFile("alpha", "a one\n%\na two\n");
  writeFile("beta", "b one\n");
  StatusOr<Corpus> first = loadCorpus(dir_.string(), {"alpha", "beta"}, 100);
  StatusOr<Corpus> second = loadCorpus(dir_.string(), {"alpha", "beta"}, 100);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->content_hash, 0u);
  EXPECT_EQ(first->content_hash, second->content_hash);
  writeFile("beta", "b changed\n");
  StatusOr<Corpus> changed = loadCorpus(dir_.string(), {"alpha", "beta"}, 100);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed->content_hash, first->content_hash);
}

TEST_F(LoadCorpusTest, MissingFileIsNotFound) {
  writeFile("alpha", "a one\n");
  StatusOr<Corpus> corpus = loadCorpus(dir_.string(), {"alpha", "missing"}, 100);
  ASSERT_FALSE(corpus.ok());
  EXPECT_EQ(corpus.status().code(), StatusCode::kNotFound);
  EXPECT_NE(corpus.status().message().find("missing"), std::string::npos);
}

TEST_F(LoadCorpusTest, FileWithoutEntriesIsDataLoss) {
  writeFile("alpha", "a one\n");
  writeFile("empty", "%\n\n%\n");
  StatusOr<Corpus> corpus = loadCorpus(dir_.string(), {"alpha", "empty"}, 100);
  ASSERT_FALSE(corpus.ok());
  EXPECT_EQ(corpus.status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace dw::model
