#include "control/drill/alert_sink.h"

#include "base/duration.h"

namespace dw::control::drill {

AlertSink::~AlertSink() { stop(); }

Status AlertSink::start(uint16_t port) {
  if (server_) {
    return okStatus();
  }
  net::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = port != 0 ? port : port_;
  options.workers = 1;
  options.drain_timeout = std::chrono::seconds(1);
  DW_ASSIGN_OR_RETURN(server_, net::HttpServer::create(options, [this](net::Exchange& exchange) {
                        return handle(exchange);
                      }));
  port_ = server_->port();
  server_->start();
  return okStatus();
}

net::asio::awaitable<void> AlertSink::handle(net::Exchange& exchange) {
  {
    std::lock_guard lock(mutex_);
    received_.push_back(
        {wallClockMs(), std::string(exchange.request().target()), exchange.request().body()});
  }
  co_await net::respondText(exchange, net::http::status::ok, "application/json", "{}");
}

void AlertSink::stop() {
  if (server_) {
    server_->stop();
    server_.reset();
  }
}

std::vector<SinkDelivery> AlertSink::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

}  // namespace dw::control::drill
