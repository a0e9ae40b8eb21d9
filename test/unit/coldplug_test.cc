#include "coldplug.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

std::vector<Uevent> WalkAll(int sysfs_fd) {
  std::vector<Uevent> events;
  auto walked = WalkDevices(sysfs_fd, [&](Uevent&& event) { events.push_back(std::move(event)); });
  EXPECT_TRUE(walked) << walked.error().Message();
  return events;
}

std::vector<std::string> Devpaths(const std::vector<Uevent>& events) {
  std::vector<std::string> devpaths;
  for (const auto& event : events) devpaths.emplace_back(event.devpath());
  return devpaths;
}

class ColdplugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sysfs_.Add({"/devices/pci0000:00", "", false, "", {}, {}});
    sysfs_.Add({"/devices/pci0000:00/0000:00:1f.2",
                "pci",
                true,
                "ahci",
                {{"DRIVER", "ahci"}, {"PCI_ID", "8086:2922"}},
                {}});
    // A glue directory without a subsystem: not reported, but its children are.
    sysfs_.Add({"/devices/pci0000:00/0000:00:1f.2/ata1", "", false, "", {}, {}});
    // "block" has no uevent file at all (a class glue directory).
    sysfs_.AddBlockDevice("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda", "sda", 8, 0, "disk",
                          {{"DISKSEQ", "9"}});
    sysfs_.AddBlockDevice("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1", "sda1", 8, 1,
                          "partition", {{"PARTN", "1"}});
    sysfs_.AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3, {{"DEVMODE", "0666"}});
    sysfs_.AddCharDevice("/devices/virtual/mem/full", "mem", "full", 1, 7);
    sysfs_.Add(
        {"/devices/virtual/net/lo", "net", false, "", {{"INTERFACE", "lo"}, {"IFINDEX", "1"}}, {}});
    fd_ = *OpenDirAt(AT_FDCWD, dir_.path());
  }

  void Symlink(const std::string& target, const std::string& link) {
    fs::create_directory_symlink(target, dir_.Sub(link));
  }

  testing::TempDir dir_{"vdev-coldplug"};
  testing::FakeSysfs sysfs_{dir_.path()};
  UniqueFd fd_;
};

TEST_F(ColdplugTest, ReportsDevicesParentsFirstInNameOrder) {
  EXPECT_EQ(Devpaths(WalkAll(fd_.get())),
            (std::vector<std::string>{
                "/devices/pci0000:00/0000:00:1f.2",
                "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda",
                "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1",
                "/devices/virtual/mem/full",
                "/devices/virtual/mem/null",
                "/devices/virtual/net/lo",
            }));
}

TEST_F(ColdplugTest, SynthesizesAddEventsFromUeventFiles) {
  std::map<std::string, Uevent> by_path;
  for (auto& event : WalkAll(fd_.get())) by_path.emplace(std::string(event.devpath()), event);

  const Uevent& sda = by_path.at("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda");
  std::vector<Property> expected = {
      {"ACTION", "add"},      {"DEVPATH", "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda"},
      {"SUBSYSTEM", "block"}, {"MAJOR", "8"},
      {"MINOR", "0"},         {"DEVNAME", "sda"},
      {"DEVTYPE", "disk"},    {"DISKSEQ", "9"}};
  EXPECT_EQ(sda.properties(), expected);
  EXPECT_FALSE(sda.Has("SEQNUM"));

  const Uevent& pci = by_path.at("/devices/pci0000:00/0000:00:1f.2");
  EXPECT_EQ(pci.subsystem(), "pci");  // from a bus/ link, not a class/ one
  EXPECT_EQ(pci.GetOr("PCI_ID"), "8086:2922");
  // DRIVER comes from the uevent file, exactly once.
  EXPECT_EQ(std::count_if(pci.properties().begin(), pci.properties().end(),
                          [](const Property& p) { return p.first == "DRIVER"; }),
            1);

  EXPECT_EQ(by_path.at("/devices/virtual/mem/null").GetOr("DEVMODE"), "0666");
  EXPECT_EQ(by_path.at("/devices/virtual/net/lo").GetOr("IFINDEX"), "1");
  EXPECT_FALSE(by_path.at("/devices/virtual/net/lo").devnum());
}

TEST_F(ColdplugTest, NeverFollowsSymlinks) {
  // A loop back up the tree and a link to a device-looking directory outside devices/.
  Symlink("../../..", "devices/virtual/mem/null/device");
  sysfs_.Add({"/outside/fake0", "mem", false, "", {{"DEVNAME", "fake0"}}, {}});
  Symlink("../../../outside/fake0", "devices/virtual/mem/fake0");
  Symlink("../../outside", "devices/virtual/outside");

  auto devpaths = Devpaths(WalkAll(fd_.get()));
  EXPECT_EQ(devpaths.size(), 6u);
  for (const auto& devpath : devpaths) EXPECT_EQ(devpath.find("fake0"), std::string::npos);
}

TEST_F(ColdplugTest, DoesNotEnterPowerDirectories) {
  sysfs_.Add({"/devices/virtual/mem/null/power", "mem", false, "", {{"DEVNAME", "x"}}, {}});
  auto devpaths = Devpaths(WalkAll(fd_.get()));
  EXPECT_EQ(std::count(devpaths.begin(), devpaths.end(), "/devices/virtual/mem/null/power"), 0);
}

TEST_F(ColdplugTest, SkipsMalformedDevicesAndContinues) {
  sysfs_.Add({"/devices/virtual/mem/bad", "mem", false, "", {{"BAD-KEY", "1"}}, {}});
  sysfs_.Add({"/devices/virtual/mem/escape", "mem", false, "", {{"DEVNAME", "../etc/x"}}, {}});
  // A uevent that is not a regular file does not make a device.
  sysfs_.Add({"/devices/virtual/mem/weird", "mem", false, "", {}, {}});
  fs::remove(dir_.Sub("devices/virtual/mem/weird/uevent"));
  fs::create_directory(dir_.Sub("devices/virtual/mem/weird/uevent"));

  auto devpaths = Devpaths(WalkAll(fd_.get()));
  EXPECT_EQ(devpaths.size(), 6u);
  EXPECT_EQ(std::count(devpaths.begin(), devpaths.end(), "/devices/virtual/mem/null"), 1);
}

TEST_F(ColdplugTest, ListDevpathsMatchesTheWalk) {
  auto listed = ListDevpaths(fd_.get());
  ASSERT_TRUE(listed) << listed.error().Message();
  EXPECT_EQ(*listed, Devpaths(WalkAll(fd_.get())));
}

TEST_F(ColdplugTest, FailsWithoutDevicesDirectory) {
  testing::TempDir empty("vdev-coldplug-empty");
  UniqueFd fd = *OpenDirAt(AT_FDCWD, empty.path());
  auto walked = WalkDevices(fd.get(), [](Uevent&&) { ADD_FAILURE() << "no device expected"; });
  ASSERT_FALSE(walked);
  EXPECT_EQ(walked.error().code, ENOENT);
  EXPECT_FALSE(ListDevpaths(fd.get()));
}

TEST_F(ColdplugTest, HandlesManySiblingsAndLevels) {
  // Not a timing assert (benchmarks print figures): checks the walk's bookkeeping, such as
  // devpath restoration after each subtree, across many siblings and nesting levels.
  for (int host = 0; host < 20; ++host) {
    std::string parent = "/devices/platform/host" + std::to_string(host);
    sysfs_.Add({parent, "platform", true, "", {}, {}});
    for (int disk = 0; disk < 10; ++disk) {
      std::string name = "vd" + std::to_string(host) + "x" + std::to_string(disk);
      sysfs_.AddBlockDevice(parent + "/block/" + name, name, 254, host * 16 + disk);
    }
  }
  auto events = WalkAll(fd_.get());
  ASSERT_EQ(events.size(), 6u + 20 + 200);
  for (const auto& event : events) {
    if (event.subsystem() != "block" || !event.devpath().starts_with("/devices/platform/"))
      continue;
    std::string_view devpath = event.devpath();
    EXPECT_EQ(BaseName(devpath), event.devname()) << devpath;
  }
}

// The real sysfs is readable without root.
TEST(ColdplugRealSysfs, FindsMemNullAndOrdersParentsFirst) {
  if (access("/sys/devices/virtual/mem/null/uevent", R_OK) != 0)
    GTEST_SKIP() << "no readable /sys/devices/virtual/mem/null";
  UniqueFd sysfs = *OpenDirAt(AT_FDCWD, "/sys");
  auto events = WalkAll(sysfs.get());
  ASSERT_FALSE(events.empty());

  std::map<std::string, size_t> index;
  for (size_t i = 0; i < events.size(); ++i) {
    std::string devpath(events[i].devpath());
    EXPECT_TRUE(index.emplace(devpath, i).second) << "reported twice: " << devpath;
    // Every reported ancestor came earlier.
    for (size_t slash = devpath.rfind('/'); slash > 0; slash = devpath.rfind('/', slash - 1)) {
      auto parent = index.find(devpath.substr(0, slash));
      if (parent != index.end()) {
        EXPECT_LT(parent->second, i) << devpath;
      }
    }
  }
  auto null = index.find("/devices/virtual/mem/null");
  ASSERT_NE(null, index.end());
  const Uevent& event = events[null->second];
  EXPECT_EQ(event.action(), "add");
  EXPECT_EQ(event.subsystem(), "mem");
  EXPECT_EQ(event.devname(), "null");
  EXPECT_TRUE(event.devnum());
}

}  // namespace
}  // namespace vdev
