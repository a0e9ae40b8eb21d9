// BlockWatch against the real kernel: a close-after-write on a watched loop device's node
// makes the kernel send a change event for the disk (and for its partitions).
#include "block_watch.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "netlink_source.h"
#include "vdevd_fixture.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;
using testing::RunCommand;

class BlockWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: loop devices and device nodes";
    fs::create_directories(dir_.Sub("dev"));
    fs::create_directories(dir_.Sub("run"));
    ASSERT_EQ(mount("tmpfs", dir_.Sub("dev").c_str(), "tmpfs", 0, "mode=0755"), 0);
    mounted_ = true;
    std::ofstream(dir_.Sub("disk.img")).close();
    fs::resize_file(dir_.Sub("disk.img"), 8 << 20);
    auto attached = RunCommand({"losetup", "-f", "--show", dir_.Sub("disk.img")});
    ASSERT_EQ(attached.status, 0);
    loop_ = testing::Trim(attached.output);
    name_ = fs::path(loop_).filename();
    struct stat st;
    ASSERT_EQ(stat(loop_.c_str(), &st), 0);
    ASSERT_EQ(mknod(dir_.Sub("dev/" + name_).c_str(), S_IFBLK | 0600, st.st_rdev), 0);
    roots_ = std::move(*Roots::Open({"/sys", dir_.Sub("dev"), dir_.Sub("run")}, true));
    loop_events_ = std::move(*EventLoop::Create());
    auto netlink = NetlinkSource::Open({});
    ASSERT_TRUE(netlink);
    netlink_ = std::move(*netlink);
  }

  void TearDown() override {
    if (!loop_.empty()) RunCommand({"losetup", "-d", loop_});
    if (mounted_) umount2(dir_.Sub("dev").c_str(), MNT_DETACH);
  }

  // Runs the loop and the netlink socket until a change for devpath arrives.
  bool SawChange(const std::string& devpath, int timeout_ms) {
    auto deadline = testing::Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (testing::Clock::now() < deadline) {
      EXPECT_TRUE(loop_events_->RunOnce(20));
      bool seen = false;
      netlink_->Drain([&](Uevent&& event) {
        if (event.action() == "change" && event.devpath() == devpath) seen = true;
      });
      if (seen) return true;
    }
    return false;
  }

  Uevent Processed(const std::string& action) {
    Uevent event;
    event.Set("ACTION", action);
    event.Set("DEVPATH", "/devices/virtual/block/" + name_);
    event.Set("SUBSYSTEM", "block");
    event.Set("DEVNAME", dir_.Sub("dev/" + name_));
    return event;
  }

  ::vdev::testing::TempDir dir_{"vdev-watch"};
  bool mounted_ = false;
  std::string loop_, name_;
  Roots roots_;
  std::unique_ptr<EventLoop> loop_events_;
  std::unique_ptr<NetlinkSource> netlink_;
};

TEST_F(BlockWatchTest, CloseAfterWriteAsksForAChange) {
  auto watch = BlockWatch::Create(*loop_events_, roots_);
  ASSERT_TRUE(watch);
  (*watch)->Update(Processed("add"), true);
  EXPECT_EQ((*watch)->size(), 1u);
  std::string devpath = "/devices/virtual/block/" + name_;

  // Reading does not count: our own probes open the node read-only.
  { UniqueFd reader(open(dir_.Sub("dev/" + name_).c_str(), O_RDONLY | O_CLOEXEC)); }
  EXPECT_FALSE(SawChange(devpath, 300));

  { UniqueFd writer(open(dir_.Sub("dev/" + name_).c_str(), O_WRONLY | O_CLOEXEC)); }
  EXPECT_TRUE(SawChange(devpath, 3000));

  // Not wanted any more (or removed): no change.
  (*watch)->Update(Processed("change"), false);
  EXPECT_EQ((*watch)->size(), 0u);
  { UniqueFd writer(open(dir_.Sub("dev/" + name_).c_str(), O_WRONLY | O_CLOEXEC)); }
  EXPECT_FALSE(SawChange(devpath, 300));
}

TEST_F(BlockWatchTest, PartitionsOfAWrittenDiskAreAskedToo) {
  ASSERT_EQ(RunCommand({"sh", "-c", "echo 'label: gpt\n,4M\n' | sfdisk -q " + loop_}).status, 0);
  ASSERT_EQ(RunCommand({"partx", "-a", loop_}).status, 0);
  auto watch = BlockWatch::Create(*loop_events_, roots_);
  ASSERT_TRUE(watch);
  (*watch)->Update(Processed("add"), true);
  std::string partition = "/devices/virtual/block/" + name_ + "/" + name_ + "p1";
  ASSERT_TRUE(fs::exists("/sys" + partition));
  { UniqueFd writer(open(dir_.Sub("dev/" + name_).c_str(), O_WRONLY | O_CLOEXEC)); }
  EXPECT_TRUE(SawChange(partition, 3000));
  RunCommand({"partx", "-d", loop_});
}

}  // namespace
}  // namespace vdev
