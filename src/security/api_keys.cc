#include "security/api_keys.h"

#include <cctype>

namespace dw::security {

namespace {

constexpr std::string_view kPrefix = "dwk_";
constexpr size_t kIdHex = 12;
constexpr size_t kSecretChars = 43;  // 32 bytes in unpadded base64url.

std::string base64url(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = buffer << 8 | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) {
    out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  }
  return out;
}

bool isBase64Url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
}

}  // namespace

NewKey generateKey() {
  uint8_t id_bytes[kIdHex / 2];
  uint8_t secret[32];
  randomBytes(id_bytes, sizeof id_bytes);
  randomBytes(secret, sizeof secret);
  NewKey out;
  out.id = toHex(id_bytes, sizeof id_bytes);
  out.key = std::string(kPrefix) + out.id + "_" + base64url(secret, sizeof secret);
  out.digest = sha256(out.key);
  out.last4 = out.key.substr(out.key.size() - 4);
  return out;
}

std::optional<std::string_view> keyId(std::string_view key) {
  if (key.size() != kPrefix.size() + kIdHex + 1 + kSecretChars || !key.starts_with(kPrefix) ||
      key[kPrefix.size() + kIdHex] != '_') {
    return std::nullopt;
  }
  std::string_view id = key.substr(kPrefix.size(), kIdHex);
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  for (char c : key.substr(kPrefix.size() + kIdHex + 1)) {
    if (!isBase64Url(c)) {
      return std::nullopt;
    }
  }
  return id;
}

std::string maskKey(std::string_view id, std::string_view last4) {
  return std::string(kPrefix) + std::string(id) + "_…" + std::string(last4);
}

std::string_view bearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return {};
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) {
      return {};
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') {
    token.remove_prefix(1);
  }
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

}  // namespace dw::security
