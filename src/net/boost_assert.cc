// Boost's assertion handler for builds without NDEBUG (Debug, and the fuzz build, which keeps
// assertions on): BOOST_ENABLE_ASSERT_DEBUG_HANDLER (cmake/warnings.cmake) routes a failed
// BOOST_ASSERT here, and release builds compile the assertions out as before.
//
// One assertion of Boost 1.74's HTTP parser is wrong: parse_chunk_header() asserts `n >= 5`
// when the last chunk of a body ("0\r\n", with no chunk before it) arrives in reads of under 5
// bytes, although the code after it handles that case (it asks for more bytes). Without this
// handler a client could abort a Debug build of the gateway with such a request; fuzz/
// http_request_fuzz.cc found it. Fixed upstream in Beast (boostorg/beast#2861, Boost 1.86).
// Every other failed assertion aborts, as assert() does.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <boost/assert.hpp>

namespace boost {
namespace {

bool knownFalseAssertion(std::string_view expr, std::string_view file) {
  return expr == "n >= 5" && file.ends_with("beast/http/impl/basic_parser.ipp");
}

}  // namespace

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  if (knownFalseAssertion(expr, file)) {
    return;
  }
  std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file,
                          long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
