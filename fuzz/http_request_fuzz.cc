// Fuzzes the HTTP/1.1 request path of the listeners (R10; SECURITY_RELIABILITY.md catalog rows
// 1-9 and 17): raw bytes go through net::readRequest(), the same head search, obs-fold check,
// limits, Beast parser and framing refusals (net::checkRequestLine(), net::checkFraming()) that
// HttpServer::serveConnection applies to a socket, then requests are read one after another
// from the same buffer as a keep-alive connection does.
//
// Properties: what the server would accept carries nothing into the upstream head that could
// end a line, stays within every limit, and has the framing the refusals promise, checked
// here independently of them: one Host (HTTP/1.1), Transfer-Encoding only as a single
// "chunked" in HTTP/1.1, and then Beast frames the body as chunked too.
//
// The first input byte chooses the size of each read (1 to 256 bytes), so that a head or a
// chunk split across reads is exercised; the second chooses small or default limits, so that
// the 414, 431 and 413 paths are reachable with small inputs.
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "net/request_head.h"

namespace {

using dw::net::error_code;
namespace asio = dw::net::asio;
namespace http = dw::net::http;

// A SyncReadStream over the fuzz input that returns at most `step` bytes per read, then eof.
class ChunkedStream {
 public:
  ChunkedStream(std::string_view data, size_t step) : data_(data), step_(step) {}

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers, error_code& ec) {
    if (data_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const size_t room = asio::buffer_size(buffers);
    const size_t n = asio::buffer_copy(
        buffers, asio::buffer(data_.data(), std::min({data_.size(), step_, room})));
    data_.remove_prefix(n);
    return n;
  }

  template <class MutableBufferSequence>
  size_t read_some(const MutableBufferSequence& buffers) {
    error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) {
      throw boost::system::system_error(ec);
    }
    return n;
  }

  size_t left() const { return data_.size(); }

 private:
  std::string_view data_;
  size_t step_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const size_t step = 1 + data[0];
  dw::net::RequestLimits limits;
  if (data[1] & 1) {
    limits.max_header_bytes = 256;
    limits.max_header_count = 6;
    limits.max_request_line_bytes = 48;
    limits.max_body_bytes = 64;
  }
  ChunkedStream stream(std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2), step);
  dw::net::beast::flat_buffer buffer;
  // A keep-alive connection: requests until an error or a close (at most the input's bytes).
  for (int i = 0; i < 64; ++i) {
    http::request_parser<http::string_body> parser;
    const dw::net::ReadResult result = dw::net::readRequest(stream, buffer, limits, parser);
    if (!result.ok()) {
      // A refusal is a 4xx/5xx answer with a reason, after which the connection closes.
      DW_FUZZ_CHECK(!result.refusal.refused() || (static_cast<int>(result.refusal.status) >= 400 &&
                                                  !result.refusal.message.empty()));
      break;
    }
    DW_FUZZ_CHECK(parser.is_done());
    const auto& request = parser.get();
    DW_FUZZ_CHECK(request.body().size() <= limits.max_body_bytes);
    // The framing refusals held: checked again here from the parsed request, without them.
    size_t fields = 0;
    size_t hosts = 0;
    size_t codings = 0;
    for (const auto& field : request) {
      ++fields;
      hosts += field.name() == http::field::host ? 1 : 0;
      if (field.name() == http::field::transfer_encoding) {
        ++codings;
        std::string_view te = field.value();
        while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) {
          te.remove_prefix(1);
        }
        while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) {
          te.remove_suffix(1);
        }
        DW_FUZZ_CHECK(dw::net::beast::iequals(te, "chunked"));
      }
    }
    DW_FUZZ_CHECK(fields <= limits.max_header_count);
    DW_FUZZ_CHECK(request.version() >= 11 ? hosts == 1 : hosts <= 1);
    DW_FUZZ_CHECK(codings <= 1);
    DW_FUZZ_CHECK(codings == 0 || (request.version() >= 11 && parser.chunked()));
    // "METHOD SP target SP HTTP/1.x CR" fits the request-line limit.
    DW_FUZZ_CHECK(request.method_string().size() + request.target().size() + 11 <=
                  limits.max_request_line_bytes);
    // What the gateway reads from every request next: the target, its path, the fields.
    const std::string_view target = request.target();
    const std::string_view path = target.substr(0, target.find('?'));
    DW_FUZZ_CHECK(path.size() <= target.size());
    // The target is copied into the upstream request line: nothing that would end it.
    DW_FUZZ_CHECK(target.find_first_of(std::string_view(" \r\n\0", 4)) == std::string_view::npos);
    // The gateway copies end-to-end fields into the upstream request's head: no field may
    // carry a line break or NUL into it (header injection).
    for (const auto& field : request) {
      for (const std::string_view text : {field.name_string(), field.value()}) {
        DW_FUZZ_CHECK(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
      }
    }
    if (!request.keep_alive()) {
      break;
    }
  }
  return 0;
}
