#include "net/http_server.h"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <list>

#include "base/log.h"
#include "net/json_error.h"

namespace dw::net {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// A connection as the worker sees it: busy while a request is being handled. Idle connections
// are closed at once when the server stops; busy ones finish their exchange first.
struct ConnectionEntry {
  beast::tcp_stream* stream;
  bool busy = false;
};

// Worker-local registry of live connections, keyed by the worker's io_context.
thread_local std::list<ConnectionEntry>* tl_connections = nullptr;

http::status statusForParseError(const beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return http::status::request_header_fields_too_large;
  }
  if (ec == http::error::body_limit) {
    return http::status::payload_too_large;
  }
  return http::status::bad_request;
}

// After an early error response (413 while the client is still sending its body, say), closing
// at once would reset the connection and the client might never read the answer. As nginx's
// lingering close does, stop sending and discard what still arrives, within a bound.
asio::awaitable<void> lingeringClose(beast::tcp_stream& stream) {
  error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(2));
  static constexpr size_t kMaxDiscard = 16 * 1024 * 1024;
  std::array<char, 16384> discard;
  size_t total = 0;
  while (!ec && total < kMaxDiscard) {
    total += co_await stream.async_read_some(asio::buffer(discard), redirect(ec));
  }
}

}  // namespace

asio::awaitable<bool> Exchange::respond(Response response) {
  responded_ = true;
  response.version(11);
  response.keep_alive(keep_alive_ && request_.keep_alive());
  response.prepare_payload();
  error_code ec;
  co_await http::async_write(stream_, response, redirect(ec));
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  keep_alive_ = response.keep_alive();
  co_return true;
}

asio::awaitable<bool> Exchange::beginStream(http::response_header<> head) {
  responded_ = true;
  streaming_ = true;
  http::response<http::empty_body> response(std::move(head));
  response.version(11);
  response.chunked(true);
  response.keep_alive(keep_alive_ && request_.keep_alive());
  keep_alive_ = response.keep_alive();
  http::response_serializer<http::empty_body> serializer(response);
  error_code ec;
  co_await http::async_write_header(stream_, serializer, redirect(ec));
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Exchange::sendChunk(std::string_view data) {
  if (data.empty()) {
    co_return true;  // An empty chunk would end the chunked body.
  }
  error_code ec;
  co_await asio::async_write(
      stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())), redirect(ec));
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Exchange::endStream() {
  error_code ec;
  co_await asio::async_write(stream_, http::make_chunk_last(), redirect(ec));
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> respondText(Exchange& exchange, http::status status,
                                  std::string_view content_type, std::string body) {
  Response response(status, 11);
  response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  co_return co_await exchange.respond(std::move(response));
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { stop(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::create(ServerOptions options, Handler handler) {
  if (options.workers < 1) {
    return invalidArgument("an HTTP server needs at least one worker");
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), std::move(handler)));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(server->options_.host, ec);
  if (ec) {
    return invalidArgument("'" + server->options_.host + "' is not an IP address");
  }
  uint16_t port = server->options_.port;
  for (int i = 0; i < server->options_.workers; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->io = std::make_unique<asio::io_context>(1);
    worker->acceptor = std::make_unique<tcp::acceptor>(*worker->io);
    tcp::endpoint endpoint(address, port);
    auto& acceptor = *worker->acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor.set_option(ReusePort(true), ec);
    }
    if (!ec) {
      acceptor.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return unavailable("cannot listen on " + server->options_.host + ":" + std::to_string(port) +
                         ": " + ec.message());
    }
    // The first acceptor may have been given an ephemeral port; the others share it.
    port = acceptor.local_endpoint().port();
    server->workers_.push_back(std::move(worker));
  }
  server->port_ = port;
  return server;
}

void HttpServer::start() {
  started_ = true;
  for (int i = 0; i < static_cast<int>(workers_.size()); ++i) {
    Worker& worker = *workers_[i];
    asio::co_spawn(*worker.io, acceptLoop(worker, i), asio::detached);
    worker.thread = std::thread([&worker] {
      std::list<ConnectionEntry> connections;
      tl_connections = &connections;
      worker.io->run();
      tl_connections = nullptr;
    });
  }
}

void HttpServer::stop() {
  if (stopped_.exchange(true)) {
    wait();
    return;
  }
  if (!started_) {
    return;
  }
  for (auto& worker_ptr : workers_) {
    Worker& worker = *worker_ptr;
    Duration drain = options_.drain_timeout;
    asio::post(*worker.io, [&worker, drain] {
      worker.stopping = true;
      boost::system::error_code ignored;
      worker.acceptor->close(ignored);
      if (tl_connections != nullptr) {
        for (ConnectionEntry& entry : *tl_connections) {
          if (!entry.busy) {
            entry.stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
            entry.stream->close();
          }
        }
      }
      // The drain bound: whatever is still running then is abandoned.
      auto timer = std::make_shared<asio::steady_timer>(*worker.io, drain);
      timer->async_wait([&worker, timer](const boost::system::error_code& ec) {
        if (!ec) {
          worker.io->stop();
        }
      });
      // Polls for the last connection to leave so that run() returns early.
      auto poll = std::make_shared<std::function<void()>>();
      auto poll_timer = std::make_shared<asio::steady_timer>(*worker.io);
      *poll = [&worker, timer, poll_timer, poll] {
        if (worker.active_connections == 0) {
          timer->cancel();
          *poll = nullptr;  // Breaks the self-reference.
          return;
        }
        poll_timer->expires_after(std::chrono::milliseconds(20));
        poll_timer->async_wait([poll](const boost::system::error_code&) {
          if (*poll) {
            (*poll)();
          }
        });
      };
      (*poll)();
    });
  }
  wait();
}

void HttpServer::wait() {
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
}

asio::awaitable<void> HttpServer::acceptLoop(Worker& worker, int index) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await worker.acceptor->async_accept(redirect(ec));
    if (ec) {
      if (worker.stopping || ec == asio::error::operation_aborted) {
        co_return;
      }
      // EMFILE and friends: back off briefly rather than spin.
      DW_LOG_WARN("accept failed: {}", ec.message());
      asio::steady_timer pause(*worker.io, std::chrono::milliseconds(50));
      co_await pause.async_wait(redirect(ec));
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(*worker.io, serveConnection(worker, index, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serveConnection(Worker& worker, int index, tcp::socket socket) {
  ++worker.active_connections;
  beast::tcp_stream stream(std::move(socket));
  tl_connections->push_front(ConnectionEntry{&stream});
  auto entry = tl_connections->begin();
  beast::flat_buffer buffer;
  for (;;) {
    if (worker.stopping) {
      break;
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    stream.expires_after(options_.idle_timeout);
    error_code ec;
    co_await http::async_read_header(stream, buffer, parser, redirect(ec));
    if (!ec && !parser.is_done()) {
      stream.expires_after(options_.header_timeout);
      co_await http::async_read(stream, buffer, parser, redirect(ec));
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
          ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
          ec != asio::error::eof && !worker.stopping) {
        // A malformed or oversized request: answer once, then close, because the framing of
        // whatever follows on this connection cannot be trusted.
        Response response(statusForParseError(ec), 11);
        response.set(http::field::content_type, "application/json");
        response.set(http::field::connection, "close");
        response.body() = openAiErrorJson(ec.message(), "invalid_request_error", "", "");
        response.prepare_payload();
        stream.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, response, redirect(ec));
        co_await lingeringClose(stream);
      }
      break;
    }
    entry->busy = true;
    stream.expires_never();
    Request request = parser.release();
    Exchange exchange(stream, request, index);
    co_await handler_(exchange);
    if (!exchange.responded()) {
      co_await respondText(exchange, http::status::internal_server_error, "application/json",
                           openAiErrorJson("the handler sent no response", "server_error", "", ""));
    }
    entry->busy = false;
    if (!exchange.keepAlive() || !request.keep_alive()) {
      break;
    }
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  tl_connections->erase(entry);
  --worker.active_connections;
}

}  // namespace dw::net
