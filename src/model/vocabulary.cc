#include "model/vocabulary.h"

namespace dw::model {

Vocabulary::Vocabulary() {
  // Display forms of the reserved ids, as servers print special tokens.
  for (const char* special : {"<unk>", "</s>", "<s>"}) {
    ids_.emplace(special, static_cast<int>(tokens_.size()));
    tokens_.emplace_back(special);
  }
}

int Vocabulary::add(std::string_view token) {
  auto [it, inserted] = ids_.try_emplace(std::string(token), static_cast<int>(tokens_.size()));
  if (inserted) {
    tokens_.emplace_back(token);
  }
  return it->second;
}

int Vocabulary::find(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? kUnknown : it->second;
}

}  // namespace dw::model
