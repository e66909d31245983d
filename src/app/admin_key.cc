#include "app/admin_key.h"

#include <cstdlib>
#include <fstream>

namespace dw::app {

namespace {

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

}  // namespace

std::string adminKey(const std::string& flag) {
  if (!flag.empty()) {
    return flag;
  }
  if (const char* env = std::getenv("DEEPWATCH_KEY"); env != nullptr && *env != '\0') {
    return env;
  }
  if (const char* file = std::getenv("DEEPWATCH_KEY_FILE"); file != nullptr && *file != '\0') {
    return firstLine(file);
  }
  for (const char* file : {"var/demo/admin.key", "var/admin.key"}) {
    if (std::string key = firstLine(file); !key.empty()) {
      return key;
    }
  }
  return "";
}

void addKeyOption(CLI::App* command, std::string* key) {
  command->add_option("--key", *key,
                      "API key for the admin API (default: $DEEPWATCH_KEY, $DEEPWATCH_KEY_FILE, "
                      "var/demo/admin.key, var/admin.key)");
}

}  // namespace dw::app
