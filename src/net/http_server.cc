#include "net/http_server.h"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <list>
#include <optional>

#include "base/log.h"
#include "base/random.h"
#include "net/json_error.h"
#include "net/request_head.h"

namespace dw::net {

// One client connection: its socket, read buffer and deadline. Lives in its serving coroutine's
// frame; listed in its worker so that a drain can close it while idle.
class Connection {
 public:
  explicit Connection(tcp::socket socket) : socket(std::move(socket)), watched(this->socket) {
    // Room for a whole typical request at the first read: Beast reads only 512 bytes into an
    // empty buffer, which would cost a second system call per request.
    buffer.reserve(16 * 1024);
  }

  tcp::socket socket;
  Watched watched;
  beast::flat_buffer buffer;
  Duration send_timeout{};
  bool busy = false;
};

struct HttpServer::Worker {
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<Watchdog> watchdog;
  std::unique_ptr<asio::steady_timer> drain_timer;
  std::thread thread;
  std::list<Connection*> connections;  // Worker-local.
  bool stopping = false;               // Worker-local.
  uint64_t buffered_body_bytes = 0;    // Worker-local: bodies being read or handled.
};

namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

http::status statusForParseError(const error_code& ec) {
  if (ec == http::error::header_limit) {
    return http::status::request_header_fields_too_large;
  }
  if (ec == http::error::body_limit) {
    return http::status::payload_too_large;
  }
  return http::status::bad_request;
}

// Reads into the connection's buffer until it holds a whole head (up to the blank line) and
// returns the head's size; a head over `limit` bytes is a header_limit error (431). A first line
// longer than `line_limit` sets `*refusal` (414, checkRequestLine()) without reading further.
asio::awaitable<size_t> readHead(Connection& connection, size_t limit, uint32_t line_limit,
                                 Refusal* refusal, error_code& ec) {
  size_t scanned = 0;
  for (;;) {
    const auto* data = static_cast<const char*>(connection.buffer.data().data());
    const std::string_view bytes(data, connection.buffer.size());
    if (Refusal line = checkRequestLine(bytes, line_limit); line.refused()) {
      *refusal = std::move(line);
      co_return 0;
    }
    // The same steps as readRequest() (net/request_head.h), which the fuzz target runs.
    if (const size_t head = headSize(bytes, scanned); head != std::string_view::npos) {
      co_return head;
    }
    scanned = bytes.size();
    if (bytes.size() >= limit) {
      ec = http::error::header_limit;
      co_return 0;
    }
    const size_t want = std::min<size_t>(16 * 1024, limit - bytes.size());
    const size_t n =
        co_await connection.socket.async_read_some(connection.buffer.prepare(want), redirect(ec));
    connection.buffer.commit(n);
    if (ec) {
      if (ec == asio::error::eof) {
        // A client that closes mid-head gets a 400 for what it sent; between requests, nothing.
        ec = connection.buffer.size() == 0 ? error_code(http::error::end_of_stream)
                                           : error_code(http::error::partial_message);
      }
      co_return 0;
    }
  }
}

// A request id for answers given before a request was parsed (so that every response carries
// one, as the SDKs expect).
std::string generatedRequestId() {
  thread_local Random random(
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      std::hash<std::thread::id>()(std::this_thread::get_id()));
  char id[24];
  std::snprintf(id, sizeof(id), "req_%016llx", static_cast<unsigned long long>(random.next()));
  return id;
}

bool isQuietReadError(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::eof ||
         ec == asio::error::bad_descriptor;
}

// After an early error response (413 while the client is still sending its body, say), closing
// at once would reset the connection and the client might never read the answer. As nginx's
// lingering close does, stop sending and discard what still arrives, within a bound.
asio::awaitable<void> lingeringClose(Connection& connection) {
  error_code ec;
  connection.socket.shutdown(tcp::socket::shutdown_send, ec);
  connection.watched.arm(std::chrono::seconds(2));
  static constexpr size_t kMaxDiscard = 16 * 1024 * 1024;
  std::array<char, 16384> discard;
  size_t total = 0;
  while (!ec && total < kMaxDiscard) {
    total += co_await connection.socket.async_read_some(asio::buffer(discard), redirect(ec));
  }
}

}  // namespace

constexpr char kCrlf[] = "\r\n";
constexpr char kLastChunk[] = "0\r\n\r\n";

template <size_t N>
asio::awaitable<bool> Exchange::write(const std::array<asio::const_buffer, N>& buffers) {
  error_code ec;
  connection_.watched.arm(connection_.send_timeout);
  co_await asio::async_write(connection_.socket, buffers, redirect(ec));
  connection_.watched.disarm();
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  co_return true;
}

std::string Exchange::remoteAddress() const {
  error_code ec;
  const auto endpoint = connection_.socket.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

asio::awaitable<bool> Exchange::respond(Response response) {
  responded_ = true;
  status_ = response.result_int();
  response.version(11);
  response.keep_alive(keep_alive_ && request_.keep_alive());
  response.prepare_payload();
  keep_alive_ = response.keep_alive();
  error_code ec;
  connection_.watched.arm(connection_.send_timeout);
  co_await http::async_write(connection_.socket, response, redirect(ec));
  connection_.watched.disarm();
  if (ec) {
    keep_alive_ = false;
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> Exchange::respondRaw(std::string_view head, std::string_view body,
                                           bool keep_alive) {
  responded_ = true;
  keep_alive_ = keep_alive_ && keep_alive;
  const std::array<asio::const_buffer, 2> buffers = {asio::buffer(head.data(), head.size()),
                                                     asio::buffer(body.data(), body.size())};
  co_return co_await write(buffers);
}

asio::awaitable<bool> Exchange::beginStreamRaw(std::string_view head, bool keep_alive) {
  responded_ = true;
  keep_alive_ = keep_alive_ && keep_alive;
  const std::array<asio::const_buffer, 1> buffers = {asio::buffer(head.data(), head.size())};
  co_return co_await write(buffers);
}

asio::awaitable<bool> Exchange::beginStream(http::response_header<> head) {
  responded_ = true;
  http::response<http::empty_body> response(std::move(head));
  response.version(11);
  response.chunked(true);
  response.keep_alive(keep_alive_ && request_.keep_alive());
  keep_alive_ = response.keep_alive();
  http::response_serializer<http::empty_body> serializer(response);
  error_code ec;
  connection_.watched.arm(connection_.send_timeout);
  co_await http::async_write_header(connection_.socket, serializer, redirect(ec));
  connection_.watched.disarm();
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
  char size_line[24];
  int n = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", data.size());
  const std::array<asio::const_buffer, 3> buffers = {
      asio::buffer(size_line, static_cast<size_t>(n)), asio::buffer(data.data(), data.size()),
      asio::buffer(kCrlf, 2)};
  co_return co_await write(buffers);
}

asio::awaitable<bool> Exchange::endStream() {
  const std::array<asio::const_buffer, 1> buffers = {asio::buffer(kLastChunk, 5)};
  co_return co_await write(buffers);
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
  error_code ec;
  auto address = asio::ip::make_address(server->options_.host, ec);
  if (ec) {
    return invalidArgument("'" + server->options_.host + "' is not an IP address");
  }
  uint16_t port = server->options_.port;
  for (int i = 0; i < server->options_.workers; ++i) {
    auto worker = std::make_unique<Worker>();
    // One thread runs each io_context; reactor I/O needs no locking (posts from other threads stay
    // safe: the scheduler keeps its lock).
    worker->io = std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO);
    worker->acceptor = std::make_unique<tcp::acceptor>(*worker->io);
    worker->watchdog = std::make_unique<Watchdog>(*worker->io);
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
  const auto& o = server->options_;
  if (o.max_buffered_body_bytes > 0) {
    // A request as large as the body limit always fits an otherwise idle worker.
    server->worker_body_budget_ = std::max<uint64_t>(
        o.max_buffered_body_bytes / static_cast<uint64_t>(o.workers), o.max_body_bytes);
  }
  return server;
}

asio::io_context& HttpServer::context(int i) { return *workers_[i]->io; }
Watchdog& HttpServer::watchdog(int i) { return *workers_[i]->watchdog; }

void HttpServer::start(std::function<void(int)> on_worker_start) {
  started_ = true;
  for (int i = 0; i < static_cast<int>(workers_.size()); ++i) {
    Worker& worker = *workers_[i];
    worker.watchdog->start();
    asio::co_spawn(*worker.io, acceptLoop(worker, i), asio::detached);
    worker.thread = std::thread([&worker, i, on_worker_start] {
      if (on_worker_start) {
        on_worker_start(i);
      }
      worker.io->run();
    });
  }
}

void HttpServer::beginDrain(Worker& worker) {
  worker.stopping = true;
  error_code ignored;
  worker.acceptor->close(ignored);
  for (Connection* connection : worker.connections) {
    if (!connection->busy) {
      connection->socket.cancel(ignored);
    }
  }
  worker.drain_timer = std::make_unique<asio::steady_timer>(*worker.io, options_.drain_timeout);
  worker.drain_timer->async_wait([&worker](const error_code& ec) {
    if (!ec) {
      worker.io->stop();  // The drain bound: whatever still runs is abandoned.
    }
  });
  if (worker.connections.empty()) {
    worker.drain_timer->cancel();
    worker.watchdog->stop();
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
  for (auto& worker : workers_) {
    asio::post(*worker->io, [this, &worker = *worker] { beginDrain(worker); });
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
    if (options_.max_connections > 0 &&
        open_connections_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections) {
      // Past the listener's limit (a connection flood): closed at once, so that neither the
      // backlog nor memory fills with them, while established connections keep being served.
      open_connections_.fetch_sub(1, std::memory_order_relaxed);
      rejected_connections_.fetch_add(1, std::memory_order_relaxed);
      socket.close(ec);
      continue;
    }
    if (options_.max_connections <= 0) {
      open_connections_.fetch_add(1, std::memory_order_relaxed);
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(*worker.io, serveConnection(worker, index, std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serveConnection(Worker& worker, int index, tcp::socket socket) {
  Connection connection(std::move(socket));
  connection.send_timeout = options_.send_timeout;
  connection.watched.attach(*worker.watchdog);
  worker.connections.push_front(&connection);
  auto entry = worker.connections.begin();
  bool first = true;
  while (!worker.stopping) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(options_.max_header_bytes);
    parser.body_limit(options_.max_body_bytes);
    error_code ec;
    Refusal refusal;
    connection.watched.arm(first || connection.buffer.size() > 0 ? options_.header_timeout
                                                                 : options_.idle_timeout);
    // The head is read whole first and checked for what Beast's parser tolerates but a proxy
    // must refuse (obs-fold: RFC 9112 5.2), then parsed from the buffer.
    const size_t head_size = co_await readHead(connection, options_.max_header_bytes,
                                               options_.max_request_line_bytes, &refusal, ec);
    if (!ec && !refusal.refused() &&
        hasObsFold(std::string_view(static_cast<const char*>(connection.buffer.data().data()),
                                    head_size))) {
      ec = http::error::bad_field;
    }
    if (!ec && !refusal.refused()) {
      co_await http::async_read_header(connection.socket, connection.buffer, parser, redirect(ec));
    }
    if (!ec && !refusal.refused()) {
      refusal = checkFraming(parser.get(), options_.max_header_count);
    }
    connection.busy = true;
    uint64_t reserved = 0;
    std::optional<http::request_header<>> header;
    if (!ec && !refusal.refused() && shedding_.load(std::memory_order_relaxed)) {
      shed_for_memory_.fetch_add(1, std::memory_order_relaxed);
      refusal = {http::status::service_unavailable,
                 "the server is overloaded (memory); retry shortly"};
    }
    if (!ec && !refusal.refused() && !parser.is_done()) {
      // The body is buffered whole: it counts against the worker's share of the budget from now
      // until the exchange ends. A chunked body may grow to the limit.
      reserved = parser.chunked() ? options_.max_body_bytes : parser.content_length().value_or(0);
      if (worker_body_budget_ > 0 && worker.buffered_body_bytes + reserved > worker_body_budget_) {
        shed_requests_.fetch_add(1, std::memory_order_relaxed);
        refusal = {http::status::service_unavailable,
                   "the server is overloaded (request bodies in memory); retry shortly"};
        reserved = 0;
      } else {
        worker.buffered_body_bytes += reserved;
        if (parser.chunked()) {
          // Beast merges chunked trailers into the header fields: the fields are restored after
          // the body, so that a trailer never reaches auth or the upstream (catalog case 8).
          header = parser.get().base();
        }
        connection.watched.arm(options_.header_timeout);
        co_await http::async_read(connection.socket, connection.buffer, parser, redirect(ec));
      }
    }
    const bool timed_out = connection.watched.timedOut();
    connection.watched.disarm();
    first = false;
    if (ec || refusal.refused()) {
      worker.buffered_body_bytes -= reserved;
      if (!refusal.refused() && timed_out && (connection.buffer.size() > 0 || parser.got_some())) {
        // A request that did not arrive within header_timeout (slowloris, slow POST).
        refusal = {http::status::request_timeout, "the request did not arrive in time"};
      } else if (!refusal.refused() && !isQuietReadError(ec)) {
        refusal = {statusForParseError(ec), ec.message()};
      }
      if (refusal.refused() && !worker.stopping) {
        // A malformed, oversized or shed request: answer once, then close, because the framing
        // of whatever follows on this connection cannot be trusted.
        Response response(refusal.status, 11);
        response.set(http::field::content_type, "application/json");
        response.set(http::field::connection, "close");
        response.set("x-request-id", generatedRequestId());
        if (refusal.status == http::status::service_unavailable) {
          response.set(http::field::retry_after, "1");
        }
        response.body() = openAiErrorJson(
            refusal.message,
            refusal.status == http::status::service_unavailable ? "server_error"
                                                                : "invalid_request_error",
            "", refusal.status == http::status::service_unavailable ? "overloaded" : "");
        response.prepare_payload();
        connection.watched.arm(std::chrono::seconds(5));
        co_await http::async_write(connection.socket, response, redirect(ec));
        co_await lingeringClose(connection);
      }
      break;
    }
    Request request = parser.release();
    if (header) {
      request.base() = std::move(*header);
    }
    Exchange exchange(connection, request, index);
    active_exchanges_.fetch_add(1, std::memory_order_relaxed);
    co_await handler_(exchange);
    if (!exchange.responded()) {
      co_await respondText(exchange, http::status::internal_server_error, "application/json",
                           openAiErrorJson("the handler sent no response", "server_error", "", ""));
    }
    active_exchanges_.fetch_sub(1, std::memory_order_relaxed);
    worker.buffered_body_bytes -= reserved;
    connection.busy = false;
    if (!exchange.keepAlive() || !request.keep_alive()) {
      break;
    }
  }
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
  error_code ignored;
  connection.socket.shutdown(tcp::socket::shutdown_send, ignored);
  connection.socket.close(ignored);
  connection.watched.detach();
  worker.connections.erase(entry);
  if (worker.stopping && worker.connections.empty()) {
    if (worker.drain_timer) {
      worker.drain_timer->cancel();
    }
    worker.watchdog->stop();
  }
}

}  // namespace dw::net
