// The shipped rules/ directory against the owners and modes Debian 12's udev gives.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <map>

#include "common/fs_util.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "rule_set.h"

namespace vdev {
namespace {

// Debian's groups: the fixed ids from base-passwd, and ids that systemd-sysusers picks for
// the rest (any free system gid; these are what a fresh Debian 12 install tends to get).
const std::map<std::string, gid_t>& DebianGroups() {
  static const std::map<std::string, gid_t> kGroups = {
      {"root", 0},     {"tty", 5},     {"disk", 6},    {"lp", 7},       {"kmem", 15},
      {"dialout", 20}, {"cdrom", 24},  {"floppy", 25}, {"tape", 26},    {"audio", 29},
      {"video", 44},   {"input", 101}, {"kvm", 102},   {"render", 103}, {"sgx", 104},
  };
  return kGroups;
}

AccountResolver DebianAccounts() {
  AccountResolver accounts;
  accounts.user = [](const std::string& name) -> std::optional<uid_t> {
    return name == "root" ? std::optional<uid_t>(0) : std::nullopt;
  };
  accounts.group = [](const std::string& name) -> std::optional<gid_t> {
    auto it = DebianGroups().find(name);
    return it == DebianGroups().end() ? std::nullopt : std::optional<gid_t>(it->second);
  };
  return accounts;
}

class NullRunner : public ProgramRunner {
 public:
  Result<std::string> Run(const std::string& command, const Uevent&) override {
    commands.push_back(command);
    return std::string();
  }
  std::vector<std::string> commands;
};

// The mode udev (udev-node.c) gives a node: the rules' mode, else the kernel's DEVMODE,
// else 0660 when a group other than root was set, else 0600. The daemon applies this.
mode_t EffectiveMode(const EventState& state) {
  if (state.mode) return *state.mode;
  if (auto devmode = state.properties.Get("DEVMODE")) {
    return static_cast<mode_t>(std::stoul(std::string(*devmode), nullptr, 8));
  }
  return state.gid && *state.gid > 0 ? 0660 : 0600;
}

const std::string kRulesDir = VDEV_SOURCE_DIR "/rules";

TEST(DefaultRulesTest, LoadWithoutErrorsOrWarnings) {
  RuleLoadResult result = RuleSet::Load({kRulesDir}, DebianAccounts());
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
  EXPECT_TRUE(result.warnings.empty()) << result.warnings.front();
  EXPECT_GT(result.rules.size(), 50u);
}

TEST(DefaultRulesTest, UnknownGroupsOnThisMachineAreOnlyWarnings) {
  RuleLoadResult result = RuleSet::Load({kRulesDir});
  EXPECT_TRUE(result.errors.empty()) << result.errors.front();
}

class DefaultRulesDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult loaded = RuleSet::Load({kRulesDir}, DebianAccounts());
    ASSERT_TRUE(loaded.errors.empty());
    rules_ = std::move(loaded.rules);
    fd_ = *OpenDirAt(AT_FDCWD, dir_.path());
  }

  struct Outcome {
    std::string group;
    mode_t mode;
    std::vector<std::string> links;
    int link_priority;
  };

  Outcome ApplyTo(const std::string& devpath, const std::string& action = "add") {
    auto device = Device::Open(fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    if (!device) return {};
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    EventState state(std::move(*device), std::move(properties));
    RuleTrace trace;
    rules_.Apply(state, runner_, &trace);
    if (state.gid) {
      // The recorded name and the resolved id agree.
      EXPECT_EQ(DebianGroups().at(trace.group), *state.gid) << devpath;
    }
    EXPECT_FALSE(state.uid.has_value()) << devpath << ": no default rule sets an owner";
    return {trace.group, EffectiveMode(state), state.links, state.link_priority};
  }

  testing::TempDir dir_;
  testing::FakeSysfs sysfs_{dir_.path()};
  UniqueFd fd_;
  RuleSet rules_;
  NullRunner runner_;
};

TEST_F(DefaultRulesDeviceTest, OwnershipAndModesMatchDebian) {
  using Extra = std::vector<std::pair<std::string, std::string>>;
  struct Node {
    std::string devpath, subsystem, devname;
    unsigned major, minor;
    Extra extra;
    std::string group;  // "" = root
    mode_t mode;
  } nodes[] = {
      // The kernel's DEVMODE gives these 0666; no rule touches them.
      {"/devices/virtual/mem/null", "mem", "null", 1, 3, {{"DEVMODE", "0666"}}, "", 0666},
      {"/devices/virtual/mem/urandom", "mem", "urandom", 1, 9, {{"DEVMODE", "0666"}}, "", 0666},
      {"/devices/virtual/mem/mem", "mem", "mem", 1, 1, {}, "kmem", 0640},
      {"/devices/virtual/mem/port", "mem", "port", 1, 4, {}, "kmem", 0640},
      {"/devices/virtual/tty/tty", "tty", "tty", 5, 0, {{"DEVMODE", "0666"}}, "tty", 0666},
      {"/devices/virtual/tty/ptmx", "tty", "ptmx", 5, 2, {{"DEVMODE", "0666"}}, "tty", 0666},
      {"/devices/virtual/tty/tty1", "tty", "tty1", 4, 1, {}, "tty", 0620},
      {"/devices/virtual/tty/console", "tty", "console", 5, 1, {}, "", 0600},
      {"/devices/platform/serial8250/tty/ttyS0", "tty", "ttyS0", 4, 64, {}, "dialout", 0660},
      {"/devices/pci0000:00/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0",
       "tty",
       "ttyUSB0",
       188,
       0,
       {},
       "dialout",
       0660},
      {"/devices/pci0000:00/usb1/1-2/1-2:1.0/tty/ttyACM0",
       "tty",
       "ttyACM0",
       166,
       0,
       {},
       "dialout",
       0660},
      {"/devices/virtual/vc/vcs1", "vc", "vcs1", 7, 1, {}, "tty", 0660},
      {"/devices/virtual/vc/vcsa1", "vc", "vcsa1", 7, 129, {}, "tty", 0660},
      {"/devices/virtual/misc/kvm", "misc", "kvm", 10, 232, {}, "kvm", 0660},
      {"/devices/virtual/misc/vhost-net", "misc", "vhost-net", 10, 238, {}, "kvm", 0660},
      {"/devices/virtual/misc/vhost-vsock", "misc", "vhost-vsock", 10, 241, {}, "kvm", 0660},
      {"/devices/virtual/misc/udmabuf", "misc", "udmabuf", 10, 125, {}, "kvm", 0660},
      {"/devices/virtual/misc/tun", "misc", "net/tun", 10, 200, {}, "", 0666},
      {"/devices/virtual/misc/fuse", "misc", "fuse", 10, 229, {}, "", 0666},
      {"/devices/virtual/misc/rfkill", "misc", "rfkill", 10, 242, {}, "", 0664},
      {"/devices/virtual/misc/loop-control", "misc", "loop-control", 10, 237, {}, "disk", 0660},
      {"/devices/virtual/misc/btrfs-control", "misc", "btrfs-control", 10, 234, {}, "disk", 0660},
      {"/devices/virtual/misc/nvram", "misc", "nvram", 10, 144, {}, "kmem", 0640},
      {"/devices/virtual/misc/sgx_enclave", "misc", "sgx_enclave", 10, 125, {}, "sgx", 0660},
      {"/devices/virtual/misc/hpet", "misc", "hpet", 10, 228, {}, "", 0600},
      {"/devices/virtual/input/input3/event3", "input", "input/event3", 13, 67, {}, "input", 0660},
      {"/devices/virtual/input/input4/js0", "input", "input/js0", 13, 0, {}, "input", 0664},
      {"/devices/virtual/input/input4/mice", "input", "input/mice", 13, 63, {}, "input", 0660},
      {"/devices/pci0000:00/0000:00:02.0/drm/card0", "drm", "dri/card0", 226, 0, {}, "video", 0660},
      {"/devices/pci0000:00/0000:00:02.0/drm/renderD128",
       "drm",
       "dri/renderD128",
       226,
       128,
       {},
       "render",
       0660},
      {"/devices/pci0000:00/0000:00:02.0/graphics/fb0",
       "graphics",
       "fb0",
       29,
       0,
       {},
       "video",
       0660},
      {"/devices/pci0000:00/usb1/1-3/1-3:1.0/video4linux/video0",
       "video4linux",
       "video0",
       81,
       0,
       {},
       "video",
       0660},
      {"/devices/pci0000:00/0000:00:1b.0/sound/card0/pcmC0D0p",
       "sound",
       "snd/pcmC0D0p",
       116,
       16,
       {},
       "audio",
       0660},
      {"/devices/pci0000:00/0000:00:1b.0/sound/card0/controlC0",
       "sound",
       "snd/controlC0",
       116,
       2,
       {},
       "audio",
       0660},
      {"/devices/virtual/sound/timer", "sound", "snd/timer", 116, 33, {}, "audio", 0660},
      {"/devices/platform/parport_pc/parport0", "parport", "parport0", 99, 0, {}, "lp", 0660},
      {"/devices/platform/parport_pc/printer/lp0", "printer", "lp0", 6, 0, {}, "lp", 0660},
      {"/devices/platform/parport_pc/ppdev/parport0x", "ppdev", "parport0x", 99, 1, {}, "lp", 0660},
      {"/devices/pci0000:00/usb1/1-1",
       "usb",
       "bus/usb/001/002",
       189,
       1,
       {{"DEVTYPE", "usb_device"}},
       "",
       0664},
      {"/devices/virtual/misc/hidraw0", "hidraw", "hidraw0", 240, 0, {}, "", 0600},
  };
  for (const Node& node : nodes)
    sysfs_.AddCharDevice(node.devpath, node.subsystem, node.devname, node.major, node.minor,
                         node.extra);
  struct Disk {
    std::string devpath, devname;
    unsigned major, minor;
    std::string devtype;
    std::string group;
    mode_t mode;
  } disks[] = {
      {"/devices/virtual/block/loop0", "loop0", 7, 0, "disk", "disk", 0660},
      {"/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda", "sda", 8, 0,
       "disk", "disk", 0660},
      {"/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1", "sda1", 8,
       1, "partition", "disk", 0660},
      {"/devices/pci0000:00/0000:00:1f.2/ata2/host1/target1:0:0/1:0:0:0/block/sr0", "sr0", 11, 0,
       "disk", "cdrom", 0660},
      {"/devices/virtual/block/md0", "md0", 9, 0, "disk", "disk", 0660},
      // Debian 12's rules have no floppy line (upstream dropped it): fd0 is root:disk 0660.
      {"/devices/platform/floppy.0/block/fd0", "fd0", 2, 0, "disk", "disk", 0660},
  };
  for (const Disk& disk : disks)
    sysfs_.AddBlockDevice(disk.devpath, disk.devname, disk.major, disk.minor, disk.devtype);

  for (const Node& node : nodes) {
    Outcome result = ApplyTo(node.devpath);
    EXPECT_EQ(result.group, node.group) << node.devpath;
    EXPECT_EQ(result.mode, node.mode) << node.devpath << " got " << std::oct << result.mode;
  }
  for (const Disk& disk : disks) {
    Outcome result = ApplyTo(disk.devpath);
    EXPECT_EQ(result.group, disk.group) << disk.devpath;
    EXPECT_EQ(result.mode, disk.mode) << disk.devpath << " got " << std::oct << result.mode;
  }
  // A change event recomputes the same owner and mode.
  EXPECT_EQ(ApplyTo("/devices/virtual/misc/kvm", "change").group, "kvm");
}

TEST_F(DefaultRulesDeviceTest, ScsiGenericAndTapeByPeripheralType) {
  const std::string host = "/devices/pci0000:00/0000:00:10.0/host2/target2:0:";
  struct Case {
    std::string type;
    std::string subsystem, name;
    unsigned major, minor;
    std::string group;
  } cases[] = {
      {"5", "scsi_generic", "sg0", 21, 0, "cdrom"}, {"4", "scsi_generic", "sg1", 21, 1, "cdrom"},
      {"0", "scsi_generic", "sg2", 21, 2, "disk"},  {"1", "scsi_generic", "sg3", 21, 3, "tape"},
      {"8", "scsi_generic", "sg4", 21, 4, "tape"},  {"1", "scsi_tape", "st0", 9, 0, "tape"},
      {"3", "scsi_generic", "sg5", 21, 5, ""},  // a processor device: no rule
  };
  int target = 0;
  for (const Case& c : cases) {
    std::string scsi = host + std::to_string(target) + "/2:0:" + std::to_string(target) + ":0";
    ++target;
    sysfs_.Add({scsi, "scsi", true, "", {{"DEVTYPE", "scsi_device"}}, {{"type", c.type}}});
    std::string node = scsi + "/" + c.subsystem + "/" + c.name;
    sysfs_.AddCharDevice(node, c.subsystem, c.name, c.major, c.minor);
    Outcome result = ApplyTo(node);
    EXPECT_EQ(result.group, c.group) << c.name << " type " << c.type;
    EXPECT_EQ(result.mode, c.group.empty() ? 0600u : 0660u) << c.name;
  }
}

TEST_F(DefaultRulesDeviceTest, Links) {
  sysfs_.AddCharDevice("/devices/platform/rtc_cmos/rtc/rtc0", "rtc", "rtc0", 252, 0);
  Outcome rtc0 = ApplyTo("/devices/platform/rtc_cmos/rtc/rtc0");
  EXPECT_EQ(rtc0.links, std::vector<std::string>{"rtc"});
  EXPECT_EQ(rtc0.link_priority, -100);

  sysfs_.AddCharDevice("/devices/platform/rtc_x/rtc/rtc1", "rtc", "rtc1", 252, 1);
  sysfs_.SetAttribute("/devices/platform/rtc_x/rtc/rtc1", "hctosys", "1");
  Outcome rtc1 = ApplyTo("/devices/platform/rtc_x/rtc/rtc1");
  EXPECT_EQ(rtc1.links, std::vector<std::string>{"rtc"});
  EXPECT_EQ(rtc1.link_priority, 0);

  std::string port = "/devices/pci0000:00/0000:00:06.0/virtio2/virtio-ports/vport2p1";
  sysfs_.AddCharDevice(port, "virtio-ports", "vport2p1", 248, 1);
  sysfs_.SetAttribute(port, "name", "org.qemu.guest_agent.0");
  EXPECT_EQ(ApplyTo(port).links, std::vector<std::string>{"virtio-ports/org.qemu.guest_agent.0"});
  sysfs_.SetAttribute(port, "name", "../../../etc/evil");
  EXPECT_TRUE(ApplyTo(port).links.empty());

  std::string ptp = "/devices/virtual/ptp/ptp0";
  sysfs_.AddCharDevice(ptp, "ptp", "ptp0", 246, 0);
  sysfs_.SetAttribute(ptp, "clock_name", "KVM virtual PTP");
  EXPECT_EQ(ApplyTo(ptp).links, std::vector<std::string>{"ptp_kvm"});
}

TEST_F(DefaultRulesDeviceTest, RemoveCommandRuns) {
  std::string devpath = "/devices/virtual/block/loop1";
  sysfs_.AddBlockDevice(devpath, "loop1", 7, 1, "disk", {{"REMOVE_CMD", "/sbin/cleanup loop1"}});
  auto device = Device::Open(fd_.get(), devpath);
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  properties.Set("ACTION", "remove");
  EventState state(std::move(*device), std::move(properties));
  rules_.Apply(state, runner_);
  EXPECT_EQ(state.run_programs, std::vector<std::string>{"/sbin/cleanup loop1"});
}

}  // namespace
}  // namespace vdev
