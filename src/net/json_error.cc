#include "net/json_error.h"

#include <cstdio>

namespace dw::net {

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string openAiErrorJson(std::string_view message, std::string_view type, std::string_view param,
                            std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  appendJsonString(out, message);
  out += ",\"type\":";
  appendJsonString(out, type);
  out += ",\"param\":";
  if (param.empty()) {
    out += "null";
  } else {
    appendJsonString(out, param);
  }
  out += ",\"code\":";
  if (code.empty()) {
    out += "null";
  } else {
    appendJsonString(out, code);
  }
  out += "}}";
  return out;
}

}  // namespace dw::net
