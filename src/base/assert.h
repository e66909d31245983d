// Invariant checks. DW_ASSERT is compiled out of release builds; DW_RELEASE_ASSERT is always on
// and aborts with the failed condition, so a broken invariant never turns into silent corruption.
// Every use carries a comment saying why the condition holds.
#pragma once

#include <cassert>

namespace dw::internal {
[[noreturn]] void assertFailed(const char* condition, const char* file, int line);
}  // namespace dw::internal

#define DW_ASSERT(cond) assert(cond)
#define DW_RELEASE_ASSERT(cond)                                \
  do {                                                         \
    if (!(cond)) [[unlikely]] {                                \
      ::dw::internal::assertFailed(#cond, __FILE__, __LINE__); \
    }                                                          \
  } while (false)
