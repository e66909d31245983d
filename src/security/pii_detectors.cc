#include "security/pii_detectors.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>

#include <re2/re2.h>

#include "base/utf8.h"

// Why the numbers are scanned by hand and not by RE2 (R7): a number's meaning depends on the
// whole run of digits and separators around it (a valid ID inside a 19-digit run is not an ID;
// "138 1234 5678" is one phone, "13812345678 13912345678" are two), and RE2 has no look-around
// to express "not preceded or followed by a digit" nor a way to resume a rejected match at the
// next overlapping position. One forward pass over maximal runs does both in linear time, and
// each byte is visited a bounded number of times, so hostile input (1 MB of digits or of "1-1-")
// stays linear. Secrets, whose shapes are fixed prefixes and classes, are matched by RE2.

namespace dw::security {

std::string_view piiTypeName(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "email";
    case PiiType::kPhone:
      return "phone";
    case PiiType::kResidentId:
      return "resident_id";
    case PiiType::kBankCard:
      return "bank_card";
    case PiiType::kIpAddress:
      return "ip_address";
    case PiiType::kPassport:
      return "passport";
    case PiiType::kSecret:
      return "secret";
  }
  return "unknown";
}

std::optional<PiiType> parsePiiType(std::string_view name) {
  for (size_t i = 0; i < kPiiTypeCount; ++i) {
    const auto type = static_cast<PiiType>(i);
    if (piiTypeName(type) == name) {
      return type;
    }
  }
  return std::nullopt;
}

namespace pii {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAlnum(char c) { return isDigit(c) || isAlpha(c); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// A letter or digit on either side of a value makes it part of a longer word, not a value.
bool wordBefore(std::string_view s, size_t pos) { return pos > 0 && isAlnum(s[pos - 1]); }
bool wordAt(std::string_view s, size_t pos) { return pos < s.size() && isAlnum(s[pos]); }

bool bit(uint32_t enabled, PiiType type) { return (enabled >> static_cast<int>(type)) & 1U; }

int hexValue(char c) {
  if (isDigit(c)) {
    return c - '0';
  }
  return lower(c) - 'a' + 10;
}

// Maps a code point of the full-width ASCII block or U+3000 to ASCII; 0 otherwise.
char fullWidthToAscii(char32_t cp) {
  if (cp >= 0xFF01 && cp <= 0xFF5E) {
    return static_cast<char>(cp - 0xFEE0);
  }
  if (cp == 0x3000) {
    return ' ';
  }
  return 0;
}

int currentYear() {
  static const int year = [] {
    const auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    return static_cast<int>(std::chrono::year_month_day(now).year());
  }();
  return year;
}

constexpr std::string_view kCardContext[] = {
    "卡号", "银行卡",  "信用卡", "借记卡", "储蓄卡",     "银联",     "账号", "帐号", "账户",
    "card", "account", "acct",   "visa",   "mastercard", "unionpay", "amex", "iban"};
constexpr std::string_view kPassportContext[] = {"护照", "passport"};

template <size_t N>
bool containsContextWord(std::string_view text, size_t begin, const std::string_view (&words)[N]) {
  const size_t from = begin > kContextBytes ? begin - kContextBytes : 0;
  std::string window(text.substr(from, begin - from));
  for (char& c : window) {
    c = lower(c);
  }
  return std::any_of(std::begin(words), std::end(words),
                     [&](std::string_view w) { return window.find(w) != std::string::npos; });
}

}  // namespace

NormalizedText::NormalizedText(std::string_view original) : original_(original) {
  // Fast path: only a backslash or the lead bytes of U+3000 (E3) and U+FFxx (EF) can change.
  bool plain = true;
  for (char c : original) {
    if (c == '\\' || c == '\xE3' || c == '\xEF') {
      plain = false;
      break;
    }
  }
  if (plain) {
    return;
  }
  identity_ = false;
  text_.reserve(original.size());
  offsets_.reserve(original.size() + 1);
  auto emit = [&](char c, size_t at) {
    text_.push_back(c);
    offsets_.push_back(static_cast<uint32_t>(at));
  };
  size_t pos = 0;
  while (pos < original.size()) {
    const size_t at = pos;
    const char c = original[pos];
    if (c != '\\' && c != '\xE3' && c != '\xEF') {
      // Copy the run up to the next byte that may change in one go.
      size_t end = pos + 1;
      while (end < original.size() && original[end] != '\\' && original[end] != '\xE3' &&
             original[end] != '\xEF') {
        ++end;
      }
      text_.append(original.substr(pos, end - pos));
      const size_t old_size = offsets_.size();
      offsets_.resize(old_size + (end - pos));
      for (size_t k = 0; k < end - pos; ++k) {
        offsets_[old_size + k] = static_cast<uint32_t>(pos + k);
      }
      pos = end;
      continue;
    }
    if (c == '\\' && pos + 1 < original.size()) {
      const char e = original[pos + 1];
      if (e == 'u' && pos + 6 <= original.size() && isHex(original[pos + 2]) &&
          isHex(original[pos + 3]) && isHex(original[pos + 4]) && isHex(original[pos + 5])) {
        char32_t cp = 0;
        for (size_t k = 2; k < 6; ++k) {
          cp = cp * 16 + static_cast<char32_t>(hexValue(original[pos + k]));
        }
        pos += 6;
        if (const char a = fullWidthToAscii(cp); a != 0) {
          emit(a, at);
        } else if (cp < 0x80 && cp >= 0x20 && cp != '\\' && cp != '"') {
          emit(static_cast<char>(cp), at);
        } else if (cp < 0x80 || (cp >= 0xD800 && cp <= 0xDFFF)) {
          emit(kEscapeMark, at);
        } else {
          std::string bytes;
          utf8::append(bytes, cp);
          for (char b : bytes) {
            emit(b, at);
          }
        }
        continue;
      }
      if (std::strchr("\"\\/bfnrt", e) != nullptr) {
        pos += 2;
        emit(kEscapeMark, at);
        continue;
      }
      ++pos;
      emit(kEscapeMark, at);
      continue;
    }
    if ((c == '\xE3' || c == '\xEF') && pos + 3 <= original.size()) {
      size_t next = pos;
      const char32_t cp = utf8::decode(original, &next);
      if (const char a = fullWidthToAscii(cp); a != 0) {
        emit(a, at);
        pos = next;
        continue;
      }
    }
    emit(c, at);
    ++pos;
  }
  offsets_.push_back(static_cast<uint32_t>(original.size()));
}

size_t NormalizedText::toNormalized(size_t original_pos) const {
  if (identity_) {
    return std::min(original_pos, original_.size());
  }
  const auto it = std::lower_bound(offsets_.begin(), offsets_.end(), original_pos);
  return it == offsets_.end() ? text_.size() : static_cast<size_t>(it - offsets_.begin());
}

bool luhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    if (!isDigit(digits[i])) {
      return false;
    }
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    twice = !twice;
  }
  return !digits.empty() && sum % 10 == 0;
}

bool validBirthDate(int year, int month, int day) {
  if (year < 1900 || year > currentYear() || month < 1 || month > 12 || day < 1) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int limit = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= limit;
}

bool plausibleRegion(std::string_view id) {
  if (id.size() < 2 || !isDigit(id[0]) || !isDigit(id[1])) {
    return false;
  }
  static constexpr int kProvinces[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                       35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                       53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};
  const int code = (id[0] - '0') * 10 + (id[1] - '0');
  return std::find(std::begin(kProvinces), std::end(kProvinces), code) != std::end(kProvinces);
}

namespace {

int number(std::string_view s) {
  int v = 0;
  for (char c : s) {
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

bool residentIdValid(std::string_view id) {
  if (id.size() == 15) {
    if (!std::all_of(id.begin(), id.end(), isDigit) || !plausibleRegion(id)) {
      return false;
    }
    return validBirthDate(1900 + number(id.substr(6, 2)), number(id.substr(8, 2)),
                          number(id.substr(10, 2)));
  }
  if (id.size() != 18 || !std::all_of(id.begin(), id.begin() + 17, isDigit)) {
    return false;
  }
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[11] = {'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'};
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) {
    sum += (id[i] - '0') * kWeights[i];
  }
  const char check = id[17] == 'x' ? 'X' : id[17];
  if (kCheck[sum % 11] != check || !plausibleRegion(id)) {
    return false;
  }
  return validBirthDate(number(id.substr(6, 4)), number(id.substr(10, 2)),
                        number(id.substr(12, 2)));
}

bool mainlandMobileValid(std::string_view digits) {
  return digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9' &&
         std::all_of(digits.begin(), digits.end(), isDigit);
}

bool ipv4Valid(std::string_view text) {
  int octets = 0;
  size_t pos = 0;
  while (true) {
    const size_t start = pos;
    int value = 0;
    while (pos < text.size() && isDigit(text[pos]) && pos - start < 3) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    const size_t len = pos - start;
    // A leading zero ("010") is rejected, as inet_pton does: it reads as octal elsewhere.
    if (len == 0 || value > 255 || (len > 1 && text[start] == '0')) {
      return false;
    }
    ++octets;
    if (pos == text.size()) {
      return octets == 4;
    }
    if (text[pos] != '.' || octets == 4) {
      return false;
    }
    ++pos;
  }
}

bool ipv6Valid(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) {
    return false;
  }
  const std::string copy(text);
  in6_addr addr{};
  return inet_pton(AF_INET6, copy.c_str(), &addr) == 1;
}

double shannonEntropy(std::string_view text) {
  if (text.empty()) {
    return 0;
  }
  std::array<uint32_t, 256> counts{};
  for (char c : text) {
    ++counts[static_cast<unsigned char>(c)];
  }
  double bits = 0;
  const double n = static_cast<double>(text.size());
  for (uint32_t count : counts) {
    if (count > 0) {
      const double p = count / n;
      bits -= p * std::log2(p);
    }
  }
  return bits;
}

double bankCardScore(std::string_view digits, bool grouped, bool has_context) {
  if (digits.size() < 13 || digits.size() > 19 || !luhnValid(digits)) {
    return 0;
  }
  double score = 0.3;
  // 18 digits are left out of the UnionPay rule: 62 is also Gansu's region code, and an ID with
  // a bad check character must not come back as a card.
  if (grouped || (digits.size() >= 16 && digits.size() != 18 && digits.substr(0, 2) == "62")) {
    score = 0.6;
  }
  if (has_context) {
    score = std::min(1.0, std::max(0.4, score + 0.35));
  }
  return score;
}

StatusOr<std::unique_ptr<const PiiDetector>> PiiDetector::create() {
  std::unique_ptr<PiiDetector> detector(new PiiDetector());
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  // One alternation for every fixed-shape secret (gitleaks rules, SECURITY_RELIABILITY.md
  // 2.3), so the text is searched once; the match's prefix tells which rule it is. JWTs, whose
  // length has no bound in the pattern, are found by hand (detectJwts).
  detector->secrets_ = std::make_unique<RE2>(
      "\\b(?:"
      "(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"
      "|sk-[A-Za-z0-9_\\-]{20,256}"
      "|dwk_[0-9a-f]{12}_[A-Za-z0-9_\\-]{43}"  // deepwatch's own keys (api_keys.h)
      "|gh[pousr]_[A-Za-z0-9]{36,255}"
      "|github_pat_[A-Za-z0-9_]{22,255}"
      "|xox[bpaors]-[A-Za-z0-9\\-]{10,255}"
      "|AIza[0-9A-Za-z_\\-]{35}"
      ")"
      // At most four words of 32 before PRIVATE KEY ("RSA", "ENCRYPTED", "OPENSSH"): a match
      // stays shorter than kMaxSpan, which the stream redactor relies on.
      "|-----BEGIN (?:[A-Z0-9]{1,32} ){0,4}PRIVATE KEY-----",
      options);
  // password=..., "api_key": "...": the value is a finding when its entropy is high enough.
  detector->key_value_ = std::make_unique<RE2>(
      "(?i)\\b(?:api[_\\-]?key|apikey|secret[_\\-]?key|client[_\\-]?secret|secret|"
      "access[_\\-]?key|access[_\\-]?token|auth[_\\-]?token|token|password|passwd|pwd|"
      "credentials?)[\"'\\x01]?[ \\t]{0,4}[:=][ \\t]{0,4}[\"'\\x01]?"
      "([^\\s\"'\\x01,;&<>{}()\\[\\]`]{8,128})",
      options);
  if (!detector->secrets_->ok() || !detector->key_value_->ok()) {
    return internalError("pii: secret patterns do not compile: " + detector->secrets_->error() +
                         detector->key_value_->error());
  }
  return std::unique_ptr<const PiiDetector>(std::move(detector));
}

PiiDetector::~PiiDetector() = default;

namespace {

struct PemExtent {
  size_t end;
  bool final;  // false: more text could still move the end (pemExtent())
};

// text.find(needle, from) for calls whose `from` never decreases, each reusing the previous
// answer while it still lies ahead, so that the text is searched about once in all: a text of
// back-to-back PEM headers looks up one END line per header.
class ForwardFind {
 public:
  ForwardFind(std::string_view text, std::string_view needle) : text_(text), needle_(needle) {}

  size_t operator()(size_t from) {
    if (from < from_ || (found_ != std::string_view::npos && found_ < from)) {
      found_ = text_.find(needle_, from);
      from_ = from;
    }
    return found_;
  }

 private:
  std::string_view text_;
  std::string_view needle_;
  size_t from_ = std::string_view::npos;  // where the last search started (npos: none yet)
  size_t found_ = std::string_view::npos;
};

struct PemFinders {
  ForwardFind end_line;  // "-----END "
  ForwardFind close;     // "-----"
};

// A PEM block from its header: through the END line, or through the base64 body when the END
// line is missing, at most kMaxPemSpan bytes. The end is final once the END line is closed or
// the text reaches kMaxPemSpan past the header; until then, more text could bring an END line.
PemExtent pemExtent(std::string_view text, size_t header_end, size_t begin, PemFinders& find) {
  const size_t limit = std::min(text.size(), begin + kMaxPemSpan);
  // The first occurrence that fits before the limit, as text.substr(0, limit).find() would.
  const size_t end = find.end_line(header_end);
  if (end != std::string_view::npos && end + 9 <= limit) {
    const size_t close = find.close(end + 9);
    if (close != std::string_view::npos && close + 5 <= limit) {
      return {close + 5, true};
    }
  }
  size_t pos = header_end;
  while (pos < limit) {
    const char c = text[pos];
    if (isAlnum(c) || c == '+' || c == '/' || c == '=' || c == ' ' || c == '\n' || c == '\r' ||
        c == kEscapeMark) {
      ++pos;
    } else {
      break;
    }
  }
  return {pos, limit == begin + kMaxPemSpan};
}

bool isJwtChar(char c) { return isAlnum(c) || c == '_' || c == '-'; }

// JWTs: "eyJ" at a word start, then three runs of [A-Za-z0-9_-] (at least 8, 2 and 8 bytes)
// joined by dots, at most kMaxSpan bytes in all. The class has no dot, so each run is maximal,
// which is what the RE2 pattern eyJ[..]{8,}\.[..]{2,}\.[..]{8,} matched. By hand because the
// runs have no bound: each candidate is decided alone (an over-long one hides nothing inside
// it), and the candidates that share a first run share its three runs, so each byte is read a
// bounded number of times ("eyJ-eyJ-eyJ-..." stays linear).
void detectJwts(std::string_view s, std::vector<PiiFinding>* out) {
  auto run_end = [&](size_t pos) {
    while (pos < s.size() && isJwtChar(s[pos])) {
      ++pos;
    }
    return pos;
  };
  // The previous candidate's first run ends at first_end and its third at end (npos: no JWT
  // shape); a candidate that starts inside that first run has the same runs.
  size_t first_end = std::string_view::npos;
  size_t end = std::string_view::npos;
  for (size_t at = s.find("eyJ"); at != std::string_view::npos; at = s.find("eyJ", at + 1)) {
    if (at > 0 && (isAlnum(s[at - 1]) || s[at - 1] == '_')) {
      continue;  // not at a word start (RE2's \b)
    }
    const size_t first = at + 3;
    if (first_end == std::string_view::npos || first > first_end) {
      first_end = run_end(first);
      end = std::string_view::npos;
      if (first_end < s.size() && s[first_end] == '.') {
        const size_t second_end = run_end(first_end + 1);
        if (second_end - first_end - 1 >= 2 && second_end < s.size() && s[second_end] == '.') {
          const size_t third_end = run_end(second_end + 1);
          if (third_end - second_end - 1 >= 8) {
            end = third_end;
          }
        }
      }
    }
    if (end == std::string_view::npos || first_end - first < 8 || end - at > kMaxSpan) {
      continue;
    }
    // The documented example key is not a secret (gitleaks allowlist .+EXAMPLE$).
    if (s.substr(at, end - at).ends_with("EXAMPLE")) {
      continue;
    }
    out->push_back({PiiType::kSecret, at, end});
  }
}

}  // namespace

void PiiDetector::detectSecrets(std::string_view text, std::vector<PiiFinding>* out,
                                ScanState* state) const {
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  PemFinders pem_finders{{text, "-----END "}, {text, "-----"}};
  size_t pos = state != nullptr ? std::min(state->secrets_from, text.size()) : 0;
  while (pos < text.size() &&
         secrets_->Match(input, pos, text.size(), RE2::UNANCHORED, &match, 1)) {
    const size_t begin = static_cast<size_t>(match.data() - text.data());
    const size_t end = begin + match.size();
    pos = end > begin ? end : begin + 1;
    if (state != nullptr) {
      state->secret_steps.push_back({begin, pos});
    }
    const std::string_view value = text.substr(begin, end - begin);
    if (value.starts_with("-----BEGIN")) {
      // The scan goes on after the header, not after the block: a block, kept or not, never
      // hides what follows it, and a match inside a kept block overlaps it and is dropped
      // (PiiScanner). A stream that starts inside a block thus scans what a whole text does.
      const PemExtent pem = pemExtent(text, end, begin, pem_finders);
      out->push_back({PiiType::kSecret, begin, pem.end});
      if (state != nullptr && !pem.final) {
        state->open_pems.push_back(begin);
      }
      continue;
    }
    // The bounded classes stop at their limit: a longer run is something else.
    if (wordAt(text, end) || (end < text.size() && text[end] == '-') || value.size() > kMaxSpan) {
      continue;
    }
    // The documented example key is not a secret (gitleaks allowlist .+EXAMPLE$).
    if (value.ends_with("EXAMPLE")) {
      continue;
    }
    out->push_back({PiiType::kSecret, begin, end});
  }
  pos = state != nullptr ? std::min(state->key_values_from, text.size()) : 0;
  re2::StringPiece groups[2];
  while (pos < text.size() &&
         key_value_->Match(input, pos, text.size(), RE2::UNANCHORED, groups, 2)) {
    const size_t begin = static_cast<size_t>(groups[1].data() - text.data());
    const size_t end = begin + groups[1].size();
    const size_t match_begin = static_cast<size_t>(groups[0].data() - text.data());
    const size_t match_end = match_begin + groups[0].size();
    pos = std::max(match_end, pos + 1);
    if (state != nullptr) {
      state->key_value_steps.push_back({match_begin, pos});
    }
    const std::string_view value = groups[1];
    const bool bounded = end >= text.size() ||
                         std::isspace(static_cast<unsigned char>(text[end])) ||
                         std::strchr("\"'\x01,;&<>{}()[]`", text[end]) != nullptr;
    if (!bounded || shannonEntropy(value) < 3.5) {
      continue;
    }
    out->push_back({PiiType::kSecret, begin, end});
  }
}

namespace {

// The most digits a run classified as a whole may have (an ID has 18, a card 19).
constexpr size_t kMaxRunDigits = 24;

struct Token {
  size_t begin;
  size_t end;  // past the last digit (or the X of an ID)
  bool has_x;
};

// Looks for an e-mail around each '@': RFC 5322 dot-atoms, local part <= 64, domain <= 253
// with a letter TLD of two or more. Each byte is read a bounded number of times: the extension
// stops at the previous and the next '@'.
void detectEmails(std::string_view s, std::vector<PiiFinding>* out) {
  auto local_char = [](char c) { return isAlnum(c) || std::strchr("._%+-!#$&'*/=?^`{|}~", c); };
  auto domain_char = [](char c) { return isAlnum(c) || c == '.' || c == '-'; };
  size_t at = s.find('@');
  while (at != std::string_view::npos) {
    size_t b = at;
    while (b > 0 && at - b <= 64 && local_char(s[b - 1]) && s[b - 1] != '\'') {
      --b;
    }
    size_t e = at + 1;
    while (e < s.size() && e - at <= 254 && domain_char(s[e])) {
      ++e;
    }
    // Trailing punctuation ends a sentence, not a domain.
    while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) {
      --e;
    }
    while (b < at && s[b] == '.') {
      ++b;
    }
    const std::string_view local = s.substr(b, at - b);
    const std::string_view domain = s.substr(at + 1, e - at - 1);
    const size_t dot = domain.rfind('.');
    bool ok = !local.empty() && local.size() <= 64 && domain.size() <= 253 &&
              dot != std::string_view::npos && dot > 0 && domain.size() - dot - 1 >= 2 &&
              local.find("..") == std::string_view::npos &&
              domain.find("..") == std::string_view::npos && !wordBefore(s, b) &&
              (b == 0 || s[b - 1] != '@') && (e >= s.size() || s[e] != '@');
    if (ok) {
      for (size_t k = dot + 1; k < domain.size(); ++k) {
        ok = ok && isAlpha(domain[k]);
      }
    }
    if (ok) {
      out->push_back({PiiType::kEmail, b, e});
    }
    at = s.find('@', at + 1);
  }
}

// IPv6 around each ':': the maximal run of hex digits, ':' and '.', validated by inet_pton,
// with at least one decimal digit (so "bad::add" or "std::" are not addresses). A time such as
// 12:30:45 has too few groups and no "::", so inet_pton rejects it.
void detectIpv6(std::string_view s, std::vector<PiiFinding>* out) {
  auto run_char = [](char c) { return isHex(c) || c == ':' || c == '.'; };
  size_t colon = s.find(':');
  while (colon != std::string_view::npos) {
    size_t b = colon;
    while (b > 0 && run_char(s[b - 1])) {
      --b;
    }
    size_t e = colon;
    while (e < s.size() && run_char(s[e])) {
      ++e;
    }
    size_t ve = e;
    while (ve > b && s[ve - 1] == '.') {
      --ve;
    }
    const std::string_view run = s.substr(b, ve - b);
    if (!wordBefore(s, b) && !wordAt(s, e) && run.size() <= 45 &&
        std::count(run.begin(), run.end(), ':') >= 2 &&
        std::any_of(run.begin(), run.end(), isDigit) && run != "::" && ipv6Valid(run)) {
      out->push_back({PiiType::kIpAddress, b, ve});
    }
    colon = e < s.size() ? s.find(':', e) : std::string_view::npos;
  }
}

// Passports: E or G + 8 digits (the current mainland pattern) alone; with a context word
// (护照, passport) within kContextBytes before it, also one or two letters + 6 to 9 digits.
void detectPassports(std::string_view s, std::vector<PiiFinding>* out) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (!isAlpha(s[pos]) || wordBefore(s, pos)) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < s.size() && isAlnum(s[end])) {
      ++end;
    }
    const std::string_view word = s.substr(pos, end - pos);
    size_t letters = 0;
    while (letters < word.size() && word[letters] >= 'A' && word[letters] <= 'Z') {
      ++letters;
    }
    const size_t digits = word.size() - letters;
    const bool all_digits =
        std::all_of(word.begin() + static_cast<long>(letters), word.end(), isDigit);
    if (all_digits && letters >= 1 && letters <= 2 && digits >= 6 && digits <= 9) {
      const bool strict = letters == 1 && (word[0] == 'E' || word[0] == 'G') && digits == 8;
      if (strict || containsContextWord(s, pos, kPassportContext)) {
        out->push_back({PiiType::kPassport, pos, end});
      }
    }
    pos = end;
  }
}

struct RunContext {
  std::string_view s;
  uint32_t enabled;
  std::vector<PiiFinding>* out;
};

// Classifies digits (separators removed) as an ID, a phone or a card. `plus` says the run
// starts with '+'; `groups` holds the lengths of the digit groups.
std::optional<PiiType> classify(const RunContext& ctx, std::string_view digits, bool plus,
                                const std::vector<size_t>& groups, size_t begin) {
  const bool single = groups.size() == 1;
  const bool has_x = !digits.empty() && (digits.back() == 'X' || digits.back() == 'x');
  if (!plus && bit(ctx.enabled, PiiType::kResidentId) &&
      (single || groups == std::vector<size_t>{6, 8, 4}) &&
      (digits.size() == 18 || digits.size() == 15) && residentIdValid(digits)) {
    return PiiType::kResidentId;
  }
  if (has_x) {
    return std::nullopt;
  }
  if (bit(ctx.enabled, PiiType::kPhone)) {
    // Drop a +86 / 86 / 0086 country prefix, written alone or fused to the number.
    size_t prefix = 0;
    if (plus && digits.starts_with("86")) {
      prefix = 2;
    } else if (!plus && digits.size() == 15 && digits.starts_with("0086")) {
      prefix = 4;
    } else if (!plus && digits.size() == 13 && digits.starts_with("86")) {
      prefix = 2;
    }
    std::vector<size_t> rest_groups = groups;
    bool groups_ok = true;
    if (prefix > 0) {
      if (rest_groups[0] == prefix) {
        rest_groups.erase(rest_groups.begin());
      } else if (rest_groups[0] > prefix) {
        rest_groups[0] -= prefix;
      } else {
        groups_ok = false;
      }
    }
    static const std::vector<std::vector<size_t>> kPhoneGroups = {{11}, {3, 4, 4}, {3, 8}, {7, 4}};
    if (groups_ok && mainlandMobileValid(digits.substr(prefix)) &&
        std::find(kPhoneGroups.begin(), kPhoneGroups.end(), rest_groups) != kPhoneGroups.end()) {
      return PiiType::kPhone;
    }
    // International E.164: '+', a non-zero country code, 8 to 15 digits in all.
    if (plus && digits.size() >= 8 && digits.size() <= 15 && digits[0] != '0' &&
        !(digits.starts_with("86") && digits.size() == 13)) {
      return PiiType::kPhone;
    }
  }
  if (!plus && bit(ctx.enabled, PiiType::kBankCard) && digits.size() >= 13 && digits.size() <= 19) {
    bool grouped_ok = single;
    if (!single) {
      grouped_ok = groups[0] == 4;
      for (size_t g : groups) {
        grouped_ok = grouped_ok && g >= 3 && g <= 6;
      }
    }
    // The context window is searched only for the rare Luhn-valid weak candidate.
    if (grouped_ok && luhnValid(digits) &&
        (bankCardScore(digits, !single, false) >= kBankCardThreshold ||
         bankCardScore(digits, !single, containsContextWord(ctx.s, begin, kCardContext)) >=
             kBankCardThreshold)) {
      return PiiType::kBankCard;
    }
  }
  return std::nullopt;
}

void classifyRun(const RunContext& ctx, bool plus, size_t run_begin,
                 const std::vector<Token>& tokens, bool last_bounded) {
  if (tokens.empty()) {
    return;
  }
  std::string digits;
  std::vector<size_t> groups;
  const size_t span = tokens.back().end - tokens.front().begin;
  if (tokens.size() <= 6 && last_bounded && span <= 32) {
    for (const Token& t : tokens) {
      for (size_t k = t.begin; k < t.end; ++k) {
        digits.push_back(ctx.s[k]);
      }
      groups.push_back(t.end - t.begin);
    }
    if (digits.size() <= kMaxRunDigits) {
      if (auto type = classify(ctx, digits, plus, groups, run_begin)) {
        ctx.out->push_back({*type, run_begin, tokens.back().end});
        return;
      }
    }
  }
  if (tokens.size() == 1 && !plus) {
    return;  // already classified as a whole
  }
  // The run as a whole is nothing: each group bounded by separators may still be a value
  // ("13812345678 13912345678"), but never a part of a group.
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i + 1 == tokens.size() && !last_bounded) {
      break;
    }
    const Token& t = tokens[i];
    if (t.end - t.begin < 11 || t.end - t.begin > 19) {
      continue;
    }
    const std::string_view d = ctx.s.substr(t.begin, t.end - t.begin);
    if (auto type = classify(ctx, d, false, {d.size()}, t.begin)) {
      ctx.out->push_back({*type, t.begin, t.end});
    }
  }
}

}  // namespace

void PiiDetector::detectNumbers(std::string_view s, uint32_t enabled,
                                std::vector<PiiFinding>* out) const {
  const RunContext ctx{s, enabled, out};
  const bool want_ip = bit(enabled, PiiType::kIpAddress);
  const bool want_digits = bit(enabled, PiiType::kPhone) || bit(enabled, PiiType::kResidentId) ||
                           bit(enabled, PiiType::kBankCard);
  std::vector<Token> tokens;
  size_t pos = 0;
  const size_t n = s.size();
  while (pos < n) {
    const char c = s[pos];
    const bool plus = c == '+' && pos + 1 < n && isDigit(s[pos + 1]);
    if (!isDigit(c) && !plus) {
      ++pos;
      continue;
    }
    const size_t run_begin = pos;
    // Inside a word ("v1", "a13812345678") or a dotted run ("1.2.3.4.5", "3.14"): skip it.
    const bool inside = wordBefore(s, pos) ||
                        (pos >= 2 && s[pos - 1] == '.' && isDigit(s[pos - 2])) ||
                        (plus && pos > 0 && (isAlnum(s[pos - 1]) || s[pos - 1] == '+'));
    if (inside) {
      while (pos < n && (isAlnum(s[pos]) || s[pos] == '+')) {
        ++pos;
      }
      continue;
    }
    if (!plus && want_ip) {
      // Dotted quad: at most 15 bytes, then it must not continue with a word or ".digit".
      size_t e = pos;
      while (e < n && e - pos < 16 && (isDigit(s[e]) || s[e] == '.')) {
        ++e;
      }
      size_t ve = e;
      while (ve > pos && s[ve - 1] == '.') {
        --ve;
      }
      if (!wordAt(s, ve) && !(ve + 1 < n && s[ve] == '.' && isDigit(s[ve + 1])) &&
          ipv4Valid(s.substr(pos, ve - pos))) {
        out->push_back({PiiType::kIpAddress, pos, ve});
        pos = ve;
        continue;
      }
    }
    if (plus) {
      ++pos;
    }
    // The maximal run of digit groups joined by one ' ' or '-'.
    tokens.clear();
    bool last_bounded = true;
    while (true) {
      const size_t t_begin = pos;
      while (pos < n && isDigit(s[pos])) {
        ++pos;
      }
      if (pos - t_begin > kMaxRunDigits) {
        // A group longer than any value is none and ends the run; what follows it starts a new
        // one. So a run never depends on more than a few groups before it, and a stream scanned
        // from the middle of a long digit string sees the runs after it as the whole text does.
        break;
      }
      Token token{t_begin, pos, false};
      if (pos < n && (s[pos] == 'X' || s[pos] == 'x') && !wordAt(s, pos + 1)) {
        token.end = ++pos;
        token.has_x = true;
      }
      tokens.push_back(token);
      if (token.has_x) {
        break;
      }
      if (wordAt(s, pos) || (pos + 1 < n && s[pos] == '.' && isDigit(s[pos + 1]))) {
        // The rest of the word or dotted run ("12ab", "3.14", "1.2.3.4.5"): a '.' belongs to
        // it only between digits, as a digit after any other '.' is not inside (above), so
        // that where the scan resumes depends only on the bytes around it, not on where it
        // started (the stream redactor scans from the middle of a text).
        last_bounded = false;
        while (pos < n && (isAlnum(s[pos]) || (s[pos] == '.' && isDigit(s[pos - 1]) &&
                                               pos + 1 < n && isDigit(s[pos + 1])))) {
          ++pos;
        }
        break;
      }
      if (pos + 1 < n && (s[pos] == ' ' || s[pos] == '-') && isDigit(s[pos + 1])) {
        ++pos;
        continue;
      }
      break;
    }
    if (want_digits) {
      classifyRun(ctx, plus, run_begin, tokens, last_bounded);
    }
  }
}

void PiiDetector::detect(std::string_view text, uint32_t enabled, std::vector<PiiFinding>* out,
                         ScanState* state) const {
  detectNumbers(text, enabled, out);
  if (bit(enabled, PiiType::kEmail)) {
    detectEmails(text, out);
  }
  if (bit(enabled, PiiType::kIpAddress)) {
    detectIpv6(text, out);
  }
  if (bit(enabled, PiiType::kPassport)) {
    detectPassports(text, out);
  }
  if (bit(enabled, PiiType::kSecret)) {
    detectSecrets(text, out, state);
    detectJwts(text, out);
  }
}

}  // namespace pii
}  // namespace dw::security
