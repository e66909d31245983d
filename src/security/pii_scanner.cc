#include "security/pii_scanner.h"

#include <algorithm>

#include "security/crypto.h"

namespace dw::security {
namespace {

// The left context a stream keeps: the context-word window and a key such as "password = ",
// times 3 for full-width forms, with room to start it after a space.
constexpr size_t kStreamContextBytes = 3 * pii::kContextBytes + 96;

std::string_view maskLabel(PiiType type) {
  switch (type) {
    case PiiType::kEmail:
      return "EMAIL";
    case PiiType::kPhone:
      return "PHONE";
    case PiiType::kResidentId:
      return "RESIDENT_ID";
    case PiiType::kBankCard:
      return "BANK_CARD";
    case PiiType::kIpAddress:
      return "IP_ADDRESS";
    case PiiType::kPassport:
      return "PASSPORT";
    case PiiType::kSecret:
      return "SECRET";
  }
  return "PII";
}

// The value a hash token is computed from: the same person's number written two ways
// ("+86 138-1234-5678", "13812345678", full-width) gives one token.
std::string canonicalValue(PiiType type, std::string_view original) {
  const pii::NormalizedText norm(original);
  const std::string_view text = norm.text();
  std::string value;
  switch (type) {
    case PiiType::kPhone:
    case PiiType::kResidentId:
    case PiiType::kBankCard:
      for (char c : text) {
        if (c >= '0' && c <= '9') {
          value.push_back(c);
        } else if (c == 'x' || c == 'X') {
          value.push_back('X');
        }
      }
      if (type == PiiType::kPhone) {
        if (value.size() == 15 && value.starts_with("0086")) {
          value.erase(0, 4);
        } else if (value.size() == 13 && value.starts_with("86")) {
          value.erase(0, 2);
        }
      }
      return value;
    case PiiType::kEmail:
    case PiiType::kIpAddress:
      for (char c : text) {
        value.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
      }
      return value;
    case PiiType::kPassport:
    case PiiType::kSecret:
      break;
  }
  return std::string(text);
}

void count(PiiCounts* counts, PiiType type) {
  if (counts != nullptr) {
    ++(*counts)[static_cast<size_t>(type)];
  }
}

}  // namespace

StatusOr<std::shared_ptr<const PiiScanner>> PiiScanner::create(PiiOptions options) {
  if (options.mode == PiiMode::kHash && options.hash_key.empty()) {
    return invalidArgument("pii: hash mode needs a hash_key");
  }
  DW_ASSIGN_OR_RETURN(auto detector, pii::PiiDetector::create());
  return std::shared_ptr<const PiiScanner>(new PiiScanner(std::move(options), std::move(detector)));
}

PiiScanner::PiiScanner(PiiOptions options, std::unique_ptr<const pii::PiiDetector> detector)
    : options_(std::move(options)), detector_(std::move(detector)) {
  if (options_.types.empty()) {
    enabled_ = (1U << kPiiTypeCount) - 1;
  }
  for (PiiType type : options_.types) {
    enabled_ |= 1U << static_cast<int>(type);
  }
}

std::vector<PiiFinding> PiiScanner::findFrom(std::string_view text, size_t from) const {
  const pii::NormalizedText norm(text);
  std::vector<PiiFinding> candidates;
  detector_->detect(norm.text(), enabled_, &candidates);
  for (PiiFinding& f : candidates) {
    f.begin = norm.toOriginal(f.begin);
    f.end = norm.toOriginal(f.end);
  }
  std::erase_if(candidates, [&](const PiiFinding& f) {
    return f.begin < from || f.end <= f.begin || ((enabled_ >> static_cast<int>(f.type)) & 1U) == 0;
  });
  // Earliest first, the longest of those that start together; a later candidate that overlaps
  // a kept one is dropped (an IPv4 inside an IPv6, the digits of a phone inside an e-mail).
  std::sort(candidates.begin(), candidates.end(), [](const PiiFinding& a, const PiiFinding& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  std::vector<PiiFinding> findings;
  for (const PiiFinding& f : candidates) {
    if (findings.empty() || f.begin >= findings.back().end) {
      findings.push_back(f);
    }
  }
  return findings;
}

std::vector<PiiFinding> PiiScanner::find(std::string_view text) const { return findFrom(text, 0); }

bool PiiScanner::containsAny(std::string_view text) const { return !find(text).empty(); }

size_t PiiScanner::carryBytes() const { return 3 * (pii::kMaxSpan + 32); }

std::string PiiScanner::replacement(PiiType type, std::string_view value) const {
  const std::string canonical = canonicalValue(type, value);
  std::string token = "[";
  token += maskLabel(type);
  if (options_.mode == PiiMode::kHash) {
    const Digest mac = hmacSha256(options_.hash_key, canonical);
    token += ':';
    token += toHex(mac).substr(0, 12);
  } else if ((type == PiiType::kPhone || type == PiiType::kBankCard) && canonical.size() >= 8) {
    token += ":***";
    token += canonical.substr(canonical.size() - 4);
  }
  token += ']';
  return token;
}

std::string PiiScanner::redact(std::string_view text, PiiCounts* counts) const {
  const std::vector<PiiFinding> findings = find(text);
  if (findings.empty()) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const PiiFinding& f : findings) {
    out.append(text.substr(pos, f.begin - pos));
    out += replacement(f.type, text.substr(f.begin, f.end - f.begin));
    count(counts, f.type);
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

PiiStreamRedactor::PiiStreamRedactor(std::shared_ptr<const PiiScanner> scanner)
    : scanner_(std::move(scanner)) {}

std::string PiiStreamRedactor::feed(std::string_view chunk, PiiCounts* counts) {
  pending_.append(chunk);
  return drain(false, counts);
}

std::string PiiStreamRedactor::finish(PiiCounts* counts) {
  std::string out = drain(true, counts);
  context_.clear();
  return out;
}

std::string PiiStreamRedactor::drain(bool final, PiiCounts* counts) {
  const size_t carry = scanner_->carryBytes();
  if (!final && pending_.size() <= carry) {
    return {};
  }
  const std::string buf = context_ + pending_;
  const size_t off = context_.size();
  const std::vector<PiiFinding> findings = scanner_->findFrom(buf, off);
  size_t cut = buf.size();
  if (!final) {
    cut = buf.size() - carry;
    // A PEM block is longer than the carry: hold it from its header until it closes.
    if ((scanner_->enabled_ >> static_cast<int>(PiiType::kSecret)) & 1U) {
      const size_t pem = pii::PiiDetector::openPemBlock(std::string_view(buf).substr(off));
      if (pem != std::string_view::npos) {
        cut = std::min(cut, off + pem);
      }
    }
    // A finding that starts before the cut is emitted whole or not at all.
    for (const PiiFinding& f : findings) {
      if (f.begin < cut && f.end > cut) {
        cut = f.begin;
      }
    }
    // Never split a UTF-8 sequence or a JSON escape ("\n", "\u4e2d") between two emissions.
    while (cut > off && (static_cast<unsigned char>(buf[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    for (size_t k = 1; k <= 5 && cut >= off + k; ++k) {
      if (buf[cut - k] == '\\') {
        const size_t len = cut - k + 1 < buf.size() && buf[cut - k + 1] == 'u' ? 6 : 2;
        if (k < len) {
          cut -= k;
        }
        break;
      }
    }
  }
  std::string out;
  size_t pos = off;
  for (const PiiFinding& f : findings) {
    if (f.end > cut) {
      break;
    }
    out.append(buf, pos, f.begin - pos);
    out += scanner_->replacement(f.type, std::string_view(buf).substr(f.begin, f.end - f.begin));
    count(counts, f.type);
    pos = f.end;
  }
  out.append(buf, pos, cut - pos);
  // Keep the tail of the emitted text as left context, started after a space when one is
  // near, so that it does not begin in the middle of a number or a word.
  size_t start = cut > kStreamContextBytes ? cut - kStreamContextBytes : 0;
  while (start < cut && (static_cast<unsigned char>(buf[start]) & 0xC0) == 0x80) {
    ++start;
  }
  const size_t space = buf.find(' ', start);
  if (start > 0 && space != std::string::npos && space < start + 64 && space < cut) {
    start = space + 1;
  }
  context_.assign(buf, start, cut - start);
  pending_.assign(buf, cut, std::string::npos);
  return out;
}

}  // namespace dw::security
