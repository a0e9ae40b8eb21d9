// vdevd --daemon on the machine's real sysfs and netlink, managing a private tmpfs dev
// root: the starting process exits only once the coldplug is in the dev root, the pid
// file names the live daemon, SIGTERM removes it, a second start is refused, and the
// sd_notify readiness reaches a socket the test binds.
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <cstddef>

#include "vdevd_fixture.h"

namespace vdev::testing {
namespace {

namespace fs = std::filesystem;

class DaemonizeTest : public VdevdFixture {
 protected:
  void SetUp() override {
    VdevdFixture::SetUp();
    if (IsSkipped()) return;
    // The daemon is orphaned when its parent exits: adopt it, so that it can be reaped
    // (and its exit seen) here, whatever PID 1 this machine runs.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    pid_file_ = dir_.Sub("pid/vdevd.pid");
  }

  void TearDown() override {
    if (daemon_pid_ > 0) {
      kill(daemon_pid_, SIGKILL);
      waitpid(daemon_pid_, nullptr, 0);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    VdevdFixture::TearDown();
  }

  // vdevd --daemon ...; waits for the starting process (not the daemon) to exit and
  // returns its status; its stderr (and the daemon's: --log-target stderr) goes to log_.
  int StartDetached(const std::vector<std::string>& extra,
                    const std::vector<std::string>& env = {}) {
    UniqueFd log(open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    std::vector<std::string> args = DaemonArgs(kRulesDir);
    args.insert(args.end(), {"--daemon", "--pid-file", pid_file_, "--log-target", "stderr"});
    args.insert(args.end(), extra.begin(), extra.end());
    Child starter = Child::Spawn(args, env, {{log.get(), 2}});
    EXPECT_GT(starter.pid(), 0);
    return starter.Wait(seconds(120)).value_or(-1);
  }

  pid_t PidInFile() {
    std::string text = Trim(ReadFile(pid_file_));
    return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
  }

  // SIGTERM to the daemon and its exit status (reaped here as its subreaper).
  int StopDetached() {
    if (daemon_pid_ <= 0) return -1;
    kill(daemon_pid_, SIGTERM);
    int status = 0;
    bool exited = WaitUntil([&] { return waitpid(daemon_pid_, &status, WNOHANG) == daemon_pid_; },
                            seconds(30));
    if (!exited) return -1;
    daemon_pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string pid_file_;
  pid_t daemon_pid_ = -1;
};

TEST_F(DaemonizeTest, ParentExitsOnceColdplugIsInTheDevRoot) {
  ASSERT_EQ(StartDetached({}), 0) << DaemonLog();
  // No settle, no waiting: the exit itself promises the coldplug is done.
  daemon_pid_ = PidInFile();
  ASSERT_GT(daemon_pid_, 0) << "no pid in " << pid_file_;
  EXPECT_TRUE(PathExists(dev_ + "/null")) << "the coldplug was not done when the parent exited";
  EXPECT_TRUE(PathExists(run_ + "/udev/data/c1:3"));
  EXPECT_FALSE(PathExists(run_ + "/udev/queue")) << "events were still pending";
  EXPECT_NE(DaemonLog().find("ready:"), std::string::npos);

  // The pid file names the live daemon, a vdevd in a session of its own.
  EXPECT_EQ(kill(daemon_pid_, 0), 0);
  EXPECT_EQ(Trim(ReadFile("/proc/" + std::to_string(daemon_pid_) + "/comm")), "vdevd");
  EXPECT_EQ(getsid(daemon_pid_), daemon_pid_);
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(daemon_pid_) + "/cwd"), "/");
  EXPECT_EQ(Settle(), 0);

  EXPECT_EQ(StopDetached(), 0);
  EXPECT_FALSE(PathExists(pid_file_)) << "the pid file outlived a clean exit";
}

TEST_F(DaemonizeTest, LivePidFileRefusesASecondStart) {
  ASSERT_EQ(StartDetached({}), 0) << DaemonLog();
  daemon_pid_ = PidInFile();
  ASSERT_GT(daemon_pid_, 0);
  size_t log_before = DaemonLog().size();
  EXPECT_NE(StartDetached({}), 0);
  std::string second = DaemonLog().substr(log_before);
  EXPECT_NE(second.find("already running as pid " + std::to_string(daemon_pid_)), std::string::npos)
      << second;
  EXPECT_EQ(PidInFile(), daemon_pid_) << "the refused start touched the pid file";
  EXPECT_EQ(kill(daemon_pid_, 0), 0);
  EXPECT_EQ(StopDetached(), 0);
  EXPECT_FALSE(PathExists(pid_file_));
}

TEST_F(DaemonizeTest, StalePidFileIsReplaced) {
  fs::create_directories(fs::path(pid_file_).parent_path());
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  std::ofstream(pid_file_) << dead << "\n";
  ASSERT_EQ(StartDetached({}), 0) << DaemonLog();
  daemon_pid_ = PidInFile();
  EXPECT_NE(daemon_pid_, dead);
  EXPECT_EQ(kill(daemon_pid_, 0), 0);
  EXPECT_EQ(StopDetached(), 0);
}

TEST_F(DaemonizeTest, FailureBeforeReadinessReachesTheParent) {
  int status = StartDetached({"--sysfs-root", dir_.Sub("no-such-sysfs")});
  EXPECT_NE(status, 0);
  EXPECT_NE(status, -1) << "the starting process did not exit";
  std::string log = DaemonLog();
  EXPECT_NE(log.find("vdevd: "), std::string::npos) << log;
  EXPECT_NE(log.find("no-such-sysfs"), std::string::npos) << log;
  EXPECT_FALSE(PathExists(pid_file_));
}

TEST_F(DaemonizeTest, NotifySocketGetsReadyWithTheDaemonsPid) {
  std::string socket_path = dir_.Sub("notify");
  UniqueFd socket_fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  ASSERT_EQ(bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(StartDetached({}, {"NOTIFY_SOCKET=" + socket_path}), 0) << DaemonLog();
  daemon_pid_ = PidInFile();
  char buffer[256];
  pollfd readable{socket_fd.get(), POLLIN, 0};
  ASSERT_EQ(poll(&readable, 1, 10000), 1);
  ssize_t n = recv(socket_fd.get(), buffer, sizeof(buffer), 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buffer, n), "READY=1\nMAINPID=" + std::to_string(daemon_pid_));
  EXPECT_EQ(StopDetached(), 0);
  ASSERT_EQ(poll(&readable, 1, 10000), 1);
  n = recv(socket_fd.get(), buffer, sizeof(buffer), 0);
  EXPECT_EQ(std::string(buffer, std::max<ssize_t>(n, 0)), "STOPPING=1");
}

TEST_F(DaemonizeTest, ReadyFdStillWorksInTheForeground) {
  // What runit/s6 run: no --daemon, readiness on fd 3.
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--pid-file", pid_file_}));
  EXPECT_TRUE(PathExists(dev_ + "/null"));
  EXPECT_EQ(PidInFile(), daemon_.pid());
  EXPECT_EQ(StopDaemon(), 0);
  EXPECT_FALSE(PathExists(pid_file_));
}

// A systemd-udevd answering on RUN/udev/control stops --daemon --boot before it forks,
// mounts or writes anything.
TEST_F(DaemonizeTest, RunningUdevdRefusesDaemonAndBoot) {
  std::string run = dir_.Sub("udevd-run"), boot_dev = dir_.Sub("udevd-dev");
  fs::create_directories(run + "/udev");
  fs::create_directories(boot_dev);
  UniqueFd control(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string control_path = run + "/udev/control";
  std::memcpy(address.sun_path, control_path.c_str(), control_path.size() + 1);
  ASSERT_EQ(bind(control.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(control.get(), 8), 0);
  auto ran = RunCommand({kBinDir + "vdevd", "--daemon", "--boot", "--dev-root", boot_dev,
                         "--run-dir", run, "--rules-dir", kRulesDir},
                        {}, /*with_stderr=*/true);
  EXPECT_EQ(ran.status, 1);
  EXPECT_NE(ran.output.find("systemd-udevd is running"), std::string::npos) << ran.output;
  EXPECT_EQ(ReadFile("/proc/self/mountinfo").find(" " + boot_dev + " "), std::string::npos)
      << "a tmpfs was mounted on the dev root";
  EXPECT_TRUE(fs::is_empty(boot_dev));
  EXPECT_FALSE(PathExists(run + "/vdev/vdevd.pid"));
}

// --boot on a dev root that is a plain directory: a tmpfs is mounted there, the static
// nodes and links exist, and the coldplug ran over them.
TEST_F(DaemonizeTest, BootMountsATmpfsAndMakesTheStaticNodes) {
  std::string boot_dev = dir_.Sub("boot-dev");
  fs::create_directories(boot_dev);
  std::vector<std::string> args = {kBinDir + "vdevd",    "--boot",      "--once",
                                   "--dev-root",         boot_dev,      "--run-dir",
                                   dir_.Sub("boot-run"), "--rules-dir", kRulesDir};
  auto ran = RunCommand(args, {}, /*with_stderr=*/true);
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{boot_dev};
  ASSERT_EQ(ran.status, 0) << ran.output;
  std::string mountinfo = ReadFile("/proc/self/mountinfo");
  EXPECT_NE(mountinfo.find(" " + boot_dev + " "), std::string::npos) << "nothing mounted there";
  struct stat st;
  ASSERT_EQ(lstat((boot_dev + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  ASSERT_EQ(lstat((boot_dev + "/console").c_str(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(5, 1));
  ASSERT_EQ(lstat((boot_dev + "/ptmx").c_str(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(5, 2));
  EXPECT_EQ(fs::read_symlink(boot_dev + "/fd"), "/proc/self/fd");
  EXPECT_EQ(fs::read_symlink(boot_dev + "/stderr"), "/proc/self/fd/2");
  EXPECT_EQ(fs::read_symlink(boot_dev + "/core"), "/proc/kcore");
  ASSERT_EQ(lstat((boot_dev + "/shm").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(lstat((boot_dev + "/pts").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // The coldplug ran after them: a device only the uevents give.
  EXPECT_TRUE(PathExists(dir_.Sub("boot-run/udev/data/c1:3")));
}

}  // namespace
}  // namespace vdev::testing
