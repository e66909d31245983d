// The cryptographic primitives security/ builds on, over OpenSSL's libcrypto: SHA-256,
// HMAC-SHA-256, a cryptographic random source, constant-time comparison, hex. Written here only
// as thin wrappers: the algorithms are OpenSSL's.
//
// Thread contract: every function is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dw::security {

using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view data);
// SHA-256 over the concatenation of the parts, without building it.
Digest sha256(std::initializer_list<std::string_view> parts);
Digest hmacSha256(std::string_view key, std::string_view data);

// Bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts if the generator fails: nothing in
// security/ may go on with predictable randomness.
void randomBytes(void* out, size_t size);
uint64_t randomUint64();
// Uniform in [0, bound), bound > 0, without modulo bias.
uint64_t randomBelow(uint64_t bound);

// Equal in time that depends only on the sizes (CRYPTO_memcmp).
bool constantTimeEqual(std::string_view a, std::string_view b);

std::string toHex(const uint8_t* data, size_t size);
inline std::string toHex(const Digest& digest) { return toHex(digest.data(), digest.size()); }
// False on odd length or a non-hex character.
bool fromHex(std::string_view hex, Digest* out);
inline std::string_view asBytes(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

// Writes `text` to `path` with mode 0600, atomically (temporary file, fsync, rename).
Status writeSecretFile(const std::string& path, std::string_view text);
// The first line of `path`; when the file does not exist, 32 random bytes in hex written there
// first (mode 0600).
StatusOr<std::string> readOrCreateSecret(const std::string& path);

}  // namespace dw::security
