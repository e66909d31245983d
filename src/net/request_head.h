// The checks the HTTP server makes on a request head (before Beast parses it, and on the parsed
// head before the body is read), and a synchronous reader that applies them in the server's
// order. HttpServer::serveConnection reads from a socket with coroutines; readRequest() does the
// same steps over any SyncReadStream, so the fuzz target (fuzz/http_request_fuzz.cc) and unit
// tests feed raw bytes through the parser code and the refusals the server uses, without
// sockets.
//
// Thread contract: pure functions; readRequest() uses only its arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
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

// The server's defaults (ServerOptions has the same fields).
struct RequestLimits {
  uint32_t max_header_bytes = 64 * 1024;       // Above: header_limit (431).
  uint32_t max_header_count = 100;             // Header fields; above: 431.
  uint32_t max_request_line_bytes = 8 * 1024;  // Above: 414.
  uint64_t max_body_bytes = 8 * 1024 * 1024;   // Above: body_limit (413).
};

// A request refused before its body is read: the status to answer (then the connection
// closes) and why.
struct Refusal {
  http::status status = http::status::ok;
  std::string message;
  bool refused() const { return status != http::status::ok; }
};

// A 414 when the request line at the start of `bytes` (what has arrived of a head) is already
// longer than `limit` bytes, counted up to its LF: refused without reading further.
Refusal checkRequestLine(std::string_view bytes, uint32_t limit);

// What Beast's parser lets through but a proxy must refuse, because the next hop could frame
// the message differently (request smuggling; SECURITY_RELIABILITY.md 7, cases 1-9):
//  - Transfer-Encoding other than exactly "chunked": 400 when chunked is not the final coding,
//    501 for any other coding before it (RFC 9112 6.3);
//  - Transfer-Encoding in HTTP/1.0;
//  - two Transfer-Encoding fields;
//  - a missing (HTTP/1.1) or repeated Host (RFC 9112 3.2);
//  - more than max_header_count fields (431).
// Beast itself refuses differing Content-Lengths and Content-Length with Transfer-Encoding.
Refusal checkFraming(const http::request_header<>& header, uint32_t max_header_count);

// What readRequest() ends with: an error (a read or parse error, which the server answers with
// its status, or end_of_stream between requests, which it does not answer), or a refusal of the
// head (the body is left unread), or neither: a whole request.
struct ReadResult {
  error_code ec;
  Refusal refusal;
  bool ok() const { return !ec && !refusal.refused(); }
};

// Reads one request from `stream` into `parser` as the server does: the head whole first (at
// most max_header_bytes; a request line over max_request_line_bytes is refused as soon as it
// is seen), refused on obs-fold, then Beast's header parse, checkFraming(), and the body, with
// the head's fields restored after a chunked body's trailers.
// ec is http::error::end_of_stream when the stream ended before any byte of a request.
template <class SyncReadStream>
ReadResult readRequest(SyncReadStream& stream, beast::flat_buffer& buffer,
                       const RequestLimits& limits,
                       http::request_parser<http::string_body>& parser) {
  parser.header_limit(limits.max_header_bytes);
  parser.body_limit(limits.max_body_bytes);
  ReadResult result;
  error_code& ec = result.ec;
  size_t scanned = 0;
  size_t head = std::string_view::npos;
  for (;;) {
    const std::string_view bytes(static_cast<const char*>(buffer.data().data()), buffer.size());
    result.refusal = checkRequestLine(bytes, limits.max_request_line_bytes);
    if (result.refusal.refused()) {
      return result;
    }
    head = headSize(bytes, scanned);
    if (head != std::string_view::npos) {
      break;
    }
    scanned = bytes.size();
    if (bytes.size() >= limits.max_header_bytes) {
      ec = http::error::header_limit;
      return result;
    }
    const size_t want = std::min<size_t>(16 * 1024, limits.max_header_bytes - bytes.size());
    const size_t n = stream.read_some(buffer.prepare(want), ec);
    buffer.commit(n);
    if (ec) {
      if (ec == asio::error::eof) {
        ec = buffer.size() == 0 ? error_code(http::error::end_of_stream)
                                : error_code(http::error::partial_message);
      }
      return result;
    }
  }
  if (hasObsFold(std::string_view(static_cast<const char*>(buffer.data().data()), head))) {
    ec = http::error::bad_field;
    return result;
  }
  http::read_header(stream, buffer, parser, ec);
  if (ec) {
    return result;
  }
  result.refusal = checkFraming(parser.get(), limits.max_header_count);
  if (!result.refusal.refused() && !parser.is_done()) {
    // Beast merges a chunked body's trailer fields into the head: the head is restored after
    // the body, as the server does, so that no trailer reaches the request (catalog case 8).
    std::optional<http::request_header<>> head_fields;
    if (parser.chunked()) {
      head_fields = parser.get().base();
    }
    http::read(stream, buffer, parser, ec);
    if (!ec && head_fields) {
      parser.get().base() = std::move(*head_fields);
    }
  }
  return result;
}

}  // namespace dw::net
