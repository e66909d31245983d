// Shared by the fuzz targets: a property check that aborts, so that libFuzzer records the input
// that broke it, with the property's text in the report.
#pragma once

#include <cstdio>
#include <cstdlib>

#define DW_FUZZ_CHECK(condition)                                                                 \
  do {                                                                                           \
    if (!(condition)) {                                                                          \
      std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                              \
    }                                                                                            \
  } while (false)
