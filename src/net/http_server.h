// A small HTTP/1.1 server on Boost.Beast with C++20 coroutines: the listeners of the gateway
// (API and admin) and of the reference model.
//
// Threading: W worker threads, each running its own io_context with its own SO_REUSEPORT
// acceptor (STYLE.md, Threading). A connection lives on one worker for life, so a handler runs
// on one thread and state it keeps per worker needs no lock. start(), stop() and wait() are
// called from the owning (control) thread.
#pragma once

#include <array>
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
#include "net/watchdog.h"

namespace dw::net {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the OS picks one; port() tells which.
  int workers = 1;
  uint32_t max_header_bytes = 64 * 1024;       // Above: 431.
  uint32_t max_header_count = 100;             // Header fields; above: 431 (Envoy, Kestrel).
  uint32_t max_request_line_bytes = 8 * 1024;  // Above: 414 (nginx's large header buffer).
  uint64_t max_body_bytes = 8 * 1024 * 1024;   // Above: 413.
  // Open connections on this listener, all workers together; the ones past it are accepted and
  // closed at once (Envoy's listener connection_limit). 0: no limit.
  int max_connections = 10000;
  // Request bodies buffered at once, all workers together (a worker's share is never below
  // max_body_bytes). A request whose declared body does not fit gets 503 with Retry-After before
  // its body is read: load is shed before memory runs out. 0: no limit.
  uint64_t max_buffered_body_bytes = 512ULL * 1024 * 1024;
  Duration header_timeout = std::chrono::seconds(10);  // Slowloris bound for a request.
  Duration idle_timeout = std::chrono::seconds(60);    // Keep-alive idle limit between requests.
  Duration send_timeout = std::chrono::seconds(60);    // A client that stops reading.
  Duration drain_timeout = std::chrono::seconds(10);   // stop(): in-flight work gets this long.
};

class Connection;

// One request and the ways to answer it. Valid until the handler's coroutine returns. Methods run
// on the connection's worker thread only.
class Exchange {
 public:
  Exchange(Connection& connection, Request& request, int worker)
      : connection_(connection), request_(request), worker_(worker) {}

  const Request& request() const { return request_; }
  Request& mutableRequest() { return request_; }
  int worker() const { return worker_; }
  // The client's address ("127.0.0.1"), or empty when the socket no longer knows it.
  std::string remoteAddress() const;

  // Sends a complete response (Content-Length framing). Returns false when the client is gone.
  asio::awaitable<bool> respond(Response response);

  // Sends bytes that are already a complete HTTP/1.1 response: `head` (status line and headers,
  // ending with the blank line) then `body`. The caller frames it (Content-Length) and says
  // whether the connection stays open.
  asio::awaitable<bool> respondRaw(std::string_view head, std::string_view body, bool keep_alive);

  // Starts a chunked response from a raw head (which must say transfer-encoding: chunked).
  asio::awaitable<bool> beginStreamRaw(std::string_view head, bool keep_alive);
  // Starts a chunked response with `head`'s status and fields; then sendChunk() and endStream().
  asio::awaitable<bool> beginStream(http::response_header<> head);
  asio::awaitable<bool> sendChunk(std::string_view data);
  asio::awaitable<bool> endStream();

  bool responded() const { return responded_; }
  // The status of a response sent with respond() (0 for the raw and streamed forms).
  unsigned responseStatus() const { return status_; }
  bool keepAlive() const { return keep_alive_; }
  // Asks the connection to close after this response.
  void closeAfter() { keep_alive_ = false; }
  // True when the request asked for the connection to stay open (HTTP/1.1 default).
  bool clientKeepAlive() const { return request_.keep_alive(); }

 private:
  template <size_t N>
  asio::awaitable<bool> write(const std::array<asio::const_buffer, N>& buffers);

  Connection& connection_;
  Request& request_;
  int worker_;
  bool responded_ = false;
  bool keep_alive_ = true;
  unsigned status_ = 0;
};

using Handler = std::function<asio::awaitable<void>(Exchange&)>;

class HttpServer {
 public:
  // Binds the listeners; does not run them yet. The handler is called on worker threads.
  static StatusOr<std::unique_ptr<HttpServer>> create(ServerOptions options, Handler handler);
  ~HttpServer();

  uint16_t port() const { return port_; }

  // Starts the worker threads and returns. `on_worker_start(i)` runs first on worker i's thread.
  void start(std::function<void(int)> on_worker_start = {});
  // Stops accepting, closes idle connections, lets in-flight exchanges finish within
  // drain_timeout, then joins the workers. Idempotent.
  void stop();
  // Blocks until every worker has finished.
  void wait();

  // The io_context of worker `i`, for work that must run on that worker.
  asio::io_context& context(int i);
  // The watchdog of worker `i`: handlers time their own sockets (upstreams) with it.
  Watchdog& watchdog(int i);
  int workers() const { return static_cast<int>(workers_.size()); }
  // In-flight exchanges on all workers (approximate; for readiness and drain reporting).
  int activeExchanges() const { return active_exchanges_.load(std::memory_order_relaxed); }
  // Open client connections, and the counts of those refused past max_connections and of the
  // requests shed past max_buffered_body_bytes (for /metrics; any thread).
  int openConnections() const { return open_connections_.load(std::memory_order_relaxed); }
  uint64_t rejectedConnections() const {
    return rejected_connections_.load(std::memory_order_relaxed);
  }
  uint64_t shedRequests() const { return shed_requests_.load(std::memory_order_relaxed); }
  // Requests answered 503 because setShedding(true) was in force (memory pressure).
  uint64_t shedForMemory() const { return shed_for_memory_.load(std::memory_order_relaxed); }
  // While true, every new request gets 503 with Retry-After before its body is read (any
  // thread; the gateway's memory guard sets it). One relaxed load per request.
  void setShedding(bool shed) { shedding_.store(shed, std::memory_order_relaxed); }

 private:
  struct Worker;
  HttpServer(ServerOptions options, Handler handler);
  asio::awaitable<void> acceptLoop(Worker& worker, int index);
  asio::awaitable<void> serveConnection(Worker& worker, int index, tcp::socket socket);
  void beginDrain(Worker& worker);

  ServerOptions options_;
  Handler handler_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_exchanges_{0};
  // One increment per connection, not per request: a limit that must hold across workers.
  std::atomic<int> open_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};
  std::atomic<uint64_t> shed_requests_{0};
  std::atomic<uint64_t> shed_for_memory_{0};
  std::atomic<bool> shedding_{false};
  uint64_t worker_body_budget_ = 0;  // This worker's share of max_buffered_body_bytes.
  bool started_ = false;
};

// Writes a complete response with the given status, content type and body on `exchange`.
asio::awaitable<bool> respondText(Exchange& exchange, http::status status,
                                  std::string_view content_type, std::string body);

}  // namespace dw::net
