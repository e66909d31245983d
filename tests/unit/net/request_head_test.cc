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
  http::request<http::string_body> request;
};

std::vector<Read> readAll(std::string_view wire, size_t step, RequestLimits limits = {}) {
  PieceStream stream(wire, step);
  beast::flat_buffer buffer;
  std::vector<Read> reads;
  for (;;) {
    http::request_parser<http::string_body> parser;
    Read read;
    read.ec = readRequest(stream, buffer, limits, parser);
    if (!read.ec) {
      read.request = parser.release();
    }
    reads.push_back(std::move(read));
    if (reads.back().ec) {
      return reads;
    }
  }
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
      "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
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
        "POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n",
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
  EXPECT_EQ(readAll("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", 7, small)[0].ec,
            http::error::body_limit);
  EXPECT_FALSE(readAll("POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678", 7, small)[0].ec);
}

TEST(ReadRequestTest, TellsAnEmptyStreamFromACutRequest) {
  EXPECT_EQ(readAll("", 16)[0].ec, http::error::end_of_stream);
  EXPECT_EQ(readAll("GET / HTTP/1.1\r\nHo", 16)[0].ec, http::error::partial_message);
  EXPECT_EQ(readAll("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n1234", 16)[0].ec,
            http::error::partial_message);
}

TEST(ReadRequestTest, RefusesBareLineFeeds) {
  EXPECT_TRUE(readAll("GET / HTTP/1.1\nHost: gw\n\n", 16)[0].ec);
}

}  // namespace
}  // namespace dw::net
