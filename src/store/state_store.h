// Documents the controller must not lose when it dies (R9, issue 10): the rollouts in flight,
// by kind and key. A write returns only once it is durable, so an operation acknowledged to an
// operator survives the death of the gateway that acknowledged it (RPO = 0), and the controller
// that comes next (the same gateway restarted, or another one elected) resumes from it.
//
// Two backends, chosen by the deployment: SQLite, the embedded default for one gateway, and etcd
// for several (store/etcd_state_store.h), where only the elected leader may write.
//
// Thread contract: the control thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/database.h"

namespace dw::store {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Writes `document` under (kind, key), replacing what was there; durable when it returns ok.
  virtual Status put(const std::string& kind, const std::string& key,
                     const std::string& document) = 0;
  // Every document of a kind, by key.
  virtual StatusOr<std::map<std::string, std::string>> list(const std::string& kind) = 0;
  // "sqlite" or "etcd", for the admin API and the logs.
  virtual std::string_view backend() const = 0;
};

// The table `control_state` in the gateway's database (WAL, synchronous=FULL).
StatusOr<std::unique_ptr<StateStore>> openSqliteStateStore(Database& db);

}  // namespace dw::store
