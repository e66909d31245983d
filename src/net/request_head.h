// The checks the HTTP server makes on a request head before Beast parses it, and a synchronous
// reader that applies them in the server's order. HttpServer::serveConnection reads from a
// socket with coroutines; readRequest() does the same steps over any SyncReadStream, so the fuzz
// target (fuzz/http_request_fuzz.cc) and unit tests feed raw bytes through the parser code the
// server uses, without sockets.
//
// Thread contract: pure functions; readRequest() uses only its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/asio.h"

namespace dw::net {

// The size of the request head at the start of `bytes`, through the blank line that ends it, or
// npos while it is incomplete. "\n\n" ends a head too, so that bare-LF line endings reach the
// parser, which refuses them, instead of waiting for a CRLF that never comes. `from`: bytes
// already searched by an earlier call (a rescan starts a little before it).
size_t headSize(std::string_view bytes, size_t from = 0);

// True when a header line of `head` continues on the next line (obs-fold), which Beast unfolds
// but a proxy must refuse (RFC 9112 5.2).
bool hasObsFold(std::string_view head);

struct RequestLimits {
  uint32_t max_header_bytes = 64 * 1024;      // Above: header_limit (431).
  uint64_t max_body_bytes = 8 * 1024 * 1024;  // Above: body_limit (413).
};

// Reads one request from `stream` into `parser` as the server does: the head whole first (at
// most max_header_bytes), refused on obs-fold, then Beast's header and body parse. Returns the
// first error; http::error::end_of_stream when the stream ended before any byte of a request.
template <class SyncReadStream>
error_code readRequest(SyncReadStream& stream, beast::flat_buffer& buffer,
                       const RequestLimits& limits,
                       http::request_parser<http::string_body>& parser) {
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
  error_code ec;
  size_t scanned = 0;
  size_t head = std::string_view::npos;
  for (;;) {
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    head = headSize(bytes, scanned);
    if (head != std::string_view::npos) {
      break;
    }
    scanned = bytes.size();
    if (bytes.size() >= limits.max_header_bytes) {
      return http::error::header_limit;
    }
    const size_t want = std::min<size_t>(16 * 1024, limits.max_header_bytes - bytes.size());
    const size_t n = stream.read_some(buffer.prepare(want), ec);
    buffer.commit(n);
    if (ec) {
      if (ec == asio::error::eof) {
        return buffer.size() == 0 ? error_code(http::error::end_of_stream)
                                  : error_code(http::error::partial_message);
      }
      return ec;
    }
  }
  if (hasObsFold(std::string_view(static_cast<const char*>(buffer.data().data()), head))) {
    return http::error::bad_field;
  }
  http::read_header(stream, buffer, parser, ec);
  if (!ec && !parser.is_done()) {
    http::read(stream, buffer, parser, ec);
  }
  return ec;
}

}  // namespace dw::net
