#include "net/request_head.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace dw::net {
namespace {

constexpr size_t kNpos = std::string_view::npos;

// A SyncReadStream over fixed bytes, at most `step` bytes per read, then eof: a client whose
// request arrives in pieces.
class PieceStream {
 public:
  PieceStream(std::string_view data, size_t step) : data_(data), step_(step) {}

  template <class Buffers>
  size_t read_some(const Buffers& buffers, error_code& ec) {
    if (data_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    ec = {};
    const size_t n = asio::buffer_copy(
        buffers,
        asio::buffer(data_.data(), std::min({data_.size(), step_, asio::buffer_size(buffers)})));
    data_.remove_prefix(n);
    return n;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    error_code ec;
    return read_some(buffers, ec);
  }

 private:
  std::string_view data_;
  size_t step_;
};

struct Read {
  error_code ec;
  Refusal refusal;
  http::request<http::string_body> request;
};

std::vector<Read> readAll(std::string_view wire, size_t step, RequestLimits limits = {}) {
  PieceStream stream(wire, step);
  beast::flat_buffer buffer;
  std::vector<Read> reads;
  for (;;) {
    http::request_parser<http::string_body> parser;
    Read read;
    ReadResult result = readRequest(stream, buffer, limits, parser);
    read.ec = result.ec;
    read.refusal = std::move(result.refusal);
    if (result.ok()) {
      read.request = parser.release();
    }
    reads.push_back(std::move(read));
    if (!result.ok()) {
      return reads;
    }
  }
}

// The parsed head of `wire` (which must parse), for checkFraming().
http::request_header<> head(std::string_view wire) {
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  error_code ec;
  parser.put(asio::buffer(wire.data(), wire.size()), ec);
  EXPECT_FALSE(ec) << ec.message() << " in " << wire;
  EXPECT_TRUE(parser.is_header_done()) << wire;
  return parser.get().base();
}

http::status framing(std::string_view wire, uint32_t max_header_count = 100) {
  return checkFraming(head(wire), max_header_count).status;
}

TEST(HeadSizeTest, EndsAtTheBlankLine) {
  EXPECT_EQ(headSize("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"), 27u);
  EXPECT_EQ(headSize("GET / HTTP/1.1\nHost: a\n\nbody"), 24u);
  EXPECT_EQ(headSize("GET / HTTP/1.1\r\nHost: a\r\n"), kNpos);
  EXPECT_EQ(headSize(""), kNpos);
}

TEST(HeadSizeTest, FindsATerminatorThatStraddlesTheLastSearch) {
  const std::string_view head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  // The previous search saw everything up to "...\r\n\r" (one byte short).
  EXPECT_EQ(headSize(head, head.size() - 1), head.size());
  EXPECT_EQ(headSize(head, head.size() - 2), head.size());
  EXPECT_EQ(headSize("GET / HTTP/1.1\nA: b\n\n", 20), 21u);
}

TEST(HasObsFoldTest, RefusesAContinuationLine) {
  EXPECT_TRUE(hasObsFold("GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"));
  EXPECT_TRUE(hasObsFold("GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n"));
  EXPECT_FALSE(hasObsFold("GET / HTTP/1.1\r\nX-A: one two\r\n\r\n"));
  EXPECT_FALSE(hasObsFold("GET / HTTP/1.1\n\n"));
}

TEST(ReadRequestTest, ReadsPipelinedRequestsInAnyPieceSize) {
  const std::string wire =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello"
      "POST /v1/completions HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n"
      "GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n";
  for (size_t step : {1, 2, 3, 7, 64, 4096}) {
    SCOPED_TRACE(step);
    const std::vector<Read> reads = readAll(wire, step);
    ASSERT_EQ(reads.size(), 4u);
    EXPECT_EQ(reads[0].request.body(), "hello");
    EXPECT_EQ(reads[1].request.target(), "/v1/completions");
    EXPECT_EQ(reads[1].request.body(), "abc");
    EXPECT_EQ(reads[2].request.method(), http::verb::get);
    EXPECT_EQ(reads[3].ec, http::error::end_of_stream);
  }
}

// Regression (fuzz/http_request_fuzz.cc): a chunked body whose first chunk is the last one,
// read a byte at a time, hit a wrong assertion of Boost 1.74's parser (src/net/boost_assert.cc)
// and aborted builds without NDEBUG.
TEST(ReadRequestTest, ReadsAnEmptyChunkedBodyByteByByte) {
  for (size_t step : {1, 2, 3, 4, 5}) {
    SCOPED_TRACE(step);
    const std::vector<Read> reads = readAll(
        "POST /v1/completions HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        "X-T: 1\r\n\r\n",
        step);
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_FALSE(reads[0].ec) << reads[0].ec.message();
    EXPECT_EQ(reads[0].request.body(), "");
    EXPECT_EQ(reads[1].ec, http::error::end_of_stream);
  }
}

TEST(ReadRequestTest, RefusesObsFold) {
  EXPECT_EQ(readAll("GET / HTTP/1.1\r\nHost: gw\r\nX-A: one\r\n two\r\n\r\n", 16)[0].ec,
            http::error::bad_field);
}

TEST(ReadRequestTest, AppliesTheHeadAndBodyLimits) {
  const RequestLimits small{.max_header_bytes = 64, .max_body_bytes = 8};
  EXPECT_EQ(
      readAll("GET / HTTP/1.1\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n", 7, small)[0].ec,
      http::error::header_limit);
  EXPECT_EQ(
      readAll("POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: 9\r\n\r\n123456789", 7, small)[0].ec,
      http::error::body_limit);
  const std::vector<Read> fits =
      readAll("POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: 8\r\n\r\n12345678", 7, small);
  EXPECT_TRUE(!fits[0].ec && !fits[0].refusal.refused()) << fits[0].refusal.message;
  EXPECT_EQ(fits[0].request.body(), "12345678");
}

TEST(ReadRequestTest, TellsAnEmptyStreamFromACutRequest) {
  EXPECT_EQ(readAll("", 16)[0].ec, http::error::end_of_stream);
  EXPECT_EQ(readAll("GET / HTTP/1.1\r\nHo", 16)[0].ec, http::error::partial_message);
  EXPECT_EQ(readAll("POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: 9\r\n\r\n1234", 16)[0].ec,
            http::error::partial_message);
}

TEST(ReadRequestTest, RefusesBareLineFeeds) {
  EXPECT_TRUE(readAll("GET / HTTP/1.1\nHost: gw\n\n", 16)[0].ec);
}

TEST(CheckRequestLineTest, RefusesALineLongerThanTheLimitOnceItIsSeen) {
  // The limit counts the line up to its LF: "GET /aaaa HTTP/1.1\r" is 19 bytes.
  const std::string line = "GET /aaaa HTTP/1.1\r\n";
  EXPECT_FALSE(checkRequestLine(line + "Host: gw\r\n\r\n", 19).refused());
  const Refusal refusal = checkRequestLine(line + "Host: gw\r\n\r\n", 18);
  EXPECT_EQ(refusal.status, http::status::uri_too_long);
  EXPECT_EQ(refusal.message, "the request line is longer than 18 bytes");
  // Without its end yet: refused as soon as more than the limit has arrived, not before.
  EXPECT_TRUE(checkRequestLine("GET /" + std::string(20, 'a'), 18).refused());
  EXPECT_FALSE(checkRequestLine("GET /" + std::string(13, 'a'), 18).refused());
}

TEST(CheckFramingTest, AcceptsOneHostAndAtMostOneChunkedCoding) {
  EXPECT_EQ(framing("GET / HTTP/1.1\r\nHost: gw\r\n\r\n"), http::status::ok);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"),
            http::status::ok);
  EXPECT_EQ(framing("POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: \t ChUnKeD \r\n\r\n"),
            http::status::ok);
  // HTTP/1.0 needs no Host.
  EXPECT_EQ(framing("GET / HTTP/1.0\r\n\r\n"), http::status::ok);
}

TEST(CheckFramingTest, RefusesEveryTransferEncodingButExactlyChunked) {
  const auto te = [](std::string_view value) {
    return checkFraming(head("POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: " +
                             std::string(value) + "\r\n\r\n"),
                        100);
  };
  EXPECT_EQ(te("gzip").status, http::status::bad_request);
  EXPECT_EQ(te("gzip").message, "the final transfer coding of a request must be chunked");
  EXPECT_EQ(te("chunked, gzip").status, http::status::bad_request);
  EXPECT_EQ(te("gzip, chunked").status, http::status::not_implemented);
  EXPECT_EQ(te("chunked, chunked").status, http::status::not_implemented);
  EXPECT_EQ(te("chunked,").message, "malformed Transfer-Encoding");
  EXPECT_EQ(te("chu\"nked").message, "malformed Transfer-Encoding");
  EXPECT_EQ(te("x chunked").message, "malformed Transfer-Encoding");
}

TEST(CheckFramingTest, RefusesTransferEncodingInHttp10AndTwice) {
  const Refusal http10 =
      checkFraming(head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 100);
  EXPECT_EQ(http10.status, http::status::bad_request);
  EXPECT_EQ(http10.message, "Transfer-Encoding is not allowed in HTTP/1.0");
  // Built by hand: Beast's parser already refuses a second "chunked".
  http::request_header<> two;
  two.version(11);
  two.method(http::verb::post);
  two.target("/");
  two.insert(http::field::host, "gw");
  two.insert(http::field::transfer_encoding, "chunked");
  two.insert(http::field::transfer_encoding, "chunked");
  const Refusal twice = checkFraming(two, 100);
  EXPECT_EQ(twice.status, http::status::bad_request);
  EXPECT_EQ(twice.message, "more than one Transfer-Encoding header");
}

TEST(CheckFramingTest, RefusesAMissingOrRepeatedHost) {
  EXPECT_EQ(framing("GET / HTTP/1.1\r\n\r\n"), http::status::bad_request);
  EXPECT_EQ(framing("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), http::status::bad_request);
  EXPECT_EQ(framing("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), http::status::bad_request);
  EXPECT_EQ(checkFraming(head("GET / HTTP/1.1\r\n\r\n"), 100).message,
            "a request needs exactly one Host header");
}

TEST(CheckFramingTest, RefusesMoreFieldsThanTheLimit) {
  std::string wire = "GET / HTTP/1.1\r\nHost: gw\r\n";
  for (int i = 1; i < 100; ++i) {
    wire += "X-F" + std::to_string(i) + ": v\r\n";
  }
  EXPECT_EQ(framing(wire + "\r\n"), http::status::ok);  // 100 fields, Host included
  const Refusal refusal = checkFraming(head(wire + "X-F100: v\r\n\r\n"), 100);
  EXPECT_EQ(refusal.status, http::status::request_header_fields_too_large);
  EXPECT_EQ(refusal.message, "the request has more than 100 header fields");
  EXPECT_EQ(framing("GET / HTTP/1.1\r\nHost: gw\r\nA: 1\r\n\r\n", 1),
            http::status::request_header_fields_too_large);
}

TEST(ReadRequestTest, RefusesTheHeadBeforeReadingTheBody) {
  // The refused request's body is never read: what follows is not taken for a request.
  const std::vector<Read> reads = readAll(
      "POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
      7);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_FALSE(reads[0].ec);
  EXPECT_EQ(reads[0].refusal.status, http::status::bad_request);
  const std::vector<Read> te = readAll(
      "POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: gzip, "
      "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      7);
  ASSERT_EQ(te.size(), 1u);
  EXPECT_EQ(te[0].refusal.status, http::status::not_implemented);
  EXPECT_EQ(readAll("GET / HTTP/1.1\r\n\r\n", 3)[0].refusal.status, http::status::bad_request);
}

// Regression (fuzz/corpus/http_request/crash-trailer-adds-a-host): Beast merges a chunked
// body's trailers into the fields; the server restores the head after the body, and so does
// readRequest(), so that a trailer can neither add a second Host nor reach the upstream.
TEST(ReadRequestTest, KeepsTrailerFieldsOutOfTheRequest) {
  for (size_t step : {1, 7, 4096}) {
    SCOPED_TRACE(step);
    const std::vector<Read> reads = readAll(
        "POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nHost: evil\r\nX-Trailer: 1\r\n\r\n",
        step);
    ASSERT_EQ(reads.size(), 2u);
    ASSERT_TRUE(!reads[0].ec && !reads[0].refusal.refused());
    const auto& request = reads[0].request;
    EXPECT_EQ(request.body(), "abc");
    EXPECT_EQ(request.count(http::field::host), 1u);
    EXPECT_EQ(request[http::field::host], "gw");
    EXPECT_EQ(request.count("X-Trailer"), 0u);
  }
}

TEST(ReadRequestTest, RefusesALongRequestLineWithoutWaitingForItsEnd) {
  const RequestLimits limits{.max_request_line_bytes = 32};
  // The line never ends: refused once 33 bytes have arrived, not at the head limit.
  const std::vector<Read> reads = readAll("GET /" + std::string(1000, 'a'), 8, limits);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].refusal.status, http::status::uri_too_long);
  EXPECT_FALSE(
      readAll("GET /" + std::string(16, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n", 8, limits)[0]
          .refusal.refused());
}

}  // namespace
}  // namespace dw::net
