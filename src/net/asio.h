// The one place that includes Boost.Asio and Boost.Beast. Every .cc that needs them includes
// this header first; it is also the precompiled header of the targets that use it, because these
// headers dominate the build time of the 2-core machines (DESIGN.md, Dependencies).
#pragma once

#include <utility>  // Boost 1.74's awaitable.hpp needs std::exchange declared first.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace dw::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

using error_code = boost::system::error_code;

// Completion token for coroutines that inspect error codes instead of catching exceptions
// (STYLE.md, Errors: no throw; Asio is called through its error_code overloads). Boost 1.74 has
// no as_tuple, so the error lands in `ec`: `co_await op(..., redirect(ec));`.
inline auto redirect(error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }
}  // namespace dw::net
