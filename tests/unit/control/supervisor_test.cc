#include "control/supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dw::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Real short-lived processes (/bin/sleep, /bin/sh) with their logs in a fresh temp directory.
// Waits poll with small sleeps and give up after a few seconds, so a failure cannot hang.
class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "dw_supervisor_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Polls `done` every 10 ms until it holds or `timeout` passes.
  static bool waitFor(const std::function<bool()>& done, Duration timeout = seconds(3)) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!done()) {
      if (SteadyClock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return true;
  }

  // Whether `pid` is gone and reaped: it is no longer our child.
  static bool reaped(pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == -1 && errno == ECHILD;
  }

  static bool alive(pid_t pid) { return pid > 0 && ::kill(pid, 0) == 0; }

  static std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  // The executable name of `pid` (from /proc), empty when unknown.
  static std::string commOf(pid_t pid) {
    std::string comm = readFile("/proc/" + std::to_string(pid) + "/comm");
    while (!comm.empty() && comm.back() == '\n') {
      comm.pop_back();
    }
    return comm;
  }

  static ProcessSpec sleeper(uint16_t port) {
    return ProcessSpec{"chat", "v1", port, {"/bin/sleep", "30"}};
  }

  std::filesystem::path dir_;
};

// What a listener saw: (pid, died) per call.
struct Calls {
  std::vector<std::pair<pid_t, bool>> seen;
  Supervisor::Listener listener() {
    return
        [this](const ManagedProcess& process, bool died) { seen.emplace_back(process.pid, died); };
  }
};

TEST_F(SupervisorTest, LaunchStartsTheProcess) {
  Supervisor supervisor((dir_ / "logs").string());
  ASSERT_TRUE(supervisor.launch(sleeper(41001)).ok());
  ASSERT_TRUE(supervisor.has(41001));
  EXPECT_FALSE(supervisor.has(41002));
  const ManagedProcess& process = supervisor.processes().at(41001);
  EXPECT_TRUE(process.running);
  EXPECT_FALSE(process.stopping);
  EXPECT_EQ(process.restarts, 0);
  EXPECT_EQ(process.spec.model, "chat");
  EXPECT_EQ(process.spec.version, "v1");
  EXPECT_TRUE(alive(process.pid));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "logs" / "chat-v1-41001.log"));
}

TEST_F(SupervisorTest, SubstitutesPortAndLogsStdoutAndStderr) {
  Supervisor supervisor((dir_ / "logs").string());
  ASSERT_TRUE(supervisor
                  .launch(ProcessSpec{
                      "chat",
                      "v2",
                      41003,
                      {"/bin/sh", "-c", "echo \"port=$1\"; echo oops >&2", "sh", "{port}-x{port}"}})
                  .ok());
  const auto log = dir_ / "logs" / "chat-v2-41003.log";
  EXPECT_TRUE(waitFor([&] { return readFile(log).find("oops") != std::string::npos; }))
      << readFile(log);
  EXPECT_THAT(readFile(log), HasSubstr("port=41003-x41003\n"));
}

TEST_F(SupervisorTest, PollLeavesARunningProcessAlone) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(supervisor.launch(sleeper(41004)).ok());
  const pid_t pid = supervisor.processes().at(41004).pid;
  for (int i = 0; i < 5; ++i) {
    supervisor.poll();
  }
  EXPECT_TRUE(calls.seen.empty());
  EXPECT_EQ(supervisor.processes().at(41004).pid, pid);
  EXPECT_TRUE(supervisor.processes().at(41004).running);
}

TEST_F(SupervisorTest, RestartsAKilledProcessAndTellsTheListener) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(supervisor.launch(sleeper(41005)).ok());
  const pid_t first = supervisor.processes().at(41005).pid;
  ASSERT_EQ(::kill(first, SIGKILL), 0);

  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 2;
  }));
  ASSERT_EQ(calls.seen.size(), 2u);
  EXPECT_EQ(calls.seen[0], std::make_pair(first, true));  // The dead process.
  EXPECT_FALSE(calls.seen[1].second);                     // Its replacement.
  const ManagedProcess& process = supervisor.processes().at(41005);
  EXPECT_EQ(calls.seen[1].first, process.pid);
  EXPECT_NE(process.pid, first);
  EXPECT_TRUE(process.running);
  EXPECT_EQ(process.restarts, 1);
  EXPECT_TRUE(alive(process.pid));
  EXPECT_TRUE(reaped(first));
}

TEST_F(SupervisorTest, SecondRestartWaitsForBackoff) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(supervisor.launch(sleeper(41006)).ok());
  ASSERT_EQ(::kill(supervisor.processes().at(41006).pid, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 2;
  }));

  // The second death is noticed at once, but the restart waits for the backoff.
  ASSERT_EQ(::kill(supervisor.processes().at(41006).pid, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 3;
  }));
  const auto died = SteadyClock::now();
  ASSERT_EQ(calls.seen.size(), 3u);
  EXPECT_TRUE(calls.seen[2].second);
  EXPECT_FALSE(supervisor.processes().at(41006).running);

  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 4;
  }));
  EXPECT_GE(SteadyClock::now() - died, milliseconds(400));
  EXPECT_FALSE(calls.seen[3].second);
  EXPECT_EQ(supervisor.processes().at(41006).restarts, 2);
  EXPECT_TRUE(supervisor.processes().at(41006).running);
}

TEST_F(SupervisorTest, RestartsAProcessThatExitsOnItsOwn) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(
      supervisor.launch(ProcessSpec{"chat", "v1", 41007, {"/bin/sh", "-c", "exit 3"}}).ok());
  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 2;
  }));
  EXPECT_TRUE(calls.seen[0].second);
  EXPECT_FALSE(calls.seen[1].second);
  EXPECT_EQ(supervisor.processes().at(41007).restarts, 1);
}

TEST_F(SupervisorTest, StopDoesNotRestart) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(supervisor.launch(sleeper(41008)).ok());
  const pid_t pid = supervisor.processes().at(41008).pid;

  const auto start = SteadyClock::now();
  supervisor.stop(41008, seconds(2));
  EXPECT_LT(SteadyClock::now() - start, seconds(1));  // SIGTERM ends sleep at once.
  EXPECT_FALSE(supervisor.has(41008));
  EXPECT_TRUE(reaped(pid));

  for (int i = 0; i < 5; ++i) {
    supervisor.poll();
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(calls.seen.empty());
  EXPECT_TRUE(supervisor.processes().empty());
}

TEST_F(SupervisorTest, StopOfUnknownPortDoesNothing) {
  Supervisor supervisor(dir_.string());
  ASSERT_TRUE(supervisor.launch(sleeper(41009)).ok());
  supervisor.stop(41010, milliseconds(100));
  EXPECT_TRUE(supervisor.has(41009));
  EXPECT_TRUE(alive(supervisor.processes().at(41009).pid));
}

TEST_F(SupervisorTest, StopKillsAProcessThatIgnoresSigterm) {
  Supervisor supervisor(dir_.string());
  // An ignored signal stays ignored across exec, so this sleep ignores SIGTERM.
  ASSERT_TRUE(supervisor
                  .launch(ProcessSpec{
                      "chat", "v1", 41011, {"/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 30"}})
                  .ok());
  const pid_t pid = supervisor.processes().at(41011).pid;
  // Wait until the shell has set the trap and become sleep.
  ASSERT_TRUE(waitFor([&] { return commOf(pid) == "sleep"; })) << commOf(pid);

  const auto start = SteadyClock::now();
  supervisor.stop(41011, milliseconds(300));
  const auto took = SteadyClock::now() - start;
  EXPECT_GE(took, milliseconds(300));  // It waited for the grace period ...
  EXPECT_LT(took, seconds(2));         // ... then killed it.
  EXPECT_FALSE(supervisor.has(41011));
  EXPECT_TRUE(reaped(pid));
}

TEST_F(SupervisorTest, StopAfterDeathBeforeRestartRemovesTheProcess) {
  Supervisor supervisor(dir_.string());
  Calls calls;
  supervisor.setListener(calls.listener());
  ASSERT_TRUE(supervisor.launch(sleeper(41012)).ok());
  ASSERT_EQ(::kill(supervisor.processes().at(41012).pid, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 2;
  }));
  // Dies again: its restart is now deferred by the backoff.
  ASSERT_EQ(::kill(supervisor.processes().at(41012).pid, SIGKILL), 0);
  ASSERT_TRUE(waitFor([&] {
    supervisor.poll();
    return calls.seen.size() >= 3;
  }));
  supervisor.stop(41012, milliseconds(100));
  EXPECT_FALSE(supervisor.has(41012));
  supervisor.poll();
  EXPECT_EQ(calls.seen.size(), 3u);
}

TEST_F(SupervisorTest, StopAllStopsEveryProcess) {
  Supervisor supervisor(dir_.string());
  std::vector<pid_t> pids;
  for (uint16_t port : {41013, 41014, 41015}) {
    ASSERT_TRUE(supervisor.launch(sleeper(port)).ok());
    pids.push_back(supervisor.processes().at(port).pid);
  }
  supervisor.stopAll(seconds(2));
  EXPECT_TRUE(supervisor.processes().empty());
  for (pid_t pid : pids) {
    EXPECT_TRUE(reaped(pid)) << pid;
  }
}

TEST_F(SupervisorTest, DestructorStopsEveryProcess) {
  pid_t pid = 0;
  {
    Supervisor supervisor(dir_.string());
    ASSERT_TRUE(supervisor.launch(sleeper(41016)).ok());
    pid = supervisor.processes().at(41016).pid;
    ASSERT_TRUE(alive(pid));
  }
  EXPECT_TRUE(reaped(pid));
}

TEST_F(SupervisorTest, RejectsASecondProcessOnTheSamePort) {
  Supervisor supervisor(dir_.string());
  ASSERT_TRUE(supervisor.launch(sleeper(41017)).ok());
  const pid_t pid = supervisor.processes().at(41017).pid;
  Status status = supervisor.launch(sleeper(41017));
  EXPECT_EQ(status.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("41017"));
  EXPECT_EQ(supervisor.processes().size(), 1u);
  EXPECT_EQ(supervisor.processes().at(41017).pid, pid);
  EXPECT_TRUE(alive(pid));
}

TEST_F(SupervisorTest, RejectsAnEmptyCommand) {
  Supervisor supervisor(dir_.string());
  Status status = supervisor.launch(ProcessSpec{"chat", "v1", 41018, {}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(supervisor.has(41018));
}

TEST_F(SupervisorTest, ReportsACommandThatCannotStart) {
  Supervisor supervisor(dir_.string());
  Status status =
      supervisor.launch(ProcessSpec{"chat", "v1", 41019, {"/nonexistent/dw-no-such-binary"}});
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/dw-no-such-binary"));
  EXPECT_FALSE(supervisor.has(41019));
}

// Regression (found by `deepwatch drill`): after the binary was rebuilt under a running gateway,
// every L1 restart failed with "cannot start .../deepwatch (deleted)".
TEST(SelfExecutableTest, DropsTheDeletedMarkOfAReplacedBinary) {
  EXPECT_EQ(selfExecutable("/usr/bin/deepwatch (deleted)"), "/usr/bin/deepwatch");
  EXPECT_EQ(selfExecutable("/usr/bin/deepwatch"), "/usr/bin/deepwatch");
  EXPECT_EQ(selfExecutable("/opt/a (deleted)/deepwatch"), "/opt/a (deleted)/deepwatch");
}

}  // namespace
}  // namespace dw::control
