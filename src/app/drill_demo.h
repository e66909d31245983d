// The demo fleet a drill runs against when nothing else is given (`deepwatch drill
// --start-demo`): the gateway of examples/local.yaml started by the drill itself, with its state
// in the drill's output folder, its listeners on ports the OS picks, its launched replicas on a
// chosen port range, and the drill's own alert sink added to its sinks. A short drill also
// compresses the demo's detection windows and alert holds (docs/drill.md says which), so that
// the whole chain runs in CI in a couple of minutes.
//
// Thread contract: the main thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace dw::app {

struct DemoOptions {
  std::string config = "examples/local.yaml";
  std::string dir;         // Its state, configuration, golden set and log go here (emptied).
  uint16_t sink_port = 0;  // The drill's alert sink, added as an alertmanager sink "drill".
  int port_base = 0;       // When positive, the launched replicas' port ranges move here.
  bool short_drill = false;
};

class DemoFleet {
 public:
  DemoFleet() = default;
  DemoFleet(const DemoFleet&) = delete;
  DemoFleet& operator=(const DemoFleet&) = delete;
  ~DemoFleet();

  // Writes the configuration, starts `deepwatch serve` and waits until it is ready and its
  // launched replicas are healthy.
  Status start(const DemoOptions& options);
  // SIGTERM, and SIGKILL if it has not exited within 20 s. Idempotent.
  void stop();

  const std::string& api() const { return api_; }
  const std::string& admin() const { return admin_; }
  const std::string& adminKey() const { return admin_key_; }

 private:
  pid_t pid_ = -1;
  std::string api_;
  std::string admin_;
  std::string admin_key_;
};

}  // namespace dw::app
