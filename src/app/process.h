// Process plumbing shared by the long-running subcommands: termination signals and the port
// file through which tests and the demo learn an OS-chosen port.
#pragma once

#include <csignal>
#include <string>

#include "base/status.h"

namespace dw::app {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, so that threads started afterwards
// inherit the mask and waitForSignal() receives them synchronously. Call before starting threads.
void blockSignals();

// Waits for one of the blocked signals and returns its number.
int waitForSignal();

// Raises the soft limit on open files towards `wanted` (at most the hard limit), as nginx's
// worker_rlimit_nofile does, so that limits.max_connections, not EMFILE, bounds connections.
// Returns the soft limit in force afterwards.
uint64_t raiseFileLimit(uint64_t wanted);

// Writes `port` followed by a newline to `path` atomically (temp file, then rename), so that a
// reader never sees a partial number.
Status writePortFile(const std::string& path, uint16_t port);

}  // namespace dw::app
