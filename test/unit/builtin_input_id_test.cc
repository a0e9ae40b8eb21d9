// The input_id builtin over fake sysfs trees of real input devices (test/fixtures/
// device_trees.h): keyboards, mice, a touchpad, a TrackPoint, a touchscreen, gamepads, an
// accelerometer, ACPI buttons and made-up devices for every branch of the classification.
//
// Expected values: the capability bitmaps are those of the real devices named in
// device_trees.h; every result below was checked against Debian 12's udevadm 252.39
// (`udevadm test-builtin input_id`) over the same tree bind-mounted on /sys. The AT keyboard's
// ID_INPUT=1, ID_INPUT_KEY=1, ID_INPUT_KEYBOARD=1 is also the `udevadm info` in systemd's
// hwdb.d README example.
#include "builtin_input_id.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "builtin.h"
#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"

namespace vdev {
namespace {

namespace devices = testing::devices;

TEST(CapabilityBitmapTest, ParsedLikeUdev) {
  EXPECT_EQ(ParseCapabilityBitmap("120013", 1), (std::vector<uint64_t>{0x120013}));
  // Most significant word first.
  EXPECT_EQ(ParseCapabilityBitmap("e520 10000 0 0 0 0", 6),
            (std::vector<uint64_t>{0, 0, 0, 0, 0x10000, 0xe520}));
  // Words past the end are dropped; a word that does not parse keeps its place.
  EXPECT_EQ(ParseCapabilityBitmap("1 2 3", 2), (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(ParseCapabilityBitmap("5 zz 7", 3), (std::vector<uint64_t>{7, 0, 5}));
  EXPECT_EQ(ParseCapabilityBitmap("ffffffffffffffff", 1),
            (std::vector<uint64_t>{0xffffffffffffffff}));
  EXPECT_EQ(ParseCapabilityBitmap("", 2), (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(ParseCapabilityBitmap("1  2", 3), (std::vector<uint64_t>{2, 0, 1}));
}

TEST(InputSizeTest, RangeOverResolution) {
  input_absinfo x{}, y{};
  x.minimum = 1266;
  x.maximum = 5676;
  x.resolution = 42;  // a Synaptics touchpad: 105 mm
  y.minimum = 1096;
  y.maximum = 4758;
  y.resolution = 62;  // 59 mm
  EXPECT_EQ(InputSizeProperties(x, y),
            (std::vector<Property>{{"ID_INPUT_WIDTH_MM", "105"}, {"ID_INPUT_HEIGHT_MM", "59"}}));
  y.resolution = 0;  // unknown: no size at all
  EXPECT_EQ(InputSizeProperties(x, y), std::vector<Property>{});
  EXPECT_EQ(InputSizeProperties(-1), std::vector<Property>{});  // not an evdev node
}

class InputIdTest : public ::testing::Test {
 protected:
  // One tree for all tests: building it is the slow part.
  static void SetUpTestSuite() { tree_ = &testing::SharedTestMachine(); }

  std::vector<Property> InputId(const std::string& devpath) {
    auto device = Device::Open(tree_->fd(), devpath);
    EXPECT_TRUE(device) << devpath;
    return device ? InputIdProperties(*device) : std::vector<Property>{};
  }

  inline static testing::TestMachineTree* tree_ = nullptr;
};

// "KEY" -> {"ID_INPUT", "1"}, {"ID_INPUT_KEY", "1"}, ...
std::vector<Property> Flags(std::vector<std::string> kinds) {
  std::vector<Property> out = {{"ID_INPUT", "1"}};
  for (const auto& kind : kinds) out.emplace_back("ID_INPUT_" + kind, "1");
  return out;
}

TEST_F(InputIdTest, RealDevices) {
  std::string keyboard_input = devices::kUsbKeyboardInput;
  struct Case {
    std::string devpath;
    std::vector<Property> expected;
  } cases[] = {
      {devices::kUsbKeyboardEvent, Flags({"KEY", "KEYBOARD"})},
      {keyboard_input, Flags({"KEY", "KEYBOARD"})},  // the input device itself
      {devices::kUsbKeyboardMediaEvent, Flags({"KEY"})},
      {devices::kUsbMouseEvent, Flags({"MOUSE"})},
      {devices::kUsbMouseNode, Flags({"MOUSE"})},
      {devices::kGamepadEvent, Flags({"JOYSTICK"})},
      {devices::kGamepadJoystick, Flags({"JOYSTICK"})},
      {devices::kPs2KeyboardEvent, Flags({"KEY", "KEYBOARD"})},
      {devices::kTouchpadEvent, Flags({"TOUCHPAD"})},
      {devices::kTrackpointEvent, Flags({"POINTINGSTICK", "MOUSE"})},
      {devices::kTouchscreenEvent, Flags({"TOUCHSCREEN"})},
      {devices::kAccelerometerEvent, Flags({"ACCELEROMETER"})},
      {devices::kLidSwitchEvent, Flags({"SWITCH"})},
      {devices::kPowerButtonEvent, Flags({"KEY"})},
      {devices::kSpeakerEvent, Flags({})},
  };
  for (const Case& c : cases) EXPECT_EQ(InputId(c.devpath), c.expected) << c.devpath;
}

TEST_F(InputIdTest, EveryBranchOfTheClassification) {
  const std::vector<std::vector<Property>> expected = {
      Flags({"TABLET"}),                  // pen
      Flags({"TABLET", "TABLET_PAD"}),    // pad
      Flags({"POINTINGSTICK", "MOUSE"}),  // i2c mouse
      Flags({"MOUSE"}),                   // many buttons
      Flags({"KEY"}),                     // wheel
      Flags({"ACCELEROMETER"}),           // accelerometer by property
      Flags({"MOUSE"}),                   // absolute mouse
      Flags({"JOYSTICK"}),                // pedals
      Flags({"TOUCHSCREEN"}),             // mt screen
      Flags({"JOYSTICK"}),                // all axes
      Flags({"JOYSTICK"}),                // dpad
      Flags({"KEY"}),                     // remote
      Flags({"KEY", "KEYBOARD"}),         // garbage
  };
  ASSERT_EQ(expected.size(), testing::SyntheticInputs().size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(InputId(testing::SyntheticInputEvent(i)), expected[i])
        << testing::SyntheticInputs()[i].name;
}

TEST_F(InputIdTest, NotAnInputDevice) {
  EXPECT_EQ(InputId(devices::kAhciDisk), std::vector<Property>{});
  EXPECT_EQ(InputId(devices::kUsbKeyboardDevice), std::vector<Property>{});
}

TEST_F(InputIdTest, BuiltinSetsTheEventsProperties) {
  const Builtin* builtin = FindBuiltin("input_id");
  ASSERT_NE(builtin, nullptr);
  auto device = Device::Open(tree_->fd(), devices::kTouchpadEvent);
  ASSERT_TRUE(device);
  EventState state(std::move(*device), Uevent());
  // A dev root without the node: the classification, and no size.
  std::filesystem::create_directories(tree_->Sub("dev/input"));
  auto dev = OpenDirAt(AT_FDCWD, tree_->Sub("dev"));
  ASSERT_TRUE(dev);
  state.dev_fd = dev->get();
  BuiltinCall call{state, {}};
  ASSERT_TRUE(builtin->run(call));
  EXPECT_EQ(state.properties.GetOr("ID_INPUT"), "1");
  EXPECT_EQ(state.properties.GetOr("ID_INPUT_TOUCHPAD"), "1");
  EXPECT_FALSE(state.properties.Has("ID_INPUT_WIDTH_MM"));

  // A regular file where the node should be is not asked for sizes.
  { std::ofstream(tree_->Sub("dev/input/event8")) << "not a device"; }
  auto again = Device::Open(tree_->fd(), devices::kTouchpadEvent);
  ASSERT_TRUE(again);
  EXPECT_EQ(InputIdProperties(*again, dev->get()), Flags({"TOUCHPAD"}));
}

// This machine's input devices: never a failure, and ID_INPUT on each that has capabilities.
TEST(InputIdRealSysfsTest, EveryInputDeviceHere) {
  auto sysfs = OpenDirAt(AT_FDCWD, "/sys");
  if (!sysfs) GTEST_SKIP() << "no /sys";
  std::error_code error;
  size_t checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/input", error)) {
    std::string real = std::filesystem::canonical(entry.path(), error).string();
    if (error || !real.starts_with("/sys/devices/")) continue;
    auto device = Device::Open(sysfs->get(), real.substr(4));
    if (!device) continue;
    std::vector<Property> properties = InputIdProperties(*device);
    ++checked;
    if (!properties.empty()) {
      EXPECT_EQ(properties[0], (Property{"ID_INPUT", "1"})) << real;
    }
    for (const auto& [key, value] : properties) {
      EXPECT_TRUE(key.starts_with("ID_INPUT")) << real << " " << key;
      if (!key.ends_with("_MM")) {
        EXPECT_EQ(value, "1") << real << " " << key;
      }
    }
  }
  RecordProperty("devices", std::to_string(checked));
}

}  // namespace
}  // namespace vdev
