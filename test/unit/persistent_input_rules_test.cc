// The shipped rules/60-vdev-input-id.rules and rules/60-vdev-persistent-input.rules, run
// through RuleSet with the input_id, usb_id and path_id builtins over fake sysfs trees of real
// input devices (test/fixtures/device_trees.h): the /dev/input/by-id and by-path links.
//
// Expected links: what Debian 12's udev (252.39) makes with its 60-input-id.rules and
// 60-persistent-input.rules for these devices, from the builtins' values (checked with
// `udevadm test-builtin`) and its rule text; the names are the familiar ones
// (usb-Logitech_USB_Keyboard-event-kbd and -event-if01,
// usb-Sony_Interactive_Entertainment_Wireless_Controller-if03-event-joystick,
// platform-i8042-serio-0-event-kbd as in systemd's hwdb.d README, platform-pcspkr-event-spkr).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"
#include "rule_set.h"

namespace vdev {
namespace {

using Links = std::set<std::string>;
namespace devices = testing::devices;

const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";

class NullRunner : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string&, const Uevent&) override { return std::string(); }
};

AccountResolver NoAccounts() {
  AccountResolver accounts;
  accounts.user = [](const std::string&) -> std::optional<uid_t> { return 0; };
  accounts.group = [](const std::string&) -> std::optional<gid_t> { return 0; };
  return accounts;
}

class PersistentInputRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult loaded = RuleSet::Load({kRulesDir}, NoAccounts());
    // Other rule files may be mid-edit by someone else; these two must load.
    for (const auto& error : loaded.errors) {
      ASSERT_EQ(error.find("60-vdev-input-id.rules"), std::string::npos) << error;
      ASSERT_EQ(error.find("60-vdev-persistent-input.rules"), std::string::npos) << error;
    }
    rules_ = std::move(loaded.rules);
  }
  // One tree for all tests: building it is the slow part.
  static void SetUpTestSuite() { tree_ = &testing::SharedTestMachine(); }

  EventState Apply(const std::string& devpath, const std::string& action = "add") {
    auto device = Device::Open(tree_->fd(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    EventState state(std::move(*device), std::move(properties));
    rules_.Apply(state, runner_);
    EXPECT_FALSE(state.properties.Has("VDEV_PERSISTENT_INPUT")) << "the marker leaked";
    EXPECT_FALSE(state.properties.Has("VDEV_INPUT_CLASS")) << "the class leaked";
    return state;
  }

  // The links below input/ (other rule files may add others).
  Links InputLinks(const std::string& devpath, const std::string& action = "add") {
    EventState state = Apply(devpath, action);
    Links links;
    for (const auto& link : state.links)
      if (link.starts_with("input/")) links.insert(link);
    return links;
  }

  inline static testing::TestMachineTree* tree_ = nullptr;
  RuleSet rules_;
  NullRunner runner_;
};

TEST_F(PersistentInputRulesTest, UsbKeyboard) {
  EXPECT_EQ(InputLinks(devices::kUsbKeyboardEvent),
            (Links{"input/by-id/usb-Logitech_USB_Keyboard-event-kbd",
                   "input/by-path/pci-0000:00:14.0-usb-0:2:1.0-event-kbd"}));
  // Its media keys on interface 1: no class, so the interface number names them.
  EXPECT_EQ(InputLinks(devices::kUsbKeyboardMediaEvent),
            (Links{"input/by-id/usb-Logitech_USB_Keyboard-event-if01",
                   "input/by-path/pci-0000:00:14.0-usb-0:2:1.1-event"}));
  EventState state = Apply(devices::kUsbKeyboardEvent);
  EXPECT_EQ(state.properties.GetOr("ID_INPUT_KEYBOARD"), "1");
  EXPECT_EQ(state.properties.GetOr("ID_BUS"), "usb");
  EXPECT_EQ(state.properties.GetOr("ID_SERIAL"), "Logitech_USB_Keyboard");
  EXPECT_EQ(state.properties.GetOr("ID_PATH"), "pci-0000:00:14.0-usb-0:2:1.0");
  EXPECT_EQ(state.properties.GetOr("ID_USB_INTERFACE_NUM"), "00");
}

TEST_F(PersistentInputRulesTest, UsbMouse) {
  EXPECT_EQ(InputLinks(devices::kUsbMouseEvent),
            (Links{"input/by-id/usb-Logitech_USB_Optical_Mouse-event-mouse",
                   "input/by-path/pci-0000:00:14.0-usb-0:3:1.0-event-mouse"}));
  EXPECT_EQ(InputLinks(devices::kUsbMouseNode),
            (Links{"input/by-id/usb-Logitech_USB_Optical_Mouse-mouse",
                   "input/by-path/pci-0000:00:14.0-usb-0:3:1.0-mouse"}));
  // The input device itself has no node: no links, but its properties.
  EventState input = Apply(std::string(devices::kUsbMouseEvent)
                               .substr(0, std::string(devices::kUsbMouseEvent).rfind('/')));
  EXPECT_TRUE(input.links.empty());
  EXPECT_EQ(input.properties.GetOr("ID_INPUT_MOUSE"), "1");
}

TEST_F(PersistentInputRulesTest, GamepadsOnAnInterfaceOtherThanZero) {
  const std::string name = "usb-Sony_Interactive_Entertainment_Wireless_Controller";
  EXPECT_EQ(InputLinks(devices::kGamepadEvent),
            (Links{"input/by-id/" + name + "-if03-event-joystick",
                   "input/by-path/pci-0000:00:14.0-usb-0:4:1.3-event-joystick"}));
  EXPECT_EQ(InputLinks(devices::kGamepadJoystick),
            (Links{"input/by-id/" + name + "-if03-joystick",
                   "input/by-path/pci-0000:00:14.0-usb-0:4:1.3-joystick"}));
  EXPECT_EQ(
      InputLinks(devices::kXboxPadEvent),
      (Links{"input/by-id/usb-\xc2\xa9Microsoft_Corporation_Controller_0D5F1C3-event-joystick",
             "input/by-path/pci-0000:00:14.0-usb-0:5:1.0-event-joystick"}));
}

TEST_F(PersistentInputRulesTest, Ps2AndPlatformDevices) {
  // No USB interface above: by-path only. ID_BUS and the "noserial" stand-in are still set.
  EXPECT_EQ(InputLinks(devices::kPs2KeyboardEvent),
            (Links{"input/by-path/platform-i8042-serio-0-event-kbd"}));
  EventState keyboard = Apply(devices::kPs2KeyboardEvent);
  EXPECT_EQ(keyboard.properties.GetOr("ID_BUS"), "i8042");
  EXPECT_EQ(keyboard.properties.GetOr("ID_SERIAL"), "noserial");
  EXPECT_EQ(InputLinks(devices::kTouchpadEvent),
            (Links{"input/by-path/platform-i8042-serio-1-event-mouse"}));
  EXPECT_EQ(InputLinks("/devices/platform/i8042/serio1/input/input8/mouse1"),
            (Links{"input/by-path/platform-i8042-serio-1-mouse"}));
  EXPECT_EQ(InputLinks(devices::kTrackpointEvent),
            (Links{"input/by-path/platform-i8042-serio-2-event-mouse"}));
  EXPECT_EQ(InputLinks(devices::kSpeakerEvent),
            (Links{"input/by-path/platform-pcspkr-event-spkr"}));
  // A platform device without a class: one "-event" link.
  EXPECT_EQ(InputLinks(devices::kAccelerometerEvent),
            (Links{"input/by-path/platform-lis3lv02d-event"}));
  // I2C below a PCI device: the empty-class link too.
  EXPECT_EQ(InputLinks(devices::kTouchscreenEvent),
            (Links{"input/by-path/pci-0000:00:15.1-platform-i2c_designware.1-event"}));
}

TEST_F(PersistentInputRulesTest, AcpiAndVirtualDevicesGetNoLinks) {
  EXPECT_EQ(InputLinks(devices::kLidSwitchEvent), Links{});
  EXPECT_EQ(InputLinks(devices::kPowerButtonEvent), Links{});
  EXPECT_EQ(InputLinks(devices::kVirtualInputEvent), Links{});
  EventState lid = Apply(devices::kLidSwitchEvent);
  EXPECT_EQ(lid.properties.GetOr("ID_INPUT_SWITCH"), "1");
  EXPECT_EQ(lid.properties.GetOr("ID_PATH"), "acpi-PNP0C0D:00");
}

TEST_F(PersistentInputRulesTest, BluetoothStopsTheRules) {
  // A Bluetooth HID device (bus 0005): ID_BUS=bluetooth and nothing else, as udev's GOTO.
  const std::string input = "/devices/virtual/misc/uhid/0005:054C:09CC.0007/input/input20";
  tree_->sysfs().Add(
      {"/devices/virtual/misc/uhid/0005:054C:09CC.0007", "hid", true, "sony", {}, {}});
  testing::trees_internal::AddInput(
      tree_->sysfs(),
      {input, "Wireless Controller", "0005", "054c", "09cc", testing::trees_internal::kGamepadCaps},
      20, "js2", 2);
  EventState state = Apply(input + "/event20");
  EXPECT_EQ(state.properties.GetOr("ID_BUS"), "bluetooth");
  EXPECT_EQ(state.properties.GetOr("ID_INPUT_JOYSTICK"), "1");
  EXPECT_FALSE(state.properties.Has("ID_SERIAL"));
  EXPECT_EQ(InputLinks(input + "/event20"), Links{});
}

TEST_F(PersistentInputRulesTest, RemoveAndChange) {
  EventState removed = Apply(devices::kUsbKeyboardEvent, "remove");
  EXPECT_FALSE(removed.properties.Has("ID_INPUT"));
  EXPECT_TRUE(removed.links.empty());
  // A change event recomputes the same names.
  EXPECT_EQ(InputLinks(devices::kUsbKeyboardEvent, "change"),
            (Links{"input/by-id/usb-Logitech_USB_Keyboard-event-kbd",
                   "input/by-path/pci-0000:00:14.0-usb-0:2:1.0-event-kbd"}));
}

}  // namespace
}  // namespace vdev
