// The path_id builtin over fake sysfs trees of real hardware (test/fixtures/device_trees.h),
// and over this machine's /sys.
//
// Expected values: the udev link names these paths make are the familiar ones
// (pci-0000:00:1f.2-ata-1.0 and its compat pci-0000:00:1f.2-ata-1 on q35 AHCI, usb-0:N:1.0
// with the bus number dropped, platform-i8042-serio-0 as in systemd's hwdb.d README
// example, acpi-VMBUS:00-vmbus-<guid>-lun-0 on Hyper-V, platform-fe340000.mmc on a
// Raspberry Pi 4); every value below was checked against Debian 12's udevadm 252.39
// (`udevadm test-builtin path_id`) run over the same tree bind-mounted on /sys.
#include "builtin_path_id.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "builtin.h"
#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"

namespace vdev {
namespace {

namespace devices = testing::devices;

std::string Get(const std::vector<Property>& properties, std::string_view key) {
  for (const auto& [name, value] : properties)
    if (name == key) return value;
  return "<unset>";
}

TEST(PathIdTagTest, EscapesLikeUdev) {
  struct Case {
    std::string path, tag;
  } cases[] = {
      {"pci-0000:00:1f.2-ata-1.0", "pci-0000_00_1f_2-ata-1_0"},
      {"platform-i8042-serio-0", "platform-i8042-serio-0"},
      {"pci-0000:00:14.0-usb-0:6.1:1.0", "pci-0000_00_14_0-usb-0_6_1_1_0"},
      {"acpi-PNP0C0D:00", "acpi-PNP0C0D_00"},
      {"::a::b::", "a_b"},  // no leading or trailing '_', runs collapsed
      {"a/b c\xc3\xa9", "a_b_c"},
      {"--", "--"},
      {"", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(PathIdTag(c.path), c.tag) << c.path;
}

class PathIdTest : public ::testing::Test {
 protected:
  // One tree for all tests: building it is the slow part.
  static void SetUpTestSuite() { tree_ = &testing::SharedTestMachine(); }

  std::vector<Property> PathId(const std::string& devpath) {
    auto device = Device::Open(tree_->fd(), devpath);
    EXPECT_TRUE(device) << devpath;
    if (!device) return {};
    auto properties = PathIdProperties(*device);
    EXPECT_TRUE(properties) << devpath << ": " << properties.error().Message();
    return properties ? *properties : std::vector<Property>{};
  }

  inline static testing::TestMachineTree* tree_ = nullptr;
};

TEST_F(PathIdTest, PathsOfRealTopologies) {
  struct Case {
    std::string devpath, path, tag, ata_compat;  // "" ata_compat: not set
  } cases[] = {
      // libata: the port number from ataN/ata_port/ataN, target (master/slave) or the
      // port multiplier's port; the compat form without it.
      {devices::kAhciDisk, "pci-0000:00:1f.2-ata-1.0", "pci-0000_00_1f_2-ata-1_0",
       "pci-0000:00:1f.2-ata-1"},
      {devices::kAhciPartition, "pci-0000:00:1f.2-ata-1.0", "pci-0000_00_1f_2-ata-1_0",
       "pci-0000:00:1f.2-ata-1"},
      {devices::kAhciCdrom, "pci-0000:00:1f.2-ata-3.0", "pci-0000_00_1f_2-ata-3_0",
       "pci-0000:00:1f.2-ata-3"},
      {devices::kPortMultiplierDisk, "pci-0000:00:1f.2-ata-5.1.0", "pci-0000_00_1f_2-ata-5_1_0",
       "pci-0000:00:1f.2-ata-5"},
      {devices::kPataSlaveDisk, "pci-0000:00:01.1-ata-2.1", "pci-0000_00_01_1-ata-2_1",
       "pci-0000:00:01.1-ata-2"},
      // SCSI: host numbers rebased on the lowest host of the same parent.
      {devices::kVirtioScsiDisk, "pci-0000:00:04.0-scsi-0:0:0:0", "pci-0000_00_04_0-scsi-0_0_0_0",
       ""},
      {devices::kVirtioScsiLun1, "pci-0000:00:04.0-scsi-0:0:0:1", "pci-0000_00_04_0-scsi-0_0_0_1",
       ""},
      {devices::kHbaDisk, "pci-0000:00:10.0-scsi-1:0:1:2", "pci-0000_00_10_0-scsi-1_0_1_2", ""},
      // virtio-blk: the virtio device adds nothing.
      {devices::kVirtioDisk, "pci-0000:00:05.0", "pci-0000_00_05_0", ""},
      {devices::kVirtioPartition, "pci-0000:00:05.0", "pci-0000_00_05_0", ""},
      // NVMe: the namespace id; with multipath through the controller's link.
      {devices::kNvmeNamespace, "pci-0000:00:06.0-nvme-1", "pci-0000_00_06_0-nvme-1", ""},
      {devices::kNvmeMultipathNamespace, "pci-0000:00:07.0-nvme-1", "pci-0000_00_07_0-nvme-1", ""},
      // USB: "usb-0:" and the port chain, the interface; the bus number dropped.
      {devices::kUsbStorageDisk, "pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
       "pci-0000_00_14_0-usb-0_1_1_0-scsi-0_0_0_0", ""},
      {devices::kUsbStoragePartition, "pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
       "pci-0000_00_14_0-usb-0_1_1_0-scsi-0_0_0_0", ""},
      {devices::kUsbKeyboardEvent, "pci-0000:00:14.0-usb-0:2:1.0", "pci-0000_00_14_0-usb-0_2_1_0",
       ""},
      {devices::kUsbKeyboardMediaEvent, "pci-0000:00:14.0-usb-0:2:1.1",
       "pci-0000_00_14_0-usb-0_2_1_1", ""},
      {devices::kUsbMouseNode, "pci-0000:00:14.0-usb-0:3:1.0", "pci-0000_00_14_0-usb-0_3_1_0", ""},
      {devices::kGamepadJoystick, "pci-0000:00:14.0-usb-0:4:1.3", "pci-0000_00_14_0-usb-0_4_1_3",
       ""},
      {devices::kOddUsbEvent, "pci-0000:00:14.0-usb-0:6.1:1.0", "pci-0000_00_14_0-usb-0_6_1_1_0",
       ""},
      {devices::kUsbKeyboardDevice, "pci-0000:00:14.0-usb-0:2", "pci-0000_00_14_0-usb-0_2", ""},
      {devices::kUsbRootHub, "pci-0000:00:14.0", "pci-0000_00_14_0", ""},
      // Platform, serio, I2C below a PCI device, ACPI, SPI.
      {devices::kPs2KeyboardEvent, "platform-i8042-serio-0", "platform-i8042-serio-0", ""},
      {devices::kTouchpadEvent, "platform-i8042-serio-1", "platform-i8042-serio-1", ""},
      {devices::kTrackpointEvent, "platform-i8042-serio-2", "platform-i8042-serio-2", ""},
      {devices::kSpeakerEvent, "platform-pcspkr", "platform-pcspkr", ""},
      {devices::kAccelerometerEvent, "platform-lis3lv02d", "platform-lis3lv02d", ""},
      {devices::kSdCard, "platform-fe340000.mmc", "platform-fe340000_mmc", ""},
      {devices::kTouchscreenEvent, "pci-0000:00:15.1-platform-i2c_designware.1",
       "pci-0000_00_15_1-platform-i2c_designware_1", ""},
      {devices::kLidSwitchEvent, "acpi-PNP0C0D:00", "acpi-PNP0C0D_00", ""},
      {devices::kPowerButtonEvent, "acpi-LNXPWRBN:00", "acpi-LNXPWRBN_00", ""},
      {devices::kSpiDevice, "platform-fe204000.spi-cs-0", "platform-fe204000_spi-cs-0", ""},
      // SAS (direct-attached: the phy), iSCSI (a LUN above 255), FireWire, Hyper-V.
      {devices::kSasDisk, "pci-0000:02:00.0-sas-phy0-lun-0", "pci-0000_02_00_0-sas-phy0-lun-0", ""},
      {devices::kIscsiDisk,
       "ip-192.0.2.10:3260-iscsi-iqn.2003-01.org.example:storage.disk1-lun-0x012c000000000000",
       "ip-192_0_2_10_3260-iscsi-iqn_2003-01_org_example_storage_disk1-lun-0x012c000000000000", ""},
      {devices::kFirewireDisk, "pci-0000:05:03.0-ieee1394-0x0001d2000012abcd:0:0",
       "pci-0000_05_03_0-ieee1394-0x0001d2000012abcd_0_0", ""},
      {devices::kHypervDisk, "acpi-VMBUS:00-vmbus-f8b3781b1e824818a1c363d806ec15bb-lun-0",
       "acpi-VMBUS_00-vmbus-f8b3781b1e824818a1c363d806ec15bb-lun-0", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.devpath);
    std::vector<Property> properties = PathId(c.devpath);
    std::vector<Property> expected = {{"ID_PATH", c.path}, {"ID_PATH_TAG", c.tag}};
    if (!c.ata_compat.empty()) expected.emplace_back("ID_PATH_ATA_COMPAT", c.ata_compat);
    EXPECT_EQ(properties, expected);
  }
}

TEST_F(PathIdTest, NoPathWithoutAStableRootOrTransport) {
  // Virtual devices; the PCI root itself; an NVMe partition (no nsid of its own: the rules
  // give partitions their disk's ID_PATH).
  for (const char* devpath :
       {devices::kVirtualInputEvent, "/devices/pci0000:00", devices::kNvmePartition,
        "/devices/virtual/nvme-subsystem/nvme-subsys1"}) {
    EXPECT_EQ(PathId(devpath), std::vector<Property>{}) << devpath;
  }
  // A disk on a PCI SD card reader: the PCI device names it, but mmc is no known transport
  // for a block device; the reader itself does get a path.
  const std::string reader = "/devices/pci0000:00/0000:00:1c.0";
  tree_->sysfs().Add({reader, "pci", true, "sdhci-pci", {}, {}});
  tree_->sysfs().Add({reader + "/mmc_host/mmc1", "mmc_host", false, "", {}, {}});
  tree_->sysfs().Add({reader + "/mmc_host/mmc1/mmc1:0001", "mmc", true, "mmcblk", {}, {}});
  tree_->sysfs().AddBlockDevice(reader + "/mmc_host/mmc1/mmc1:0001/block/mmcblk1", "mmcblk1", 179,
                                8);
  EXPECT_EQ(PathId(reader + "/mmc_host/mmc1/mmc1:0001/block/mmcblk1"), std::vector<Property>{});
  EXPECT_EQ(Get(PathId(reader + "/mmc_host/mmc1/mmc1:0001"), "ID_PATH"), "pci-0000:00:1c.0");
}

TEST_F(PathIdTest, MissingAtaPortStopsTheWalk) {
  // Without ata1/ata_port/ata1 there is no port number: udev gives up on the device.
  testing::ScopedHide hidden(tree_->Path("/devices/pci0000:00/0000:00:1f.2/ata1/ata_port"));
  EXPECT_EQ(PathId(devices::kAhciDisk), std::vector<Property>{});
}

TEST_F(PathIdTest, MultipathControllerMissingIsAnError) {
  testing::ScopedHide hidden(tree_->Path("/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1"));
  auto device = Device::Open(tree_->fd(), devices::kNvmeMultipathNamespace);
  ASSERT_TRUE(device);
  auto properties = PathIdProperties(*device);
  ASSERT_FALSE(properties);
  EXPECT_EQ(properties.error().code, ENODEV);
}

TEST_F(PathIdTest, BuiltinSetsTheEventsProperties) {
  const Builtin* builtin = FindBuiltin("path_id");
  ASSERT_NE(builtin, nullptr);
  auto device = Device::Open(tree_->fd(), devices::kAhciDisk);
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  properties.Set("ACTION", "add");
  EventState state(std::move(*device), std::move(properties));
  BuiltinCall call{state, {}};
  ASSERT_TRUE(builtin->run(call));
  EXPECT_EQ(state.properties.GetOr("ID_PATH"), "pci-0000:00:1f.2-ata-1.0");
  EXPECT_EQ(state.properties.GetOr("ID_PATH_TAG"), "pci-0000_00_1f_2-ata-1_0");
  EXPECT_EQ(state.properties.GetOr("ID_PATH_ATA_COMPAT"), "pci-0000:00:1f.2-ata-1");

  // No path is no failure: the event goes on without the properties.
  auto virtual_device = Device::Open(tree_->fd(), devices::kVirtualInputEvent);
  ASSERT_TRUE(virtual_device);
  EventState other(std::move(*virtual_device), Uevent());
  BuiltinCall other_call{other, {}};
  EXPECT_TRUE(builtin->run(other_call));
  EXPECT_FALSE(other.properties.Has("ID_PATH"));
}

// This machine's devices: the builtin must not fail on any, and what it gives must hang
// together (the tag is the escaped path; only libata disks have a compat path).
TEST(PathIdRealSysfsTest, EveryBlockAndInputDeviceHere) {
  auto sysfs = OpenDirAt(AT_FDCWD, "/sys");
  if (!sysfs) GTEST_SKIP() << "no /sys";
  size_t checked = 0;
  for (const char* class_dir : {"/sys/class/block", "/sys/class/input"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(class_dir, error)) {
      std::string real = std::filesystem::canonical(entry.path(), error).string();
      if (error || !real.starts_with("/sys/devices/")) continue;
      auto device = Device::Open(sysfs->get(), real.substr(4));
      if (!device) continue;  // gone meanwhile
      auto properties = PathIdProperties(*device);
      ASSERT_TRUE(properties) << real << ": " << properties.error().Message();
      ++checked;
      if (properties->empty()) continue;
      std::string path = Get(*properties, "ID_PATH");
      EXPECT_FALSE(path.empty()) << real;
      EXPECT_EQ(Get(*properties, "ID_PATH_TAG"), PathIdTag(path)) << real;
      if (Get(*properties, "ID_PATH_ATA_COMPAT") != "<unset>") {
        EXPECT_NE(path.find("-ata-"), std::string::npos) << real;
      }
    }
  }
  RecordProperty("devices", std::to_string(checked));
}

}  // namespace
}  // namespace vdev
