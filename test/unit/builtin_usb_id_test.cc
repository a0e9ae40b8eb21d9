// The usb_id builtin and udev's string sanitizers, over fake sysfs trees of real USB devices
// (test/fixtures/device_trees.h).
//
// Expected values: the by-id names they make are the familiar ones
// (usb-SanDisk_Cruzer_Blade_<serial>-0:0, usb-Logitech_USB_Keyboard, the Xbox 360 pad's
// ©Microsoft_Corporation_Controller_<serial>; a real hub's ID_VENDOR_ENC with \x2c and
// trailing \x20 as in labgrid issue #696's `udevadm info`); every value below was checked
// against Debian 12's udevadm 252.39 (`udevadm test-builtin usb_id`) over the same tree
// bind-mounted on /sys.
#include "builtin_usb_id.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "builtin.h"
#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"
#include "udev_string.h"

namespace vdev {
namespace {

namespace devices = testing::devices;

TEST(UdevStringTest, ReplaceWhitespace) {
  EXPECT_EQ(ReplaceWhitespace("  VIA Labs, Inc.         ", 63), "VIA_Labs,_Inc.");
  EXPECT_EQ(ReplaceWhitespace("a \t\n b", 63), "a_b");
  EXPECT_EQ(ReplaceWhitespace("a\vb", 63), "a_b");  // inner \v is whitespace
  EXPECT_EQ(ReplaceWhitespace("\vab", 63), "_ab");  // a leading one is not stripped
  EXPECT_EQ(ReplaceWhitespace("   ", 63), "");
  EXPECT_EQ(ReplaceWhitespace("abcdef", 4), "abcd");
  EXPECT_EQ(ReplaceWhitespace("abc def", 4), "abc");  // reads at most 4 bytes
  EXPECT_EQ(ReplaceWhitespace("  abcdef", 4), "ab");  // the leading blanks count too
  EXPECT_EQ(ReplaceWhitespace(std::string("ab\0cd", 5), 63), "ab");
}

TEST(UdevStringTest, ReplaceUnsafeChars) {
  EXPECT_EQ(ReplaceUnsafeChars("VIA_Labs,_Inc."), "VIA_Labs__Inc.");
  EXPECT_EQ(ReplaceUnsafeChars("a/b\\c\\x20d"), "a_b_c\\x20d");
  EXPECT_EQ(ReplaceUnsafeChars("\xc2\xa9Microsoft"), "\xc2\xa9Microsoft");
  EXPECT_EQ(ReplaceUnsafeChars("\xff\xfe\xc3"), "___");
  EXPECT_EQ(ReplaceUnsafeChars("#+-.:=@_"), "#+-.:=@_");
  EXPECT_EQ(ReplaceUnsafeChars("a b\tc"), "a_b_c");
}

TEST(UdevStringTest, EncodeDevnodeName) {
  EXPECT_EQ(EncodeDevnodeName("VIA Labs, Inc. ", 255), "VIA\\x20Labs\\x2c\\x20Inc.\\x20");
  EXPECT_EQ(EncodeDevnodeName("a/b\\c", 255), "a\\x2fb\\x5cc");
  EXPECT_EQ(EncodeDevnodeName("\xc2\xa9 \xff", 255), "\xc2\xa9\\x20\\xff");
  // Cut at a whole character or escape.
  EXPECT_EQ(EncodeDevnodeName("ab c", 5), "ab");
  EXPECT_EQ(EncodeDevnodeName("ab\xc2\xa9", 3), "ab");
  EXPECT_EQ(EncodeDevnodeName(std::string(300, 'x'), 255), std::string(255, 'x'));
}

TEST(UdevStringTest, ValidUtf8Length) {
  EXPECT_EQ(ValidUtf8Length("a"), 1u);
  EXPECT_EQ(ValidUtf8Length("\x01"), 1u);
  EXPECT_EQ(ValidUtf8Length("\xc2\xa9"), 2u);
  EXPECT_EQ(ValidUtf8Length("\xe2\x82\xac"), 3u);      // €
  EXPECT_EQ(ValidUtf8Length("\xf0\x9f\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(ValidUtf8Length("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(ValidUtf8Length("\xed\xa0\x80"), 0u);      // a surrogate
  EXPECT_EQ(ValidUtf8Length("\xef\xb7\x90"), 0u);      // U+FDD0
  EXPECT_EQ(ValidUtf8Length("\xef\xbf\xbe"), 0u);      // U+FFFE
  EXPECT_EQ(ValidUtf8Length("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(ValidUtf8Length("\xc2"), 0u);              // cut short
  EXPECT_EQ(ValidUtf8Length("\xc2\x41"), 0u);
  EXPECT_EQ(ValidUtf8Length("\xff"), 0u);
  EXPECT_EQ(ValidUtf8Length(""), 0u);
}

TEST(PackedUsbInterfacesTest, DistinctInterfacesInOrder) {
  using testing::trees_internal::UsbDescriptors;
  EXPECT_EQ(PackedUsbInterfaces(UsbDescriptors(1, 2, 3, {{3, 1, 1}, {3, 0, 0}})),
            ":030101:030000:");
  EXPECT_EQ(PackedUsbInterfaces(UsbDescriptors(1, 2, 3, {{3, 0, 0}, {3, 0, 0}, {1, 2, 0}})),
            ":030000:010200:");
  EXPECT_EQ(PackedUsbInterfaces(UsbDescriptors(1, 2, 3, {})), "");
  EXPECT_EQ(PackedUsbInterfaces("short"), "");
  // A descriptor claiming more bytes than there are: the list so far, unclosed, as udev.
  std::string corrupt = UsbDescriptors(1, 2, 3, {{8, 6, 0x50}, {3, 1, 2}});
  corrupt[18 + 9 + 9 + 7] = static_cast<char>(0xf0);  // the second interface's bLength
  EXPECT_EQ(PackedUsbInterfaces(corrupt), ":080650");
  // A descriptor shorter than 3 bytes ends the walk.
  std::string stop = UsbDescriptors(1, 2, 3, {{8, 6, 0x50}, {3, 1, 2}});
  stop[18 + 9 + 9 + 7] = 2;
  EXPECT_EQ(PackedUsbInterfaces(stop), ":080650:");
}

// udev's property list for an identity: ID_* (unless ID_BUS was set) then ID_USB_*.
struct Identity {
  std::string vendor, vendor_enc, vendor_id, model, model_enc, model_id, revision, serial,
      serial_short, type, instance, interfaces, interface_number, driver;
};

std::vector<Property> Expected(const Identity& id, bool id_bus_set = false) {
  std::vector<Property> out;
  for (std::string prefix : {"ID_", "ID_USB_"}) {
    if (prefix == "ID_" && id_bus_set) continue;
    if (prefix == "ID_") out.emplace_back("ID_BUS", "usb");
    out.emplace_back(prefix + "MODEL", id.model);
    out.emplace_back(prefix + "MODEL_ENC", id.model_enc);
    out.emplace_back(prefix + "MODEL_ID", id.model_id);
    out.emplace_back(prefix + "SERIAL", id.serial);
    if (!id.serial_short.empty()) out.emplace_back(prefix + "SERIAL_SHORT", id.serial_short);
    out.emplace_back(prefix + "VENDOR", id.vendor);
    out.emplace_back(prefix + "VENDOR_ENC", id.vendor_enc);
    out.emplace_back(prefix + "VENDOR_ID", id.vendor_id);
    out.emplace_back(prefix + "REVISION", id.revision);
    if (!id.type.empty()) out.emplace_back(prefix + "TYPE", id.type);
    if (!id.instance.empty()) out.emplace_back(prefix + "INSTANCE", id.instance);
  }
  if (!id.interfaces.empty()) out.emplace_back("ID_USB_INTERFACES", id.interfaces);
  if (!id.interface_number.empty()) out.emplace_back("ID_USB_INTERFACE_NUM", id.interface_number);
  if (!id.driver.empty()) out.emplace_back("ID_USB_DRIVER", id.driver);
  return out;
}

const Identity kSanDisk = {"SanDisk",
                           "SanDisk\\x20",
                           "0781",
                           "Cruzer_Blade",
                           "Cruzer\\x20Blade\\x20\\x20\\x20\\x20",
                           "5567",
                           "1.00",
                           "SanDisk_Cruzer_Blade_4C530001090312109353-0:0",
                           "4C530001090312109353",
                           "disk",
                           "0:0",
                           ":080650:",
                           "00",
                           "usb-storage"};
const Identity kKeyboard = {"Logitech",
                            "Logitech",
                            "046d",
                            "USB_Keyboard",
                            "USB\\x20Keyboard",
                            "c31c",
                            "6400",
                            "Logitech_USB_Keyboard",
                            "",
                            "hid",
                            "",
                            ":030101:030000:",
                            "00",
                            "usbhid"};

class UsbIdTest : public ::testing::Test {
 protected:
  // One tree for all tests: building it is the slow part.
  static void SetUpTestSuite() { tree_ = &testing::SharedTestMachine(); }

  Result<std::vector<Property>> UsbId(const std::string& devpath, bool id_bus_set = false) {
    auto device = Device::Open(tree_->fd(), devpath);
    EXPECT_TRUE(device) << devpath;
    if (!device) return tl::unexpected(device.error());
    return UsbIdProperties(*device, id_bus_set);
  }

  inline static testing::TestMachineTree* tree_ = nullptr;
};

TEST_F(UsbIdTest, MassStorageTakesTheScsiIdentity) {
  auto properties = UsbId(devices::kUsbStorageDisk);
  ASSERT_TRUE(properties) << properties.error().Message();
  EXPECT_EQ(*properties, Expected(kSanDisk));
  // The partition walks up to the same devices.
  EXPECT_EQ(*UsbId(devices::kUsbStoragePartition), Expected(kSanDisk));
}

TEST_F(UsbIdTest, AtaIdRanFirstOnlyUsbCopies) {
  EXPECT_EQ(*UsbId(devices::kUsbStorageDisk, /*id_bus_set=*/true),
            Expected(kSanDisk, /*id_bus_set=*/true));
}

TEST_F(UsbIdTest, AtapiDriveWithoutRevisionKeepsWhatItRead) {
  // The SCSI device has vendor, model and type but no rev: udev stops there, so the
  // revision is the USB device's and there is no instance.
  EXPECT_EQ(*UsbId(devices::kUsbCdrom),
            Expected({"HL-DT-ST", "HL-DT-ST", "13fd", "DVDRAM_GP08NU6W", "DVDRAM\\x20GP08NU6W\\x20",
                      "0840", "0001", "HL-DT-ST_DVDRAM_GP08NU6W_2011-10-07", "2011-10-07", "cd", "",
                      ":080250:", "00", "usb-storage"}));
}

TEST_F(UsbIdTest, HidDevicesOfAKeyboardAndAMouse) {
  EXPECT_EQ(*UsbId(devices::kUsbKeyboardEvent), Expected(kKeyboard));
  EXPECT_EQ(*UsbId(devices::kUsbKeyboardInput), Expected(kKeyboard));
  Identity media = kKeyboard;
  media.interface_number = "01";
  EXPECT_EQ(*UsbId(devices::kUsbKeyboardMediaEvent), Expected(media));
  EXPECT_EQ(*UsbId(devices::kUsbMouseNode),
            Expected({"Logitech", "Logitech", "046d", "USB_Optical_Mouse",
                      "USB\\x20Optical\\x20Mouse", "c077", "7200", "Logitech_USB_Optical_Mouse", "",
                      "hid", "", ":030102:", "00", "usbhid"}));
  EXPECT_EQ(*UsbId(devices::kGamepadJoystick),
            Expected({"Sony_Interactive_Entertainment", "Sony\\x20Interactive\\x20Entertainment",
                      "054c", "Wireless_Controller", "Wireless\\x20Controller", "09cc", "0100",
                      "Sony_Interactive_Entertainment_Wireless_Controller", "", "hid", "",
                      ":010100:010200:030000:", "03", "usbhid"}));
}

TEST_F(UsbIdTest, NonAsciiAndMessyStrings) {
  EXPECT_EQ(*UsbId(devices::kXboxPadEvent),
            Expected({"\xc2\xa9Microsoft_Corporation", "\xc2\xa9Microsoft\\x20Corporation", "045e",
                      "Controller", "Controller", "028e", "0114",
                      "\xc2\xa9Microsoft_Corporation_Controller_0D5F1C3", "0D5F1C3", "generic", "",
                      ":ff5d01:", "00", "xpad"}));
  // Whitespace runs, a tab, ',' and '/', invalid UTF-8, a product past 63 bytes, and a
  // serial with a ',' (ignored: no ID_SERIAL_SHORT).
  const std::string model = "Gadget_Pro____Edition_with_a_product_string_far_longer_than_the";
  EXPECT_EQ(
      *UsbId(devices::kOddUsbEvent),
      Expected({"Acme_Corp__Ltd.", "\\x20\\x20Acme\\x09Corp\\x2c\\x20\\x20Ltd.\\x20", "1234", model,
                "Gadget\\x2fPro\\x20\\xff\\xfe\\x20Edition\\x20with\\x20a\\x20product\\x20"
                "string\\x20far\\x20longer\\x20than\\x20the\\x20sixty-three\\x20bytes\\x20"
                "udev\\x20keeps",
                "5678", "0001", "Acme_Corp__Ltd._" + model, "", "hid", "", ":030000:", "00",
                "usbhid"}));
}

TEST_F(UsbIdTest, UsbDeviceItself) {
  // A root hub: its serial is the controller's PCI address; no interface, no type.
  EXPECT_EQ(*UsbId(devices::kUsbRootHub),
            Expected({"Linux_6.1.0-18-amd64_xhci-hcd", "Linux\\x206.1.0-18-amd64\\x20xhci-hcd",
                      "1d6b", "xHCI_Host_Controller", "xHCI\\x20Host\\x20Controller", "0002",
                      "0601", "Linux_6.1.0-18-amd64_xhci-hcd_xHCI_Host_Controller_0000:00:14.0",
                      "0000:00:14.0", "", "", ":090001:", "", ""}));
  Identity keyboard = kKeyboard;
  keyboard.type = keyboard.interface_number = keyboard.driver = "";
  EXPECT_EQ(*UsbId(devices::kUsbKeyboardDevice), Expected(keyboard));
}

TEST_F(UsbIdTest, NotOnUsb) {
  for (const char* devpath :
       {devices::kAhciDisk, devices::kPs2KeyboardEvent, devices::kUsbStorageInterface}) {
    auto properties = UsbId(devpath);
    ASSERT_FALSE(properties) << devpath;
    EXPECT_EQ(properties.error().code, ENODEV) << devpath;
  }
  // An interface without its class attribute is an error.
  testing::ScopedHide hidden(
      tree_->Path(std::string(devices::kUsbStorageInterface) + "/bInterfaceClass"));
  auto broken = UsbId(devices::kUsbStorageDisk);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ENOENT);
}

TEST_F(UsbIdTest, BuiltinHonoursIdBus) {
  const Builtin* builtin = FindBuiltin("usb_id");
  ASSERT_NE(builtin, nullptr);
  auto run = [&](const std::string& devpath, Uevent properties) {
    auto device = Device::Open(tree_->fd(), devpath);
    EXPECT_TRUE(device);
    EventState state(std::move(*device), std::move(properties));
    BuiltinCall call{state, {}};
    EXPECT_TRUE(builtin->run(call)) << devpath;
    return state.properties;
  };
  Uevent from_ata_id;
  from_ata_id.Set("ID_BUS", "ata");
  from_ata_id.Set("ID_SERIAL", "SanDisk_SSD");
  Uevent after = run(devices::kUsbStorageDisk, from_ata_id);
  EXPECT_EQ(after.GetOr("ID_BUS"), "ata");
  EXPECT_EQ(after.GetOr("ID_SERIAL"), "SanDisk_SSD");
  EXPECT_EQ(after.GetOr("ID_USB_SERIAL"), "SanDisk_Cruzer_Blade_4C530001090312109353-0:0");

  Uevent fresh = run(devices::kUsbStorageDisk, Uevent());
  EXPECT_EQ(fresh.GetOr("ID_BUS"), "usb");
  EXPECT_EQ(fresh.GetOr("ID_SERIAL"), "SanDisk_Cruzer_Blade_4C530001090312109353-0:0");

  // Not on USB: no properties and no failure.
  Uevent none = run(devices::kAhciDisk, Uevent());
  EXPECT_FALSE(none.Has("ID_BUS"));
}

// This machine's block, input and USB devices: no failure beyond "not on USB", and what is
// given hangs together.
TEST(UsbIdRealSysfsTest, EveryDeviceHere) {
  auto sysfs = OpenDirAt(AT_FDCWD, "/sys");
  if (!sysfs) GTEST_SKIP() << "no /sys";
  size_t checked = 0;
  for (const char* dir : {"/sys/class/block", "/sys/class/input", "/sys/bus/usb/devices"}) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
      std::string real = std::filesystem::canonical(entry.path(), error).string();
      if (error || !real.starts_with("/sys/devices/")) continue;
      auto device = Device::Open(sysfs->get(), real.substr(4));
      if (!device) continue;
      auto properties = UsbIdProperties(*device, false);
      ++checked;
      if (!properties) {
        EXPECT_EQ(properties.error().code, ENODEV) << real << ": " << properties.error().Message();
        continue;
      }
      std::string vendor, serial;
      for (const auto& [key, value] : *properties) {
        if (key == "ID_USB_VENDOR") vendor = value;
        if (key == "ID_USB_SERIAL") serial = value;
      }
      EXPECT_TRUE(serial.starts_with(vendor + "_")) << real;
    }
  }
  RecordProperty("devices", std::to_string(checked));
}

}  // namespace
}  // namespace vdev
