#include "observe/layout.h"

#include <string>

namespace dw::observe {

int codeSlot(int status) {
  for (size_t i = 0; i < kTrackedCodes.size(); ++i) {
    if (kTrackedCodes[i] == status) {
      return static_cast<int>(i);
    }
  }
  return kCodeSlots - 1;
}

std::string_view codeName(int slot) {
  static const auto kNames = [] {
    std::array<std::string, kCodeSlots> names;
    for (size_t i = 0; i < kTrackedCodes.size(); ++i) {
      names[i] = std::to_string(kTrackedCodes[i]);
    }
    names[kCodeSlots - 1] = "other";
    return names;
  }();
  return kNames[slot];
}

int finishSlot(std::string_view reason) {
  for (int i = 0; i < kFinishSlots - 1; ++i) {
    if (kFinishReasons[i] == reason) {
      return i;
    }
  }
  return kFinishSlots - 1;
}

const Layout& Layout::get() {
  static const Layout kLayout;
  return kLayout;
}

Layout::Layout() : latency_(0.01, 1e-4, 1e3), sizes_(0.05, 1, 1e7) {
  int at = 0;
  requests_ = at;
  at += kEndpoints * kCodeSlots * 2;
  tokens_ = at;
  at += 4;
  duration_ = at;
  at += latency_.count() + 1;
  ttft_ = at;
  at += latency_.count() + 1;
  itl_ = at;
  at += latency_.count() + 1;
  input_ = at;
  at += 2 + kAbnormalKinds + kScripts + kTokenBins;
  prompt_chars_ = at;
  at += sizes_.count();
  prompt_tokens_ = at;
  at += sizes_.count();
  messages_ = at;
  at += sizes_.count();
  output_ = at;
  at += 3 + kConfidenceBins + kFinishSlots + kMaxLabels + 1;
  output_tokens_ = at;
  at += sizes_.count();
  size_ = at;
}

Layout::RequestTotals Layout::requestTotals(const std::vector<uint64_t>& totals) const {
  RequestTotals out;
  for (int e = 0; e < kEndpoints; ++e) {
    for (int code = 0; code < kCodeSlots; ++code) {
      const bool server_error = codeName(code).starts_with("5");
      for (bool stream : {false, true}) {
        const uint64_t n = totals[requests(static_cast<Endpoint>(e), code, stream)];
        out.requests += n;
        out.errors += server_error ? n : 0;
      }
    }
  }
  return out;
}

}  // namespace dw::observe
