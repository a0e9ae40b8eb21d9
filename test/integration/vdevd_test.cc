// Integration tests as root on this machine's kernel: vdevd managing a private tmpfs dev
// root from the real sysfs and real netlink events.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "coldplug.h"
#include "common/fs_util.h"
#include "vdevd_fixture.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;
using testing::kBinDir;
using testing::kRulesDir;
using testing::RunCommand;
using testing::Trim;

class VdevdTest : public testing::VdevdFixture {};

struct NodeExpectation {
  std::string name;
  mode_t type;
  mode_t mode;
  const char* group;  // nullptr: root
};

TEST_F(VdevdTest, OnceMakesEveryNodeWithDebianPermissions) {
  auto [status, output] = RunCommand({kBinDir + "vdevd", "--once", "--dev-root", dev_, "--run-dir",
                                      run_, "--devfs", "tmpfs", "--rules-dir", kRulesDir});
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
  size_t records =
      std::distance(fs::directory_iterator(run_ + "/udev/data"), fs::directory_iterator());
  EXPECT_EQ(records, devices);

  NodeExpectation expectations[] = {
      {"null", S_IFCHR, 0666, nullptr},    {"zero", S_IFCHR, 0666, nullptr},
      {"full", S_IFCHR, 0666, nullptr},    {"random", S_IFCHR, 0666, nullptr},
      {"urandom", S_IFCHR, 0666, nullptr}, {"tty", S_IFCHR, 0666, "tty"},
      {"ptmx", S_IFCHR, 0666, "tty"},      {"tty1", S_IFCHR, 0620, "tty"},
      {"loop0", S_IFBLK, 0660, "disk"},    {"loop-control", S_IFCHR, 0660, "disk"},
      {"kvm", S_IFCHR, 0660, "kvm"},       {"net/tun", S_IFCHR, 0666, nullptr},
      {"fuse", S_IFCHR, 0666, nullptr},    {"mem", S_IFCHR, 0640, "kmem"},
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
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  struct stat st;
  ASSERT_NE(lstat((dev_ + "/null").c_str(), &st), 0) << "no coldplug: nothing yet";
  std::ofstream("/sys/devices/virtual/mem/null/uevent") << "add";
  ASSERT_EQ(Settle(), 0);
  ASSERT_EQ(lstat((dev_ + "/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);

  // vdevadm reads what the daemon stored.
  auto [status, path] =
      RunCommand({kBinDir + "vdevadm", "info", "--query=path", "--name=null"}, VdevadmEnv());
  EXPECT_EQ(status, 0);
  EXPECT_EQ(Trim(path), "/devices/virtual/mem/null");
  EXPECT_EQ(StopDaemon(), 0) << "SIGTERM is a clean exit";
}

TEST_F(VdevdTest, LoopDeviceAttachAndDetach) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({}));
  std::string image = dir_.Sub("loop.img");
  std::ofstream(image).close();
  fs::resize_file(image, 4 << 20);
  auto [attached, loop] = RunCommand({"losetup", "-f", "--show", image});
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
  EXPECT_EQ(RunCommand({"losetup", "-d", loop}).status, 0);
  EXPECT_EQ(Settle(), 0);
  EXPECT_EQ(StopDaemon(), 0);
}

TEST_F(VdevdTest, SecondDaemonOnTheSameRunDirIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon({"--no-coldplug"}));
  auto [status, output] = RunCommand({kBinDir + "vdevd", "--no-coldplug", "--dev-root", dev_,
                                      "--run-dir", run_, "--rules-dir", kRulesDir},
                                     {}, /*with_stderr=*/true);
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace vdev
