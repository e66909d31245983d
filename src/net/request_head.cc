#include "net/request_head.h"

#include <algorithm>
#include <cctype>

namespace dw::net {

size_t headSize(std::string_view bytes, size_t from) {
  // A terminator may straddle the end of the previous search: look again from 2 bytes before.
  const size_t start = from >= 2 ? from - 2 : 0;
  const size_t lf_end = bytes.find("\n\n", start);
  const size_t crlf_end = bytes.find("\n\r\n", start);
  if (lf_end == std::string_view::npos && crlf_end == std::string_view::npos) {
    return std::string_view::npos;
  }
  return std::min(lf_end == std::string_view::npos ? bytes.size() : lf_end + 2,
                  crlf_end == std::string_view::npos ? bytes.size() : crlf_end + 3);
}

bool hasObsFold(std::string_view head) {
  // A line that starts with a space or a tab continues the previous one. The last byte of the
  // head is the blank line's LF, which no header line follows.
  for (size_t i = 0; i + 2 < head.size(); ++i) {
    if (head[i] == '\n' && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
      return true;
    }
  }
  return false;
}

namespace {

std::string_view trimOws(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  return value;
}

// RFC 9110 5.6.2: the characters of a token (a transfer coding's name).
bool isToken(std::string_view s) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != kSpecials.npos;
  });
}

}  // namespace

Refusal checkRequestLine(std::string_view bytes, uint32_t limit) {
  if (bytes.size() > limit && bytes.find('\n') > limit) {
    return {http::status::uri_too_long,
            "the request line is longer than " + std::to_string(limit) + " bytes"};
  }
  return {};
}

Refusal checkFraming(const http::request_header<>& header, uint32_t max_header_count) {
  size_t fields = 0;
  size_t hosts = 0;
  size_t codings = 0;
  std::string_view te;
  for (const auto& field : header) {
    ++fields;
    if (field.name() == http::field::host) {
      ++hosts;
    } else if (field.name() == http::field::transfer_encoding) {
      ++codings;
      te = field.value();
    }
  }
  if (fields > max_header_count) {
    return {http::status::request_header_fields_too_large,
            "the request has more than " + std::to_string(max_header_count) + " header fields"};
  }
  if (header.version() >= 11 ? hosts != 1 : hosts > 1) {
    return {http::status::bad_request, "a request needs exactly one Host header"};
  }
  if (codings == 0) {
    return {};
  }
  if (header.version() < 11) {
    return {http::status::bad_request, "Transfer-Encoding is not allowed in HTTP/1.0"};
  }
  if (codings > 1) {
    return {http::status::bad_request, "more than one Transfer-Encoding header"};
  }
  size_t count = 0;
  std::string_view last;
  for (std::string_view rest = te;;) {
    const size_t comma = rest.find(',');
    last = trimOws(rest.substr(0, comma));
    ++count;
    if (!isToken(last)) {
      return {http::status::bad_request, "malformed Transfer-Encoding"};
    }
    if (comma == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  if (!beast::iequals(last, "chunked")) {
    return {http::status::bad_request, "the final transfer coding of a request must be chunked"};
  }
  if (count > 1) {
    return {http::status::not_implemented, "only the chunked transfer coding is supported"};
  }
  return {};
}

}  // namespace dw::net
