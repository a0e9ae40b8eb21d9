#include "common/device.h"

#include <fcntl.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sysfs_.AddCharDevice("/devices/virtual/mem/null", "mem", "null", 1, 3, {{"DEVMODE", "0666"}});
    sysfs_.Add({"/devices/pci0000:00/0000:00:1f.2", "pci", true, "ahci", {{"PCI_ID", "8086:2922"}}, {}});
    sysfs_.Add({"/devices/pci0000:00/0000:00:1f.2/ata1", "", false, "", {}, {}});
    sysfs_.AddBlockDevice("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda", "sda", 8, 0);
    sysfs_.SetAttribute("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda", "size", "2048");
    sysfs_.AddBlockDevice("/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1", "sda1", 8, 1,
                          "partition");
    sysfs_.Add({"/devices/virtual/net/lo", "net", false, "", {{"INTERFACE", "lo"}, {"IFINDEX", "1"}}, {}});
    sysfs_.Add({"/devices/platform/cciss!c0d0", "platform", true, "", {}, {}});
    fd_ = *OpenDirAt(AT_FDCWD, dir_.path());
  }

  testing::TempDir dir_;
  testing::FakeSysfs sysfs_{dir_.path()};
  UniqueFd fd_;
};

TEST_F(DeviceTest, ReadsUeventSubsystemAndDriver) {
  auto null = Device::Open(fd_.get(), "/devices/virtual/mem/null");
  ASSERT_TRUE(null) << null.error().Message();
  EXPECT_EQ(null->subsystem(), "mem");
  EXPECT_EQ(null->devnum(), makedev(1, 3));
  EXPECT_EQ(null->Id(), "c1:3");
  EXPECT_EQ(null->properties().GetOr("DEVMODE"), "0666");

  auto pci = Device::Open(fd_.get(), "/devices/pci0000:00/0000:00:1f.2");
  ASSERT_TRUE(pci);
  EXPECT_EQ(pci->driver(), "ahci");
  EXPECT_EQ(pci->Id(), "+pci:0000:00:1f.2");
}

TEST_F(DeviceTest, IdsForEveryKind) {
  EXPECT_EQ(Device::Open(fd_.get(), "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda")->Id(), "b8:0");
  EXPECT_EQ(Device::Open(fd_.get(), "/devices/virtual/net/lo")->Id(), "n1");
  auto cciss = Device::Open(fd_.get(), "/devices/platform/cciss!c0d0");
  EXPECT_EQ(cciss->sysname(), "cciss/c0d0");
  EXPECT_EQ(cciss->sysnum(), "0");
}

TEST_F(DeviceTest, AttributesAndParents) {
  auto sda1 = Device::Open(fd_.get(), "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1");
  ASSERT_TRUE(sda1);
  EXPECT_EQ(sda1->devtype(), "partition");
  auto sda = sda1->Parent();
  ASSERT_TRUE(sda);
  EXPECT_EQ(sda->Attribute("size"), "2048");
  EXPECT_FALSE(sda->Attribute("../../../../../etc/passwd"));
  auto ata = sda->Parent();  // block/ has no uevent file: skipped
  ASSERT_TRUE(ata);
  EXPECT_EQ(ata->devpath(), "/devices/pci0000:00/0000:00:1f.2/ata1");
  EXPECT_EQ(ata->Parent()->Parent(), std::nullopt);  // pci0000:00 is not a device here
}

TEST_F(DeviceTest, GoneDeviceIsEnoent) {
  auto gone = Device::Open(fd_.get(), "/devices/virtual/mem/zero");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ENOENT);
}

TEST_F(DeviceTest, DevpathFromDevnum) {
  EXPECT_EQ(DevpathFromDevnum(fd_.get(), true, makedev(8, 1)).value_or(""),
            "/devices/pci0000:00/0000:00:1f.2/ata1/block/sda/sda1");
  EXPECT_EQ(DevpathFromDevnum(fd_.get(), false, makedev(1, 3)).value_or(""),
            "/devices/virtual/mem/null");
  EXPECT_FALSE(DevpathFromDevnum(fd_.get(), false, makedev(9, 9)));
}

}  // namespace
}  // namespace vdev
