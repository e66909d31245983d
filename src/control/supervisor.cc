#include "control/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/log.h"

extern char** environ;

namespace dw::control {
namespace {

// Restart backoff: the first restart at once, then 0.5 s doubling to 30 s; a process that ran a
// minute starts over.
constexpr Duration kFirstBackoff = std::chrono::milliseconds(500);
constexpr Duration kMaxBackoff = std::chrono::seconds(30);
constexpr Duration kStableRun = std::chrono::seconds(60);

}  // namespace

Supervisor::~Supervisor() { stopAll(std::chrono::seconds(2)); }

std::string selfExecutable(std::string link) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (link.ends_with(kDeleted)) {
    link.resize(link.size() - kDeleted.size());
  }
  return link;
}

Status Supervisor::spawn(ManagedProcess& process) {
  std::vector<std::string> args = process.spec.command;
  for (std::string& arg : args) {
    for (size_t at = arg.find("{port}"); at != std::string::npos; at = arg.find("{port}")) {
      arg.replace(at, 6, std::to_string(process.spec.port));
    }
  }
  if (args.empty()) {
    return invalidArgument("a launched replica needs a command");
  }
  if (args[0] == "deepwatch") {
    // The demo launches reference replicas with this very binary.
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
      args[0] = selfExecutable(std::string(self, static_cast<size_t>(n)));
    }
  }
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  std::error_code ec;
  std::filesystem::create_directories(log_dir_, ec);
  const std::string log = log_dir_ + "/" + process.spec.model + "-" + process.spec.version + "-" +
                          std::to_string(process.spec.port) + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // The gateway blocks SIGINT/SIGTERM/SIGHUP in its threads; its children must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    return unavailable("cannot start " + args[0] + ": " + std::strerror(rc));
  }
  process.pid = pid;
  process.running = true;
  process.started = SteadyClock::now();
  DW_LOG_INFO("started {} {} on port {} (pid {})", process.spec.model, process.spec.version,
              process.spec.port, pid);
  return okStatus();
}

Status Supervisor::launch(const ProcessSpec& spec) {
  if (processes_.count(spec.port) != 0) {
    return alreadyExists("port " + std::to_string(spec.port) + " is already supervised");
  }
  ManagedProcess process;
  process.spec = spec;
  process.backoff = Duration::zero();
  DW_RETURN_IF_ERROR(spawn(process));
  processes_.emplace(spec.port, std::move(process));
  return okStatus();
}

void Supervisor::stop(uint16_t port, Duration grace) {
  auto it = processes_.find(port);
  if (it == processes_.end()) {
    return;
  }
  ManagedProcess& process = it->second;
  process.stopping = true;
  if (process.running) {
    // The whole process group (its own, from the spawn): a command wrapped in a shell takes its
    // children along.
    ::kill(-process.pid, SIGTERM);
    const auto deadline = SteadyClock::now() + grace;
    int status = 0;
    while (waitpid(process.pid, &status, WNOHANG) == 0) {
      if (SteadyClock::now() > deadline) {
        ::kill(-process.pid, SIGKILL);
        waitpid(process.pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  processes_.erase(it);
}

void Supervisor::stopAll(Duration grace) {
  std::vector<uint16_t> ports;
  for (const auto& [port, process] : processes_) {
    ports.push_back(port);
  }
  for (uint16_t port : ports) {
    stop(port, grace);
  }
}

void Supervisor::poll() {
  const auto now = SteadyClock::now();
  for (auto& [port, process] : processes_) {
    if (process.running) {
      int status = 0;
      const pid_t done = waitpid(process.pid, &status, WNOHANG);
      if (done == process.pid) {
        process.running = false;
        process.died = now;
        if (now - process.started >= kStableRun) {
          process.backoff = Duration::zero();
        }
        process.restart_at = now + process.backoff;
        process.backoff = process.backoff == Duration::zero()
                              ? kFirstBackoff
                              : std::min(process.backoff * 2, kMaxBackoff);
        DW_LOG_WARN("{} {} on port {} exited ({}); restarting", process.spec.model,
                    process.spec.version, port,
                    WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                        : "status " + std::to_string(WEXITSTATUS(status)));
        if (listener_) {
          listener_(process, true);
        }
      }
    }
    if (!process.running && !process.stopping && now >= process.restart_at) {
      ++process.restarts;
      if (Status status = spawn(process); !status.ok()) {
        DW_LOG_ERROR("restart of port {} failed: {}", port, status.message());
        process.restart_at = now + std::max(process.backoff, kFirstBackoff);
        continue;
      }
      if (listener_) {
        listener_(process, false);
      }
    }
  }
}

}  // namespace dw::control
