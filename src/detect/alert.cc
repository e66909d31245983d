#include "detect/alert.h"

#include <ctime>

#include "base/hash.h"

namespace dw::detect {

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::kNone:
      return "none";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "none";
}

std::string_view stateName(AlertState state) {
  switch (state) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kResolved:
      return "resolved";
  }
  return "inactive";
}

uint64_t fingerprint(const LabelSet& labels) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  for (const auto& [name, value] : labels) {
    h = mix64(h ^ fnv1a64(name));
    h = mix64(h ^ fnv1a64(value));
  }
  return h;
}

std::string rfc3339(TimePoint t) {
  const std::time_t seconds = Clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace dw::detect
