// vdevadm settle, control and monitor, run as programs against a ControlServer in this
// process (its loop runs on a thread of its own).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/control_protocol.h"
#include "common/log.h"
#include "control_server.h"
#include "event_loop.h"
#include "fixtures/temp_dir.h"

extern char** environ;

namespace vdev {
namespace {

std::string VdevadmPath() {
  if (const char* path = getenv("VDEV_TEST_VDEVADM"); path && *path) return path;
  return VDEV_BINARY_DIR "/bin/vdevadm";
}

int64_t NowMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// A running vdevadm with its stdout and stderr on pipes.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& run_dir,
        const std::vector<std::string>& env = {}) {
    int out[2], err[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    out_.reset(out[0]);
    err_.reset(err[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);

    std::string program = VdevadmPath();
    std::vector<char*> argv{program.data()};
    std::vector<std::string> owned_args = args;
    for (auto& arg : owned_args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> owned_env;
    for (char** entry = environ; *entry; ++entry) {
      if (strncmp(*entry, "VDEV_RUN_DIR=", 13) != 0) owned_env.emplace_back(*entry);
    }
    owned_env.push_back("VDEV_RUN_DIR=" + run_dir);
    owned_env.insert(owned_env.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& entry : owned_env) envp.push_back(entry.data());
    envp.push_back(nullptr);

    int spawned = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    EXPECT_EQ(spawned, 0) << program << ": " << strerror(spawned);
    if (spawned != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
  }

  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Reads stdout until it contains text or timeout_ms passed; returns everything so far.
  const std::string& ReadUntil(const std::string& text, int timeout_ms = 10000) {
    int64_t deadline = NowMs() + timeout_ms;
    while (out_text_.find(text) == std::string::npos && NowMs() < deadline) {
      pollfd entry{out_.get(), POLLIN, 0};
      if (poll(&entry, 1, static_cast<int>(deadline - NowMs())) <= 0) break;
      if (!ReadSome(out_, &out_text_)) break;
    }
    return out_text_;
  }

  // Waits for the exit (killing it after timeout_ms) and collects all output.
  int Wait(int timeout_ms = 20000) {
    int64_t deadline = NowMs() + timeout_ms;
    while ((out_ || err_) && NowMs() < deadline) {
      pollfd entries[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
      if (poll(entries, 2, static_cast<int>(deadline - NowMs())) <= 0) break;
      if (entries[0].revents && !ReadSome(out_, &out_text_)) out_.reset();
      if (entries[1].revents && !ReadSome(err_, &err_text_)) err_.reset();
    }
    if (out_ || err_) {
      ADD_FAILURE() << "vdevadm did not exit within " << timeout_ms << " ms";
      kill(pid_, SIGKILL);
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (!WIFEXITED(status)) return -1000 - WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  void Signal(int number) { kill(pid_, number); }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

 private:
  static bool ReadSome(UniqueFd& fd, std::string* text) {
    char buffer[4096];
    ssize_t length = read(fd.get(), buffer, sizeof(buffer));
    if (length <= 0) return false;
    text->append(buffer, length);
    return true;
  }

  pid_t pid_ = -1;
  UniqueFd out_, err_;
  std::string out_text_, err_text_;
};

class FakeHandler : public ControlHandler {
 public:
  bool IsSettled() override { return settled; }
  void RequestExit() override { exit_requested = true; }
  Status Reload() override { return reload_result; }
  Status StopExecQueue(bool stop) override {
    if (!exec_queue_supported) return ControlHandler::StopExecQueue(stop);
    exec_queue_stopped = stop;
    ++exec_queue_requests;
    return Ok();
  }

  std::atomic<bool> settled{true};
  std::atomic<bool> exec_queue_supported{true};
  std::atomic<bool> exec_queue_stopped{false};
  std::atomic<int> exec_queue_requests{0};
  std::atomic<bool> exit_requested{false};
  Status reload_result = Ok();  // set before the loop thread starts
};

// A daemon stand-in: a ControlServer on an EventLoop that runs on its own thread.
class VdevadmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(VdevadmPath().c_str(), X_OK), 0)
        << VdevadmPath() << " is missing: build the vdevadm target";
    run_fd_.reset(open(dir_.path().c_str(), O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(run_fd_);
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop) << loop.error().Message();
    loop_ = std::move(*loop);
  }

  void StartDaemon() {
    auto server = ControlServer::Start(*loop_, handler_, run_fd_.get(), dir_.path());
    ASSERT_TRUE(server) << server.error().Message();
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      while (!stop_) {
        (void)loop_->RunOnce(20);
        // "exit": the daemon closes its socket, which is what vdevadm control waits for.
        if (handler_.exit_requested) server_.reset();
      }
    });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    server_.reset();
  }

  // Runs task on the loop thread and waits for it: the server is not thread-safe.
  void OnLoop(std::function<void()> task) {
    std::promise<void> done;
    loop_->Post([&] {
      task();
      done.set_value();
    });
    done.get_future().wait();
  }

  int Run(const std::vector<std::string>& args, std::string* err = nullptr,
          std::string* out = nullptr) {
    Child child(args, dir_.path(), env_);
    int status = child.Wait();
    if (err) *err = child.err();
    if (out) *out = child.out();
    return status;
  }

  testing::TempDir dir_{"vdevadm-test"};
  UniqueFd run_fd_;
  std::unique_ptr<EventLoop> loop_;
  FakeHandler handler_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::vector<std::string> env_;  // added to the environment of every vdevadm run
};

TEST_F(VdevadmTest, SettleReturnsAtOnceWhenSettled) {
  StartDaemon();
  const std::vector<std::vector<std::string>> spellings = {
      {"settle"},        {"settle", "--timeout=5"}, {"settle", "--timeout", "5"},
      {"settle", "-t5"}, {"settle", "-t", "5"},     {"--debug", "settle", "--timeout=2.5"}};
  for (const auto& args : spellings) {
    std::string err;
    EXPECT_EQ(Run(args, &err), 0) << args.back() << ": " << err;
  }
}

TEST_F(VdevadmTest, SettleTimesOutWhileTheQueueIsBusy) {
  handler_.settled = false;
  StartDaemon();
  std::string err;
  EXPECT_EQ(Run({"settle", "--timeout=0.3"}, &err), 1);
  EXPECT_EQ(err, "vdevadm settle: timeout\n");
}

TEST_F(VdevadmTest, SettleReturnsWhenTheQueueDrains) {
  handler_.settled = false;
  StartDaemon();
  Child settle({"settle", "--timeout=30"}, dir_.path());
  size_t waiting = 0;
  for (int i = 0; i < 500 && waiting == 0; ++i) {
    OnLoop([&] { waiting = server_->settle_waiter_count(); });
    if (waiting == 0) usleep(10000);
  }
  ASSERT_EQ(waiting, 1u);
  handler_.settled = true;
  OnLoop([&] { server_->NotifyProgress(); });
  EXPECT_EQ(settle.Wait(), 0) << settle.err();
}

TEST_F(VdevadmTest, SettleWithZeroTimeoutOnlyChecks) {
  handler_.settled = false;
  StartDaemon();
  EXPECT_EQ(Run({"settle", "--timeout=0"}), 1);
  handler_.settled = true;
  EXPECT_EQ(Run({"settle", "-t", "0"}), 0);
}

TEST_F(VdevadmTest, SettleSucceedsWithoutADaemon) {
  EXPECT_EQ(Run({"settle"}), 0);  // no socket at all
  // A socket file left by a daemon that died: connecting is refused.
  ASSERT_EQ(mkdirat(run_fd_.get(), "vdev", 0755), 0);
  auto address = ControlSocketAddress(dir_.path());
  ASSERT_TRUE(address);
  UniqueFd dead(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_EQ(bind(dead.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)), 0);
  std::string err;
  EXPECT_EQ(Run({"settle", "--timeout=1"}, &err), 0) << err;
}

TEST_F(VdevadmTest, SettleRejectsBadArguments) {
  StartDaemon();
  // udevadm exits 1 for every failure, usage errors included.
  EXPECT_EQ(Run({"settle", "--timeout=soon"}), 1);
  EXPECT_EQ(Run({"settle", "--timeout=-1"}), 1);
  std::string err;
  EXPECT_EQ(Run({"settle", "--frobnicate"}, &err), 1);
  EXPECT_EQ(err, "vdevadm settle: unknown option '--frobnicate'\nTry 'vdevadm settle --help'.\n");
  EXPECT_EQ(Run({"settle", "-t"}, &err), 1);
  EXPECT_EQ(err, "vdevadm settle: option '-t' needs an argument\nTry 'vdevadm settle --help'.\n");
  // udevadm settle ignores arguments; so does vdevadm, saying so.
  EXPECT_EQ(Run({"settle", "extra"}, &err), 0);
  EXPECT_EQ(err, "vdevadm settle: ignoring extra argument 'extra'\n");
  // The file the caller waits for is there: no need to wait for the queue.
  handler_.settled = false;
  EXPECT_EQ(Run({"settle", "--timeout=30", "--exit-if-exists=" + dir_.path()}), 0);
}

TEST_F(VdevadmTest, ControlRequests) {
  // Privileged requests over a real socket; MayRunCommand covers the refusal without root.
  if (geteuid() != 0) GTEST_SKIP() << "exit, reload and log-level are for uid 0";
  handler_.reload_result = Fail(EINVAL, "rules/10-x.rules:4: bad match");
  StartDaemon();
  EXPECT_EQ(Run({"control", "--ping"}), 0);
  std::string err;
  EXPECT_EQ(Run({"control", "--reload"}, &err), 1);
  EXPECT_NE(err.find("rules/10-x.rules:4: bad match"), std::string::npos) << err;
  EXPECT_EQ(Run({"control", "--log-level=loud"}), 1);
  EXPECT_EQ(Run({"control"}), 1);
  EXPECT_FALSE(handler_.exit_requested);
  // --exit returns once the daemon has closed its socket.
  EXPECT_EQ(Run({"control", "--timeout=10", "--exit"}, &err), 0) << err;
  EXPECT_TRUE(handler_.exit_requested);
}

TEST_F(VdevadmTest, ControlFailsWithoutADaemon) {
  std::string err;
  EXPECT_EQ(Run({"control", "--ping"}, &err), 1);
  EXPECT_NE(err.find("cannot reach vdevd"), std::string::npos) << err;
}

TEST_F(VdevadmTest, Dispatch) {
  std::string err;
  EXPECT_EQ(Run({}, &err), 1);
  EXPECT_NE(err.find("command verb required"), std::string::npos) << err;
  EXPECT_EQ(Run({"frobnicate"}, &err), 1);
  EXPECT_NE(err.find("unknown command verb 'frobnicate'"), std::string::npos) << err;
  EXPECT_EQ(Run({"--frobnicate", "info"}, &err), 1);
  EXPECT_EQ(Run({"hwdb", "--update"}, &err), 1);
  EXPECT_NE(err.find("not supported"), std::string::npos) << err;

  for (std::vector<std::string> args :
       {std::vector<std::string>{"--version"}, {"-V"}, {"version"}, {"--debug", "--version"}}) {
    Child version(args, dir_.path());
    EXPECT_EQ(version.Wait(), 0);
    EXPECT_EQ(version.out(), std::string(VDEV_VERSION) + "\n") << args[0];
  }
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"-h"}, {"help"}}) {
    Child help(args, dir_.path());
    EXPECT_EQ(help.Wait(), 0);
    for (const char* command : {"info", "trigger", "settle", "monitor", "control", "test", "wait"})
      EXPECT_NE(help.out().find(command), std::string::npos) << command;
  }
  // Every command has --help, -h, --version and -V.
  for (const char* command : {"info", "trigger", "settle", "monitor", "control", "test", "wait"}) {
    for (const char* option : {"--help", "-h"}) {
      Child help({command, option}, dir_.path());
      EXPECT_EQ(help.Wait(), 0) << command;
      EXPECT_TRUE(help.out().starts_with(std::string("Usage: vdevadm ") + command))
          << command << ": " << help.out();
    }
    for (const char* option : {"--version", "-V"}) {
      Child version({command, option}, dir_.path());
      EXPECT_EQ(version.Wait(), 0) << command;
      EXPECT_EQ(version.out(), std::string(VDEV_VERSION) + "\n") << command;
    }
    Child bad({command, "--no-such-option"}, dir_.path());
    EXPECT_EQ(bad.Wait(), 1) << command;
    EXPECT_NE(bad.err().find("unknown option '--no-such-option'"), std::string::npos)
        << command << ": " << bad.err();
  }
}

TEST_F(VdevadmTest, SettleSpellings) {
  StartDaemon();
  const std::vector<std::vector<std::string>> spellings = {
      {"settle", "-E", "/nonexistent", "-t", "5"},
      {"settle", "-E/nonexistent"},
      {"settle", "--exit-if-exists=/nonexistent"},
      {"settle", "--exit-if-exists", "/nonexistent"},
      {"settle", "--timeout=1min"},
      {"settle", "--timeout", "500ms"},
      {"settle", "-t", "infinity"},
      // Obsolete spellings: accepted and ignored.
      {"settle", "--seq-start=10", "--seq-end=20"},
      {"settle", "--seq-start", "10", "--seq-end", "20"},
      {"settle", "-s", "1", "-e", "2", "-q"},
      {"settle", "--quiet"},
  };
  for (const auto& args : spellings) {
    std::string err;
    EXPECT_EQ(Run(args, &err), 0) << ::testing::PrintToString(args) << ": " << err;
  }
  // The file exists: settled at once, although the queue is busy.
  handler_.settled = false;
  EXPECT_EQ(Run({"settle", "-E", dir_.path(), "-t", "30"}), 0);
  EXPECT_EQ(Run({"settle", "-E", "/nonexistent", "-t", "0.2"}), 1);
}

TEST_F(VdevadmTest, ControlExecQueue) {
  if (geteuid() != 0) GTEST_SKIP() << "the exec queue requests are for uid 0";
  StartDaemon();
  std::string err;
  EXPECT_EQ(Run({"control", "--stop-exec-queue"}, &err), 0) << err;
  EXPECT_TRUE(handler_.exec_queue_stopped);
  EXPECT_EQ(Run({"control", "--start-exec-queue"}, &err), 0) << err;
  EXPECT_FALSE(handler_.exec_queue_stopped);
  EXPECT_EQ(Run({"control", "-s"}, &err), 0) << err;
  EXPECT_TRUE(handler_.exec_queue_stopped);
  // In the order given.
  EXPECT_EQ(Run({"control", "-s", "-S"}, &err), 0) << err;
  EXPECT_FALSE(handler_.exec_queue_stopped);
  EXPECT_EQ(handler_.exec_queue_requests, 5);

  handler_.exec_queue_supported = false;
  EXPECT_EQ(Run({"control", "-S"}, &err), 1);
  EXPECT_NE(err.find("not supported"), std::string::npos) << err;
}

TEST_F(VdevadmTest, ControlCompatibilityOptions) {
  StartDaemon();
  std::string err;
  // --children-max is accepted (vdevd's worker count is fixed); the daemon must answer.
  EXPECT_EQ(Run({"control", "--children-max=4"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "-m", "4"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "-m8"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "--children-max", "many"}, &err), 1);
  EXPECT_EQ(Run({"control", "--ping", "--timeout=5"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "--ping", "-t", "5s"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "--ping", "-t5"}, &err), 0) << err;
  EXPECT_EQ(Run({"control", "--ping", "extra"}, &err), 1);
  // A global property would be silently dropped by vdevd: refused instead.
  EXPECT_EQ(Run({"control", "--property=FOO=bar"}, &err), 1);
  EXPECT_NE(err.find("not supported"), std::string::npos) << err;
  EXPECT_EQ(Run({"control", "-p", "FOO"}, &err), 1);
  EXPECT_NE(err.find("KEY=VALUE"), std::string::npos) << err;
}

TEST_F(VdevadmTest, ControlLogLevelSpellings) {
  if (geteuid() != 0) GTEST_SKIP() << "log-level is for uid 0";
  StartDaemon();
  std::string err;
  for (std::vector<std::string> args : {std::vector<std::string>{"control", "--log-level=debug"},
                                        {"control", "--log-level", "info"},
                                        {"control", "-l", "notice"},
                                        {"control", "-lerr"},
                                        {"control", "--log-priority=7"},
                                        {"control", "--reload-rules"},
                                        {"control", "-R"}}) {
    EXPECT_EQ(Run(args, &err), 0) << ::testing::PrintToString(args) << ": " << err;
  }
  SetLogLevel(LogLevel::kNotice);  // the server runs in this process
}

Uevent MakeEvent(const std::string& subsystem, const std::string& name, int seqnum) {
  Uevent event;
  event.Set("ACTION", "add");
  event.Set("DEVPATH", "/devices/virtual/" + subsystem + "/" + name);
  event.Set("SUBSYSTEM", subsystem);
  event.Set("SEQNUM", std::to_string(seqnum));
  event.Set("TAGS", ":seat:");
  return event;
}

const char kUdevHeader[] =
    "monitor will print the received events for:\n"
    "UDEV - the event which udev sends out after rule processing\n\n";

TEST_F(VdevadmTest, MonitorPrintsProcessedEventsLikeUdevadm) {
  StartDaemon();
  Child monitor({"monitor", "--udev", "--property"}, dir_.path());
  ASSERT_EQ(monitor.ReadUntil(kUdevHeader), kUdevHeader) << monitor.err();
  OnLoop([&] {
    server_->Publish(MakeEvent("block", "loop1", 41));
    server_->Publish(MakeEvent("net", "dummy0", 42));
  });
  monitor.ReadUntil("SEQNUM=42\nTAGS=:seat:\n\n");
  monitor.Signal(SIGTERM);
  EXPECT_EQ(monitor.Wait(), 0) << monitor.err();

  std::regex expected(
      "UDEV  \\[[0-9]+\\.[0-9]{6}\\] add      /devices/virtual/block/loop1 \\(block\\)\n"
      "ACTION=add\nDEVPATH=/devices/virtual/block/loop1\nSUBSYSTEM=block\nSEQNUM=41\n"
      "TAGS=:seat:\n\n"
      "UDEV  \\[[0-9]+\\.[0-9]{6}\\] add      /devices/virtual/net/dummy0 \\(net\\)\n"
      "ACTION=add\nDEVPATH=/devices/virtual/net/dummy0\nSUBSYSTEM=net\nSEQNUM=42\n"
      "TAGS=:seat:\n\n");
  std::string events = monitor.out().substr(sizeof(kUdevHeader) - 1);
  EXPECT_TRUE(std::regex_match(events, expected)) << events;
}

TEST_F(VdevadmTest, MonitorFiltersBySubsystemAndTag) {
  StartDaemon();
  Child monitor({"monitor", "-u", "-s", "net", "--subsystem-match=block/disk"}, dir_.path());
  ASSERT_EQ(monitor.ReadUntil(kUdevHeader), kUdevHeader) << monitor.err();
  Child tagged({"monitor", "-u", "--tag-match=uaccess"}, dir_.path());
  ASSERT_EQ(tagged.ReadUntil(kUdevHeader), kUdevHeader) << tagged.err();
  OnLoop([&] {
    server_->Publish(MakeEvent("block", "loop1", 1));  // no DEVTYPE: not block/disk
    server_->Publish(MakeEvent("mem", "null", 2));
    Uevent disk = MakeEvent("block", "loop2", 3);
    disk.Set("DEVTYPE", "disk");
    server_->Publish(disk);
    Uevent input = MakeEvent("input", "event3", 4);
    input.Set("TAGS", ":seat:uaccess:");
    server_->Publish(input);
    server_->Publish(MakeEvent("net", "dummy0", 5));
  });
  std::string out = monitor.ReadUntil("dummy0 (net)\n");
  EXPECT_EQ(out.find("loop1"), std::string::npos) << out;
  EXPECT_EQ(out.find("null"), std::string::npos) << out;
  EXPECT_EQ(out.find("event3"), std::string::npos) << out;
  EXPECT_NE(out.find("loop2 (block)\n"), std::string::npos) << out;
  std::string tagged_out = tagged.ReadUntil("event3 (input)\n");
  EXPECT_NE(tagged_out.find("event3 (input)\n"), std::string::npos) << tagged_out;
  monitor.Signal(SIGINT);
  tagged.Signal(SIGINT);
  EXPECT_EQ(monitor.Wait(), 0);
  EXPECT_EQ(tagged.Wait(), 0);
  EXPECT_EQ(tagged.out().find("loop"), std::string::npos) << tagged.out();
}

TEST_F(VdevadmTest, MonitorEndsWhenTheDaemonGoes) {
  StartDaemon();
  Child monitor({"monitor", "--udev"}, dir_.path());
  ASSERT_EQ(monitor.ReadUntil(kUdevHeader), kUdevHeader) << monitor.err();
  OnLoop([&] { server_.reset(); });
  EXPECT_EQ(monitor.Wait(), 1);
  EXPECT_NE(monitor.err().find("vdevd closed the connection"), std::string::npos) << monitor.err();
}

TEST_F(VdevadmTest, MonitorNeedsADaemonForUdevEvents) {
  std::string err;
  EXPECT_EQ(Run({"monitor", "--udev"}, &err), 1);
  EXPECT_NE(err.find("vdevd is not running"), std::string::npos) << err;
}

TEST_F(VdevadmTest, KernelMonitorStartsAndStopsCleanly) {
  // Opening the uevent netlink socket needs no privilege; no event is triggered here.
  Child monitor({"monitor", "--kernel"}, dir_.path());
  const std::string header =
      "monitor will print the received events for:\nKERNEL - the kernel uevent\n\n";
  ASSERT_EQ(monitor.ReadUntil(header).substr(0, header.size()), header) << monitor.err();
  monitor.Signal(SIGTERM);
  EXPECT_EQ(monitor.Wait(), 0) << monitor.err();
}

TEST_F(VdevadmTest, MonitorSpellings) {
  StartDaemon();
  std::string err;
  EXPECT_EQ(Run({"monitor", "extra"}, &err), 1);
  EXPECT_EQ(Run({"monitor", "-s"}, &err), 1);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"monitor", "-u", "-p", "-k", "-sblock/disk", "-tseat"},
        {"monitor", "--udev", "--property", "--kernel", "--subsystem-match=block",
         "--tag-match=seat"},
        {"monitor", "--udev", "--environment", "-k", "--subsystem-match", "net", "--tag-match",
         "x"}}) {
    Child monitor(args, dir_.path());
    const std::string header =
        "monitor will print the received events for:\n"
        "UDEV - the event which udev sends out after rule processing\n"
        "KERNEL - the kernel uevent\n\n";
    EXPECT_EQ(monitor.ReadUntil(header), header) << monitor.err();
    monitor.Signal(SIGINT);
    EXPECT_EQ(monitor.Wait(), 0) << ::testing::PrintToString(args);
  }
}

// `vdevadm trigger` as a program against a fake sysfs, with this process as the daemon: it
// plays the kernel too, publishing the event once the uevent file was written.
class VdevadmTriggerProgramTest : public VdevadmTest {
 protected:
  void SetUp() override {
    VdevadmTest::SetUp();
    sysfs_ = dir_.Sub("sys");
    for (const char* sub : {"sys/devices/virtual/mem/null", "sys/class/mem"})
      std::filesystem::create_directories(dir_.Sub(sub));
    WriteText(sysfs_ + "/devices/virtual/mem/null/uevent", "MAJOR=1\nMINOR=3\nDEVNAME=null\n");
    ASSERT_EQ(
        symlink("../../../../class/mem", (sysfs_ + "/devices/virtual/mem/null/subsystem").c_str()),
        0);
    env_ = {"VDEV_SYSFS_ROOT=" + sysfs_, "VDEV_DEV_ROOT=" + dir_.Sub("dev")};
    ASSERT_EQ(mkdir(dir_.Sub("dev").c_str(), 0755), 0);
  }

  static void WriteText(const std::string& path, const std::string& text) {
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd) << path;
    ASSERT_EQ(write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  std::string ReadText(const std::string& path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    char buffer[4096];
    ssize_t length = fd ? read(fd.get(), buffer, sizeof(buffer)) : -1;
    return length > 0 ? std::string(buffer, length) : std::string();
  }

  std::string sysfs_;
};

TEST_F(VdevadmTriggerProgramTest, SettleReturnsWhenTheTaggedEventWasProcessed) {
  handler_.settled = false;  // the queue never drains: only the event itself can end the wait
  StartDaemon();
  Child trigger({"trigger", "--settle", "--uuid", "--action=add", "-s", "mem"}, dir_.path(), env_);
  const std::string uevent = sysfs_ + "/devices/virtual/mem/null/uevent";
  std::string written;
  for (int i = 0; i < 1000 && !written.starts_with("add "); ++i) {
    written = ReadText(uevent);
    if (!written.starts_with("add ")) usleep(10000);
  }
  ASSERT_TRUE(written.starts_with("add ")) << written;
  const std::string uuid = written.substr(4);
  OnLoop([&] {
    Uevent other = MakeEvent("mem", "null", 1);
    other.Set("SYNTH_UUID", "00000000-0000-0000-0000-000000000000");  // someone else's
    server_->Publish(other);
    Uevent ours = MakeEvent("mem", "null", 2);
    ours.Set("ACTION", "add");
    ours.Set("SYNTH_UUID", uuid);
    server_->Publish(ours);
  });
  EXPECT_EQ(trigger.Wait(), 0) << trigger.err();
  EXPECT_EQ(trigger.out(), uuid + "\nsettle " + uuid + "\n");
}

TEST_F(VdevadmTriggerProgramTest, SettleEndsWhenTheQueueIsEmpty) {
  // The event never shows up (the device went away, say): the empty queue ends the wait.
  StartDaemon();
  std::string err, out;
  EXPECT_EQ(Run({"trigger", "-w", "-v", "-c", "change"}, &err, &out), 0) << err;
  EXPECT_EQ(out, sysfs_ + "/devices/virtual/mem/null\n");
  EXPECT_TRUE(ReadText(sysfs_ + "/devices/virtual/mem/null/uevent").starts_with("change "));
}

TEST_F(VdevadmTriggerProgramTest, WaitDaemon) {
  std::string err;
  EXPECT_EQ(Run({"trigger", "--wait-daemon=0.2", "-n"}, &err), 1);
  EXPECT_NE(err.find("vdevd did not answer"), std::string::npos) << err;
  // Without a daemon --settle has nothing to wait for, as settle itself.
  EXPECT_EQ(Run({"trigger", "-w", "-c", "add"}, &err), 0) << err;
  EXPECT_EQ(ReadText(sysfs_ + "/devices/virtual/mem/null/uevent"), "add");

  // A daemon that starts while trigger waits is found through inotify.
  Child trigger({"trigger", "--wait-daemon=30", "-c", "remove"}, dir_.path(), env_);
  usleep(100000);
  StartDaemon();
  EXPECT_EQ(trigger.Wait(), 0) << trigger.err();
  EXPECT_EQ(ReadText(sysfs_ + "/devices/virtual/mem/null/uevent"), "remove");
}

}  // namespace
}  // namespace vdev
