// A one-shot HTTP/1.1 client for the command line (`deepwatch baseline`, `deepwatch ctl`): one
// request, one answer, with a deadline. Not for the data path (the gateway keeps its own pools).
//
// Thread contract: call from any thread; each call runs its own io_context.
#pragma once

#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/status.h"
#include "net/asio.h"

namespace dw::net {

struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// `url` is http://host:port/path. Transport failures are UNAVAILABLE or DEADLINE_EXCEEDED; any
// HTTP status is an answer. Blocks; runs its own io_context.
// `bearer`, when given, is sent as `Authorization: Bearer <bearer>`.
StatusOr<HttpAnswer> httpCall(std::string_view method, std::string_view url, std::string_view body,
                              Duration timeout = std::chrono::seconds(10),
                              std::string_view bearer = {});

// The same as a coroutine on the caller's executor (the control thread's sinks).
asio::awaitable<StatusOr<HttpAnswer>> httpCallAsync(std::string method, std::string url,
                                                    std::string body, Duration timeout,
                                                    std::string bearer = {});

}  // namespace dw::net
