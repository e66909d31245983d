// Process-wide logging on spdlog. One line per event; values that come from clients are escaped
// by the formatter's caller (see net/ for request logging), so a request cannot forge log lines.
//
// Thread contract: initLogging() once at start, before any thread logs; the DW_LOG_* macros are
// thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "base/status.h"

namespace dw {

// Sets the level ("trace", "debug", "info", "warn", "error", "off") and the stderr sink.
Status initLogging(std::string_view level);

}  // namespace dw

#define DW_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define DW_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define DW_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define DW_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
