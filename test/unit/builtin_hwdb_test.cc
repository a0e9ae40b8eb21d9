// The hwdb builtin over a fake sysfs and a hand-built hwdb.bin: udev's walk up the device
// chain, its usb_device modalias, --subsystem, --lookup-prefix, --filter, quoted keys,
// a missing or replaced database.
#include "builtin_hwdb.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/hwdb_writer.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"

namespace vdev {
namespace {

using testing::FakeDevice;
using testing::FakeSysfs;
using testing::HwdbEntry;
using testing::HwdbWriter;

const std::string kPci = "/devices/pci0000:00/0000:00:14.0";
const std::string kRootHub = kPci + "/usb1";
const std::string kReceiver = kRootHub + "/1-1";
const std::string kInterface = kReceiver + "/1-1:1.0";
const std::string kHid = kInterface + "/0003:046D:C52B.0001";
const std::string kHidraw = kHid + "/hidraw/hidraw0";
const std::string kInput = kHid + "/input/input5";
const std::string kUnknownUsb = kRootHub + "/1-2";
const std::string kBareUsb = kRootHub + "/1-3";

std::vector<HwdbEntry> Entries(const std::string& model = "Unifying Receiver") {
  const std::string usb = "/usr/lib/udev/hwdb.d/20-usb-vendor-model.hwdb";
  const std::string pci = "/usr/lib/udev/hwdb.d/20-pci-vendor-model.hwdb";
  const std::string evdev = "/usr/lib/udev/hwdb.d/60-evdev.hwdb";
  return {
      {"usb:v046D*", {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."}}, usb, 100, 1},
      {"usb:v046DpC52B*", {{"ID_MODEL_FROM_DATABASE", model}}, usb, 200, 1},
      {"usb:v1D6Bp0002*", {{"ID_MODEL_FROM_DATABASE", "2.0 root hub"}}, usb, 300, 1},
      {"usb:v1234p0001*", {{"ID_OK", "1"}, {"DEVNAME", "evil"}, {"BAD KEY", "x"}}, usb, 400, 1},
      {"pci:v00008086*", {{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"}}, pci, 1, 1},
      {"pci:v00008086d0000A36D*",
       {{"ID_MODEL_FROM_DATABASE", "Cannon Lake PCH USB 3.1 xHCI"}},
       pci,
       2,
       1},
      {"evdev:input:b0003v046DpC52B*", {{"EVDEV_ABS_00", "::12"}}, evdev, 1, 2},
      {"id-input:modalias:input:b0003v046D*", {{"ID_INPUT_MOUSE", "1"}}, evdev, 2, 2},
      {"evdev:name:Logitech USB Receiver Mouse:*", {{"KEYBOARD_KEY_c01b6", "images"}}, evdev, 3, 2},
  };
}

class BuiltinHwdbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Sub("sys"));
    sysfs_ = std::make_unique<FakeSysfs>(dir_.Sub("sys"));
    sysfs_fd_ = *OpenDirAt(AT_FDCWD, dir_.Sub("sys"));
    sysfs_->Add({kPci,
                 "pci",
                 true,
                 "xhci_hcd",
                 {{"PCI_ID", "8086:A36D"},
                  {"MODALIAS", "pci:v00008086d0000A36Dsv00001028sd0000085Cbc0Csc03i30"}},
                 {}});
    AddUsbDevice(kRootHub, "1d6b", "0002", 1);
    AddUsbDevice(kReceiver, "046d", "c52b", 2);
    AddUsbDevice(kUnknownUsb, "0000", "0001", 3);
    AddUsbDevice(kBareUsb, "", "", 4);
    sysfs_->Add({kInterface,
                 "usb",
                 true,
                 "usbhid",
                 {{"DEVTYPE", "usb_interface"},
                  {"MODALIAS", "usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00"}},
                 {}});
    sysfs_->Add(
        {kHid,
         "hid",
         true,
         "hid-generic",
         {{"HID_NAME", "Logitech USB Receiver"}, {"MODALIAS", "hid:b0003g0000v0000046Dp0000C52B"}},
         {}});
    sysfs_->AddCharDevice(kHidraw, "hidraw", "hidraw0", 247, 0);
    sysfs_->Add({kInput,
                 "input",
                 false,
                 "",
                 {{"PRODUCT", "3/46d/c52b/111"},
                  {"NAME", "\"Logitech USB Receiver Mouse\""},
                  {"MODALIAS", "input:b0003v046DpC52Be0111-e0,1,2,4,k110,111,112,r0,1,8,am4,lsfw"}},
                 {{"name", "Logitech USB Receiver Mouse"}}});
    Install(Entries());
    SetHwdbRoot(dir_.Sub("root"));
  }

  void TearDown() override { SetHwdbRoot("/"); }

  void AddUsbDevice(const std::string& devpath, const std::string& vendor,
                    const std::string& product, unsigned minor) {
    FakeDevice device{devpath,
                      "usb",
                      true,
                      "usb",
                      {{"MAJOR", "189"},
                       {"MINOR", std::to_string(minor)},
                       {"DEVNAME", "bus/usb/001/00" + std::to_string(minor)},
                       {"DEVTYPE", "usb_device"},
                       {"PRODUCT", vendor + "/" + product + "/0"}},
                      {}};
    if (!vendor.empty()) device.attributes = {{"idVendor", vendor}, {"idProduct", product}};
    sysfs_->Add(device);
  }

  // What `systemd-hwdb update` does: a new file renamed over the old one.
  void Install(const std::vector<HwdbEntry>& entries, const std::string& path = "lib/udev") {
    std::filesystem::create_directories(dir_.Sub("root/" + path));
    std::string target = dir_.Sub("root/" + path + "/hwdb.bin");
    testing::WriteBytes(target + ".tmp", HwdbWriter::Build(entries).bytes);
    std::filesystem::rename(target + ".tmp", target);
  }

  EventState StateFor(const std::string& devpath) {
    auto device = Device::Open(sysfs_fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", "add");
    properties.Set("DEVPATH", devpath);
    properties.Set("SUBSYSTEM", device->subsystem());
    return EventState(std::move(*device), std::move(properties));
  }

  // Runs the builtin; the properties it added (beyond the event's own).
  std::map<std::string, std::string> Run(const std::string& devpath, std::vector<std::string> args,
                                         Status* status = nullptr) {
    EventState state = StateFor(devpath);
    size_t before = state.properties.properties().size();
    BuiltinCall call{state, std::move(args)};
    Status ran = RunHwdbBuiltin(call);
    if (status != nullptr)
      *status = ran;
    else
      EXPECT_TRUE(ran) << ran.error().Message();
    const auto& all = state.properties.properties();
    return {all.begin() + std::min(before, all.size()), all.end()};
  }

  testing::TempDir dir_{"vdev-builtin-hwdb"};
  std::unique_ptr<FakeSysfs> sysfs_;
  UniqueFd sysfs_fd_;
};

using Map = std::map<std::string, std::string>;
const Map kReceiverProperties = {{"ID_VENDOR_FROM_DATABASE", "Logitech, Inc."},
                                 {"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}};

TEST_F(BuiltinHwdbTest, IsRegistered) {
  const Builtin* builtin = FindBuiltin("hwdb");
  ASSERT_NE(builtin, nullptr);
  EXPECT_EQ(builtin->run, RunHwdbBuiltin);
}

TEST_F(BuiltinHwdbTest, TheDevicesOwnModalias) {
  EXPECT_EQ(Run(kInterface, {}), kReceiverProperties);
  EXPECT_EQ(Run(kPci, {}), (Map{{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"},
                                {"ID_MODEL_FROM_DATABASE", "Cannon Lake PCH USB 3.1 xHCI"}}));
}

TEST_F(BuiltinHwdbTest, UsbDeviceWithoutModaliasUsesItsIds) {
  // 50-udev-default.rules: SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", IMPORT{builtin}="hwdb
  // --subsystem=usb"
  EXPECT_EQ(Run(kReceiver, {"--subsystem=usb"}), kReceiverProperties);
  EXPECT_EQ(Run(kRootHub, {"--subsystem=usb"}), (Map{{"ID_MODEL_FROM_DATABASE", "2.0 root hub"}}));
}

TEST_F(BuiltinHwdbTest, WalksUpToTheFirstAncestorWithAnAnswer) {
  // hidraw0 has no MODALIAS, its hid parent one the database does not know: the USB
  // interface above answers (50-udev-default.rules: SUBSYSTEM=="hidraw", IMPORT{builtin}="hwdb").
  EXPECT_EQ(Run(kHidraw, {}), kReceiverProperties);
}

TEST_F(BuiltinHwdbTest, SubsystemPicksTheAncestor) {
  EXPECT_EQ(Run(kHidraw, {"--subsystem=pci"}),
            (Map{{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"},
                 {"ID_MODEL_FROM_DATABASE", "Cannon Lake PCH USB 3.1 xHCI"}}));
  EXPECT_EQ(Run(kHidraw, {"--subsystem=net"}), Map{});
}

TEST_F(BuiltinHwdbTest, AUsbDeviceEndsTheWalk) {
  // 0000:0001 is unknown, and what lies above it (the hub, the controller) is not asked.
  EXPECT_EQ(Run(kUnknownUsb, {}), Map{});
  // udev 252 ends it only once it had a modalias to ask: a usb_device without ids walks on,
  // here to the root hub.
  EXPECT_EQ(Run(kBareUsb, {}), (Map{{"ID_MODEL_FROM_DATABASE", "2.0 root hub"}}));
}

TEST_F(BuiltinHwdbTest, LookupPrefix) {
  // 60-evdev.rules and 60-input-id.rules.
  EXPECT_EQ(Run(kInput, {"--subsystem=input", "--lookup-prefix=evdev:"}),
            (Map{{"EVDEV_ABS_00", "::12"}}));
  EXPECT_EQ(Run(kInput, {"--subsystem=input", "--lookup-prefix=id-input:modalias:"}),
            (Map{{"ID_INPUT_MOUSE", "1"}}));
  EXPECT_EQ(Run(kInput, {"-s", "input", "-pevdev:"}), (Map{{"EVDEV_ABS_00", "::12"}}));
  EXPECT_EQ(Run(kInput, {"--sub", "input", "--lookup=evdev:"}), (Map{{"EVDEV_ABS_00", "::12"}}));
}

TEST_F(BuiltinHwdbTest, AQuotedKeyKeepsItsSpaces) {
  // The rules split arguments on whitespace; the builtin joins a quoted key again.
  Map expected{{"KEYBOARD_KEY_c01b6", "images"}};
  EXPECT_EQ(Run(kInput, {"'evdev:name:Logitech", "USB", "Receiver", "Mouse:dmi:bvnX:'"}), expected);
  EXPECT_EQ(Run(kInput, {"\"evdev:name:Logitech", "USB", "Receiver", "Mouse:\""}), expected);
  // A key handed over whole (a caller that splits quotes itself) works as well.
  EXPECT_EQ(Run(kInput, {"evdev:name:Logitech USB Receiver Mouse:"}), expected);
  // An explicit key ignores the device's own modalias.
  EXPECT_EQ(Run(kInterface, {"pci:v00008086d00001234"}),
            (Map{{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"}}));
  EXPECT_EQ(Run(kInterface, {"nothing:here"}), Map{});
}

TEST_F(BuiltinHwdbTest, ThroughTheRules) {
  auto rules = RuleSet::Parse("t.rules",
                              "[evdev-name]\n"
                              "subsystem = input\n"
                              "builtin = hwdb 'evdev:name:$attr{name}:'\n"
                              "[usb]\n"
                              "subsystem = usb\n"
                              "builtin = hwdb --subsystem=$env{SUBSYSTEM}\n");
  ASSERT_TRUE(rules) << rules.error().Message();
  struct NullRunner : ProgramRunner {
    Result<std::string> Run(const std::string&, const Uevent&) override { return std::string(); }
  } runner;
  EventState input = StateFor(kInput);
  rules->Apply(input, runner);
  EXPECT_EQ(input.properties.GetOr("KEYBOARD_KEY_c01b6"), "images");
  EventState usb = StateFor(kInterface);
  rules->Apply(usb, runner);
  EXPECT_EQ(usb.properties.GetOr("ID_MODEL_FROM_DATABASE"), "Unifying Receiver");
}

TEST_F(BuiltinHwdbTest, Filter) {
  EXPECT_EQ(Run(kInterface, {"--filter=ID_MODEL*"}),
            (Map{{"ID_MODEL_FROM_DATABASE", "Unifying Receiver"}}));
  // Filtered out entirely counts as no answer: the walk goes on to the next ancestor.
  EXPECT_EQ(Run(kHidraw, {"--filter=*VENDOR*", "--subsystem=pci"}),
            (Map{{"ID_VENDOR_FROM_DATABASE", "Intel Corporation"}}));
}

TEST_F(BuiltinHwdbTest, NeverSetsWhatTheDaemonOwnsOrWhatBreaksARecord) {
  EventState state = StateFor(kInterface);
  state.properties.Set("DEVNAME", "bus/usb/001/002");
  BuiltinCall call{state, {"usb:v1234p0001"}};
  ASSERT_TRUE(RunHwdbBuiltin(call));
  EXPECT_EQ(state.properties.GetOr("ID_OK"), "1");
  EXPECT_EQ(state.properties.GetOr("DEVNAME"), "bus/usb/001/002");
  EXPECT_FALSE(state.properties.Has("BAD KEY"));
}

TEST_F(BuiltinHwdbTest, BadArguments) {
  auto code = [&](std::vector<std::string> args) {
    Status status;
    Run(kInterface, std::move(args), &status);
    return status ? 0 : status.error().code;
  };
  EXPECT_EQ(code({"--bogus"}), EINVAL);
  EXPECT_EQ(code({"-x"}), EINVAL);
  EXPECT_EQ(code({"--subsystem"}), EINVAL);  // no value
  EXPECT_EQ(code({"--=usb"}), EINVAL);
  EXPECT_EQ(code({"--s=usb"}), 0);           // getopt_long takes a unique abbreviation
  EXPECT_EQ(code({"two", "keys"}), EINVAL);  // a key with spaces that lost its quotes
  EXPECT_EQ(code({"'unterminated", "key"}), EINVAL);
  EXPECT_EQ(code({"--device=b8:0"}), EOPNOTSUPP);
  EXPECT_EQ(code({"--", "-not-an-option"}), 0);
}

TEST_F(BuiltinHwdbTest, NoDatabaseSetsNothing) {
  std::filesystem::remove(dir_.Sub("root/lib/udev/hwdb.bin"));
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {}), Map{});
  SetHwdbRoot(dir_.Sub("does-not-exist"));
  EXPECT_EQ(Run(kInterface, {}), Map{});
  EXPECT_EQ(Run(kInterface, {"usb:v046DpC52B"}), Map{});
}

TEST_F(BuiltinHwdbTest, ReopensAChangedDatabaseOnReload) {
  EXPECT_EQ(Run(kInterface, {})["ID_MODEL_FROM_DATABASE"], "Unifying Receiver");
  Install(Entries("Nano Receiver"));
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {})["ID_MODEL_FROM_DATABASE"], "Nano Receiver");
  // A file of higher priority appears: it wins.
  Install({{"usb:v046D*", {{"ID_VENDOR_FROM_DATABASE", "from /etc"}}}}, "etc/udev");
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {}), (Map{{"ID_VENDOR_FROM_DATABASE", "from /etc"}}));
  // A broken one: nothing, no error; and repaired, it is read again.
  testing::WriteBytes(dir_.Sub("root/etc/udev/hwdb.bin"), "KSLPHHRH but not a database");
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {}), Map{});
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {}), Map{});
  std::filesystem::remove(dir_.Sub("root/etc/udev/hwdb.bin"));
  ReloadHwdb();
  EXPECT_EQ(Run(kInterface, {})["ID_MODEL_FROM_DATABASE"], "Nano Receiver");
}

}  // namespace
}  // namespace vdev
