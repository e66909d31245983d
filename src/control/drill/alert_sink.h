// The drill's own alert receiver: a small HTTP server on loopback that the gateway under test
// delivers alerts to (configured as an Alertmanager-type sink, so each firing alert is posted as
// it fires rather than after a grouping wait). The drill takes it down to play a sink outage
// and brings it back on the same port; what it received, and when, shows whether the alerts
// that fired meanwhile were kept and delivered (R9, the outbox).
//
// Thread contract: start(), stop() and port() on the drill's thread; received() from any
// thread (the server's worker adds under a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/http_server.h"

namespace dw::control::drill {

struct SinkDelivery {
  int64_t at_ms = 0;  // Wall clock.
  std::string path;
  std::string body;
};

class AlertSink {
 public:
  AlertSink() = default;
  ~AlertSink();

  // Listens on 127.0.0.1:`port` (0: the OS picks one the first time; later starts reuse it).
  Status start(uint16_t port = 0);
  // Closes the listener: deliveries are refused until start() again.
  void stop();
  bool up() const { return server_ != nullptr; }
  uint16_t port() const { return port_; }

  std::vector<SinkDelivery> received() const;

 private:
  net::asio::awaitable<void> handle(net::Exchange& exchange);

  std::unique_ptr<net::HttpServer> server_;
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<SinkDelivery> received_;  // Guarded by mutex_.
};

}  // namespace dw::control::drill
