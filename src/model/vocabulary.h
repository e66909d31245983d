// Token strings to dense ids and back. Ids 0..2 are reserved: unknown, end of text, start.
//
// Thread contract: built once while training, then read-only and safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dw::model {

class Vocabulary {
 public:
  static constexpr int kUnknown = 0;
  static constexpr int kEnd = 1;
  static constexpr int kBegin = 2;

  Vocabulary();

  // The id of `token`, adding it when new.
  int add(std::string_view token);
  // The id of `token`, or kUnknown.
  int find(std::string_view token) const;
  const std::string& token(int id) const { return tokens_[id]; }
  int size() const { return static_cast<int>(tokens_.size()); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace dw::model
