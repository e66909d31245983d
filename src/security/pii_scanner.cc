#include "security/pii_scanner.h"

#include <algorithm>

#include "security/crypto.h"

namespace dw::security {
namespace {

// The left context a stream keeps at least, in normalised bytes: the context-word window
// ("卡号", "passport") before the first byte that was not emitted, and before that the bytes
// where the number scan, started in the middle of a word or a digit run, may still differ from
// the whole text's (a 32-byte run classified whole, a dotted quad), with room to spare. The
// sequential secret scans may keep more (PiiStreamRedactor::drain()).
constexpr size_t kStreamContextBytes = 3 * pii::kContextBytes + 8;

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

std::vector<PiiFinding> PiiScanner::findIn(const pii::NormalizedText& norm, size_t from,
                                           pii::ScanState* scan) const {
  std::vector<PiiFinding> candidates;
  detector_->detect(norm.text(), enabled_, &candidates, scan);
  for (PiiFinding& f : candidates) {
    f.begin = norm.toOriginal(f.begin);
    f.end = norm.toOriginal(f.end);
  }
  std::erase_if(candidates, [&](const PiiFinding& f) {
    return f.begin < from || f.end <= f.begin || ((enabled_ >> static_cast<int>(f.type)) & 1U) == 0;
  });
  // Earliest first, the longest of those that start together, and of two with the same span
  // the type listed first (an e-mail that is also a password=... value), so that the order
  // does not depend on which other candidates the text has; a later candidate that overlaps a
  // kept one is dropped (an IPv4 inside an IPv6, the digits of a phone inside an e-mail).
  std::sort(candidates.begin(), candidates.end(), [](const PiiFinding& a, const PiiFinding& b) {
    if (a.begin != b.begin) {
      return a.begin < b.begin;
    }
    return a.end != b.end ? a.end > b.end : a.type < b.type;
  });
  std::vector<PiiFinding> findings;
  for (const PiiFinding& f : candidates) {
    if (findings.empty() || f.begin >= findings.back().end) {
      findings.push_back(f);
    }
  }
  return findings;
}

std::vector<PiiFinding> PiiScanner::find(std::string_view text) const {
  const pii::NormalizedText norm(text);
  return findIn(norm, 0, nullptr);
}

bool PiiScanner::containsAny(std::string_view text) const { return !find(text).empty(); }

size_t PiiScanner::carryBytes() const { return pii::kMaxSpan + 32; }

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
  secrets_resume_ = 0;
  key_values_resume_ = 0;
  return out;
}

std::string PiiStreamRedactor::drain(bool final, PiiCounts* counts) {
  const size_t hold = scanner_->carryBytes();
  // Normalisation never lengthens a text, so a tail this short holds nothing that may go.
  if (!final && pending_.size() <= hold) {
    return {};
  }
  const std::string buf = context_ + pending_;
  const size_t off = context_.size();
  // The context starts where the whole text's normalisation has a boundary (a character, an
  // escape), so the two normalisations agree from there on, and the scans resume where a scan
  // of the whole text stands.
  const pii::NormalizedText norm(buf);
  pii::ScanState scan;
  scan.secrets_from = norm.toNormalized(secrets_resume_);
  scan.key_values_from = norm.toNormalized(key_values_resume_);
  const std::vector<PiiFinding> findings = scanner_->findIn(norm, off, &scan);
  size_t cut = buf.size();
  if (!final) {
    const size_t size = norm.text().size();
    cut = size > hold ? std::max(off, norm.toOriginal(size - hold)) : off;
    // A PEM block is longer than the hold-back: hold it from its header until its end is
    // final (pii::ScanState::open_pems).
    for (size_t begin : scan.open_pems) {
      if (const size_t at = norm.toOriginal(begin); at >= off) {
        cut = std::min(cut, at);
      }
    }
    // A finding that starts before the cut is emitted whole or not at all, and no UTF-8
    // sequence is split between two emissions; each step may move the cut back past the
    // other's, so both are repeated until neither moves it. A JSON escape is never split: the
    // cut is a normalisation boundary.
    for (bool moved = true; moved;) {
      moved = false;
      for (const PiiFinding& f : findings) {
        if (f.begin < cut && f.end > cut) {
          cut = f.begin;
          moved = true;
        }
      }
      while (cut > off && (static_cast<unsigned char>(buf[cut]) & 0xC0) == 0x80) {
        --cut;
        moved = true;
      }
    }
    if (cut == off) {
      return {};
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
  if (final) {
    context_.clear();
    pending_.clear();
    return out;
  }
  // Each sequential scan resumes at the start of its first match that reaches past the cut (to
  // be found again, whole) or, when none does, at the cut: the whole text's scan passes there
  // too, as no match of its starts in between. Matches before the cut are complete, as the
  // hold-back is longer than any.
  const size_t cut_norm = norm.toNormalized(cut);
  auto resume_at = [cut_norm](const std::vector<pii::ScanStep>& steps) {
    for (const pii::ScanStep& step : steps) {
      if (step.resume > cut_norm) {
        return std::min(step.begin, cut_norm);
      }
    }
    return cut_norm;
  };
  const size_t secrets = resume_at(scan.secret_steps);
  const size_t key_values = resume_at(scan.key_value_steps);
  // The context keeps the byte before each resume point (RE2's \b looks at it).
  size_t start = cut_norm > kStreamContextBytes ? cut_norm - kStreamContextBytes : 0;
  start = std::min({start, secrets > 0 ? secrets - 1 : 0, key_values > 0 ? key_values - 1 : 0});
  const size_t start_original = norm.toOriginal(start);
  secrets_resume_ = norm.toOriginal(secrets) - start_original;
  key_values_resume_ = norm.toOriginal(key_values) - start_original;
  context_.assign(buf, start_original, cut - start_original);
  pending_.assign(buf, cut, std::string::npos);
  return out;
}

}  // namespace dw::security
