// The local supervisor: starts replicas that the configuration launches as processes (the
// embedded default's stand-in for Kubernetes), notices when one dies, restarts it with backoff
// (R5 L1), and stops them. Replicas given as URLs are not its business.
//
// Thread contract: control thread only (poll() is driven by a timer on the control io_context).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"

namespace dw::control {

using SteadyClock = std::chrono::steady_clock;

struct ProcessSpec {
  std::string model;
  std::string version;
  uint16_t port = 0;
  std::vector<std::string> command;  // "{port}" in an argument is replaced by the port.
};

struct ManagedProcess {
  ProcessSpec spec;
  pid_t pid = 0;
  bool running = false;
  bool stopping = false;  // Stopped on purpose: not restarted.
  int restarts = 0;
  SteadyClock::time_point started{};
  SteadyClock::time_point died{};
  SteadyClock::time_point restart_at{};
  Duration backoff{};
};

// The path of this very binary from readlink("/proc/self/exe"). When the file was replaced
// while the gateway runs (a package upgrade, a rebuild), the kernel appends " (deleted)" to the
// old one's name; the path itself then names the new binary, which is what a restart must run.
std::string selfExecutable(std::string link);

class Supervisor {
 public:
  // Called when a process dies unexpectedly (before its restart is scheduled) and when it is
  // started again: (process, died) with died = true / false.
  using Listener = std::function<void(const ManagedProcess& process, bool died)>;

  // Logs of the processes go to `log_dir`/<model>-<version>-<port>.log.
  explicit Supervisor(std::string log_dir) : log_dir_(std::move(log_dir)) {}
  ~Supervisor();

  void setListener(Listener listener) { listener_ = std::move(listener); }

  Status launch(const ProcessSpec& spec);
  // Stops a process (SIGTERM, then SIGKILL after `grace`), without restarting it.
  void stop(uint16_t port, Duration grace = std::chrono::seconds(5));
  void stopAll(Duration grace = std::chrono::seconds(5));

  // Reaps exits and restarts what is due. Call often (every 100-250 ms).
  void poll();

  const std::map<uint16_t, ManagedProcess>& processes() const { return processes_; }
  bool has(uint16_t port) const { return processes_.count(port) != 0; }

 private:
  Status spawn(ManagedProcess& process);

  std::string log_dir_;
  std::map<uint16_t, ManagedProcess> processes_;  // By port.
  Listener listener_;
};

}  // namespace dw::control
