#include "net/http_client.h"

#include "net/asio.h"

namespace dw::net {

StatusOr<HttpAnswer> httpCall(std::string_view method, std::string_view url, std::string_view body,
                              Duration timeout) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    return invalidArgument("'" + std::string(url) + "' is not an http:// URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = authority.rfind(':');
  const std::string host(authority.substr(0, colon));
  const std::string port = colon == std::string_view::npos ? "80"
                                                           : std::string(authority.substr(colon + 1));
  const http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return invalidArgument("unknown HTTP method " + std::string(method));
  }
  asio::io_context io;
  StatusOr<HttpAnswer> result = unavailable("no answer");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        error_code ec;
        tcp::resolver resolver(io);
        auto endpoints = co_await resolver.async_resolve(host, port, redirect(ec));
        if (ec) {
          result = unavailable("cannot resolve " + host + ": " + ec.message());
          co_return;
        }
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        co_await stream.async_connect(endpoints, redirect(ec));
        if (ec) {
          result = unavailable("cannot connect to " + std::string(authority) + ": " + ec.message());
          co_return;
        }
        http::request<http::string_body> request(verb, target, 11);
        request.set(http::field::host, authority);
        request.set(http::field::user_agent, "deepwatch-cli");
        request.set(http::field::content_type, "application/json");
        request.body() = std::string(body);
        request.prepare_payload();
        co_await http::async_write(stream, request, redirect(ec));
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        if (!ec) {
          co_await http::async_read(stream, buffer, parser, redirect(ec));
        }
        if (ec) {
          result = ec == beast::error::timeout ? deadlineExceeded("no answer in time")
                                               : unavailable("the request failed: " + ec.message());
          co_return;
        }
        HttpAnswer answer;
        answer.status = static_cast<int>(parser.get().result_int());
        answer.content_type = std::string(parser.get()[http::field::content_type]);
        answer.body = std::move(parser.get().body());
        result = std::move(answer);
      },
      asio::detached);
  io.run();
  return result;
}

}  // namespace dw::net
