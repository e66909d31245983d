// The controller's state on etcd, for several gateways (R9, issue 10): documents under
// `<prefix>/state/<kind>/<key>`. A write is one transaction that succeeds only while the leader
// key holds this instance's name, so a deposed leader cannot overwrite what its successor
// decided; a write returns once etcd's quorum has it (RPO = 0 across instances).
//
// The calls are synchronous on purpose: they are made by the controller on the control thread
// for rare operations (a rollout's start and steps), and an operation is acknowledged only after
// its state is stored. Each runs on a private io_context, so the control thread's own
// coroutines (the election, the route sync) are not re-entered; it waits at most the client's
// timeout per member.
//
// Thread contract: the control thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/duration.h"
#include "store/state_store.h"

namespace dw::store {

struct EtcdStateOptions {
  std::vector<std::string> endpoints;  // http://host:port of the members.
  std::string prefix;                  // The cluster's prefix, e.g. /deepwatch.
  std::string guard_key;               // The leader key ...
  std::string guard_value;             // ... and the value it holds while this instance leads.
  Duration timeout = std::chrono::seconds(2);
};

std::unique_ptr<StateStore> makeEtcdStateStore(EtcdStateOptions options);

}  // namespace dw::store
