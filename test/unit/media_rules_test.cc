// The shipped rules for optical drives (60-vdev-cdrom_id.rules), sound cards
// (60-vdev-persistent-alsa.rules, 78-vdev-sound-card.rules), serial ports
// (60-vdev-serial.rules), Video4Linux devices (60-vdev-persistent-v4l.rules) and the rtc link,
// run through RuleSet with the real builtins over fake sysfs trees: the exact link names and
// the properties applications read.
//
// Expected values: what Debian 12's udev (252.39) makes with its 60-cdrom_id.rules,
// 60-persistent-alsa.rules, 78-sound-card.rules, 60-serial.rules, 60-persistent-v4l.rules
// and 50-udev-default.rules for these devices, from its rule text and the builtins' values.
// The names are the familiar ones: /dev/cdrom, snd/by-path/pci-0000:00:1b.0,
// snd/by-id/usb-C-Media_Electronics_Inc._USB_Audio_Device-00,
// serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0,
// serial/by-id/usb-Arduino__www.arduino.cc__0043_75330303035351F0D1A1-if00.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/fs_util.h"
#include "fixtures/device_trees.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"

namespace vdev {
namespace {

using Links = std::set<std::string>;
using namespace testing::trees_internal;
using testing::FakeSysfs;

const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";
const std::string kPci = "/devices/pci0000:00";
const std::string kXhci = kPci + "/0000:00:14.0";
const std::string kHdaCard = kPci + "/0000:00:1b.0/sound/card0";
const std::string kModemCard = kPci + "/0000:00:1e.3/sound/card2";
const std::string kUsbAudio = kXhci + "/usb1/1-4";
const std::string kUsbCard = kUsbAudio + "/1-4:1.0/sound/card1";
const std::string kHeadsetCard = kXhci + "/usb1/1-5/1-5:1.0/sound/card3";
const std::string kFtdiTty = kXhci + "/usb1/1-6/1-6:1.0/ttyUSB0/tty/ttyUSB0";
const std::string kAcmTty = kXhci + "/usb1/1-7/1-7:1.0/tty/ttyACM0";
const std::string kSerialPort = "/devices/pnp0/00:04/tty/ttyS0";
const std::string kWebcam = kXhci + "/usb1/1-8/1-8:1.0/video4linux";
const std::string kRtc = "/devices/pnp0/00:01/rtc/rtc0";

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

// A PCI sound card (card, control device, playback PCM of the given class).
void AddSoundCard(FakeSysfs& sysfs, const std::string& card, unsigned number,
                  const std::string& pcm_class = "generic") {
  std::string n = std::to_string(number);
  InClass(sysfs, card, "sound", {}, {{"id", "Card" + n}, {"number", n}});
  sysfs.AddCharDevice(card + "/controlC" + n, "sound", "snd/controlC" + n, 116, 32 * number);
  sysfs.AddCharDevice(card + "/pcmC" + n + "D0p", "sound", "snd/pcmC" + n + "D0p", 116,
                      32 * number + 16);
  sysfs.SetAttribute(card + "/pcmC" + n + "D0p", "pcm_class", pcm_class);
}

// The devices of these tests, in a tree of their own.
void AddMediaDevices(FakeSysfs& sysfs) {
  Bare(sysfs, kPci);
  Bare(sysfs, "/devices/pnp0");
  OnBus(sysfs, kPci + "/0000:00:1b.0", "pci", "snd_hda_intel",
        {{"PCI_SLOT_NAME", "0000:00:1b.0"}}, {{"vendor", "0x8086"}, {"device", "0x293e"}});
  AddSoundCard(sysfs, kHdaCard, 0);
  OnBus(sysfs, kPci + "/0000:00:1e.3", "pci", "snd_intel8x0m",
        {{"PCI_SLOT_NAME", "0000:00:1e.3"}}, {{"vendor", "0x8086"}, {"device", "0x2416"}});
  AddSoundCard(sysfs, kModemCard, 2, "modem");

  OnBus(sysfs, kXhci, "pci", "xhci_hcd", {{"PCI_SLOT_NAME", "0000:00:14.0"}},
        {{"vendor", "0x8086"}, {"device", "0x9d2f"}});
  AddUsbDevice(sysfs,
               {kXhci + "/usb1", 0x1d6b, 0x0002, 0x0601, "Linux 6.1.0-18-amd64 xhci-hcd",
                "xHCI Host Controller", "0000:00:14.0", {{9, 0, 0}}, {"hub"}, "1-0"},
               1, 1);
  // C-Media USB audio adapter (no serial), a Logitech headset.
  AddUsbDevice(sysfs,
               {kUsbAudio, 0x0d8c, 0x0014, 0x0100, "C-Media Electronics Inc.", "USB Audio Device",
                "", {{1, 1, 0}, {1, 2, 0}, {1, 2, 0}, {3, 0, 0}},
                {"snd-usb-audio", "snd-usb-audio", "snd-usb-audio", "usbhid"}},
               1, 4);
  AddSoundCard(sysfs, kUsbCard, 1);
  AddUsbDevice(sysfs,
               {kXhci + "/usb1/1-5", 0x046d, 0x0a44, 0x0104, "Logitech", "Logitech USB Headset",
                "", {{1, 1, 0}, {1, 2, 0}, {1, 2, 0}}, {"snd-usb-audio", "", ""}},
               1, 5);
  AddSoundCard(sysfs, kHeadsetCard, 3);

  // FTDI adapter (usb-serial: one port, number 0) and an Arduino (cdc_acm, no product string).
  AddUsbDevice(sysfs,
               {kXhci + "/usb1/1-6", 0x0403, 0x6001, 0x0600, "FTDI", "FT232R USB UART",
                "A50285BI", {{0xff, 0xff, 0xff}}, {"ftdi_sio"}},
               1, 6);
  OnBus(sysfs, kXhci + "/usb1/1-6/1-6:1.0/ttyUSB0", "usb-serial", "ftdi_sio", {},
        {{"port_number", "0"}});
  sysfs.AddCharDevice(kFtdiTty, "tty", "ttyUSB0", 188, 0);
  AddUsbDevice(sysfs,
               {kXhci + "/usb1/1-7", 0x2341, 0x0043, 0x0001, "Arduino (www.arduino.cc)", "",
                "75330303035351F0D1A1", {{2, 2, 1}, {0x0a, 0, 0}}, {"cdc_acm", "cdc_acm"}},
               1, 7);
  sysfs.AddCharDevice(kAcmTty, "tty", "ttyACM0", 166, 0);
  OnBus(sysfs, "/devices/pnp0/00:04", "pnp", "serial");
  sysfs.AddCharDevice(kSerialPort, "tty", "ttyS0", 4, 64);

  // A UVC webcam: its capture node (index 0) and its metadata node (index 1).
  AddUsbDevice(sysfs,
               {kXhci + "/usb1/1-8", 0x046d, 0x082d, 0x0011, "", "HD Pro Webcam C920", "A1B2C3D4",
                {{0x0e, 1, 0}, {0x0e, 2, 0}, {1, 1, 0}, {1, 2, 0}},
                {"uvcvideo", "uvcvideo", "snd-usb-audio", "snd-usb-audio"}},
               1, 8);
  sysfs.AddCharDevice(kWebcam + "/video0", "video4linux", "video0", 81, 0);
  sysfs.SetAttribute(kWebcam + "/video0", "index", "0");
  sysfs.AddCharDevice(kWebcam + "/video1", "video4linux", "video1", 81, 1);
  sysfs.SetAttribute(kWebcam + "/video1", "index", "1");

  OnBus(sysfs, "/devices/pnp0/00:01", "pnp", "rtc_cmos");
  sysfs.AddCharDevice(kRtc, "rtc", "rtc0", 252, 0);
  sysfs.SetAttribute(kRtc, "hctosys", "1");
}

class MediaRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("vdev-media-rules");
    std::filesystem::create_directories(dir_->Sub("sys"));
    testing::FakeSysfs sysfs(dir_->Sub("sys"));
    AddMediaDevices(sysfs);
    auto fd = OpenDirAt(AT_FDCWD, dir_->Sub("sys"));
    ASSERT_TRUE(fd);
    sysfs_fd_ = new UniqueFd(std::move(*fd));
  }
  static void TearDownTestSuite() {
    delete sysfs_fd_;
    delete dir_;
  }

  void SetUp() override {
    RuleLoadResult loaded = RuleSet::Load({kRulesDir}, NoAccounts());
    // Other rule files may be mid-edit by someone else; these must load.
    for (const auto& error : loaded.errors) {
      for (const char* file : {"60-vdev-cdrom_id.rules", "60-vdev-persistent-alsa.rules",
                               "78-vdev-sound-card.rules", "60-vdev-serial.rules",
                               "60-vdev-persistent-v4l.rules"})
        ASSERT_EQ(error.find(file), std::string::npos) << error;
    }
    rules_ = std::move(loaded.rules);
  }

  EventState Apply(int sysfs_fd, const std::string& devpath, const std::string& action = "add",
                   const std::vector<Property>& extra = {}) {
    auto device = Device::Open(sysfs_fd, devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    for (const auto& [key, value] : extra) properties.Set(key, value);
    EventState state(std::move(*device), std::move(properties));
    rules_.Apply(state, runner_);
    for (const char* marker : {"VDEV_CDROM", "VDEV_PERSISTENT_ALSA", "VDEV_SOUND",
                               "VDEV_SOUND_BUS", "VDEV_SERIAL", "VDEV_SERIAL_PORT", "VDEV_V4L"})
      EXPECT_FALSE(state.properties.Has(marker)) << marker << " leaked";
    return state;
  }
  EventState Apply(const std::string& devpath, const std::string& action = "add") {
    return Apply(sysfs_fd_->get(), devpath, action);
  }

  // The links below one directory (other rule files may add others).
  Links LinksIn(const EventState& state, const std::string& prefix) {
    Links links;
    for (const auto& link : state.links)
      if (link.starts_with(prefix)) links.insert(link);
    return links;
  }

  inline static testing::TempDir* dir_ = nullptr;
  inline static UniqueFd* sysfs_fd_ = nullptr;
  RuleSet rules_;
  NullRunner runner_;
};

// --- optical drives (the shared test machine's AHCI and USB drives)

TEST_F(MediaRulesTest, FirstOpticalDriveIsCdrom) {
  int fd = testing::SharedTestMachine().fd();
  EventState sr0 = Apply(fd, testing::devices::kAhciCdrom);
  EXPECT_TRUE(sr0.links.size() > 0 &&
              std::count(sr0.links.begin(), sr0.links.end(), "cdrom") == 1);
  EXPECT_EQ(sr0.link_priority, -100);
  EXPECT_EQ(sr0.properties.GetOr("ID_CDROM"), "1");
  EXPECT_EQ(sr0.properties.GetOr("SYSTEMD_MOUNT_DEVICE_BOUND"), "1");
  // udev 252 makes no dvd, cdrw or dvdrw links, and only sr0 is "cdrom".
  for (const auto& link : sr0.links) EXPECT_TRUE(link == "cdrom" || link.starts_with("disk/"));
  EventState sr1 = Apply(fd, testing::devices::kUsbCdrom);
  EXPECT_EQ(sr1.properties.GetOr("ID_CDROM"), "1");
  EXPECT_EQ(std::count(sr1.links.begin(), sr1.links.end(), "cdrom"), 0);
  // Removal: nothing of these rules.
  EventState removed = Apply(fd, testing::devices::kAhciCdrom, "remove");
  EXPECT_FALSE(removed.properties.Has("ID_CDROM"));
}

TEST_F(MediaRulesTest, EjectButtonEjectsAndEndsTheRules) {
  int fd = testing::SharedTestMachine().fd();
  EventState state = Apply(fd, testing::devices::kAhciCdrom, "change",
                           {{"DISK_EJECT_REQUEST", "1"}});
  EXPECT_EQ(std::count(state.run_programs.begin(), state.run_programs.end(),
                       "vdev-cdrom-id --eject-media /dev/sr0"),
            1);
  // As udev's GOTO="cdrom_end": no cdrom_id import, no cdrom link from this event.
  EXPECT_EQ(std::count(state.links.begin(), state.links.end(), "cdrom"), 0);
  EXPECT_EQ(state.properties.GetOr("ID_CDROM"), "1");
}

TEST_F(MediaRulesTest, MediumGoneMakesTheDeviceNotReady) {
  int fd = testing::SharedTestMachine().fd();
  // No node to probe here: the builtin finds no medium, as for an empty drive.
  EventState ejected = Apply(fd, testing::devices::kAhciCdrom, "change",
                             {{"DISK_MEDIA_CHANGE", "1"}});
  EXPECT_EQ(ejected.properties.GetOr("SYSTEMD_READY"), "0");
  EventState inserted = Apply(fd, testing::devices::kAhciCdrom, "change",
                              {{"DISK_MEDIA_CHANGE", "1"}, {"ID_CDROM_MEDIA", "1"}});
  EXPECT_FALSE(inserted.properties.Has("SYSTEMD_READY"));
  EventState plain = Apply(fd, testing::devices::kAhciCdrom, "change");
  EXPECT_FALSE(plain.properties.Has("SYSTEMD_READY"));
}

// --- sound

TEST_F(MediaRulesTest, PciSoundCard) {
  EventState control = Apply(kHdaCard + "/controlC0");
  EXPECT_EQ(LinksIn(control, "snd/"), (Links{"snd/by-path/pci-0000:00:1b.0"}));
  // The control device, ALSA's last of a card, asks the kernel for the card's "change".
  using Write = std::pair<std::string, std::string>;
  EXPECT_EQ(control.attribute_writes, (std::vector<Write>{{"../uevent", "change"}}));
  EXPECT_TRUE(LinksIn(Apply(kHdaCard + "/pcmC0D0p"), "snd/").empty());
  EventState card = Apply(kHdaCard, "change");
  EXPECT_EQ(card.properties.GetOr("SOUND_INITIALIZED"), "1");
  EXPECT_EQ(card.properties.GetOr("ID_BUS"), "pci");
  EXPECT_EQ(card.properties.GetOr("ID_VENDOR_ID"), "0x8086");
  EXPECT_EQ(card.properties.GetOr("ID_MODEL_ID"), "0x293e");
  EXPECT_EQ(card.properties.GetOr("ID_PATH"), "pci-0000:00:1b.0");
  EXPECT_EQ(card.properties.GetOr("SOUND_FORM_FACTOR"), "internal");
  EXPECT_FALSE(card.properties.Has("ID_ID"));
  EXPECT_TRUE(card.links.empty());
  // As with udev, only that "change" initializes the card: not its "add".
  EXPECT_FALSE(Apply(kHdaCard, "add").properties.Has("SOUND_INITIALIZED"));
  EXPECT_FALSE(Apply(kHdaCard, "remove").properties.Has("SOUND_INITIALIZED"));
}

TEST_F(MediaRulesTest, ModemCard) {
  EventState card = Apply(kModemCard, "change");
  EXPECT_EQ(card.properties.GetOr("SOUND_CLASS"), "modem");
  EXPECT_EQ(card.properties.GetOr("ID_PATH"), "pci-0000:00:1e.3");
  // udev's GOTO="sound_end" comes before the internal-PCI check.
  EXPECT_FALSE(card.properties.Has("SOUND_FORM_FACTOR"));
}

TEST_F(MediaRulesTest, UsbSoundCards) {
  EXPECT_EQ(LinksIn(Apply(kUsbCard + "/controlC1"), "snd/"),
            (Links{"snd/by-id/usb-C-Media_Electronics_Inc._USB_Audio_Device-00",
                   "snd/by-path/pci-0000:00:14.0-usb-0:4:1.0"}));
  EventState card = Apply(kUsbCard, "change");
  EXPECT_EQ(card.properties.GetOr("ID_BUS"), "usb");
  EXPECT_EQ(card.properties.GetOr("ID_ID"), "usb-C-Media_Electronics_Inc._USB_Audio_Device-00");
  EXPECT_EQ(card.properties.GetOr("ID_PATH"), "pci-0000:00:14.0-usb-0:4:1.0");
  EXPECT_EQ(card.properties.GetOr("ID_VENDOR_ID"), "0d8c");
  EXPECT_FALSE(card.properties.Has("SOUND_FORM_FACTOR"));
  EventState headset = Apply(kHeadsetCard, "change");
  EXPECT_EQ(headset.properties.GetOr("SOUND_FORM_FACTOR"), "headset");
  EXPECT_EQ(headset.properties.GetOr("ID_ID"), "usb-Logitech_Logitech_USB_Headset-00");
}

// --- serial ports

TEST_F(MediaRulesTest, UsbSerialAdapters) {
  EXPECT_EQ(LinksIn(Apply(kFtdiTty), "serial/"),
            (Links{"serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0",
                   "serial/by-path/pci-0000:00:14.0-usb-0:6:1.0-port0"}));
  EXPECT_EQ(LinksIn(Apply(kAcmTty), "serial/"),
            (Links{"serial/by-id/usb-Arduino__www.arduino.cc__0043_75330303035351F0D1A1-if00",
                   "serial/by-path/pci-0000:00:14.0-usb-0:7:1.0"}));
  EXPECT_TRUE(Apply(kFtdiTty, "remove").links.empty());
}

TEST_F(MediaRulesTest, MotherboardSerialPortHasNoLinks) {
  // udev 252 names only ttyUSB* and ttyACM*.
  EventState state = Apply(kSerialPort);
  EXPECT_TRUE(LinksIn(state, "serial/").empty());
  EXPECT_FALSE(state.properties.Has("ID_PATH"));
}

// --- Video4Linux

TEST_F(MediaRulesTest, UsbWebcam) {
  EXPECT_EQ(LinksIn(Apply(kWebcam + "/video0"), "v4l/"),
            (Links{"v4l/by-id/usb-046d_HD_Pro_Webcam_C920_A1B2C3D4-video-index0",
                   "v4l/by-path/pci-0000:00:14.0-usb-0:8:1.0-video-index0"}));
  EXPECT_EQ(LinksIn(Apply(kWebcam + "/video1"), "v4l/"),
            (Links{"v4l/by-id/usb-046d_HD_Pro_Webcam_C920_A1B2C3D4-video-index1",
                   "v4l/by-path/pci-0000:00:14.0-usb-0:8:1.0-video-index1"}));
}

TEST_F(MediaRulesTest, V4lWithoutIndexGetsNoPathLink) {
  // udev's by-id line comes before its index check: it is made, with an empty index.
  testing::ScopedHide hide(dir_->Sub("sys") + kWebcam + "/video1/index");
  EXPECT_EQ(LinksIn(Apply(kWebcam + "/video1"), "v4l/"),
            (Links{"v4l/by-id/usb-046d_HD_Pro_Webcam_C920_A1B2C3D4-video-index"}));
}

// --- rtc (50-vdev-default.rules)

TEST_F(MediaRulesTest, SystemRtc) {
  EventState state = Apply(kRtc);
  EXPECT_EQ(std::count(state.links.begin(), state.links.end(), "rtc"), 1);
}

}  // namespace
}  // namespace vdev
