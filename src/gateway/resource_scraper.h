// Reads resources at an interval (R1.3): each replica's /metrics, mapped from the engine's names
// (vLLM, SGLang, llama.cpp, DCGM exporter) to deepseek_resource_*; the network latency from the
// gateway to each replica (connect time, and the kernel's smoothed TCP round-trip time from
// TCP_INFO); and the gateway host's CPU, memory and GPUs.
//
// Thread contract: the loop runs on the control io_context; readings() is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/duration.h"
#include "gateway/routing.h"
#include "net/asio.h"
#include "observe/host_resources.h"
#include "observe/prom_text.h"

namespace dw::gateway {

namespace asio = net::asio;

struct ReplicaReading {
  bool scraped = false;  // The last scrape of /metrics succeeded.
  observe::EngineResources engine;
  double connect_seconds = NAN;
  double rtt_seconds = NAN;
};

struct ResourceReadings {
  std::map<uint32_t, ReplicaReading> replicas;  // By Replica::id.
  observe::HostReading host;
};

class ResourceScraper {
 public:
  using ReplicaList = std::function<std::vector<std::shared_ptr<Replica>>()>;

  ResourceScraper(asio::io_context& io, ReplicaList replicas);
  ~ResourceScraper();

  void start(Duration interval, bool scrape_replicas);
  void stop();
  ResourceReadings readings() const;

 private:
  asio::awaitable<void> loop();
  asio::awaitable<ReplicaReading> scrape(std::shared_ptr<Replica> replica);

  asio::io_context& io_;
  ReplicaList replicas_;
  Duration interval_{};
  bool scrape_replicas_ = true;
  bool running_ = false;
  asio::steady_timer timer_;
  observe::HostResources host_;
  mutable std::mutex mutex_;
  ResourceReadings readings_;  // Guarded by mutex_.
};

}  // namespace dw::gateway
