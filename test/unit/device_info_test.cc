#include "common/device_info.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;

constexpr char kSda[] = "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda";

class DeviceInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    paths_.sysfs = dir_.Sub("sys");
    paths_.dev = dir_.Sub("dev");
    paths_.run = dir_.Sub("run");
    for (const char* dir : {"sys", "dev", "run"}) fs::create_directory(dir_.Sub(dir));
    sysfs_.emplace(dir_.Sub("sys"));
    sysfs_->Add({"/devices/pci0000:00/0000:00:1f.2", "pci", true, "ahci",
                {{"DRIVER", "ahci"}, {"PCI_ID", "8086:2922"}}, {}});
    sysfs_->Add({"/devices/pci0000:00/0000:00:1f.2/ata1", "", false, "", {}, {}});
    sysfs_->AddBlockDevice(kSda, "sda", 8, 0, "disk", {{"DISKSEQ", "5"}});
    sysfs_->AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3);
    sysfs_->Add({"/devices/virtual/net/lo",
                 "net",
                 false,
                 "",
                 {{"INTERFACE", "lo"}, {"IFINDEX", "1"}},
                 {{"ifindex", "1"}}});
    auto roots = Roots::Open(paths_, true);
    ASSERT_TRUE(roots) << roots.error().Message();
    roots_ = std::move(*roots);
    auto database = Database::Open(roots_.run(), true);
    ASSERT_TRUE(database) << database.error().Message();
    database_ = std::move(*database);
  }

  DeviceRecord SdaRecord() {
    DeviceRecord record;
    record.links = {"disk/by-id/ata-QEMU_1", "disk/by-diskseq/5"};
    record.link_priority = 10;
    record.properties = {{"ID_BUS", "ata"}, {"ID_SERIAL", "QEMU_1"}};
    record.tags = {"systemd", "seat"};
    record.current_tags = {"systemd"};
    record.usec_initialized = 12345;
    return record;
  }

  testing::TempDir dir_;
  std::optional<testing::FakeSysfs> sysfs_;
  RootPaths paths_;
  Roots roots_;
  Database database_;
};

TEST_F(DeviceInfoTest, MergesKernelViewAndRecordInUdevOrder) {
  ASSERT_TRUE(database_.Write("b8:0", SdaRecord(), nullptr));
  auto info = LoadDeviceInfo(roots_.sysfs(), &database_, paths_.dev, kSda);
  ASSERT_TRUE(info) << info.error().Message();
  EXPECT_TRUE(info->initialized);
  EXPECT_EQ(info->devnode, "sda");
  EXPECT_EQ(info->links, SdaRecord().links);
  EXPECT_EQ(info->link_priority, 10);
  EXPECT_EQ(info->tags, (std::vector<std::string>{"systemd", "seat"}));
  EXPECT_EQ(info->current_tags, std::vector<std::string>{"systemd"});
  EXPECT_EQ(info->usec_initialized, 12345u);
  std::string dev = paths_.dev;
  std::vector<Property> expected = {
      {"DEVPATH", kSda},
      {"DEVNAME", dev + "/sda"},
      {"DEVTYPE", "disk"},
      {"DISKSEQ", "5"},
      {"MAJOR", "8"},
      {"MINOR", "0"},
      {"SUBSYSTEM", "block"},
      {"USEC_INITIALIZED", "12345"},
      {"ID_BUS", "ata"},
      {"ID_SERIAL", "QEMU_1"},
      {"DEVLINKS", dev + "/disk/by-id/ata-QEMU_1 " + dev + "/disk/by-diskseq/5"},
      {"TAGS", ":systemd:seat:"},
      {"CURRENT_TAGS", ":systemd:"},
  };
  EXPECT_EQ(info->properties.properties(), expected);
}

TEST_F(DeviceInfoTest, WithoutRecordOnlyTheKernelView) {
  for (const Database* database : {static_cast<const Database*>(&database_),
                                   static_cast<const Database*>(nullptr)}) {
    auto info = LoadDeviceInfo(roots_.sysfs(), database, paths_.dev, "/devices/virtual/mem/null");
    ASSERT_TRUE(info) << info.error().Message();
    EXPECT_FALSE(info->initialized);
    EXPECT_TRUE(info->links.empty());
    std::vector<Property> expected = {{"DEVPATH", "/devices/virtual/mem/null"},
                                      {"DEVNAME", paths_.dev + "/null"},
                                      {"MAJOR", "1"},
                                      {"MINOR", "3"},
                                      {"SUBSYSTEM", "mem"}};
    EXPECT_EQ(info->properties.properties(), expected);
  }
}

TEST_F(DeviceInfoTest, RecordValueReplacesKernelValueInPlace) {
  DeviceRecord record;
  record.properties = {{"DEVTYPE", "overridden"}, {"ID_X", "1"}};
  ASSERT_TRUE(database_.Write("b8:0", record, nullptr));
  auto info = LoadDeviceInfo(roots_.sysfs(), &database_, paths_.dev, kSda);
  ASSERT_TRUE(info);
  const auto& properties = info->properties.properties();
  ASSERT_GE(properties.size(), 3u);
  EXPECT_EQ(properties[2], Property("DEVTYPE", "overridden"));
  EXPECT_EQ(properties.back(), Property("ID_X", "1"));
  EXPECT_FALSE(info->properties.Has("USEC_INITIALIZED"));  // no I: line, no property
  EXPECT_FALSE(info->properties.Has("DEVLINKS"));
  EXPECT_FALSE(info->properties.Has("TAGS"));
}

TEST_F(DeviceInfoTest, NetworkInterfaceHasNoNode) {
  auto info = LoadDeviceInfo(roots_.sysfs(), &database_, paths_.dev, "/devices/virtual/net/lo");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->devnode, "");
  EXPECT_FALSE(info->properties.Has("DEVNAME"));
  EXPECT_EQ(info->device.Id(), "n1");
}

TEST_F(DeviceInfoTest, MissingDeviceIsEnoent) {
  auto info = LoadDeviceInfo(roots_.sysfs(), &database_, paths_.dev, "/devices/virtual/mem/zero");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ENOENT);
}

TEST_F(DeviceInfoTest, JoinRootPath) {
  EXPECT_EQ(JoinRootPath("/dev", "sda"), "/dev/sda");
  EXPECT_EQ(JoinRootPath("/tmp/x/dev/", "disk/by-id/y"), "/tmp/x/dev/disk/by-id/y");
  EXPECT_EQ(JoinRootPath("/", "devices/x"), "/devices/x");
}

TEST(NodeNameRelativeTest, StripsDevPrefixOrDevRoot) {
  struct Case {
    const char* name;
    const char* dev_root;
    std::optional<std::string> expected;
  };
  const Case cases[] = {
      {"sda", "/dev", "sda"},
      {"/dev/sda", "/dev", "sda"},
      {"/dev/sda", "/tmp/r/dev", "sda"},
      {"/tmp/r/dev/sda", "/tmp/r/dev", "sda"},
      {"/tmp/r/dev/sda", "/tmp/r/dev/", "sda"},
      {"disk/by-id/ata-X", "/dev", "disk/by-id/ata-X"},
      {"/dev/disk/by-label/root", "/dev", "disk/by-label/root"},
      {"/tmp/r/devices/sda", "/tmp/r/dev", std::nullopt},  // a prefix, not a parent directory
      {"/etc/passwd", "/dev", std::nullopt},
      {"../etc/passwd", "/dev", std::nullopt},
      {"/dev/../etc/passwd", "/dev", std::nullopt},
      {"", "/dev", std::nullopt},
      {"/dev/", "/dev", std::nullopt},
  };
  for (const auto& c : cases)
    EXPECT_EQ(NodeNameRelative(c.name, c.dev_root), c.expected) << c.name << " in " << c.dev_root;
}

TEST_F(DeviceInfoTest, DevpathFromNodeRejectsWhatIsNoNode) {
  std::ofstream(dir_.Sub("dev/file")) << "x";
  auto file = DevpathFromNode(roots_.dev(), roots_.sysfs(), "file");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ENODEV);
  auto missing = DevpathFromNode(roots_.dev(), roots_.sysfs(), "sdz");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(DeviceInfoTest, CanonicalSysfsPathFollowsLinksInsideTheRoot) {
  EXPECT_EQ(CanonicalSysfsPath(roots_.sysfs(), "class/net/lo").value_or("?"),
            "/devices/virtual/net/lo");
  EXPECT_EQ(CanonicalSysfsPath(roots_.sysfs(), "dev/block/8:0").value_or("?"), kSda);
  // ".." after a link climbs from where the link led, as the kernel resolves it.
  EXPECT_EQ(CanonicalSysfsPath(roots_.sysfs(), "class/block/sda/../../..").value_or("?"),
            "/devices/pci0000:00/0000:00:1f.2");
  EXPECT_EQ(CanonicalSysfsPath(roots_.sysfs(), "class/net/eth9").error().code, ENOENT);
  EXPECT_EQ(CanonicalSysfsPath(roots_.sysfs(), "devices/./virtual//mem/null").value_or("?"),
            "/devices/virtual/mem/null");

  auto escape = CanonicalSysfsPath(roots_.sysfs(), "devices/../../etc");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code, EINVAL);
  fs::create_directory_symlink("/etc", dir_.Sub("sys/class/absolute"));
  auto absolute = CanonicalSysfsPath(roots_.sysfs(), "class/absolute");
  ASSERT_FALSE(absolute);
  EXPECT_EQ(absolute.error().code, EINVAL);
  fs::create_directory_symlink("loop", dir_.Sub("sys/class/loop"));
  auto loop = CanonicalSysfsPath(roots_.sysfs(), "class/loop");
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().code, ELOOP);
}

TEST_F(DeviceInfoTest, DevpathFromSyspathAcceptsEverySpelling) {
  const std::string sysfs = paths_.sysfs;
  for (std::string path : {sysfs + "/devices/virtual/net/lo", sysfs + "/class/net/lo",
                           std::string("/sys/devices/virtual/net/lo"),
                           std::string("/sys/class/net/lo"), std::string("/devices/virtual/net/lo"),
                           std::string("/class/net/lo")}) {
    EXPECT_EQ(DevpathFromSyspath(roots_.sysfs(), sysfs, path).value_or("?"),
              "/devices/virtual/net/lo")
        << path;
  }
  auto relative = DevpathFromSyspath(roots_.sysfs(), sysfs, "devices/virtual/net/lo");
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().code, EINVAL);
}

TEST_F(DeviceInfoTest, DevpathFromDeviceId) {
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "b8:0").value_or("?"), kSda);
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "c1:3").value_or("?"), "/devices/virtual/mem/null");
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "n1").value_or("?"), "/devices/virtual/net/lo");
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "+net:lo").value_or("?"),
            "/devices/virtual/net/lo");
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "+pci:0000:00:1f.2").value_or("?"),
            "/devices/pci0000:00/0000:00:1f.2");
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "b8:9").error().code, ENOENT);
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "n7").error().code, ENOENT);
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "+net:eth9").error().code, ENOENT);
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "+net:..").error().code, EINVAL);
  EXPECT_EQ(DevpathFromDeviceId(roots_.sysfs(), "sda").error().code, EINVAL);
}

TEST_F(DeviceInfoTest, ResolveDeviceArgument) {
  const std::string sysfs = paths_.sysfs;
  EXPECT_EQ(ResolveDeviceArgument(roots_, "/devices/virtual/mem/null").value_or("?"),
            "/devices/virtual/mem/null");
  EXPECT_EQ(ResolveDeviceArgument(roots_, sysfs + "/class/mem/null").value_or("?"),
            "/devices/virtual/mem/null");
  EXPECT_EQ(ResolveDeviceArgument(roots_, "/sys/class/net/lo").value_or("?"),
            "/devices/virtual/net/lo");
  EXPECT_EQ(ResolveDeviceArgument(roots_, "c1:3").value_or("?"), "/devices/virtual/mem/null");
  // Directories that are no device, and devices that do not exist.
  EXPECT_EQ(ResolveDeviceArgument(roots_, "/class/net").error().code, ENOENT);
  EXPECT_EQ(ResolveDeviceArgument(roots_, "/devices/virtual/mem/zero").error().code, ENOENT);
  // A bare name and a /dev path are nodes below the dev root.
  EXPECT_EQ(ResolveDeviceArgument(roots_, "sda").error().code, ENOENT);
  EXPECT_EQ(ResolveDeviceArgument(roots_, "/dev/sda").error().code, ENOENT);
  EXPECT_EQ(ResolveDeviceArgument(roots_, "../etc/passwd").error().code, EINVAL);
}

}  // namespace
}  // namespace vdev
