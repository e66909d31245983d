#include "base/yaml_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dw {

StatusOr<YAML::Node> parseYaml(std::string_view text, const std::string& file) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalidArgument(
        fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

StatusOr<YAML::Node> loadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return notFound(fmt::format("{}: cannot read the file", path));
  }
  std::stringstream content;
  content << in.rdbuf();
  return parseYaml(content.str(), path);
}

Status yamlError(const YamlPlace& place, const YAML::Node& node, std::string_view message) {
  YAML::Mark mark = node.Mark();
  std::string where = *place.file;
  if (!mark.is_null()) {
    where += fmt::format(":{}:{}", mark.line + 1, mark.column + 1);
  }
  if (place.path.empty()) {
    return invalidArgument(fmt::format("{}: {}", where, message));
  }
  return invalidArgument(fmt::format("{}: {}: {}", where, place.path, message));
}

StatusOr<YamlMap> YamlMap::make(const YAML::Node& node, YamlPlace place) {
  if (!node.IsDefined() || node.IsNull()) {
    return YamlMap(YAML::Node(YAML::NodeType::Map), std::move(place));
  }
  if (!node.IsMap()) {
    return yamlError(place, node, "must be a mapping of keys to values");
  }
  return YamlMap(node, std::move(place));
}

bool YamlMap::has(std::string_view key) const {
  for (const auto& item : node_) {
    if (item.first.Scalar() == key) {
      return !item.second.IsNull();
    }
  }
  return false;
}

YAML::Node YamlMap::get(std::string_view key) {
  known_.emplace(key);
  for (const auto& item : node_) {
    if (item.first.Scalar() == key) {
      return item.second;
    }
  }
  return YAML::Node();
}

YamlPlace YamlMap::placeOf(std::string_view key) const {
  return YamlPlace{place_.file,
                   place_.path.empty() ? std::string(key) : place_.path + "." + std::string(key)};
}

Status YamlMap::scalar(std::string_view key, YAML::Node* out) {
  YAML::Node node = get(key);
  if (!node.IsDefined() || node.IsNull()) {
    *out = YAML::Node(YAML::NodeType::Undefined);
    return okStatus();
  }
  if (!node.IsScalar()) {
    return yamlError(placeOf(key), node, "must be a single value");
  }
  *out = node;
  return okStatus();
}

Status YamlMap::string(std::string_view key, std::string* out, bool required) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return required ? yamlError(placeOf(key), node_, "is required") : okStatus();
  }
  *out = node.Scalar();
  return okStatus();
}

Status YamlMap::boolean(std::string_view key, bool* out) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return okStatus();
  }
  if (!YAML::convert<bool>::decode(node, *out)) {
    return yamlError(placeOf(key), node, "must be true or false");
  }
  return okStatus();
}

Status YamlMap::integer(std::string_view key, int64_t min, int64_t max, int64_t* out) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return okStatus();
  }
  int64_t value = 0;
  const std::string& text = node.Scalar();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return yamlError(placeOf(key), node, fmt::format("must be an integer from {} to {}", min, max));
  }
  *out = value;
  return okStatus();
}

Status YamlMap::number(std::string_view key, double min, double max, double* out) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return okStatus();
  }
  double value = 0;
  const std::string& text = node.Scalar();
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < min || value > max) {
    return yamlError(placeOf(key), node, fmt::format("must be a number from {} to {}", min, max));
  }
  *out = value;
  return okStatus();
}

Status YamlMap::duration(std::string_view key, Duration* out) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return okStatus();
  }
  auto parsed = parseDuration(node.Scalar());
  if (!parsed.ok()) {
    return yamlError(placeOf(key), node, parsed.status().message());
  }
  *out = *parsed;
  return okStatus();
}

Status YamlMap::bytes(std::string_view key, uint64_t* out) {
  YAML::Node node;
  DW_RETURN_IF_ERROR(scalar(key, &node));
  if (!node.IsDefined()) {
    return okStatus();
  }
  auto parsed = parseBytes(node.Scalar());
  if (!parsed.ok()) {
    return yamlError(placeOf(key), node, parsed.status().message());
  }
  *out = *parsed;
  return okStatus();
}

Status YamlMap::stringList(std::string_view key, std::vector<std::string>* out) {
  YAML::Node node = get(key);
  if (!node.IsDefined() || node.IsNull()) {
    return okStatus();
  }
  if (!node.IsSequence()) {
    return yamlError(placeOf(key), node, "must be a list of strings");
  }
  out->clear();
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      return yamlError(placeOf(key), item, "must be a list of strings");
    }
    out->push_back(item.Scalar());
  }
  return okStatus();
}

Status YamlMap::finish() const {
  for (const auto& item : node_) {
    const std::string& key = item.first.Scalar();
    if (known_.find(key) == known_.end()) {
      return yamlError(placeOf(key), item.first, "unknown key");
    }
  }
  return okStatus();
}

StatusOr<uint64_t> parseBytes(std::string_view text) {
  size_t unit_at = 0;
  while (unit_at < text.size() && text[unit_at] >= '0' && text[unit_at] <= '9') {
    ++unit_at;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + unit_at, value);
  if (unit_at == 0 || ec != std::errc()) {
    return invalidArgument(
        fmt::format("'{}' is not a size (expected e.g. 65536, 64KiB, 8MiB)", text));
  }
  std::string_view unit = text.substr(unit_at);
  uint64_t multiplier = 0;
  if (unit.empty() || unit == "B") {
    multiplier = 1;
  } else if (unit == "KiB") {
    multiplier = 1ULL << 10;
  } else if (unit == "MiB") {
    multiplier = 1ULL << 20;
  } else if (unit == "GiB") {
    multiplier = 1ULL << 30;
  } else if (unit == "KB") {
    multiplier = 1000;
  } else if (unit == "MB") {
    multiplier = 1000 * 1000;
  } else if (unit == "GB") {
    multiplier = 1000 * 1000 * 1000;
  } else {
    return invalidArgument(
        fmt::format("'{}' has no valid unit (B, KiB, MiB, GiB, KB, MB, GB)", text));
  }
  if (value > UINT64_MAX / multiplier) {
    return invalidArgument(fmt::format("size '{}' is too large", text));
  }
  return value * multiplier;
}

}  // namespace dw
