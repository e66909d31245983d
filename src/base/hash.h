// Stable, non-cryptographic hashes: the same input gives the same value on every machine and in
// every run. Used for deterministic splits (held-out data), sticky routing and cache keys.
#pragma once

#include <cstdint>
#include <string_view>

namespace dw {

// 64-bit FNV-1a.
constexpr uint64_t fnv1a64(std::string_view data, uint64_t seed = 0xcbf29ce484222325ULL) {
  uint64_t h = seed;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// A finalizer (splitmix64's) that spreads FNV's weak low bits before taking a modulo.
constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t stableHash(std::string_view data, uint64_t seed = 0) {
  return mix64(fnv1a64(data) ^ mix64(seed));
}

}  // namespace dw
