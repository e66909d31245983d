// The OpenAI error body, {"error": {"message", "type", "param", "code"}}, which every error of the
// API listeners uses (ECOSYSTEM.md 1.6) so that the official SDKs map it onto their error classes.
#pragma once

#include <string>
#include <string_view>

namespace dw::net {

// `param` and `code` are written as null when empty.
std::string openAiErrorJson(std::string_view message, std::string_view type, std::string_view param,
                            std::string_view code);

// Appends `text` to `out` as a JSON string literal, quotes included, escaping what JSON needs.
void appendJsonString(std::string& out, std::string_view text);

}  // namespace dw::net
