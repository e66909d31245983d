#include "gateway/resource_scraper.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>

namespace dw::gateway {

using net::error_code;
using net::redirect;
namespace http = net::http;
namespace beast = net::beast;

ResourceScraper::ResourceScraper(asio::io_context& io, ReplicaList replicas)
    : io_(io), replicas_(std::move(replicas)), timer_(io) {}

ResourceScraper::~ResourceScraper() = default;

void ResourceScraper::start(Duration interval, bool scrape_replicas) {
  interval_ = interval;
  scrape_replicas_ = scrape_replicas;
  if (!running_) {
    running_ = true;
    asio::co_spawn(io_, loop(), asio::detached);
  }
}

void ResourceScraper::stop() {
  running_ = false;
  timer_.cancel();
}

ResourceReadings ResourceScraper::readings() const {
  std::lock_guard lock(mutex_);
  return readings_;
}

asio::awaitable<ReplicaReading> ResourceScraper::scrape(std::shared_ptr<Replica> replica) {
  ReplicaReading reading;
  if (!replica->resolved) {
    co_return reading;
  }
  beast::tcp_stream stream(io_);
  stream.expires_after(std::min<Duration>(interval_, std::chrono::seconds(2)));
  error_code ec;
  const auto started = std::chrono::steady_clock::now();
  co_await stream.async_connect(replica->endpoint, redirect(ec));
  if (ec) {
    co_return reading;
  }
  reading.connect_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (scrape_replicas_) {
    http::request<http::empty_body> request(http::verb::get, replica->path_prefix + "/metrics", 11);
    request.set(http::field::host, replica->host_header);
    request.set(http::field::user_agent, "deepwatch-resources");
    request.set(http::field::accept, "text/plain");
    co_await http::async_write(stream, request, redirect(ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);  // A replica's /metrics, bounded.
    if (!ec) {
      co_await http::async_read(stream, buffer, parser, redirect(ec));
    }
    if (!ec && parser.get().result_int() == 200) {
      reading.scraped = true;
      reading.engine = observe::mapEngineMetrics(observe::parsePrometheusText(parser.get().body()));
    }
  }
  // The kernel's smoothed round-trip time of this connection (microseconds in TCP_INFO).
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (getsockopt(stream.socket().native_handle(), IPPROTO_TCP, TCP_INFO, &info, &length) == 0 &&
      info.tcpi_rtt > 0) {
    reading.rtt_seconds = info.tcpi_rtt / 1e6;
  }
  stream.socket().shutdown(net::tcp::socket::shutdown_both, ec);
  co_return reading;
}

asio::awaitable<void> ResourceScraper::loop() {
  while (running_) {
    ResourceReadings next;
    next.host = host_.read();
    for (const auto& replica : replicas_()) {
      next.replicas[replica->id] = co_await scrape(replica);
    }
    {
      std::lock_guard lock(mutex_);
      readings_ = std::move(next);
    }
    timer_.expires_after(interval_);
    error_code ec;
    co_await timer_.async_wait(redirect(ec));
  }
}

}  // namespace dw::gateway
