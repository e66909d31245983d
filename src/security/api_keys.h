// API keys (R7): `dwk_<id>_<secret>`, where the id (12 hex) names the key and the secret is 32
// bytes from the CSPRNG in base64url. Only SHA-256 of the whole key is stored; a presented key
// is found by its id and its digest compared in constant time. The key itself is shown once, when
// it is created; listings show it masked (the prefix with the id, and the last 4 characters).
//
// Thread contract: free functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "security/crypto.h"

namespace dw::security {

struct NewKey {
  std::string id;
  std::string key;  // The whole key: shown to its owner once, never stored.
  Digest digest;    // What is stored.
  std::string last4;
};

NewKey generateKey();

// The id of a well-formed key, or nullopt (a malformed key never reaches the store).
std::optional<std::string_view> keyId(std::string_view key);

// "dwk_3f9a1c2e7b4d_…Xk2Q": what listings and logs may show.
std::string maskKey(std::string_view id, std::string_view last4);

// The bearer token of an Authorization header ("Bearer <token>", case-insensitive scheme), or
// empty.
std::string_view bearerToken(std::string_view authorization);

}  // namespace dw::security
