// Durations written by people: "250ms", "5s", "1.5s", "2m", "1h", "100us". Used by flags and
// config so that every duration in the project reads the same way.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dw {

using Duration = std::chrono::nanoseconds;

// Parses a non-negative duration with a unit (ns, us, ms, s, m, h). "0" alone is accepted.
StatusOr<Duration> parseDuration(std::string_view text);

// The shortest exact rendering: 1500ms -> "1.5s", 250ms -> "250ms".
std::string formatDuration(Duration d);

inline double toSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// Milliseconds since the Unix epoch, for what is stored or shown (not for measuring intervals).
inline int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace dw
