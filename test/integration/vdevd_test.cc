// Integration tests as root on this machine's kernel: vdevd managing a private tmpfs dev
// root from the real sysfs and real netlink events.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "coldplug.h"
#include "common/fs_util.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

const std::string kBin = VDEV_BINARY_DIR "/bin/";
const std::string kRules = VDEV_SOURCE_DIR "/rules";

extern "C" char** environ;

// Runs a program, returns its exit status and its standard output.
std::pair<int, std::string> Capture(const std::vector<std::string>& args,
                                    const std::vector<std::string>& env = {}) {
  std::string command;
  for (const auto& e : env) command += e + " ";
  for (const auto& a : args) command += "'" + a + "' ";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

class VdevdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: mounts a tmpfs and makes device nodes";
    dev_ = dir_.Sub("dev");
    run_ = dir_.Sub("run");
    fs::create_directories(dev_);
    fs::create_directories(run_);
    ASSERT_EQ(mount("tmpfs", dev_.c_str(), "tmpfs", MS_NOSUID, "mode=0755"), 0);
    mounted_ = true;
  }

  void TearDown() override {
    StopDaemon();
    if (mounted_) umount2(dev_.c_str(), MNT_DETACH);
  }

  // Starts vdevd in the background and waits for its readiness line.
  void StartDaemon(std::vector<std::string> extra) {
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    std::vector<std::string> args = {kBin + "vdevd", "--dev-root", dev_, "--run-dir", run_,
                                     "--rules-dir", kRules, "--devfs", "tmpfs",
                                     "--ready-fd", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 3);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    pollfd ready{pipe_fds[0], POLLIN, 0};
    ASSERT_EQ(poll(&ready, 1, 60000), 1) << "vdevd did not become ready";
    char c;
    EXPECT_EQ(read(pipe_fds[0], &c, 1), 1);
    close(pipe_fds[0]);
  }

  int StopDaemon() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  int Settle() {
    return Capture({kBin + "vdevadm", "settle", "--timeout", "30"}, {"VDEV_RUN_DIR=" + run_}).first;
  }

  // Waits until path exists (or not), up to a few seconds: for checks right after a
  // kernel event where settle is what is being tested elsewhere.
  bool WaitFor(const std::string& path, bool present) {
    for (int i = 0; i < 100; ++i) {
      struct stat st;
      if ((lstat(path.c_str(), &st) == 0) == present) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  testing::TempDir dir_{"vdevd-it"};
  std::string dev_, run_;
  bool mounted_ = false;
  pid_t pid_ = -1;
};

struct NodeExpectation {
  std::string name;
  mode_t type;
  mode_t mode;
  const char* group;  // nullptr: root
};

TEST_F(VdevdTest, OnceMakesEveryNodeWithDebianPermissions) {
  auto [status, output] = Capture({kBin + "vdevd", "--once", "--dev-root", dev_, "--run-dir", run_,
                                   "--devfs", "tmpfs", "--rules-dir", kRules});
  ASSERT_EQ(status, 0) << output;

  // Every device whose sysfs uevent has a DEVNAME got its node, with the right number.
  UniqueFd sysfs(open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  size_t devices = 0, nodes = 0;
  ASSERT_TRUE(WalkDevices(sysfs.get(), [&](Uevent&& event) {
    ++devices;
    auto devname = event.Get("DEVNAME");
    if (!devname) return;
    ++nodes;
    struct stat st;
    std::string path = dev_ + "/" + std::string(*devname);
    ASSERT_EQ(lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_rdev, *event.devnum()) << path;
    EXPECT_EQ(S_ISBLK(st.st_mode), event.subsystem() == "block") << path;
    std::string devnum_link = std::string(event.subsystem() == "block" ? "/block/" : "/char/") +
                              std::to_string(major(*event.devnum())) + ":" +
                              std::to_string(minor(*event.devnum()));
    EXPECT_EQ(fs::canonical(dev_ + devnum_link), fs::path(path)) << devnum_link;
  }));
  EXPECT_GT(nodes, 10u);
  // One database record per device.
  size_t records = std::distance(fs::directory_iterator(run_ + "/udev/data"), fs::directory_iterator());
  EXPECT_EQ(records, devices);

  NodeExpectation expectations[] = {
      {"null", S_IFCHR, 0666, nullptr},   {"zero", S_IFCHR, 0666, nullptr},
      {"full", S_IFCHR, 0666, nullptr},   {"random", S_IFCHR, 0666, nullptr},
      {"urandom", S_IFCHR, 0666, nullptr}, {"tty", S_IFCHR, 0666, "tty"},
      {"ptmx", S_IFCHR, 0666, "tty"},     {"tty1", S_IFCHR, 0620, "tty"},
      {"loop0", S_IFBLK, 0660, "disk"},   {"loop-control", S_IFCHR, 0660, "disk"},
      {"kvm", S_IFCHR, 0660, "kvm"},      {"net/tun", S_IFCHR, 0666, nullptr},
      {"fuse", S_IFCHR, 0666, nullptr},   {"mem", S_IFCHR, 0640, "kmem"},
  };
  for (const auto& expected : expectations) {
    std::string path = dev_ + "/" + expected.name;
    struct stat st;
    if (lstat(("/sys/class/misc/" + expected.name).c_str(), &st) != 0 &&
        lstat(("/dev/" + expected.name).c_str(), &st) != 0)
      continue;  // this machine has no such device
    ASSERT_EQ(lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & S_IFMT, expected.type) << path;
    EXPECT_EQ(st.st_mode & 07777, expected.mode) << path;
    gid_t gid = 0;
    if (expected.group) {
      group* entry = getgrnam(expected.group);
      if (!entry) continue;  // the setup script creates the groups udev's package adds
      gid = entry->gr_gid;
    }
    EXPECT_EQ(st.st_gid, gid) << path;
  }
}

TEST_F(VdevdTest, LiveEventRecreatesANode) {
  StartDaemon({"--no-coldplug"});
  struct stat st;
  ASSERT_NE(lstat((dev_ + "/null").c_str(), &st), 0) << "no coldplug: nothing yet";
  std::ofstream("/sys/devices/virtual/mem/null/uevent") << "add";
  ASSERT_EQ(Settle(), 0);
  ASSERT_EQ(lstat((dev_ + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);

  // vdevadm reads what the daemon stored.
  auto [status, path] = Capture({kBin + "vdevadm", "info", "--query=path", "--name=null"},
                                {"VDEV_RUN_DIR=" + run_, "VDEV_DEV_ROOT=" + dev_});
  EXPECT_EQ(status, 0);
  EXPECT_EQ(Trim(path), "/devices/virtual/mem/null");
  EXPECT_EQ(StopDaemon(), 0) << "SIGTERM is a clean exit";
}

TEST_F(VdevdTest, LoopDeviceAttachAndDetach) {
  StartDaemon({});
  std::string image = dir_.Sub("loop.img");
  std::ofstream(image).close();
  fs::resize_file(image, 4 << 20);
  auto [attached, loop] = Capture({"losetup", "-f", "--show", image});
  ASSERT_EQ(attached, 0);
  loop = Trim(loop);
  std::string name = fs::path(loop).filename();
  ASSERT_EQ(Settle(), 0);
  struct stat real_node, our_node;
  ASSERT_EQ(stat(loop.c_str(), &real_node), 0);
  ASSERT_EQ(lstat((dev_ + "/" + name).c_str(), &our_node), 0);
  EXPECT_EQ(our_node.st_rdev, real_node.st_rdev);
  EXPECT_EQ(our_node.st_mode & 07777, 0660u);
  std::string record_path = run_ + "/udev/data/b" + std::to_string(major(real_node.st_rdev)) + ":" +
                            std::to_string(minor(real_node.st_rdev));
  EXPECT_TRUE(fs::exists(record_path)) << record_path;
  EXPECT_EQ(Capture({"losetup", "-d", loop}).first, 0);
  EXPECT_EQ(Settle(), 0);
  EXPECT_EQ(StopDaemon(), 0);
}

TEST_F(VdevdTest, SecondDaemonOnTheSameRunDirIsRefused) {
  StartDaemon({"--no-coldplug"});
  auto [status, output] = Capture({kBin + "vdevd", "--no-coldplug", "--dev-root", dev_,
                                   "--run-dir", run_, "--rules-dir", kRules});
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace vdev
