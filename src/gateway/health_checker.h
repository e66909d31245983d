// Active health checks: GET <replica>/health at an interval, with thresholds before a replica
// is marked down or up again (Envoy's unhealthy/healthy thresholds). Results land in
// Replica::healthy, which workers read when they route.
//
// Thread contract: control thread only; it runs on the control io_context, beside reloads and
// admin operations, so the registry it reads is never changed under it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "gateway/config.h"
#include "gateway/routing.h"
#include "net/asio.h"

namespace dw::gateway {

namespace asio = net::asio;

class HealthChecker {
 public:
  using ReplicaList = std::function<std::vector<std::shared_ptr<Replica>>()>;

  // `replicas` is asked for the current set at every round.
  HealthChecker(asio::io_context& io, ReplicaList replicas);

  // Starts the rounds with `config`; a later call replaces the policy (after a reload).
  void start(const HealthCheckConfig& config);
  void stop();

  // Checks every replica once, now, and returns when all answered or timed out.
  asio::awaitable<void> checkAll();

 private:
  struct State {
    int failures = 0;
    int successes = 0;
  };

  asio::awaitable<void> loop();
  asio::awaitable<bool> probe(const Replica& replica);

  asio::io_context& io_;
  ReplicaList replicas_;
  HealthCheckConfig config_;
  asio::steady_timer timer_;
  std::map<uint32_t, State> states_;
  bool running_ = false;
};

}  // namespace dw::gateway
