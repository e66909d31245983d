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

// `text` redacted as a stream fed in pieces of `piece` bytes (the last may be shorter).
std::string streamed(const std::shared_ptr<const PiiScanner>& s, std::string_view text,
                     size_t piece, PiiCounts* counts = nullptr) {
  PiiStreamRedactor stream(s);
  std::string out;
  for (size_t pos = 0; pos < text.size(); pos += piece) {
    out += stream.feed(text.substr(pos, piece), counts);
  }
  out += stream.finish(counts);
  return out;
}

// `text` redacted as a stream fed in two pieces, split at `split`.
std::string streamedSplit(const std::shared_ptr<const PiiScanner>& s, std::string_view text,
                          size_t split) {
  PiiStreamRedactor stream(s);
  std::string out = stream.feed(text.substr(0, split), nullptr);
  out += stream.feed(text.substr(split), nullptr);
  out += stream.finish(nullptr);
  return out;
}

std::string jsonEscaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    char escape[8];
    std::snprintf(escape, sizeof(escape), "\\u%04x", static_cast<unsigned char>(c));
    out += escape;
  }
  return out;
}

const std::string kGhp = "ghp_aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6";
const std::string kJwt =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

// Regression (fuzz/corpus/pii_scanner/crash-stream-leaks-secrets-after-unclosed-pem): a PEM
// header whose END line is broken, then a GitHub token and a JWT, the whole repeated and fed in
// 65-byte pieces. The stream emitted both secrets in clear: the broken block's successor header
// began in the emitted context, and its block, dropped there, still hid everything after it
// from the secret scan. Catalog row 32.
TEST(PiiStreamRedactorTest, MasksTheSecretsAfterAPemBlockWithABrokenEndLine) {
  const auto s = scanner();
  const std::string input =
      std::string("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJ\x01", 57) +
      std::string(1, '\0') +
      "cds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY---eyJ--\n"
      "ghp_abcdefghijklmnopqrstuvwxyz0123456789 " +
      kJwt;
  ASSERT_EQ(input.size(), 265u);
  std::string text;
  while (text.size() < 3 * 1632) {  // as the fuzz target built it: past 3 x the old carry
    text += input;
  }
  PiiCounts whole_counts{};
  const std::string whole = s->redact(text, &whole_counts);
  ASSERT_EQ(whole.find("ghp_"), std::string::npos);
  for (size_t piece : {65, 1, 7, 64, 300, 1000, 5000}) {
    SCOPED_TRACE(piece);
    PiiCounts counts{};
    const std::string out = streamed(s, text, piece, &counts);
    EXPECT_EQ(out.find("ghp_"), std::string::npos);
    EXPECT_EQ(out.find("eyJhbGci"), std::string::npos);
    EXPECT_EQ(out, whole);
    EXPECT_EQ(counts, whole_counts);
  }
}

TEST(PiiStreamRedactorTest, MasksAPemBlockWithNoEndLineAndWhatFollowsIt) {
  const auto s = scanner();
  std::string text = std::string(2000, '.') + " my key -----BEGIN RSA PRIVATE KEY-----\n";
  for (int i = 0; i < 30; ++i) {
    text += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
  }
  text += "thanks, and the token is " + kGhp + " and " + kJwt;  // the stream ends here
  const std::string whole = s->redact(text, nullptr);
  ASSERT_EQ(whole.find("MIIE"), std::string::npos);
  ASSERT_EQ(whole.find("ghp_"), std::string::npos);
  for (size_t piece : {1, 16, 65, 700, 4096}) {
    SCOPED_TRACE(piece);
    PiiStreamRedactor stream(s);
    std::string out;
    for (size_t pos = 0; pos < text.size(); pos += piece) {
      out += stream.feed(std::string_view(text).substr(pos, piece), nullptr);
      // Held from its header while no END line may still close it.
      ASSERT_EQ(out.find("MIIE"), std::string::npos);
    }
    out += stream.finish(nullptr);
    EXPECT_EQ(out, whole);
  }
}

TEST(PiiStreamRedactorTest, MasksAPemBlockWhoseEndLineIsSplitAcrossChunks) {
  const auto s = scanner();
  const std::string head = std::string(1500, '.') + " -----BEGIN PRIVATE KEY-----\n" +
                           "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4\n";
  const std::string end_line = "-----END PRIVATE KEY-----";
  const std::string text = head + end_line + " then " + kGhp + " " + std::string(1500, '.');
  const std::string whole = s->redact(text, nullptr);
  ASSERT_EQ(whole.find("MIIB"), std::string::npos);
  ASSERT_EQ(whole.find("ghp_"), std::string::npos);
  // Every split from just before the END line to just after it.
  for (size_t split = head.size() - 2; split <= head.size() + end_line.size() + 2; ++split) {
    const std::string out = streamedSplit(s, text, split);
    ASSERT_EQ(out, whole) << "split at " << split;
  }
}

TEST(PiiStreamRedactorTest, HoldsAPemBodyLongerThanTheHoldBackOnlyUpToTheBlockLimit) {
  const auto s = scanner();
  std::string text = "key -----BEGIN RSA PRIVATE KEY-----\n";
  while (text.size() < pii::kMaxPemSpan + 4000) {
    text += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n";
  }
  text += "-----END RSA PRIVATE KEY---\nnote " + kGhp + " " + std::string(2000, '.');
  PiiCounts whole_counts{};
  const std::string whole = s->redact(text, &whole_counts);
  ASSERT_NE(whole.find("key [SECRET]"), std::string::npos);
  ASSERT_EQ(whole.find("ghp_"), std::string::npos);
  PiiStreamRedactor stream(s);
  PiiCounts counts{};
  std::string out;
  size_t max_pending = 0;
  for (size_t pos = 0; pos < text.size(); pos += 100) {
    out += stream.feed(std::string_view(text).substr(pos, 100), &counts);
    max_pending = std::max(max_pending, stream.pendingBytes());
  }
  out += stream.finish(&counts);
  EXPECT_EQ(out, whole);
  EXPECT_EQ(counts, whole_counts);
  // The block is held whole (its 8 KiB limit), then let go.
  EXPECT_GE(max_pending, pii::kMaxPemSpan);
  EXPECT_LE(max_pending, pii::kMaxPemSpan + s->carryBytes() + 200);
}

// A rejected sk- match (longer than its 256 bytes) hides the start of a second sk- match from
// the whole-text scan, which goes on to find the GitHub token; a stream whose left context
// began inside the first match found the second one instead, which hid the token.
TEST(PiiStreamRedactorTest, ResumesTheSecretScanWhereTheWholeTextScanStands) {
  const auto s = scanner();
  const std::string pad(2000, 'x');
  const std::string text = pad + " sk-" + std::string(100, 'a') + "-sk-" + std::string(200, 'b') +
                           "-" + kGhp + " " + pad;
  const std::string whole = s->redact(text, nullptr);
  ASSERT_EQ(whole.find("ghp_"), std::string::npos);
  for (size_t split = 0; split <= text.size(); ++split) {
    ASSERT_EQ(streamedSplit(s, text, split), whole) << "split at " << split;
  }
}

// The hold-back and the left context are counted in normalised bytes: a JWT written as JSON
// \u escapes is six times longer than its value, and a context word ("card") as far back.
TEST(PiiStreamRedactorTest, HoldsBackJsonEscapedValuesAndContextWordsWhole) {
  const auto s = scanner();
  const std::string pad(2000, '.');
  const std::string jwt = jsonEscaped("eyJ" + std::string(300, 'A') + "." + std::string(20, 'B') +
                                      "." + std::string(20, 'C'));
  const std::string card = jsonEscaped("card" + std::string(34, ' ')) + "4111111111111111";
  for (const std::string& value : {jwt, card}) {
    const std::string text = pad + " " + value + " " + pad;
    const std::string whole = s->redact(text, nullptr);
    ASSERT_EQ(whole.find(value.substr(value.size() - 24)), std::string::npos);
    for (size_t split = 0; split <= text.size(); ++split) {
      ASSERT_EQ(streamedSplit(s, text, split), whole) << "split at " << split;
    }
  }
}

// The number scan resumes from the bytes around it, wherever it started: a stream whose left
// context begins inside a long digit string sees what follows it as the whole text does.
TEST(PiiStreamRedactorTest, ScansNumbersAfterALongDigitStringAsTheWholeText) {
  const auto s = scanner();
  const std::string pad(1500, '.');
  const std::string digits(2000, '7');
  std::string words;
  while (words.size() < 2000) {
    words += "7a";
  }
  const std::vector<std::string> texts = {
      // A word of digits, then an address: the address starts a run of its own.
      pad + " x" + digits + " 10.0.0.1 " + pad,
      // The same digits alone are a group too long to be a value, which ends their run.
      pad + " " + digits + " 10.0.0.1 " + pad,
      // A '.' after a letter ends a word (here one of short digit groups): the card after it
      // is a value.
      pad + " x" + words + "b.6222 0212 3456 7890 128 " + pad,
  };
  for (const std::string& text : texts) {
    const std::string whole = s->redact(text, nullptr);
    ASSERT_EQ(whole.find("10.0.0.1"), std::string::npos);
    ASSERT_EQ(whole.find("6222"), std::string::npos);
    for (size_t split = pad.size(); split <= text.size() - pad.size(); ++split) {
      ASSERT_EQ(streamedSplit(s, text, split), whole) << "split at " << split;
    }
  }
}

TEST(PiiScannerTest, ADigitGroupLongerThanAnyValueEndsItsRun) {
  EXPECT_EQ(only("id " + std::string(25, '9') + " 138 1234 5678", T::kPhone), "138 1234 5678");
  EXPECT_EQ(only("138 1234 5678 " + std::string(25, '9'), T::kPhone), "138 1234 5678");
  // Within a run of groups that could be a value as a whole, nothing changes.
  EXPECT_TRUE(typesIn("1 138 1234 5678").empty());
}

// Two candidates with the same span (a password=... value that is also an e-mail) are resolved
// by type, not by the order the detectors happened to leave them in, which a stream's window
// changes.
TEST(PiiStreamRedactorTest, ResolvesCandidatesWithTheSameSpanAlikeInEveryWindow) {
  const auto s = scanner();
  const std::string value = "1password=-----a@b.co";
  EXPECT_EQ(only("token: " + value + "\n", T::kEmail), value);
  // However many other candidates the text has (an unstable sort once moved the tie).
  for (int others = 0; others < 30; ++others) {
    std::string text = "a@b.co a@b.co token: " + value + "\n";
    for (int i = 0; i < others; ++i) {
      text += " a@b.co";
    }
    const std::vector<PiiFinding> findings = s->find(text);
    ASSERT_EQ(findings.size(), 3u + others);
    EXPECT_EQ(findings[2].type, T::kEmail) << others;
    EXPECT_EQ(findings[2].end - findings[2].begin, value.size());
  }
  const std::string pad(1500, '.');
  const std::string text = pad + " token: " + value + "\n" + std::string(100, '1') + "-" + pad;
  const std::string whole = s->redact(text, nullptr);
  for (size_t split = pad.size(); split <= text.size() - pad.size(); ++split) {
    ASSERT_EQ(streamedSplit(s, text, split), whole) << "split at " << split;
  }
}

double secondsToRedact(const PiiScanner& s, const std::string& text, std::string* out) {
  const auto start = std::chrono::steady_clock::now();
  *out = s.redact(text, nullptr);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sanitizer builds run the scanner 5-20x slower; quadratic behaviour would still take minutes.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kSanitizerSlowdown = 20;
#else
constexpr double kSanitizerSlowdown = 1;
#endif

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
  // JWT-shaped runs that share their parts (a third part too short to be one), secret prefixes
  // back to back, and PEM headers with no END line, each of which looks for one.
  std::string jwts;
  while (jwts.size() < mb) {
    jwts += "eyJ-";
  }
  jwts += ".aa.bbb";
  std::string prefixes;
  while (prefixes.size() < mb) {
    prefixes += "sk-xoxb-password=-----BEGIN ";
  }
  std::string headers;
  while (headers.size() < mb) {
    headers += "-----BEGIN RSA PRIVATE KEY-----\n";
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
      {"jwts", jwts},
      {"prefixes", prefixes},
      {"pem_headers", headers},
  };
  for (const auto& [name, text] : inputs) {
    std::string out;
    const double seconds = secondsToRedact(*s, text, &out);
    if (name == "pem_headers") {
      EXPECT_EQ(out.find("BEGIN"), std::string::npos);  // every header a block of its own
    } else {
      EXPECT_EQ(out.size(), text.size()) << name;  // nothing found
    }
    std::cout << "# pii adversarial " << name << " 1 MiB: " << seconds * 1000 << " ms\n";
    EXPECT_LT(seconds, 0.5 * kSanitizerSlowdown) << name;
  }
}

}  // namespace
}  // namespace dw::security
