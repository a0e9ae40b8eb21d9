// The scsi_id builtin: its reading of VPD pages 0x80 and 0x83 (scsi_vpd.h) with SPC-3's byte
// layouts, the builtin over a fake sysfs whose scsi_device carries vpd_pg80/vpd_pg83 the way
// the kernel exposes them, and 60-vdev-persistent-storage.rules turning that into by-id links.
//
// The QEMU disk is the VM test's (-device scsi-hd,serial=vdevscsi0001,wwn=0x5000c50015ea71ac):
// QEMU answers page 0x83 with an ASCII vendor-specific descriptor holding the serial and a
// binary NAA descriptor holding the WWN, and udev names it scsi-35000c50015ea71ac and
// wwn-0x5000c50015ea71ac. The other layouts are SPC-3's (7.6.3): byte 0 protocol/code set,
// byte 1 PIV/association/identifier type, byte 3 length.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "builtin.h"
#include "builtin_scsi_id.h"
#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"
#include "scsi_vpd.h"

namespace vdev {
namespace {

using Properties = std::vector<Property>;
namespace devices = testing::devices;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int byte : bytes) out += static_cast<char>(byte);
  return out;
}

// A VPD page: header (page code, 16-bit length), then the payload.
std::string Page(uint8_t code, const std::string& payload) {
  return Bytes({0, code, static_cast<int>(payload.size() >> 8),
                static_cast<int>(payload.size() & 0xff)}) +
         payload;
}

// An identification descriptor: code set (1 binary, 2 ASCII), association and type byte.
std::string Descriptor(int code_set, int association_and_type, const std::string& identifier) {
  return Bytes({code_set, association_and_type, 0, static_cast<int>(identifier.size())}) +
         identifier;
}

const std::string kQemuWwn = Bytes({0x50, 0x00, 0xc5, 0x00, 0x15, 0xea, 0x71, 0xac});
const std::string kQemuPage83 =
    Page(0x83, Descriptor(2, 0x00, "vdevscsi0001") + Descriptor(1, 0x03, kQemuWwn));
const std::string kQemuPage80 = Page(0x80, "vdevscsi0001");

const ScsiInquiryData kQemuInquiry{"QEMU    ", "QEMU HARDDISK   ", "2.5+", 0};

std::string Value(const Properties& properties, const std::string& key) {
  for (const auto& [name, value] : properties)
    if (name == key) return value;
  return "<unset>";
}

ScsiSerial FromPages(const ScsiInquiryData& inquiry, std::optional<std::string> page83,
                     std::optional<std::string> page80) {
  std::string supported;
  if (page80) supported += '\x80';
  if (page83) supported += '\x83';
  return ReadScsiSerial(inquiry, supported,
                        [&](uint8_t page) { return page == 0x83 ? page83 : page80; });
}

Properties Export(std::optional<std::string> page83, std::optional<std::string> page80,
                  const ScsiInquiryData& inquiry = kQemuInquiry) {
  return ScsiIdExport(inquiry, FromPages(inquiry, std::move(page83), std::move(page80)));
}

TEST(ScsiVpdTest, QemuDiskGivesUdevsPropertiesInItsOrder) {
  EXPECT_EQ(Export(kQemuPage83, kQemuPage80),
            (Properties{
                {"ID_SCSI", "1"},
                {"ID_VENDOR", "QEMU"},
                {"ID_VENDOR_ENC", "QEMU\\x20\\x20\\x20\\x20"},
                {"ID_MODEL", "QEMU_HARDDISK"},
                {"ID_MODEL_ENC", "QEMU\\x20HARDDISK\\x20\\x20\\x20"},
                {"ID_REVISION", "2.5+"},
                {"ID_TYPE", "disk"},
                {"ID_SERIAL", "35000c50015ea71ac"},
                {"ID_SERIAL_SHORT", "5000c50015ea71ac"},
                {"ID_WWN", "0x5000c50015ea71ac"},
                {"ID_WWN_WITH_EXTENSION", "0x5000c50015ea71ac"},
                {"ID_SCSI_SERIAL", "vdevscsi0001"},
            }));
}

TEST(ScsiVpdTest, NaaRegisteredExtendedWinsAndKeepsItsVendorExtension) {
  // NAA 5 first in the page, NAA 6 (16 bytes) after it: scsi_id prefers the extended one.
  const std::string naa6 = Bytes({0x60, 0x0a, 0x0b, 0x80, 0x00, 0xc1, 0xd2, 0xe3, 0xf4, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x11, 0x00});
  Properties properties =
      Export(Page(0x83, Descriptor(1, 0x03, kQemuWwn) + Descriptor(1, 0x03, naa6)), std::nullopt);
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "3600a0b8000c1d2e3f400000000001100");
  EXPECT_EQ(Value(properties, "ID_WWN"), "0x600a0b8000c1d2e3");
  EXPECT_EQ(Value(properties, "ID_WWN_VENDOR_EXTENSION"), "0xf400000000001100");
  EXPECT_EQ(Value(properties, "ID_WWN_WITH_EXTENSION"), "0x600a0b8000c1d2e3f400000000001100");
  EXPECT_EQ(Value(properties, "ID_SCSI_SERIAL"), "<unset>");  // no page 0x80
}

TEST(ScsiVpdTest, PreferenceOrderOverDescriptorOrder) {
  const std::string eui64 = Descriptor(1, 0x02, Bytes({0x00, 0x25, 0x38, 0x8b, 1, 2, 3, 4}));
  const std::string t10 = Descriptor(2, 0x01, "ATA     ST3500418AS 9VM1ABCD");
  const std::string vendor_specific = Descriptor(2, 0x00, "ABC 1234");
  // T10 vendor id before vendor specific, EUI-64 before T10, NAA before EUI-64.
  EXPECT_EQ(Value(Export(Page(0x83, vendor_specific + t10), std::nullopt), "ID_SERIAL"),
            "1ATA_ST3500418AS_9VM1ABCD");
  EXPECT_EQ(Value(Export(Page(0x83, vendor_specific + t10 + eui64), std::nullopt), "ID_SERIAL"),
            "20025388b01020304");
  Properties naa = Export(Page(0x83, t10 + eui64 + Descriptor(1, 0x03, kQemuWwn)), std::nullopt);
  EXPECT_EQ(Value(naa, "ID_SERIAL"), "35000c50015ea71ac");
  // Only NAA identifiers are WWNs.
  EXPECT_EQ(Value(Export(Page(0x83, t10 + eui64), std::nullopt), "ID_WWN"), "<unset>");
  // A vendor-specific id is made unique by the vendor and model before it.
  Properties vs = Export(Page(0x83, vendor_specific), std::nullopt);
  EXPECT_EQ(Value(vs, "ID_SERIAL"), "0QEMU_QEMU_HARDDISK_ABC_1234");
  EXPECT_EQ(Value(vs, "ID_SERIAL_SHORT"), "ABC_1234");
}

TEST(ScsiVpdTest, TargetPortDescriptorsOnlyGiveTheGroup) {
  // A port WWN (association 1: target port) is no device name; a target port group (type 5)
  // is recorded as ID_TARGET_PORT.
  const std::string port_wwn = Descriptor(0x61, 0x93, Bytes({0x50, 1, 2, 3, 4, 5, 6, 7}));
  const std::string group = Descriptor(1, 0x15, Bytes({0, 0, 0, 0x2a}));
  Properties properties = Export(Page(0x83, port_wwn + group), std::nullopt);
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "<unset>");
  EXPECT_EQ(Value(properties, "ID_TARGET_PORT"), "2a");
  properties = Export(Page(0x83, port_wwn + group + Descriptor(1, 0x03, kQemuWwn)), std::nullopt);
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "35000c50015ea71ac");
  EXPECT_EQ(Value(properties, "ID_TARGET_PORT"), "2a");
}

TEST(ScsiVpdTest, UnitSerialPageAlone) {
  Properties properties = Export(std::nullopt, Page(0x80, "  XYZ 42  "));
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "SQEMU_QEMU_HARDDISK_XYZ_42");
  EXPECT_EQ(Value(properties, "ID_SERIAL_SHORT"), "XYZ_42");
  EXPECT_EQ(Value(properties, "ID_SCSI_SERIAL"), "<unset>");  // only read along with 0x83
  // With a page 0x83 that names nothing, page 0x80 names the device; its serial number is
  // ID_SCSI_SERIAL, with the blanks udev's import strips.
  properties = Export(Page(0x83, ""), Page(0x80, "  XYZ 42  "));
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "SQEMU_QEMU_HARDDISK_XYZ_42");
  EXPECT_EQ(Value(properties, "ID_SCSI_SERIAL"), "XYZ 42");
}

TEST(ScsiVpdTest, ShortVendorLeavesScsiIdsLoneS) {
  // scsi_id writes the 'S' before it checks that vendor and model are full length.
  ScsiInquiryData inquiry{"QEMU", "QEMU HARDDISK   ", "2.5+", 0};
  EXPECT_EQ(Value(Export(std::nullopt, Page(0x80, "XYZ"), inquiry), "ID_SERIAL"), "S");
}

TEST(ScsiVpdTest, PreSpc3PageIsTheWwnItself) {
  // EMC Symmetrix's SCSI-2 page 0x83: 16 bytes of WWN right after the header.
  const std::string wwn = Bytes({0x60, 0x06, 0x04, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                 0x07, 0x08, 0x09, 0x0a, 0x0b});
  Properties properties = Export(Page(0x83, wwn), std::nullopt);
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "360060480000102030405060708090a0b");
  EXPECT_EQ(Value(properties, "ID_SERIAL_SHORT"), "360060480000102030405060708090a0b");
  EXPECT_EQ(Value(properties, "ID_WWN"), "<unset>");
}

TEST(ScsiVpdTest, WrongPageCodesAreRefused) {
  Properties properties = Export(Page(0x80, "vdevscsi0001"), Page(0x83, "x"));
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "<unset>");
  EXPECT_EQ(Value(properties, "ID_SCSI"), "1");
}

TEST(ScsiVpdTest, TypeNamesWithScsiIdsHexQuirk) {
  EXPECT_EQ(ScsiTypeName(0x00), "disk");
  EXPECT_EQ(ScsiTypeName(0x01), "tape");
  EXPECT_EQ(ScsiTypeName(0x04), "optical");
  EXPECT_EQ(ScsiTypeName(0x05), "cd");
  EXPECT_EQ(ScsiTypeName(0x07), "optical");
  EXPECT_EQ(ScsiTypeName(0x08), "generic");
  // "%x" then strtoul(..., 0): "e" and "f" are no numbers, "14" and "15" are decimal.
  EXPECT_EQ(ScsiTypeName(0x0e), "generic");
  EXPECT_EQ(ScsiTypeName(0x0f), "generic");
  EXPECT_EQ(ScsiTypeName(0x14), "disk");
  EXPECT_EQ(ScsiTypeName(0x15), "optical");
}

TEST(ScsiVpdTest, StandardInquiryFields) {
  std::string data =
      Bytes({0x05, 0x80, 0x05, 0x32, 0x1f, 0, 0, 0}) + "HL-DT-STDVDRAM GH24NSD1 LG00";
  data.resize(36, ' ');
  auto inquiry = ParseStandardInquiry(data);
  ASSERT_TRUE(inquiry);
  EXPECT_EQ(inquiry->vendor, "HL-DT-ST");
  EXPECT_EQ(inquiry->model, "DVDRAM GH24NSD1 ");
  EXPECT_EQ(inquiry->revision, "LG00");
  EXPECT_EQ(inquiry->type, 5u);
  EXPECT_FALSE(ParseStandardInquiry(data.substr(0, 35)));
}

// The builtin and the rules over the test machine's virtio-scsi disk (sdb, 6:0:0:0).
class ScsiIdSysfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Sub("sys"));
    std::filesystem::create_directories(dir_.Sub("dev"));
    sysfs_ = std::make_unique<testing::FakeSysfs>(dir_.Sub("sys"));
    testing::AddTestMachine(*sysfs_);
    sysfs_fd_ = *OpenDirAt(AT_FDCWD, dir_.Sub("sys"));
    dev_fd_ = *OpenDirAt(AT_FDCWD, dir_.Sub("dev"));
  }

  std::string ScsiDevice() const {
    std::string disk = devices::kVirtioScsiDisk;
    return disk.substr(0, disk.find("/block/"));
  }
  void WriteVpd(const std::string& name, const std::string& bytes) {
    testing::trees_internal::WriteRaw(*sysfs_, ScsiDevice(), name, bytes);
  }

  EventState StateFor(const std::string& devpath) {
    auto device = Device::Open(sysfs_fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", "add");
    properties.Set("DEVPATH", devpath);
    properties.Set("SUBSYSTEM", device->subsystem());
    EventState state(std::move(*device), std::move(properties));
    state.dev_fd = dev_fd_.get();
    return state;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::FakeSysfs> sysfs_;
  UniqueFd sysfs_fd_, dev_fd_;
};

TEST_F(ScsiIdSysfsTest, VpdAttributesGiveTheSerialWithoutTouchingTheNode) {
  WriteVpd("vpd_pg83", kQemuPage83);
  WriteVpd("vpd_pg80", kQemuPage80);
  auto device = Device::Open(sysfs_fd_.get(), devices::kVirtioScsiDisk);
  ASSERT_TRUE(device);
  // No dev root at all: sysfs has everything.
  auto properties = ScsiIdProperties(*device, -1);
  ASSERT_TRUE(properties) << properties.error().Message();
  EXPECT_EQ(*properties, Export(kQemuPage83, kQemuPage80));
}

TEST_F(ScsiIdSysfsTest, TrailingZeroBytesOfAPageSurviveTheAttributeRead) {
  // The last identifier byte is 0x00, which a text read of the attribute drops.
  const std::string naa6 = Bytes({0x60, 0x0a, 0x0b, 0x80, 0x00, 0xc1, 0xd2, 0xe3, 0xf4, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x11, 0x00});
  WriteVpd("vpd_pg83", Page(0x83, Descriptor(1, 0x03, naa6)));
  auto device = Device::Open(sysfs_fd_.get(), devices::kVirtioScsiDisk);
  ASSERT_TRUE(device);
  auto properties = ScsiIdProperties(*device, -1);
  ASSERT_TRUE(properties);
  EXPECT_EQ(Value(*properties, "ID_WWN_WITH_EXTENSION"), "0x600a0b8000c1d2e3f400000000001100");
}

TEST_F(ScsiIdSysfsTest, WithoutVpdAttributesOrANodeThereIsNoSerial) {
  auto device = Device::Open(sysfs_fd_.get(), devices::kVirtioScsiDisk);
  ASSERT_TRUE(device);
  auto properties = ScsiIdProperties(*device, dev_fd_.get());  // no node sdb in dev/
  ASSERT_TRUE(properties);
  EXPECT_EQ(Value(*properties, "ID_MODEL"), "QEMU_HARDDISK");
  EXPECT_EQ(Value(*properties, "ID_SERIAL"), "<unset>");
}

TEST_F(ScsiIdSysfsTest, RulesMakeScsiAndWwnLinks) {
  WriteVpd("vpd_pg83", kQemuPage83);
  WriteVpd("vpd_pg80", kQemuPage80);
  AccountResolver accounts;
  accounts.user = [](const std::string&) -> std::optional<uid_t> { return 0; };
  accounts.group = [](const std::string&) -> std::optional<gid_t> { return 0; };
  RuleLoadResult loaded = RuleSet::Load({VDEV_SOURCE_DIR "/rules"}, accounts);
  for (const auto& error : loaded.errors)
    ASSERT_EQ(error.find("60-vdev-persistent-storage.rules"), std::string::npos) << error;
  struct : ProgramRunner {
    Result<std::string> Run(const std::string&, const Uevent&) override { return std::string(); }
  } runner;
  auto by_id = [](const EventState& state) {
    std::set<std::string> links;
    for (const std::string& link : state.links)
      if (link.starts_with("disk/by-id/")) links.insert(link);
    return links;
  };

  EventState scsi = StateFor(devices::kVirtioScsiDisk);
  loaded.rules.Apply(scsi, runner);
  EXPECT_EQ(by_id(scsi), (std::set<std::string>{"disk/by-id/scsi-35000c50015ea71ac",
                                                "disk/by-id/wwn-0x5000c50015ea71ac"}));
  EXPECT_EQ(scsi.properties.GetOr("ID_BUS"), "scsi");
  EXPECT_EQ(scsi.properties.GetOr("ID_SCSI_SERIAL"), "vdevscsi0001");

  // A change event keeps what the database had: scsi_id does not run again (ID_SERIAL set).
  EventState again = StateFor(devices::kVirtioScsiDisk);
  for (const auto& [key, value] : scsi.properties.properties())
    if (key.starts_with("ID_")) again.properties.Set(key, value);
  again.properties.Set("ACTION", "change");
  WriteVpd("vpd_pg83", Page(0x83, ""));
  loaded.rules.Apply(again, runner);
  EXPECT_EQ(by_id(again), by_id(scsi));

  // USB storage is named by usb_id; scsi_id does not run and ID_BUS stays usb.
  EventState usb = StateFor(devices::kUsbStorageDisk);
  loaded.rules.Apply(usb, runner);
  EXPECT_EQ(usb.properties.GetOr("ID_BUS"), "usb");
  EXPECT_FALSE(usb.properties.Has("ID_SCSI"));
  for (const std::string& link : by_id(usb))
    EXPECT_TRUE(link.starts_with("disk/by-id/usb-")) << link;
}

TEST(ScsiIdBuiltinTest, RegisteredUnderUdevsName) {
  const Builtin* builtin = FindBuiltin("scsi_id");
  ASSERT_NE(builtin, nullptr);
  EXPECT_EQ(builtin->run, &RunScsiIdBuiltin);
}

}  // namespace
}  // namespace vdev
