#include "gateway/health_checker.h"

#include "base/log.h"

namespace dw::gateway {

using net::error_code;
using net::redirect;
namespace http = net::http;
namespace beast = net::beast;

HealthChecker::HealthChecker(asio::io_context& io, ReplicaList replicas)
    : io_(io), replicas_(std::move(replicas)), timer_(io) {}

void HealthChecker::start(const HealthCheckConfig& config) {
  config_ = config;
  if (!running_) {
    running_ = true;
    asio::co_spawn(io_, loop(), asio::detached);
  }
}

void HealthChecker::stop() {
  running_ = false;
  timer_.cancel();
}

asio::awaitable<void> HealthChecker::loop() {
  while (running_) {
    co_await checkAll();
    timer_.expires_after(config_.interval);
    error_code ec;
    co_await timer_.async_wait(redirect(ec));
  }
}

asio::awaitable<bool> HealthChecker::probe(const Replica& replica) {
  if (!replica.resolved) {
    co_return false;
  }
  beast::tcp_stream stream(io_);
  stream.expires_after(config_.timeout);
  error_code ec;
  co_await stream.async_connect(replica.endpoint, redirect(ec));
  if (ec) {
    co_return false;
  }
  http::request<http::empty_body> request(http::verb::get, replica.path_prefix + config_.path, 11);
  request.set(http::field::host, replica.host_header);
  request.set(http::field::user_agent, "deepwatch-health-check");
  request.keep_alive(false);
  co_await http::async_write(stream, request, redirect(ec));
  if (ec) {
    co_return false;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  co_await http::async_read(stream, buffer, parser, redirect(ec));
  if (ec) {
    co_return false;
  }
  const unsigned status = parser.get().result_int();
  co_return status >= 200 && status < 300;
}

asio::awaitable<void> HealthChecker::checkAll() {
  std::vector<std::shared_ptr<Replica>> replicas = replicas_();
  // Probes run concurrently; each completion counts down and the last one wakes this round.
  struct Round {
    explicit Round(asio::io_context& io) : done(io) {}
    asio::steady_timer done;
    size_t pending = 0;
  };
  auto round = std::make_shared<Round>(io_);
  round->pending = replicas.size();
  round->done.expires_at(asio::steady_timer::time_point::max());
  for (const auto& replica : replicas) {
    asio::co_spawn(
        io_,
        [this, replica, round]() -> asio::awaitable<void> {
          const bool ok = co_await probe(*replica);
          State& state = states_[replica->id];
          if (ok) {
            replica->last_check_ok_ns.store(
                std::chrono::steady_clock::now().time_since_epoch().count());
            state.failures = 0;
            ++state.successes;
            if (!replica->healthy.load() && state.successes >= config_.healthy_threshold) {
              replica->recovered_ns.store(
                  std::chrono::steady_clock::now().time_since_epoch().count());
              replica->healthy.store(true);
              DW_LOG_INFO("replica {} is healthy again", replica->url);
            }
          } else {
            state.successes = 0;
            ++state.failures;
            if (replica->healthy.load() && state.failures >= config_.unhealthy_threshold) {
              replica->healthy.store(false);
              DW_LOG_WARN("replica {} failed {} health checks: marked down", replica->url,
                          state.failures);
            }
          }
          if (--round->pending == 0) {
            round->done.cancel();
          }
        },
        asio::detached);
  }
  if (round->pending > 0) {
    error_code ec;
    co_await round->done.async_wait(redirect(ec));
  }
}

}  // namespace dw::gateway
