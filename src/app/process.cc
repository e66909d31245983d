#include "app/process.h"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dw::app {
namespace {
sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void blockSignals() {
  sigset_t set = handledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // A client that went away is an error code, not a death.
}

int waitForSignal() {
  sigset_t set = handledSignals();
  int signal = 0;
  while (sigwait(&set, &signal) != 0) {
  }
  return signal;
}

uint64_t raiseFileLimit(uint64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return 0;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    rlimit raised = limit;
    raised.rlim_cur =
        limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  return limit.rlim_cur == RLIM_INFINITY ? wanted : limit.rlim_cur;
}

Status writePortFile(const std::string& path, uint16_t port) {
  std::string temp = path + ".tmp";
  FILE* file = std::fopen(temp.c_str(), "w");
  if (file == nullptr) {
    return unavailable("cannot write " + temp + ": " + std::strerror(errno));
  }
  std::fprintf(file, "%u\n", port);
  if (std::fclose(file) != 0 || std::rename(temp.c_str(), path.c_str()) != 0) {
    return unavailable("cannot write " + path + ": " + std::strerror(errno));
  }
  return okStatus();
}

}  // namespace dw::app
