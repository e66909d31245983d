// Strict, position-aware reading of YAML configuration on top of yaml-cpp.
//
// Every error names the file, line, column and key path ("deepwatch.yaml:12:7: models[0].
// versions[1].weight: must be a number >= 0"), unknown keys are errors (a typo must not be
// silently ignored), and nothing throws: yaml-cpp's exceptions are caught here, in its adapter
// (STYLE.md, Errors).
//
// Thread contract: values; a YamlMap is used by one thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"

namespace dw {

// Parses YAML text; `file` only names the source in errors.
StatusOr<YAML::Node> parseYaml(std::string_view text, const std::string& file);
StatusOr<YAML::Node> loadYamlFile(const std::string& path);

// Where a node is, for error messages: "file:line:column: path".
struct YamlPlace {
  const std::string* file;
  std::string path;
};

// An error at `node`: "file:line:col: path: message".
Status yamlError(const YamlPlace& place, const YAML::Node& node, std::string_view message);

// A mapping read key by key. Getters leave the output untouched when the key is absent, and
// return an error naming the place when it is present with the wrong type or range. finish()
// reports the first key that no getter asked for.
class YamlMap {
 public:
  // Requires node to be a map (or null, read as empty); check with make().
  static StatusOr<YamlMap> make(const YAML::Node& node, YamlPlace place);

  bool has(std::string_view key) const;
  YAML::Node get(std::string_view key);  // Marks the key as known; null node when absent.
  YamlPlace placeOf(std::string_view key) const;
  const YamlPlace& place() const { return place_; }
  const YAML::Node& node() const { return node_; }

  Status string(std::string_view key, std::string* out, bool required = false);
  Status boolean(std::string_view key, bool* out);
  Status integer(std::string_view key, int64_t min, int64_t max, int64_t* out);
  Status number(std::string_view key, double min, double max, double* out);
  Status duration(std::string_view key, Duration* out);
  // "8MiB", "64KiB", "1GB", or a plain integer of bytes.
  Status bytes(std::string_view key, uint64_t* out);
  Status stringList(std::string_view key, std::vector<std::string>* out);

  Status finish() const;

 private:
  YamlMap(YAML::Node node, YamlPlace place) : node_(std::move(node)), place_(std::move(place)) {}
  Status scalar(std::string_view key, YAML::Node* out);

  YAML::Node node_;
  YamlPlace place_;
  std::set<std::string, std::less<>> known_;
};

// Parses a byte size such as "8MiB" (binary units KiB/MiB/GiB, decimal KB/MB/GB, or bytes).
StatusOr<uint64_t> parseBytes(std::string_view text);

}  // namespace dw
