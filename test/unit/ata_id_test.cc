// The ata_id builtin's IDENTIFY decoder (ata_identify.h) over 512-byte buffers laid out as a
// drive sends them (little-endian words, strings with the bytes of each word swapped, padded
// with spaces), and the builtin on things that are not ATA drives.
//
// The expected values follow udev 252's ata_id: the QEMU disk below is what QEMU's IDE/AHCI
// emulation answers (model "QEMU HARDDISK", firmware "2.5+", write cache and SMART, SATA
// gen 1/2, non-rotating, the WWN given with -device ide-hd,wwn=...), and its ID_SERIAL is the
// name udev gives it in /dev/disk/by-id (ata-QEMU_HARDDISK_<serial>).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ata_identify.h"
#include "builtin.h"
#include "builtin_ata_id.h"
#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"

namespace vdev {
namespace {

using Properties = std::vector<Property>;

class Identify {
 public:
  Identify& Word(unsigned index, uint16_t value) {
    bytes_[2 * index] = value & 0xff;
    bytes_[2 * index + 1] = value >> 8;
    return *this;
  }
  // An ATA string: space-padded to length, the two characters of each word swapped.
  Identify& String(unsigned first_word, size_t length, const std::string& text) {
    std::string padded = text;
    padded.resize(length, ' ');
    for (size_t i = 0; i < length; i += 2) {
      bytes_[2 * first_word + i] = padded[i + 1];
      bytes_[2 * first_word + i + 1] = padded[i];
    }
    return *this;
  }
  Identify& Model(const std::string& text) { return String(27, 40, text); }
  Identify& Serial(const std::string& text) { return String(10, 20, text); }
  Identify& Revision(const std::string& text) { return String(23, 8, text); }
  const std::array<uint8_t, 512>& bytes() const { return bytes_; }

 private:
  std::array<uint8_t, 512> bytes_{};
};

std::string Value(const Properties& properties, const std::string& key) {
  for (const auto& [name, value] : properties)
    if (name == key) return value;
  return "<unset>";
}

// QEMU's emulated disk, serial VDEVSATA0001, wwn 0x5000c50015ea71ac.
Identify QemuDisk() {
  Identify id;
  id.Word(0, 0x0040)
      .Serial("VDEVSATA0001")
      .Revision("2.5+")
      .Model("QEMU HARDDISK")
      .Word(76, 0x0106)  // SATA: gen 1 and 2, NCQ
      .Word(82, 0x4021)  // write cache, SMART
      .Word(83, 0x7400)  // no APM, AAM, PUIS
      .Word(85, 0x4021)  // both enabled
      .Word(86, 0x3400)
      .Word(108, 0x5000)
      .Word(109, 0xc500)
      .Word(110, 0x15ea)
      .Word(111, 0x71ac)
      .Word(217, 0x0001);  // not rotating
  return id;
}

TEST(AtaIdentifyTest, QemuDiskGivesUdevsPropertiesInItsOrder) {
  const std::string model_enc = "QEMU\\x20HARDDISK" + [] {
    std::string pad;
    for (int i = 0; i < 27; ++i) pad += "\\x20";
    return pad;
  }();
  EXPECT_EQ(AtaIdentifyProperties(QemuDisk().bytes()),
            (Properties{
                {"ID_ATA", "1"},
                {"ID_TYPE", "disk"},
                {"ID_BUS", "ata"},
                {"ID_MODEL", "QEMU_HARDDISK"},
                {"ID_MODEL_ENC", model_enc},
                {"ID_REVISION", "2.5+"},
                {"ID_SERIAL", "QEMU_HARDDISK_VDEVSATA0001"},
                {"ID_SERIAL_SHORT", "VDEVSATA0001"},
                {"ID_ATA_WRITE_CACHE", "1"},
                {"ID_ATA_WRITE_CACHE_ENABLED", "1"},
                {"ID_ATA_FEATURE_SET_SMART", "1"},
                {"ID_ATA_FEATURE_SET_SMART_ENABLED", "1"},
                {"ID_ATA_SATA", "1"},
                {"ID_ATA_SATA_SIGNAL_RATE_GEN2", "1"},
                {"ID_ATA_SATA_SIGNAL_RATE_GEN1", "1"},
                {"ID_ATA_ROTATION_RATE_RPM", "0"},
                {"ID_WWN", "0x5000c50015ea71ac"},
                {"ID_WWN_WITH_EXTENSION", "0x5000c50015ea71ac"},
            }));
}

TEST(AtaIdentifyTest, StringsAreByteSwappedAndTrimmed) {
  // A real drive's strings: "WDC WD10EZEX-08WN4A0" pads with spaces, the serial is
  // right-aligned (leading spaces), inner runs of blanks become one '_'.
  Identify id;
  id.Model("WDC WD10EZEX-08WN4A0").Serial("     WD-WCC6Y0RJHKXN").Revision("01.01A01");
  Properties properties = AtaIdentifyProperties(id.bytes());
  EXPECT_EQ(Value(properties, "ID_MODEL"), "WDC_WD10EZEX-08WN4A0");
  EXPECT_EQ(Value(properties, "ID_SERIAL_SHORT"), "WD-WCC6Y0RJHKXN");
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "WDC_WD10EZEX-08WN4A0_WD-WCC6Y0RJHKXN");
  EXPECT_EQ(Value(properties, "ID_REVISION"), "01.01A01");

  Identify odd;
  odd.Model("Disk  with\tblanks / slash").Serial("A,B");
  properties = AtaIdentifyProperties(odd.bytes());
  EXPECT_EQ(Value(properties, "ID_MODEL"), "Disk_with_blanks___slash");
  EXPECT_EQ(Value(properties, "ID_SERIAL_SHORT"), "A_B");
  EXPECT_EQ(Value(properties, "ID_MODEL_ENC").substr(0, 34),
            "Disk\\x20\\x20with\\x09blanks\\x20\\x2f");
}

TEST(AtaIdentifyTest, NoSerialMeansModelAlone) {
  Identify id;
  id.Model("CF CARD").Word(0, 0x848a);
  Properties properties = AtaIdentifyProperties(id.bytes());
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "CF_CARD");
  EXPECT_EQ(Value(properties, "ID_SERIAL_SHORT"), "<unset>");
  // An empty revision is a line udev's import drops.
  EXPECT_EQ(Value(properties, "ID_REVISION"), "<unset>");
  EXPECT_EQ(Value(properties, "ID_ATA_CFA"), "1");
  EXPECT_EQ(Value(properties, "ID_ATA_SATA"), "<unset>");  // word 76 zero: PATA
}

TEST(AtaIdentifyTest, AtapiTypesFromWordZero) {
  auto type = [](uint16_t word0) {
    Identify id;
    id.Word(0, word0).Model("QEMU DVD-ROM").Serial("QM00005");
    return Value(AtaIdentifyProperties(id.bytes()), "ID_TYPE");
  };
  EXPECT_EQ(type(0x85c0), "cd");  // QEMU's ATAPI CD-ROM: packet set 5
  EXPECT_EQ(type(0x8080), "cd");
  EXPECT_EQ(type(0x8180), "tape");
  EXPECT_EQ(type(0x8780), "optical");
  EXPECT_EQ(type(0x8880), "generic");
  EXPECT_EQ(type(0x0040), "disk");
}

TEST(AtaIdentifyTest, FeatureSetsSecurityAndRotation) {
  Identify id;
  id.Model("ST1000DM003")
      .Serial("Z1D5ABCD")
      .Word(76, 0xffff)  // PATA
      .Word(82, 0x040a)  // HPA, PM, security
      .Word(83, 0x0229)  // AAM, PUIS, APM, download microcode
      .Word(85, 0x0402)  // HPA and security enabled, PM not
      .Word(86, 0x0208)  // AAM and APM enabled, PUIS not
      .Word(89, 60)
      .Word(90, 30)
      .Word(91, 0x4080)
      .Word(94, 0x80fe)
      .Word(128, 0x0129)  // maximum level, enhanced erase, frozen, supported
      .Word(217, 7200)
      .Word(108, 0x6000);  // not NAA 5: no WWN
  Properties properties = AtaIdentifyProperties(id.bytes());
  EXPECT_EQ(properties, (Properties{
                            {"ID_ATA", "1"},
                            {"ID_TYPE", "disk"},
                            {"ID_BUS", "ata"},
                            {"ID_MODEL", "ST1000DM003"},
                            {"ID_MODEL_ENC", "ST1000DM003" +
                                                 [] {
                                                   std::string pad;
                                                   for (int i = 0; i < 29; ++i) pad += "\\x20";
                                                   return pad;
                                                 }()},
                            {"ID_SERIAL", "ST1000DM003_Z1D5ABCD"},
                            {"ID_SERIAL_SHORT", "Z1D5ABCD"},
                            {"ID_ATA_FEATURE_SET_HPA", "1"},
                            {"ID_ATA_FEATURE_SET_HPA_ENABLED", "1"},
                            {"ID_ATA_FEATURE_SET_PM", "1"},
                            {"ID_ATA_FEATURE_SET_PM_ENABLED", "0"},
                            {"ID_ATA_FEATURE_SET_SECURITY", "1"},
                            {"ID_ATA_FEATURE_SET_SECURITY_ENABLED", "1"},
                            {"ID_ATA_FEATURE_SET_SECURITY_ERASE_UNIT_MIN", "120"},
                            {"ID_ATA_FEATURE_SET_SECURITY_LEVEL", "maximum"},
                            {"ID_ATA_FEATURE_SET_SECURITY_ENHANCED_ERASE_UNIT_MIN", "60"},
                            {"ID_ATA_FEATURE_SET_SECURITY_FROZEN", "1"},
                            {"ID_ATA_FEATURE_SET_AAM", "1"},
                            {"ID_ATA_FEATURE_SET_AAM_ENABLED", "1"},
                            {"ID_ATA_FEATURE_SET_AAM_VENDOR_RECOMMENDED_VALUE", "128"},
                            {"ID_ATA_FEATURE_SET_AAM_CURRENT_VALUE", "254"},
                            {"ID_ATA_FEATURE_SET_PUIS", "1"},
                            {"ID_ATA_FEATURE_SET_PUIS_ENABLED", "0"},
                            {"ID_ATA_FEATURE_SET_APM", "1"},
                            {"ID_ATA_FEATURE_SET_APM_ENABLED", "1"},
                            {"ID_ATA_FEATURE_SET_APM_CURRENT_VALUE", "128"},
                            {"ID_ATA_DOWNLOAD_MICROCODE", "1"},
                            {"ID_ATA_ROTATION_RATE_RPM", "7200"},
                        }));
}

TEST(AtaIdentifyTest, RotationRateOutsideTheDefinedRangeIsNotGiven) {
  for (uint16_t reserved : {0x0000, 0x0002, 0x0400, 0xffff}) {
    Identify id;
    id.Model("X").Word(217, reserved);
    EXPECT_EQ(Value(AtaIdentifyProperties(id.bytes()), "ID_ATA_ROTATION_RATE_RPM"), "<unset>")
        << reserved;
  }
}

TEST(AtaIdentifyTest, HdioGetIdentityHasStringsInOrderAndNoRawWords) {
  // struct hd_driveid: the same words, strings not swapped. ata_id reads SATA, rotation and
  // WWN from its raw buffer, which that path leaves zero.
  std::array<uint8_t, 512> driveid = QemuDisk().bytes();
  auto put = [&](unsigned word, size_t length, std::string text) {
    text.resize(length, ' ');
    for (size_t i = 0; i < length; ++i) driveid[2 * word + i] = text[i];
  };
  put(27, 40, "QEMU HARDDISK");
  put(10, 20, "VDEVSATA0001");
  put(23, 8, "2.5+");
  Properties properties = AtaIdentifyProperties(driveid, AtaIdentifySource::kHdioGetIdentity);
  EXPECT_EQ(Value(properties, "ID_SERIAL"), "QEMU_HARDDISK_VDEVSATA0001");
  EXPECT_EQ(Value(properties, "ID_ATA_WRITE_CACHE_ENABLED"), "1");
  EXPECT_EQ(Value(properties, "ID_WWN"), "<unset>");
  EXPECT_EQ(Value(properties, "ID_ATA_SATA"), "<unset>");
  EXPECT_EQ(Value(properties, "ID_ATA_ROTATION_RATE_RPM"), "<unset>");
}

TEST(AtaIdentifyTest, AllZeroIsNoAnswer) {
  std::array<uint8_t, 512> zero{};
  EXPECT_TRUE(IsAllZero(zero));
  EXPECT_FALSE(IsAllZero(QemuDisk().bytes()));
}

TEST(AtaIdBuiltinTest, RegisteredUnderUdevsName) {
  const Builtin* builtin = FindBuiltin("ata_id");
  ASSERT_NE(builtin, nullptr);
  EXPECT_EQ(builtin->run, &RunAtaIdBuiltin);
}

// A regular file answers neither SG_IO nor HDIO_GET_IDENTITY: not an ATA drive.
TEST(AtaIdBuiltinTest, SomethingThatIsNotADriveGetsNothingAndNoError) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Sub("sys"));
  std::filesystem::create_directories(dir.Sub("dev"));
  testing::FakeSysfs sysfs(dir.Sub("sys"));
  testing::AddTestMachine(sysfs);
  { std::ofstream(dir.Sub("dev/sda")) << std::string(4096, '\0'); }
  UniqueFd sysfs_fd = *OpenDirAt(AT_FDCWD, dir.Sub("sys"));
  UniqueFd dev_fd = *OpenDirAt(AT_FDCWD, dir.Sub("dev"));
  auto device = Device::Open(sysfs_fd.get(), testing::devices::kAhciDisk);
  ASSERT_TRUE(device);

  UniqueFd node(openat(dev_fd.get(), "sda", O_RDONLY | O_CLOEXEC));
  auto properties = AtaIdProperties(node.get());
  ASSERT_FALSE(properties);
  EXPECT_EQ(properties.error().code, ENOTSUP);

  EventState state(*device, device->properties());
  state.dev_fd = dev_fd.get();
  BuiltinCall call{state, {}};
  EXPECT_TRUE(RunAtaIdBuiltin(call));
  EXPECT_FALSE(state.properties.Has("ID_ATA"));

  // No node at all (the device went away): nothing either.
  auto cdrom = Device::Open(sysfs_fd.get(), testing::devices::kAhciCdrom);
  ASSERT_TRUE(cdrom);
  EventState gone(*cdrom, cdrom->properties());
  gone.dev_fd = dev_fd.get();
  BuiltinCall gone_call{gone, {}};
  EXPECT_TRUE(RunAtaIdBuiltin(gone_call));
  EXPECT_FALSE(gone.properties.Has("ID_ATA"));
}

}  // namespace
}  // namespace vdev
