#include "net/request_head.h"

#include <algorithm>

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

}  // namespace dw::net
