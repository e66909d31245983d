// A small HTTP/1.1 server on Boost.Beast with C++20 coroutines, for the listeners that are not
// the gateway's data path: the reference model, the admin listener, test peers.
//
// Threading: W worker threads, each running its own io_context with its own SO_REUSEPORT
// acceptor (STYLE.md, Threading). A connection lives on one worker for life, so a handler runs
// on one thread and state it keeps per worker needs no lock. start() and stop() are called from
// the owning (control) thread; stop() is also safe from a signal-handling coroutine.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "net/asio.h"

namespace dw::net {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS picks one; port() tells which.
  int workers = 1;
  uint32_t max_header_bytes = 64 * 1024;               // Above: 431.
  uint64_t max_body_bytes = 8 * 1024 * 1024;           // Above: 413.
  Duration header_timeout = std::chrono::seconds(10);  // Slowloris bound (408, then close).
  Duration idle_timeout = std::chrono::seconds(60);  // Keep-alive connections idle this long close.
  Duration drain_timeout = std::chrono::seconds(10);  // stop(): in-flight work gets this long.
};

// One request and the ways to answer it. Owned by the connection; valid until the handler's
// coroutine returns. Methods run on the connection's worker thread only.
class Exchange {
 public:
  Exchange(beast::tcp_stream& stream, Request& request, int worker)
      : stream_(stream), request_(request), worker_(worker) {}

  const Request& request() const { return request_; }
  int worker() const { return worker_; }

  // Sends a complete response (Content-Length framing). Returns false when the client is gone.
  asio::awaitable<bool> respond(Response response);

  // Starts a chunked response with `head`'s status and fields; then sendChunk() and endStream().
  asio::awaitable<bool> beginStream(http::response_header<> head);
  asio::awaitable<bool> sendChunk(std::string_view data);
  asio::awaitable<bool> endStream();

  bool responded() const { return responded_; }
  bool keepAlive() const { return keep_alive_; }
  // Asks the connection to close after this response (e.g. after a fault or a bad request).
  void closeAfter() { keep_alive_ = false; }

 private:
  beast::tcp_stream& stream_;
  Request& request_;
  int worker_;
  bool responded_ = false;
  bool streaming_ = false;
  bool keep_alive_ = true;
};

using Handler = std::function<asio::awaitable<void>(Exchange&)>;

class HttpServer {
 public:
  // Binds the listeners; does not run them yet. The handler is called on worker threads.
  static StatusOr<std::unique_ptr<HttpServer>> create(ServerOptions options, Handler handler);
  ~HttpServer();

  uint16_t port() const { return port_; }

  // Starts the worker threads and returns.
  void start();
  // Stops accepting, lets in-flight exchanges finish within drain_timeout, then joins the
  // workers. Idempotent.
  void stop();
  // Blocks until stop() has finished.
  void wait();

  // The io_context of worker `i`, for work that must run on that worker (timers, clients).
  asio::io_context& context(int i) { return *workers_[i]->io; }
  int workers() const { return static_cast<int>(workers_.size()); }

 private:
  struct Worker {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::thread thread;
    int active_connections = 0;  // Worker-local.
    bool stopping = false;       // Worker-local.
  };

  HttpServer(ServerOptions options, Handler handler);
  asio::awaitable<void> acceptLoop(Worker& worker, int index);
  asio::awaitable<void> serveConnection(Worker& worker, int index, tcp::socket socket);

  ServerOptions options_;
  Handler handler_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopped_{false};
  bool started_ = false;
};

// Writes a complete response with the given status, content type and body on `exchange`.
asio::awaitable<bool> respondText(Exchange& exchange, http::status status,
                                  std::string_view content_type, std::string body);

}  // namespace dw::net
