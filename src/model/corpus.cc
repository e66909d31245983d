#include "model/corpus.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/hash.h"

namespace dw::model {

std::string cleanFortuneText(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\x1b') {
      // CSI: ESC '[' parameters, ending with a byte in 0x40..0x7E.
      if (i + 1 < raw.size() && raw[i + 1] == '[') {
        i += 2;
        while (i < raw.size() && !(raw[i] >= 0x40 && raw[i] <= 0x7E)) {
          ++i;
        }
      }
      continue;
    }
    if (c == '\b') {
      // Overstrike: "x\bx" (bold) or "_\bx" (underline). Drop the struck character, including
      // every byte of a multi-byte one.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) {
        out.pop_back();
      }
      if (!out.empty()) {
        out.pop_back();
      }
      continue;
    }
    if (c == '\r' || (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')) {
      continue;
    }
    out.push_back(c);
  }
  // Trim surrounding whitespace.
  size_t begin = out.find_first_not_of(" \t\n");
  if (begin == std::string::npos) {
    return {};
  }
  size_t end = out.find_last_not_of(" \t\n");
  return out.substr(begin, end - begin + 1);
}

std::vector<std::string> splitFortunes(std::string_view content) {
  std::vector<std::string> entries;
  std::string current;
  size_t pos = 0;
  while (pos <= content.size()) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = content.size();
    }
    std::string_view line = content.substr(pos, eol - pos);
    if (line == "%" || line == "%\r") {
      std::string cleaned = cleanFortuneText(current);
      if (!cleaned.empty()) {
        entries.push_back(std::move(cleaned));
      }
      current.clear();
    } else {
      current.append(line);
      current.push_back('\n');
    }
    pos = eol + 1;
  }
  std::string cleaned = cleanFortuneText(current);
  if (!cleaned.empty()) {
    entries.push_back(std::move(cleaned));
  }
  return entries;
}

StatusOr<Corpus> loadCorpus(std::string_view dir, const std::vector<std::string>& categories,
                            size_t max_per_category) {
  Corpus corpus;
  corpus.categories = categories;
  uint64_t hash = fnv1a64("fortunes");
  for (size_t label = 0; label < categories.size(); ++label) {
    std::string path = std::string(dir) + "/" + categories[label];
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return notFound("cannot read fortune file " + path +
                      " (scripts/bootstrap installs Debian's fortunes and fortunes-zh)");
    }
    std::stringstream content;
    content << file.rdbuf();
    std::string text = content.str();
    hash = fnv1a64(text, hash ^ label);
    std::vector<std::string> entries = splitFortunes(text);
    if (entries.empty()) {
      return dataLoss("fortune file " + path + " has no entries");
    }
    if (entries.size() > max_per_category) {
      // Keep a stable, content-chosen subset rather than the first N (files are sorted by theme).
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return stableHash(a, 7) < stableHash(b, 7);
      });
      entries.resize(max_per_category);
    }
    for (std::string& entry : entries) {
      corpus.documents.push_back(Document{std::move(entry), static_cast<int>(label)});
    }
  }
  corpus.content_hash = hash;
  return corpus;
}

Split splitHeldOut(const std::vector<Document>& documents, uint64_t seed,
                   double held_out_fraction) {
  Split split;
  // 2^64 itself does not fit a uint64_t: a fraction of 1 or more holds out everything.
  const bool everything = held_out_fraction >= 1.0;
  const auto threshold =
      everything ? 0 : static_cast<uint64_t>(std::max(held_out_fraction, 0.0) * 0x1.0p64);
  for (const Document& doc : documents) {
    if (everything || stableHash(doc.text, seed) < threshold) {
      split.test.push_back(doc);
    } else {
      split.train.push_back(doc);
    }
  }
  return split;
}

}  // namespace dw::model
