// Keeps the routing that operations set (tracks and weights changed through the admin API or by
// the controller) durable in the state file, and restores it at start, so that an acknowledged
// weight change, rollback or promotion is not lost to a crash (R9: RPO = 0). The configuration
// file still defines models and versions; a version whose track or weight was edited in the
// file since the routing was stored takes the file's value.
//
// Thread contract: the control thread.
#pragma once

#include <optional>
#include <vector>

#include "base/status.h"
#include "gateway/config.h"
#include "store/route_store.h"

namespace dw::gateway {

class RoutePersistence {
 public:
  static StatusOr<RoutePersistence> open(store::Database& db);

  // At start: remembers `config` as the file's routing, then applies the stored routing to it.
  // Returns how many versions took a stored track or weight.
  StatusOr<int> restore(GatewayConfig& config);
  // At a reload: `config` is the file's routing from now on.
  void setFile(const GatewayConfig& config) { file_ = rows(config, {}); }
  // Makes `next`'s routing durable before it is published; a failure (a full disk, an I/O
  // error) leaves the stored routing as it was and must fail the operation.
  Status save(const GatewayConfig& next);

 private:
  explicit RoutePersistence(store::RouteStore store) : store_(std::move(store)) {}
  static std::vector<store::RouteRow> rows(const GatewayConfig& config,
                                           const std::vector<store::RouteRow>& file);

  store::RouteStore store_;
  std::vector<store::RouteRow> file_;    // The file's routing.
  std::vector<store::RouteRow> stored_;  // What the state file holds.
};

}  // namespace dw::gateway
