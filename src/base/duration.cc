#include "base/duration.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace dw {

StatusOr<Duration> parseDuration(std::string_view text) {
  if (text == "0") {
    return Duration::zero();
  }
  size_t unit_at = 0;
  while (unit_at < text.size() &&
         ((text[unit_at] >= '0' && text[unit_at] <= '9') || text[unit_at] == '.')) {
    ++unit_at;
  }
  std::string_view number = text.substr(0, unit_at);
  std::string_view unit = text.substr(unit_at);
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    return invalidArgument(
        fmt::format("'{}' is not a duration (expected e.g. 250ms, 5s, 2m)", text));
  }
  double ns_per_unit = 0;
  if (unit == "ns") {
    ns_per_unit = 1;
  } else if (unit == "us") {
    ns_per_unit = 1e3;
  } else if (unit == "ms") {
    ns_per_unit = 1e6;
  } else if (unit == "s") {
    ns_per_unit = 1e9;
  } else if (unit == "m") {
    ns_per_unit = 60e9;
  } else if (unit == "h") {
    ns_per_unit = 3600e9;
  } else {
    return invalidArgument(
        fmt::format("'{}' has no valid unit (expected ns, us, ms, s, m or h)", text));
  }
  double ns = value * ns_per_unit;
  if (!std::isfinite(ns) || ns > 1e18) {
    return invalidArgument(fmt::format("duration '{}' is too large", text));
  }
  return Duration(static_cast<int64_t>(std::llround(ns)));
}

std::string formatDuration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) {
    return "0s";
  }
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t magnitude =
      ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  struct Unit {
    const char* name;
    uint64_t ns;
  };
  static constexpr Unit kUnits[] = {{"h", 3600'000'000'000}, {"m", 60'000'000'000},
                                    {"s", 1'000'000'000},    {"ms", 1'000'000},
                                    {"us", 1'000},           {"ns", 1}};
  // The largest unit of which the duration is at least one and which writes it exactly with at
  // most nine decimals: 1500ms -> "1.5s", 90s -> "1.5m", 100ms + 1ns -> "100.000001ms".
  for (const Unit& unit : kUnits) {
    if (magnitude < unit.ns) {
      continue;
    }
    const uint64_t remainder = magnitude % unit.ns;
    if (remainder == 0) {
      return fmt::format("{}{}{}", sign, magnitude / unit.ns, unit.name);
    }
    const unsigned __int128 scaled = static_cast<unsigned __int128>(remainder) * 1'000'000'000;
    if (scaled % unit.ns != 0) {
      continue;  // A fraction such as 1/3 minute has no exact decimal form.
    }
    std::string fraction = fmt::format("{:09}", static_cast<uint64_t>(scaled / unit.ns));
    while (fraction.back() == '0') {
      fraction.pop_back();
    }
    return fmt::format("{}{}.{}{}", sign, magnitude / unit.ns, fraction, unit.name);
  }
  return fmt::format("{}{}ns", sign, magnitude);
}

}  // namespace dw
