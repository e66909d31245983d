#include "security/pii_scanner.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <iostream>

#include "base/random.h"

namespace dw::security {
namespace {

std::shared_ptr<const PiiScanner> scanner(PiiMode mode = PiiMode::kMask, std::string key = "",
                                          std::vector<PiiType> types = {}) {
  auto created = PiiScanner::create({std::move(types), mode, std::move(key)});
  EXPECT_TRUE(created.ok()) << created.status().toString();
  return *created;
}

// The types found in `text`, in order.
std::vector<PiiType> typesIn(std::string_view text) {
  std::vector<PiiType> types;
  for (const PiiFinding& f : scanner()->find(text)) {
    types.push_back(f.type);
  }
  return types;
}

// The exact substring of the single finding in `text`, or "" when there is not exactly one.
std::string only(std::string_view text, PiiType type) {
  const auto findings = scanner()->find(text);
  if (findings.size() != 1 || findings[0].type != type) {
    return "";
  }
  return std::string(text.substr(findings[0].begin, findings[0].end - findings[0].begin));
}

using T = PiiType;

TEST(PiiScannerTest, CatalogRow27ResidentIds) {
  EXPECT_EQ(only("身份证号11010519491231002X。", T::kResidentId), "11010519491231002X");
  EXPECT_EQ(only("id 11010519491231002x ok", T::kResidentId), "11010519491231002x");
  EXPECT_EQ(only("旧证 110105491231002", T::kResidentId), "110105491231002");
  EXPECT_TRUE(typesIn("110105194912310021").empty());  // bad check
  EXPECT_TRUE(typesIn("310115198102290010").empty());  // 1981-02-29
  EXPECT_TRUE(typesIn("110105209912310029").empty());  // future
  EXPECT_TRUE(typesIn("000105194912310024").empty());  // region
  // A 19-digit run holding a valid ID is not an ID, on either side.
  EXPECT_TRUE(typesIn("4403041990010112339").empty());
  EXPECT_TRUE(typesIn("1440304199001011233").empty());
  EXPECT_TRUE(typesIn("ab440304199001011233").empty());
}

TEST(PiiScannerTest, CatalogRow28MobilePhones) {
  for (std::string_view text :
       {"13812345678", "+86 138 1234 5678", "8613812345678", "+86-13812345678", "+8613812345678",
        "0086 13812345678", "138-1234-5678", "１３８１２３４５６７８",
        "＋８６ １３８１２３４５６７８"}) {
    const std::string with = std::string("电话：") + std::string(text) + "，谢谢";
    EXPECT_EQ(only(with, T::kPhone), text) << text;
  }
  EXPECT_TRUE(typesIn("12812345678").empty());
  EXPECT_TRUE(typesIn("138123456789").empty());  // a 12-digit run
  EXPECT_TRUE(typesIn("订单 138 1234 5678 9").empty());
  EXPECT_EQ(typesIn("13812345678 13912345678"), (std::vector<T>{T::kPhone, T::kPhone}));
  EXPECT_EQ(only("call +1 415 555 2671 now", T::kPhone), "+1 415 555 2671");
  EXPECT_EQ(scanner()->redact("tel 13812345678.", nullptr), "tel [PHONE:***5678].");
}

TEST(PiiScannerTest, CatalogRow29BankCards) {
  EXPECT_EQ(only("6222021234567890128", T::kBankCard), "6222021234567890128");
  EXPECT_EQ(only("卡 6222 0212 3456 7890 128 。", T::kBankCard), "6222 0212 3456 7890 128");
  EXPECT_TRUE(typesIn("卡号 6222021234567890123").empty());  // Luhn fails
  // A Luhn-valid 16-digit number: an order id without context, a card with it.
  EXPECT_TRUE(typesIn("订单号 4111111111111111 已发货").empty());
  EXPECT_EQ(only("我的卡号是4111111111111111", T::kBankCard), "4111111111111111");
  EXPECT_EQ(only("credit card: 4111111111111111", T::kBankCard), "4111111111111111");
  EXPECT_EQ(only("visa 4111-1111-1111-1111", T::kBankCard), "4111-1111-1111-1111");
}

TEST(PiiScannerTest, CatalogRow30EmailIpAndPassport) {
  EXPECT_EQ(only("mail a.b+c@example.co.uk.", T::kEmail), "a.b+c@example.co.uk");
  EXPECT_EQ(only("邮箱zhang.san@qq.com谢谢", T::kEmail), "zhang.san@qq.com");
  EXPECT_TRUE(typesIn("not@mail, a@b, x@@y.com").empty());
  EXPECT_EQ(only("from 10.0.0.1:8080", T::kIpAddress), "10.0.0.1");
  EXPECT_EQ(only("host 2001:db8::1 up", T::kIpAddress), "2001:db8::1");
  EXPECT_EQ(only("mapped ::ffff:10.0.0.1 here", T::kIpAddress), "::ffff:10.0.0.1");
  EXPECT_EQ(only("[fe80::1ff:fe23:4567:890a]:443", T::kIpAddress), "fe80::1ff:fe23:4567:890a");
  EXPECT_TRUE(typesIn("999.1.1.1").empty());
  EXPECT_TRUE(typesIn("v1.2.3.4 and 1.2.3.4.5 and 3.14").empty());
  EXPECT_TRUE(typesIn("at 12:30:45 in std::vector bad::add").empty());
  EXPECT_EQ(only("E12345678", T::kPassport), "E12345678");
  EXPECT_EQ(only("护照号码：P1234567", T::kPassport), "P1234567");
  EXPECT_TRUE(typesIn("model P1234567").empty());
  EXPECT_TRUE(typesIn("XE12345678 E123456789").empty());
}

TEST(PiiScannerTest, CatalogRow31Secrets) {
  const std::vector<std::string> secrets = {
      "AKIAZ7Q3KXJ2M4N5P6R8",
      "sk-ant-api03-" + std::string(93, 'a') + "AA",
      "sk-proj-Ab3dEf6hIj9kLm2nOp5qRsT3BlbkFJuvWx8yZ",
      "ghp_" + std::string("aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"),
      "xoxb-1234567890-abcdefABCDEF",
      "AIzaSyD3x-9Kq2Lm7Np4Rs8Tu1Vw5Xy0Zb6Cd3E",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
      // The gateway's own keys, pasted into a prompt, never go upstream in clear.
      "dwk_0123456789ab_" + std::string("Ab3dEf6hIj9kLm2nOp5qRsT3BlbkFJuvWx8yZ-_0123"),
  };
  for (const std::string& s : secrets) {
    EXPECT_EQ(only("key " + s + " end", T::kSecret), s) << s;
  }
  EXPECT_TRUE(typesIn("AKIAIOSFODNN7EXAMPLE").empty());
  EXPECT_EQ(only("password=Xy7#kP9$mQ2!vR4w", T::kSecret), "Xy7#kP9$mQ2!vR4w");
  EXPECT_EQ(only(R"({"api_key": "q8ZrT2vLx9Wm4KpB"})", T::kSecret), "q8ZrT2vLx9Wm4KpB");
  EXPECT_TRUE(typesIn("password=aaaaaaaaaaaa").empty());  // low entropy
  EXPECT_TRUE(typesIn("password: short").empty());
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4\n"
      "-----END RSA PRIVATE KEY-----";
  EXPECT_EQ(only("key:\n" + pem + "\nthanks", T::kSecret), pem);
  EXPECT_EQ(scanner()->redact("token sk-proj-Ab3dEf6hIj9kLm2nOp5qRsT3BlbkFJuvWx8yZ", nullptr),
            "token [SECRET]");
}

TEST(PiiScannerTest, JsonEscapesAreBoundariesAndMatchesNeverCrossThem) {
  EXPECT_EQ(only(R"({"content":"call\n13812345678"})", T::kPhone), "13812345678");
  EXPECT_EQ(only(R"("\t13812345678\"")", T::kPhone), "13812345678");
  EXPECT_EQ(only(R"(\"13812345678\")", T::kPhone), "13812345678");
  EXPECT_EQ(only(R"(\nzhang@qq.com\n)", T::kEmail), "zhang@qq.com");
  // \u escapes are decoded: 身份证 before the number, a full-width digit inside it.
  EXPECT_EQ(only(R"(\u8eab\u4efd11010519491231002X)", T::kResidentId), "11010519491231002X");
  EXPECT_EQ(only(R"(x \uff11\uff13812345678 y)", T::kPhone), R"(\uff11\uff13812345678)");
  EXPECT_EQ(scanner()->redact(R"({"m":"tel\n13812345678\nok"})", nullptr),
            R"({"m":"tel\n[PHONE:***5678]\nok"})");
  // An escape or a quote splits what would otherwise be one number.
  EXPECT_TRUE(typesIn(R"(138123\n45678)").empty());
  EXPECT_TRUE(typesIn(R"(13812"345678)").empty());
}

TEST(PiiScannerTest, FullWidthOffsetsAreInTheOriginalText) {
  const std::string text = "号码１３８１２３４５６７８。";
  const auto findings = scanner()->find(text);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].begin, 6u);
  EXPECT_EQ(findings[0].end, 6u + 33u);
  EXPECT_EQ(scanner()->redact(text, nullptr), "号码[PHONE:***5678]。");
}

TEST(PiiScannerTest, TypesFilterAndCounts) {
  const std::string text = "13812345678 a@b.com 10.0.0.1 a@b.com";
  PiiCounts counts{};
  EXPECT_EQ(scanner()->redact(text, &counts), "[PHONE:***5678] [EMAIL] [IP_ADDRESS] [EMAIL]");
  EXPECT_EQ(counts[static_cast<size_t>(T::kEmail)], 2u);
  EXPECT_EQ(counts[static_cast<size_t>(T::kPhone)], 1u);
  EXPECT_EQ(counts[static_cast<size_t>(T::kIpAddress)], 1u);
  const auto email_only = scanner(PiiMode::kMask, "", {T::kEmail});
  EXPECT_EQ(email_only->redact(text, nullptr), "13812345678 [EMAIL] 10.0.0.1 [EMAIL]");
  EXPECT_TRUE(email_only->containsAny(text));
  EXPECT_FALSE(email_only->containsAny("13812345678"));
}

TEST(PiiScannerTest, HashModeIsStableAndKeyed) {
  EXPECT_FALSE(PiiScanner::create({{}, PiiMode::kHash, ""}).ok());
  const auto a = scanner(PiiMode::kHash, "tenant-a");
  const auto b = scanner(PiiMode::kHash, "tenant-b");
  const std::string one = a->redact("13812345678", nullptr);
  EXPECT_EQ(one.size(), std::string("[PHONE:").size() + 12 + 1);
  EXPECT_EQ(one.substr(0, 7), "[PHONE:");
  // The same number written another way gives the same token; another key, another token.
  EXPECT_EQ(a->redact("+86 138 1234 5678", nullptr), one);
  EXPECT_EQ(a->redact("１３８１２３４５６７８", nullptr), one);
  EXPECT_NE(b->redact("13812345678", nullptr), one);
  EXPECT_NE(a->redact("13912345678", nullptr), one);
  for (char c :
       a->redact("a@b.com 6222021234567890128 sk-ant-api03-xxxxxxxxxxxxxxxxxxxx", nullptr)) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_:*[]- ", c)) << c;
  }
}

// Every type once, with CJK text and a JSON escape around them.
std::string everyType() {
  return "用户张三，手机 +86 138 1234 5678，身份证11010519491231002X，卡号 6222 0212 3456 7890 "
         "128，"
         "邮箱 zhang.san@example.com\\n护照 E12345678, ip 10.0.0.1 / 2001:db8::1, "
         "key AKIAZ7Q3KXJ2M4N5P6R8 password=Xy7#kP9$mQ2!vR4w 结束。";
}

TEST(PiiStreamRedactorTest, EverySplitPointGivesTheWholeTextResult) {
  const auto s = scanner();
  const std::string text = everyType();
  PiiCounts whole_counts{};
  const std::string whole = s->redact(text, &whole_counts);
  ASSERT_EQ(s->find(text).size(), 9u);
  for (size_t split = 0; split <= text.size(); ++split) {
    PiiStreamRedactor stream(s);
    PiiCounts counts{};
    std::string out = stream.feed(std::string_view(text).substr(0, split), &counts);
    out += stream.feed(std::string_view(text).substr(split), &counts);
    out += stream.finish(&counts);
    ASSERT_EQ(out, whole) << "split at " << split;
    ASSERT_EQ(counts, whole_counts);
  }
}

TEST(PiiStreamRedactorTest, SmallChunksOfALongStreamMatchAndNeverSplitUtf8) {
  const auto s = scanner();
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += everyType() + " 普通的中文句子，没有任何个人信息。 plain words here. ";
  }
  const std::string whole = s->redact(text, nullptr);
  Random random(7);
  PiiStreamRedactor stream(s);
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = 1 + random.below(40);
    const std::string piece = stream.feed(std::string_view(text).substr(pos, n), nullptr);
    ASSERT_LE(stream.pendingBytes(), s->carryBytes() + 64 + 40);
    if (!piece.empty()) {
      // Each emission starts at a character boundary.
      ASSERT_NE(static_cast<unsigned char>(piece[0]) & 0xC0, 0x80);
    }
    out += piece;
    pos += n;
  }
  out += stream.finish(nullptr);
  EXPECT_EQ(out, whole);
}

TEST(PiiStreamRedactorTest, HoldsAPemBlockLongerThanTheCarry) {
  const auto s = scanner();
  std::string pem = "-----BEGIN PRIVATE KEY-----\n";
  for (int i = 0; i < 40; ++i) {
    pem += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
  }
  pem += "-----END PRIVATE KEY-----";
  const std::string text = "here is my key " + pem + " please keep it";
  ASSERT_GT(pem.size(), s->carryBytes());
  PiiStreamRedactor stream(s);
  std::string out;
  for (size_t pos = 0; pos < text.size(); pos += 16) {
    out += stream.feed(std::string_view(text).substr(pos, 16), nullptr);
    EXPECT_EQ(out.find("MIIE"), std::string::npos);
  }
  out += stream.finish(nullptr);
  EXPECT_EQ(out, "here is my key [SECRET] please keep it");
}

double secondsToRedact(const PiiScanner& s, const std::string& text) {
  const auto start = std::chrono::steady_clock::now();
  const std::string out = s.redact(text, nullptr);
  EXPECT_EQ(out.size(), text.size());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(PiiScannerTest, AdversarialMegabyteInputsScanInLinearTime) {
  const auto s = scanner();
  const size_t mb = 1 << 20;
  std::string nested;
  while (nested.size() < mb) {
    nested += "1-1 1.1:1@1";
  }
  std::string dots;
  while (dots.size() < mb) {
    dots += "1.";
  }
  std::string full_width;
  while (full_width.size() < mb) {
    full_width += "１";
  }
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"digits", std::string(mb, '1')},
      {"nested", nested},
      {"dots", dots},
      {"colons", std::string(mb, ':')},
      {"ats", std::string(mb, '@')},
      {"letters", std::string(mb, 'a')},
      {"fullwidth", full_width},
      {"backslashes", std::string(mb, '\\')},
  };
  for (const auto& [name, text] : inputs) {
    const double seconds = secondsToRedact(*s, text);
    std::cout << "# pii adversarial " << name << " 1 MiB: " << seconds * 1000 << " ms\n";
    EXPECT_LT(seconds, 0.5) << name;
  }
}

}  // namespace
}  // namespace dw::security
