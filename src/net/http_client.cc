#include "net/http_client.h"

#include "net/asio.h"

namespace dw::net {

asio::awaitable<StatusOr<HttpAnswer>> httpCallAsync(std::string method, std::string url,
                                                    std::string body, Duration timeout,
                                                    std::string bearer) {
  constexpr std::string_view kScheme = "http://";
  if (!std::string_view(url).starts_with(kScheme)) {
    co_return invalidArgument("'" + url + "' is not an http:// URL");
  }
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority(rest.substr(0, slash));
  std::string target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    co_return invalidArgument("unknown HTTP method " + method);
  }
  auto executor = co_await asio::this_coro::executor;
  error_code ec;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(host, port, redirect(ec));
  if (ec) {
    co_return unavailable("cannot resolve " + host + ": " + ec.message());
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(endpoints, redirect(ec));
  if (ec) {
    co_return unavailable("cannot connect to " + authority + ": " + ec.message());
  }
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, authority);
  request.set(http::field::user_agent, "deepwatch");
  request.set(http::field::content_type, "application/json");
  if (!bearer.empty()) {
    request.set(http::field::authorization, "Bearer " + bearer);
  }
  request.body() = std::move(body);
  request.prepare_payload();
  co_await http::async_write(stream, request, redirect(ec));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (!ec) {
    co_await http::async_read(stream, buffer, parser, redirect(ec));
  }
  if (ec) {
    co_return ec == beast::error::timeout ? deadlineExceeded("no answer in time")
                                          : unavailable("the request failed: " + ec.message());
  }
  HttpAnswer answer;
  answer.status = static_cast<int>(parser.get().result_int());
  answer.content_type = std::string(parser.get()[http::field::content_type]);
  answer.body = std::move(parser.get().body());
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return answer;
}

StatusOr<HttpAnswer> httpCall(std::string_view method, std::string_view url, std::string_view body,
                              Duration timeout, std::string_view bearer) {
  asio::io_context io;
  // StatusOr has no default constructor, which co_spawn's value completion needs: the result is
  // stored by a void coroutine instead.
  auto result = std::make_shared<StatusOr<HttpAnswer>>(unavailable("no answer"));
  asio::co_spawn(
      io,
      [result, method = std::string(method), url = std::string(url), body = std::string(body),
       timeout, bearer = std::string(bearer)]() -> asio::awaitable<void> {
        *result = co_await httpCallAsync(method, url, body, timeout, bearer);
      },
      asio::detached);
  io.run();
  return std::move(*result);
}

}  // namespace dw::net
