// VdevdFixture: what the root integration tests of the daemon share: a private tmpfs dev
// root and run dir, build/bin/vdevd started on them with its stderr kept in a file,
// `vdevadm settle`, and child processes run without a shell and never waited for forever.
// Header-only (inline): the integration test binary is built from *_test.cc files alone.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/unique_fd.h"
#include "fixtures/temp_dir.h"

extern "C" char** environ;

namespace vdev::testing {

inline const std::string kBinDir = VDEV_BINARY_DIR "/bin/";
inline const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Polls condition every 20 ms until it holds or timeout has passed; true when it held.
inline bool WaitUntil(const std::function<bool()>& condition, Clock::duration timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

inline bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The environment of the test process with env ("KEY=VALUE") added or replacing.
inline std::vector<std::string> EnvironmentWith(const std::vector<std::string>& env) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    bool replaced = false;
    for (const auto& added : env)
      replaced |= text.substr(0, text.find('=') + 1) == added.substr(0, added.find('=') + 1);
    if (!replaced) result.emplace_back(text);
  }
  result.insert(result.end(), env.begin(), env.end());
  return result;
}

// A child process that is killed and reaped when the object goes away, so a failed
// assertion never leaves a daemon or a monitor behind.
class Child {
 public:
  Child() = default;
  Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}
  Child& operator=(Child&& other) noexcept {
    if (this != &other) {
      Kill();
      pid_ = std::exchange(other.pid_, -1);
      status_ = other.status_;
    }
    return *this;
  }
  ~Child() { Kill(); }

  // Starts args[0] (searched in PATH) with env added to the environment; fds maps a
  // descriptor of this process onto one of the child (stdin 0, stdout 1, stderr 2, 3 ...).
  // The child's stdin is the test's unless mapped. Returns a Child with pid() -1 on failure.
  static Child Spawn(std::vector<std::string> args, const std::vector<std::string>& env = {},
                     const std::vector<std::pair<int, int>>& fds = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (const auto& [from, to] : fds) posix_spawn_file_actions_adddup2(&actions, from, to);
    // Its own process group: a test that kills it (SIGSTOP too) touches nothing else.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> variables = EnvironmentWith(env);
    std::vector<char*> envp;
    for (auto& variable : variables) envp.push_back(variable.data());
    envp.push_back(nullptr);
    Child child;
    pid_t pid = -1;
    if (posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), envp.data()) == 0)
      child.pid_ = pid;
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return child;
  }

  pid_t pid() const { return pid_; }

  // True while the process has not exited (it is reaped here once it has).
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == 0) return true;
    if (reaped == pid_) status_ = status;
    pid_ = -1;
    return false;
  }

  // Waits up to timeout for the exit; the exit status, 128+N when killed by signal N,
  // nullopt when it is still running.
  std::optional<int> Wait(Clock::duration timeout) {
    WaitUntil([this] { return !Running(); }, timeout);
    if (Running()) return std::nullopt;
    return ExitStatus();
  }

  // Sends signal, waits up to timeout, then SIGKILLs. Returns as Wait does (never nullopt
  // for a child that was running).
  std::optional<int> Stop(int signal = SIGTERM, Clock::duration timeout = seconds(30)) {
    if (!Running()) return ExitStatus();
    kill(pid_, signal);
    kill(pid_, SIGCONT);  // a test may have stopped it
    if (auto status = Wait(timeout)) return status;
    Kill();
    return ExitStatus();
  }

  void Signal(int signal) const {
    if (pid_ > 0) kill(pid_, signal);
  }

 private:
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);  // also ends a stopped process
    int status = 0;
    if (waitpid(pid_, &status, 0) == pid_) status_ = status;
    pid_ = -1;
  }

  std::optional<int> ExitStatus() const {
    if (!status_) return std::nullopt;
    if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
    if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
    return std::nullopt;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct CommandResult {
  int status = -1;  // exit status; 128+N when killed by signal N; -1 when it did not start
  std::string output;
};

// Runs a command without a shell and collects its stdout (and stderr with
// with_stderr). A command still running after timeout is killed.
inline CommandResult RunCommand(const std::vector<std::string>& args,
                                const std::vector<std::string>& env = {}, bool with_stderr = false,
                                Clock::duration timeout = seconds(120)) {
  CommandResult result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) < 0) return result;
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::vector<std::pair<int, int>> fds = {{write_end.get(), 1}};
  if (with_stderr) fds.emplace_back(write_end.get(), 2);
  Child child = Child::Spawn(args, env, fds);
  write_end.reset();
  if (child.pid() <= 0) return result;
  auto deadline = Clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd readable{read_end.get(), POLLIN, 0};
    if (left <= 0 || poll(&readable, 1, static_cast<int>(left)) == 0) {
      ADD_FAILURE() << args[0] << " did not finish in time; killed";
      break;
    }
    ssize_t n = read(read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  // Its stdout is closed; the exit follows (or the deadline has passed and it is killed).
  auto left = std::max<Clock::duration>(deadline - Clock::now(), seconds(1));
  result.status = child.Wait(left).value_or(-1);
  if (result.status == -1) result.status = child.Stop(SIGKILL, seconds(5)).value_or(-1);
  return result;
}

// Asks the kernel to send an event for a device: writes action into /sys/DEVPATH/uevent.
inline bool TriggerUevent(const std::string& devpath, const std::string& action) {
  UniqueFd fd(open(("/sys" + devpath + "/uevent").c_str(), O_WRONLY | O_CLOEXEC));
  return fd && write(fd.get(), action.data(), action.size()) == static_cast<ssize_t>(action.size());
}

class VdevdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts a tmpfs and makes device nodes";
    dev_ = dir_.Sub("dev");
    run_ = dir_.Sub("run");
    log_ = dir_.Sub("vdevd.log");
    std::filesystem::create_directories(dev_);
    std::filesystem::create_directories(run_);
    ASSERT_NO_FATAL_FAILURE(MountTmpfs(dev_, "mode=0755"));
  }

  void TearDown() override {
    daemon_.Stop(SIGTERM, seconds(30));
    if (HasFailure() && PathExists(log_)) {
      std::string log = DaemonLog();
      if (log.size() > 8192) log = "...\n" + log.substr(log.size() - 8192);
      std::cerr << "--- vdevd stderr ---\n" << log << "--- end of vdevd stderr ---\n";
    }
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) umount2(it->c_str(), MNT_DETACH);
    mounts_.clear();
  }

  // Mounts a tmpfs on path (an existing directory); TearDown unmounts it.
  void MountTmpfs(const std::string& path, const std::string& options) {
    ASSERT_EQ(mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID, options.c_str()), 0)
        << path << ": " << strerror(errno);
    mounts_.push_back(path);
  }

  // Changes the options of a tmpfs this fixture mounted (size=, nr_inodes=).
  void RemountTmpfs(const std::string& path, const std::string& options) {
    ASSERT_EQ(mount("tmpfs", path.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID, options.c_str()), 0)
        << path << ": " << strerror(errno);
  }

  // The vdevd command line this fixture uses, before extra options.
  std::vector<std::string> DaemonArgs(const std::string& rules_dir) const {
    return {kBinDir + "vdevd", "--dev-root", dev_,      "--run-dir", run_,
            "--rules-dir",     rules_dir,    "--devfs", "tmpfs"};
  }

  // Starts vdevd with --ready-fd and waits (up to 60 s) for its readiness line; stderr
  // is appended to log_. Use under ASSERT_NO_FATAL_FAILURE.
  void StartDaemon(const std::vector<std::string>& extra,
                   const std::string& rules_dir = kRulesDir) {
    ASSERT_FALSE(daemon_.Running()) << "a daemon is already running";
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd ready(pipe_fds[0]), ready_write(pipe_fds[1]);
    UniqueFd log(open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    ASSERT_TRUE(log);
    std::vector<std::string> args = DaemonArgs(rules_dir);
    args.insert(args.end(), {"--ready-fd", "3"});
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_ = Child::Spawn(args, {}, {{ready_write.get(), 3}, {log.get(), 2}});
    ASSERT_GT(daemon_.pid(), 0) << "cannot start " << args[0];
    ready_write.reset();
    pollfd readable{ready.get(), POLLIN, 0};
    ASSERT_EQ(poll(&readable, 1, 60000), 1) << "vdevd did not become ready within 60 s";
    char c = 0;
    ASSERT_EQ(read(ready.get(), &c, 1), 1) << "vdevd exited before it was ready:\n" << DaemonLog();
    EXPECT_EQ(c, '\n');
  }

  // SIGTERM; the exit status, or -1 when no daemon was running.
  int StopDaemon() { return daemon_.Stop(SIGTERM, seconds(30)).value_or(-1); }

  bool DaemonRunning() { return daemon_.Running(); }

  // vdevadm settle against the daemon; 0 when settled. Settle also exits 0 when no vdevd
  // answers, so callers that care check DaemonRunning() as well.
  int Settle(int timeout_seconds = 30) {
    return RunCommand({kBinDir + "vdevadm", "settle", "--timeout", std::to_string(timeout_seconds)},
                      VdevadmEnv())
        .status;
  }

  std::vector<std::string> VdevadmEnv() const {
    return {"VDEV_RUN_DIR=" + run_, "VDEV_DEV_ROOT=" + dev_};
  }

  // What vdevd wrote to stderr so far.
  std::string DaemonLog() const { return ReadFile(log_); }

  // Waits up to timeout for path (below anything) to exist, or with present=false, to go.
  bool WaitForPath(const std::string& path, bool present, Clock::duration timeout = seconds(5)) {
    return WaitUntil([&] { return PathExists(path) == present; }, timeout);
  }

  TempDir dir_{"vdevd-it"};
  std::string dev_, run_, log_;
  Child daemon_;

 private:
  std::vector<std::string> mounts_;
};

}  // namespace vdev::testing
