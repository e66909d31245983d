// A labelled zh/en corpus (deterministic seed) for precision and recall per type (catalog row
// 33): valid and invalid IDs, cards, mobiles, and look-alike numbers.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/random.h"
#include "security/pii_scanner.h"

namespace dw::security {
namespace {

struct Sample {
  std::string text;
  std::optional<PiiType> label;  // the value's type, or none for a negative
  size_t begin = 0;              // the value's byte range when labelled
  size_t end = 0;
  std::string category;
};

class CorpusGenerator {
 public:
  explicit CorpusGenerator(uint64_t seed) : random_(seed) {}

  std::string digits(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
      s.push_back(static_cast<char>('0' + random_.below(10)));
    }
    return s;
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[random_.below(v.size())];
  }

  static char idCheck(std::string_view first17) {
    static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (size_t i = 0; i < 17; ++i) {
      sum += (first17[i] - '0') * kWeights[i];
    }
    return "10X98765432"[sum % 11];
  }
  static char luhnCheck(std::string_view body) {
    int sum = 0;
    bool twice = true;
    for (size_t i = body.size(); i-- > 0;) {
      int d = body[i] - '0';
      if (twice) {
        d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      }
      sum += d;
      twice = !twice;
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
  }

  std::string id(int year, int month, int day, bool good_check) {
    static const std::vector<std::string> kRegions = {"110105", "310115", "440304", "330106",
                                                      "510104", "620102", "370202", "420111"};
    char date[40];
    std::snprintf(date, sizeof(date), "%04d%02d%02d", year, month, day);
    std::string s = pick(kRegions) + date + digits(3);
    const char check = idCheck(s);
    s.push_back(good_check ? check : (check == '0' ? '1' : '0'));
    return s;
  }
  std::string validId() {
    return id(1950 + static_cast<int>(random_.below(55)), 1 + static_cast<int>(random_.below(12)),
              1 + static_cast<int>(random_.below(28)), true);
  }
  std::string card(bool valid) {
    std::string body =
        random_.below(2) == 0 ? "62" + digits(14 + random_.below(3)) : "4" + digits(14);
    const char check = luhnCheck(body);
    body.push_back(valid ? check : static_cast<char>('0' + (check - '0' + 1) % 10));
    return body;
  }
  std::string mobile(bool valid) {
    const char second = valid ? static_cast<char>('3' + random_.below(7))
                              : static_cast<char>('0' + random_.below(3));
    return std::string("1") + second + digits(9);
  }
  std::string formatMobile(const std::string& m) {
    switch (random_.below(4)) {
      case 0:
        return m;
      case 1:
        return "+86 " + m.substr(0, 3) + " " + m.substr(3, 4) + " " + m.substr(7);
      case 2:
        return m.substr(0, 3) + "-" + m.substr(3, 4) + "-" + m.substr(7);
      default:
        return "86" + m;
    }
  }

  Sample sentence(const std::string& value, std::optional<PiiType> label, std::string category,
                  const std::vector<std::pair<std::string, std::string>>& frames) {
    const auto& [before, after] = pick(frames);
    Sample s{before + value + after, label, before.size(), before.size() + value.size(),
             std::move(category)};
    return s;
  }

  std::vector<Sample> generate(size_t per_category) {
    const std::vector<std::pair<std::string, std::string>> id_frames = {
        {"我的身份证号是", "，请核对。"},
        {"ID number: ", ", thanks."},
        {"证件号码 ", " 已登记"},
        {"Please verify id ", " today."}};
    const std::vector<std::pair<std::string, std::string>> card_frames = {
        {"我的银行卡号是", "，请退款。"},
        {"My credit card is ", " please charge it."},
        {"卡号：", "。"},
        {"card number ", ", exp 12/27"}};
    const std::vector<std::pair<std::string, std::string>> phone_frames = {
        {"请联系我，手机", "，谢谢！"},
        {"Call me at ", " tomorrow."},
        {"电话：", "。"},
        {"my number is ", "."}};
    const std::vector<std::pair<std::string, std::string>> plain_frames = {
        {"订单号 ", " 已发货。"},
        {"order id ", " was shipped."},
        {"时间戳 ", " 毫秒"},
        {"ref ", " in the log."}};
    std::vector<Sample> corpus;
    for (size_t i = 0; i < per_category; ++i) {
      corpus.push_back(sentence(validId(), PiiType::kResidentId, "id_valid", id_frames));
      corpus.push_back(sentence(id(1950 + static_cast<int>(random_.below(55)), 5, 10, false),
                                std::nullopt, "id_bad_check", id_frames));
      const bool feb = random_.below(2) == 0;
      corpus.push_back(sentence(feb ? id(1990, 2, 30, true) : id(1981, 2, 29, true), std::nullopt,
                                "id_bad_date", id_frames));
      corpus.push_back(sentence(card(true), PiiType::kBankCard, "card_valid_context", card_frames));
      corpus.push_back(sentence(card(false), std::nullopt, "card_luhn_fail", card_frames));
      corpus.push_back(
          sentence(formatMobile(mobile(true)), PiiType::kPhone, "mobile_valid", phone_frames));
      corpus.push_back(sentence(mobile(false), std::nullopt, "mobile_invalid", phone_frames));
      // Look-alikes: order ids, millisecond timestamps, versions, dates and times.
      const std::string lookalike =
          pick(std::vector<std::string>{"2024" + digits(12), "17" + digits(11),
                                        "v" + digits(1) + "." + digits(1) + "." + digits(2) + ".4",
                                        "2024-05-" + digits(1) + "1 12:30:45", digits(20)});
      corpus.push_back(sentence(lookalike, std::nullopt, "lookalike", plain_frames));
      corpus.push_back(sentence("user" + digits(4) + "@example.com", PiiType::kEmail, "email",
                                {{"邮箱 ", " 收到"}, {"mail ", " now"}}));
      corpus.push_back(sentence("10." + std::to_string(random_.below(256)) + "." +
                                    std::to_string(random_.below(256)) + ".7",
                                PiiType::kIpAddress, "ipv4",
                                {{"来自 ", " 的请求"}, {"ip ", " ok"}}));
    }
    return corpus;
  }

 private:
  Random random_;
};

TEST(PiiCorpusTest, PrecisionAndRecallPerType) {
  auto created = PiiScanner::create({});
  ASSERT_TRUE(created.ok());
  const auto& scanner = *created;
  const std::vector<Sample> corpus = CorpusGenerator(20260915).generate(2000);
  std::array<uint64_t, kPiiTypeCount> tp{}, fp{}, fn{};
  std::map<std::string, uint64_t> hits_by_category;
  for (const Sample& sample : corpus) {
    bool found = false;
    for (const PiiFinding& f : scanner->find(sample.text)) {
      const auto t = static_cast<size_t>(f.type);
      if (sample.label == f.type && f.begin == sample.begin && f.end == sample.end) {
        ++tp[t];
        found = true;
      } else {
        ++fp[t];
        ++hits_by_category[sample.category];
      }
    }
    if (sample.label && !found) {
      ++fn[static_cast<size_t>(*sample.label)];
      ++hits_by_category["missed_" + sample.category];
    }
  }
  for (size_t t = 0; t < kPiiTypeCount; ++t) {
    if (tp[t] + fp[t] + fn[t] == 0) {
      continue;
    }
    const double precision = tp[t] + fp[t] == 0 ? 1.0 : double(tp[t]) / double(tp[t] + fp[t]);
    const double recall = tp[t] + fn[t] == 0 ? 1.0 : double(tp[t]) / double(tp[t] + fn[t]);
    const double f2 =
        precision + recall == 0 ? 0 : 5 * precision * recall / (4 * precision + recall);
    std::cout << "# pii corpus " << piiTypeName(static_cast<PiiType>(t)) << ": precision "
              << precision << " recall " << recall << " F2 " << f2 << " (tp " << tp[t] << ", fp "
              << fp[t] << ", fn " << fn[t] << ")\n";
  }
  for (const auto& [category, hits] : hits_by_category) {
    std::cout << "# pii corpus errors " << category << ": " << hits << "\n";
  }
  auto recall = [&](PiiType type) {
    const auto t = static_cast<size_t>(type);
    return double(tp[t]) / double(tp[t] + fn[t]);
  };
  EXPECT_GE(recall(PiiType::kResidentId), 0.99);
  EXPECT_GE(recall(PiiType::kBankCard), 0.99);
  EXPECT_GE(recall(PiiType::kPhone), 0.99);
  for (const char* invalid : {"id_bad_check", "id_bad_date", "card_luhn_fail", "mobile_invalid"}) {
    EXPECT_EQ(hits_by_category[invalid], 0u) << invalid;
  }
}

}  // namespace
}  // namespace dw::security
