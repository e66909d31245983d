// The fortune corpora that the reference model learns from (Debian's `fortunes` and
// `fortunes-zh`), read from the installed files at start-up and never committed.
//
// Thread contract: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dw::model {

inline constexpr std::string_view kDefaultFortuneDir = "/usr/share/games/fortunes";

// One fortune and the file (category) it came from.
struct Document {
  std::string text;
  int label = 0;  // Index into Corpus::categories.
};

struct Corpus {
  std::vector<std::string> categories;
  std::vector<Document> documents;
  uint64_t content_hash = 0;  // Over every byte read, for cache keys and reports.
};

// Removes what the files use for terminal display: ANSI escape sequences (the Chinese files
// colour titles) and backspace overstriking ("_\bx", "x\bx"; some English files embolden or
// underline that way). Also drops other control characters except newline and tab.
std::string cleanFortuneText(std::string_view raw);

// Splits a fortune file ("%" lines between entries) into cleaned, non-empty entries.
std::vector<std::string> splitFortunes(std::string_view file_content);

// Reads `categories` from `dir`. At most `max_per_category` entries are kept from each file (the
// Chinese file alone has over 5,000), chosen by a stable hash so the choice never changes.
StatusOr<Corpus> loadCorpus(std::string_view dir, const std::vector<std::string>& categories,
                            size_t max_per_category);

// The fixed-seed held-out split: a document is held out when the stable hash of its text with
// `seed` falls in the lowest `held_out_fraction`. The same text always lands on the same side.
struct Split {
  std::vector<Document> train;
  std::vector<Document> test;
};
Split splitHeldOut(const std::vector<Document>& documents, uint64_t seed, double held_out_fraction);

}  // namespace dw::model
