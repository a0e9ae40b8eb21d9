// The net_id builtin over fake sysfs trees, one naming form each, and the shipped
// rules/75-vdev-net-description.rules and rules/20-vdev-hwdb.rules through RuleSet.
//
// Expected names follow systemd.net-naming-scheme(7) of systemd 252 and its examples
// (enp0s3 for QEMU's first NIC, enp2s0f1 for a second function, ens1 for hotplug slot 1,
// eno1 for firmware index 1, enp0s20u1u2 / enp0s29u1u2 for USB, enx78e7d1ea46da, ...), and
// what Debian 12's `udevadm test-builtin net_id` prints on this machine's real virtio NIC:
// ID_NET_NAMING_SCHEME=v252, ID_NET_NAME_MAC=enx02fc00000001, ID_NET_NAME_PATH=enp0s3 (its
// layout is the VirtioNic case).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "builtin_net_id.h"
#include "common/fs_util.h"
#include "event_state.h"
#include "fixtures/fake_sysfs.h"
#include "fixtures/temp_dir.h"
#include "net_naming_scheme.h"
#include "rule_set.h"

namespace vdev {
namespace {

namespace fs = std::filesystem;
using Names = std::map<std::string, std::string>;
using testing::FakeDevice;

class NetIdTest : public ::testing::Test {
 protected:
  NetIdTest() : sysfs_(dir_.path()) {
    fd_ = UniqueFd(open(dir_.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }

  // A PCI function; config_header: byte 0x0e of its configuration space (0x80: multi-function).
  void AddPci(const std::string& devpath, uint8_t header_type = 0,
              std::vector<std::pair<std::string, std::string>> attributes = {}) {
    FakeDevice device{devpath,
                      "pci",
                      true,
                      "",
                      {{"PCI_SLOT_NAME", fs::path(devpath).filename().string()}},
                      std::move(attributes)};
    device.attributes.emplace_back("vendor", "0x8086");
    device.attributes.emplace_back("device", "0x100e");
    sysfs_.Add(device);
    std::string config(64, '\0');
    config[0x0e] = static_cast<char>(header_type);
    std::ofstream(dir_.path() + devpath + "/config", std::ios::binary) << config;
  }

  void AddBus(const std::string& devpath, const std::string& subsystem,
              std::vector<std::pair<std::string, std::string>> uevent = {}) {
    sysfs_.Add(FakeDevice{devpath, subsystem, true, "", std::move(uevent), {}});
  }

  // An interface: ifindex == iflink, Ethernet, a permanent MAC unless attributes say else.
  void AddNet(const std::string& devpath, int ifindex = 2,
              std::vector<std::pair<std::string, std::string>> attributes = {},
              std::vector<std::pair<std::string, std::string>> uevent = {}) {
    std::map<std::string, std::string> values = {{"iflink", std::to_string(ifindex)},
                                                 {"type", "1"},
                                                 {"addr_assign_type", "0"},
                                                 {"address", "52:54:00:12:34:56"},
                                                 {"dev_port", "0"}};
    for (auto& [name, value] : attributes) values[name] = value;
    FakeDevice device{devpath, "net", false, "", {}, {}};
    device.uevent = {{"INTERFACE", fs::path(devpath).filename().string()},
                     {"IFINDEX", std::to_string(ifindex)}};
    for (auto& property : uevent) device.uevent.push_back(property);
    for (auto& [name, value] : values)
      if (value != "-") device.attributes.emplace_back(name, value);
    sysfs_.Add(device);
  }

  void Link(const std::string& link, const std::string& target) {
    fs::create_directories(fs::path(dir_.path() + link).parent_path());
    fs::create_symlink(target, dir_.path() + link);
  }

  void Write(const std::string& path, const std::string& content) {
    fs::create_directories(fs::path(dir_.path() + path).parent_path());
    std::ofstream(dir_.path() + path, std::ios::binary) << content;
  }

  Names NetId(const std::string& devpath, const NamingScheme& scheme = DefaultNamingScheme(),
              bool with_root = true) {
    auto device = Device::Open(fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    if (!device) return {};
    auto names = NetIdProperties(*device, with_root ? fd_.get() : -1, scheme);
    EXPECT_TRUE(names) << names.error().Message();
    if (!names) return {};
    Names result;
    for (const auto& [key, value] : names->properties) {
      EXPECT_FALSE(result.contains(key)) << key;
      result[key] = value;
    }
    oui_ = names->oui_key.value_or("");
    return result;
  }

  testing::TempDir dir_;
  testing::FakeSysfs sysfs_;
  UniqueFd fd_;
  std::string oui_;
};

constexpr char kQemuE1000[] = "/devices/pci0000:00/0000:00:03.0/net/ens3";

TEST_F(NetIdTest, PciSingleFunction) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000);
  EXPECT_EQ(NetId(kQemuE1000), (Names{{"ID_NET_NAMING_SCHEME", "v252"},
                                      {"ID_NET_NAME_MAC", "enx525400123456"},
                                      {"ID_NET_NAME_PATH", "enp0s3"}}));
  EXPECT_EQ(oui_, "OUI:525400123456");
}

TEST_F(NetIdTest, PropertiesInUdevsOrder) {
  AddPci("/devices/pci0000:00/0000:00:03.0", 0, {{"acpi_index", "1"}, {"label", "LOM1"}});
  AddNet(kQemuE1000);
  Write("/bus/pci/slots/4/address", "0000:00:03");
  auto device = Device::Open(fd_.get(), kQemuE1000);
  ASSERT_TRUE(device);
  auto names = NetIdProperties(*device, fd_.get(), DefaultNamingScheme());
  ASSERT_TRUE(names);
  std::vector<std::string> keys;
  for (const auto& property : names->properties) keys.push_back(property.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"ID_NET_NAMING_SCHEME", "ID_NET_NAME_MAC",
                                            "ID_NET_NAME_ONBOARD", "ID_NET_LABEL_ONBOARD",
                                            "ID_NET_NAME_PATH", "ID_NET_NAME_SLOT"}));
}

TEST_F(NetIdTest, VirtioNic) {
  // The virtio bus between the PCI function and the interface is looked through.
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddBus("/devices/pci0000:00/0000:00:03.0/virtio2", "virtio",
         {{"MODALIAS", "virtio:d00000001v00001AF4"}});
  AddNet("/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0", 4,
         {{"address", "02:fc:00:00:00:01"}});
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:03.0/virtio2/net/eth0"),
            (Names{{"ID_NET_NAMING_SCHEME", "v252"},
                   {"ID_NET_NAME_MAC", "enx02fc00000001"},
                   {"ID_NET_NAME_PATH", "enp0s3"}}));
}

TEST_F(NetIdTest, MultiFunctionDomainAndPorts) {
  AddPci("/devices/pci0000:00/0000:00:1c.0", 0x81);
  AddPci("/devices/pci0000:00/0000:00:1c.0/0000:02:00.0", 0x80);
  AddPci("/devices/pci0000:00/0000:00:1c.0/0000:02:00.1", 0x80);
  AddNet("/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/eth0", 2);
  AddNet("/devices/pci0000:00/0000:00:1c.0/0000:02:00.1/net/eth1", 3, {{"dev_port", "1"}});
  AddPci("/devices/pci0001:00/0001:00:02.0");
  AddNet("/devices/pci0001:00/0001:00:02.0/net/eth2", 4, {{"phys_port_name", "p1"}});
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/eth0")["ID_NET_NAME_PATH"],
            "enp2s0f0");  // function 0 of a multi-function device still says f0
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:1c.0/0000:02:00.1/net/eth1")["ID_NET_NAME_PATH"],
            "enp2s0f1d1");
  EXPECT_EQ(NetId("/devices/pci0001:00/0001:00:02.0/net/eth2")["ID_NET_NAME_PATH"], "enP1p0s2np1");
}

TEST_F(NetIdTest, AriFunctionNumber) {
  AddPci("/devices/pci0000:00/0000:05:01.2", 0x80, {{"ari_enabled", "1"}});
  AddNet("/devices/pci0000:00/0000:05:01.2/net/eth0");
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:05:01.2/net/eth0")["ID_NET_NAME_PATH"], "enp5s1f10");
  auto v238 = FindNamingScheme("v238");
  ASSERT_NE(v238, nullptr);
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:05:01.2/net/eth0", *v238)["ID_NET_NAME_PATH"],
            "enp5s1f2");
}

TEST_F(NetIdTest, OnboardIndexAndLabel) {
  AddPci("/devices/pci0000:00/0000:00:19.0", 0, {{"acpi_index", "1"}, {"label", "Onboard LAN"}});
  AddNet("/devices/pci0000:00/0000:00:19.0/net/eth0");
  Names names = NetId("/devices/pci0000:00/0000:00:19.0/net/eth0");
  EXPECT_EQ(names["ID_NET_NAME_ONBOARD"], "eno1");
  EXPECT_EQ(names["ID_NET_LABEL_ONBOARD"], "Onboard LAN");  // no prefix since v243
  EXPECT_EQ(names["ID_NET_NAME_PATH"], "enp0s25");
  auto v241 = FindNamingScheme("v241");
  ASSERT_NE(v241, nullptr);
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:19.0/net/eth0", *v241)["ID_NET_LABEL_ONBOARD"],
            "enOnboard LAN");
}

TEST_F(NetIdTest, SmbiosIndexAndLimits) {
  AddPci("/devices/pci0000:00/0000:00:19.0", 0, {{"index", "2"}});
  AddNet("/devices/pci0000:00/0000:00:19.0/net/eth0", 2, {{"dev_port", "1"}});
  AddPci("/devices/pci0000:00/0000:00:1a.0", 0, {{"acpi_index", "16777215"}, {"label", "x"}});
  AddNet("/devices/pci0000:00/0000:00:1a.0/net/eth1", 3);
  AddPci("/devices/pci0000:00/0000:00:1b.0", 0, {{"acpi_index", "0"}});
  AddNet("/devices/pci0000:00/0000:00:1b.0/net/eth2", 4);
  AddPci("/devices/pci0000:00/0000:00:1d.0", 0, {{"acpi_index", "20000"}});
  AddNet("/devices/pci0000:00/0000:00:1d.0/net/eth3", 5);

  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:19.0/net/eth0")["ID_NET_NAME_ONBOARD"], "eno2d1");
  // VMware's 2^24-1: no onboard name, and no label either.
  Names rubbish = NetId("/devices/pci0000:00/0000:00:1a.0/net/eth1");
  EXPECT_FALSE(rubbish.contains("ID_NET_NAME_ONBOARD"));
  EXPECT_FALSE(rubbish.contains("ID_NET_LABEL_ONBOARD"));
  EXPECT_EQ(rubbish["ID_NET_NAME_PATH"], "enp0s26");
  // Index 0 is valid since v240; 20000 needs the 16-bit limit of v249.
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:1b.0/net/eth2")["ID_NET_NAME_ONBOARD"], "eno0");
  EXPECT_FALSE(NetId("/devices/pci0000:00/0000:00:1b.0/net/eth2", *FindNamingScheme("v239"))
                   .contains("ID_NET_NAME_ONBOARD"));
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:1d.0/net/eth3")["ID_NET_NAME_ONBOARD"], "eno20000");
  EXPECT_FALSE(NetId("/devices/pci0000:00/0000:00:1d.0/net/eth3", *FindNamingScheme("v247"))
                   .contains("ID_NET_NAME_ONBOARD"));
}

TEST_F(NetIdTest, HotplugSlot) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000);
  Write("/bus/pci/slots/2-1/address", "0000:00:03");  // not a number: not a slot
  Write("/bus/pci/slots/3/address", "0000:00:03");
  Names names = NetId(kQemuE1000);
  EXPECT_EQ(names["ID_NET_NAME_SLOT"], "ens3");
  EXPECT_EQ(names["ID_NET_NAME_PATH"], "enp0s3");
  // Without the sysfs root (a Device that does not offer it), no slot is looked for.
  EXPECT_FALSE(NetId(kQemuE1000, DefaultNamingScheme(), false).contains("ID_NET_NAME_SLOT"));
}

TEST_F(NetIdTest, HotplugSlotOfParentBridge) {
  // A PCIe root port (a bridge) owns the slot; its address names the bridge itself.
  const std::string bridge = "/devices/pci0000:00/0000:00:1c.0";
  AddPci(bridge, 0x81, {{"modalias", "pci:v00008086d00009D10sv00000000sd00000000bc06sc04i00"}});
  AddPci(bridge + "/0000:02:00.0");
  AddNet(bridge + "/0000:02:00.0/net/eth0", 2);
  AddPci(bridge + "/0000:02:01.0", 0x80);
  AddNet(bridge + "/0000:02:01.0/net/eth1", 3);
  Write("/bus/pci/slots/7/address", "0000:00:1c");
  // Single function behind a bridge: the slot is the bridge's, no slot name (v247).
  EXPECT_FALSE(NetId(bridge + "/0000:02:00.0/net/eth0").contains("ID_NET_NAME_SLOT"));
  // A multi-function device may use it (v251).
  EXPECT_EQ(NetId(bridge + "/0000:02:01.0/net/eth1")["ID_NET_NAME_SLOT"], "ens7f0");
  EXPECT_FALSE(NetId(bridge + "/0000:02:01.0/net/eth1", *FindNamingScheme("v250"))
                   .contains("ID_NET_NAME_SLOT"));
  // Before v247 bridges were not special.
  EXPECT_EQ(NetId(bridge + "/0000:02:00.0/net/eth0", *FindNamingScheme("v245"))["ID_NET_NAME_SLOT"],
            "ens7");
}

TEST_F(NetIdTest, HotplugSlotOfTheDevice) {
  // The usual PCIe layout: the slot's address is the device behind the root port.
  AddPci("/devices/pci0000:00/0000:00:1c.0", 0x81);
  AddPci("/devices/pci0000:00/0000:00:1c.0/0000:03:00.0");
  AddNet("/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/eth0");
  Write("/bus/pci/slots/5/address", "0000:03:00");
  Names names = NetId("/devices/pci0000:00/0000:00:1c.0/0000:03:00.0/net/eth0");
  EXPECT_EQ(names["ID_NET_NAME_SLOT"], "ens5");
  EXPECT_EQ(names["ID_NET_NAME_PATH"], "enp3s0");
}

TEST_F(NetIdTest, SrIovVirtualFunction) {
  const std::string pf = "/devices/pci0000:00/0000:00:02.0/0000:03:00.0";
  const std::string vf = "/devices/pci0000:00/0000:00:02.0/0000:03:10.2";
  AddPci("/devices/pci0000:00/0000:00:02.0", 0x01);
  AddPci(pf, 0, {{"acpi_index", "3"}, {"label", "PF"}});
  AddPci(vf);
  Link(pf + "/virtfn0", "../0000:03:10.0");
  Link(pf + "/virtfn5", "../0000:03:10.2");
  Link(vf + "/physfn", "../0000:03:00.0");
  AddNet(vf + "/net/eth1", 7);
  Names names = NetId(vf + "/net/eth1");
  EXPECT_EQ(names["ID_NET_NAME_PATH"], "enp3s0v5");
  EXPECT_EQ(names["ID_NET_NAME_ONBOARD"], "eno3v5");
  EXPECT_FALSE(names.contains("ID_NET_LABEL_ONBOARD"));
  EXPECT_EQ(NetId(vf + "/net/eth1", *FindNamingScheme("v238"))["ID_NET_NAME_PATH"], "enp3s16f2");
}

TEST_F(NetIdTest, UsbNic) {
  const std::string xhci = "/devices/pci0000:00/0000:00:14.0";
  AddPci(xhci);
  AddBus(xhci + "/usb1", "usb", {{"DEVTYPE", "usb_device"}});
  AddBus(xhci + "/usb1/1-2", "usb", {{"DEVTYPE", "usb_device"}});
  AddBus(xhci + "/usb1/1-2/1-2:1.0", "usb", {{"DEVTYPE", "usb_interface"}});
  AddNet(xhci + "/usb1/1-2/1-2:1.0/net/usb0", 5, {{"address", "78:e7:d1:ea:46:da"}});
  AddBus(xhci + "/usb1/1-2/1-2.3", "usb", {{"DEVTYPE", "usb_device"}});
  AddBus(xhci + "/usb1/1-2/1-2.3/1-2.3:2.1", "usb", {{"DEVTYPE", "usb_interface"}});
  AddNet(xhci + "/usb1/1-2/1-2.3/1-2.3:2.1/net/wwan0", 6, {}, {{"DEVTYPE", "wwan"}});
  Write("/bus/pci/slots/9/address", "0000:00:14");
  EXPECT_EQ(NetId(xhci + "/usb1/1-2/1-2:1.0/net/usb0"),
            (Names{{"ID_NET_NAMING_SCHEME", "v252"},
                   {"ID_NET_NAME_MAC", "enx78e7d1ea46da"},
                   {"ID_NET_NAME_PATH", "enp0s20u2"},
                   {"ID_NET_NAME_SLOT", "ens9u2"}}));
  Names wwan = NetId(xhci + "/usb1/1-2/1-2.3/1-2.3:2.1/net/wwan0");
  EXPECT_EQ(wwan["ID_NET_NAME_PATH"], "wwp0s20u2u3c2i1");
  EXPECT_EQ(wwan["ID_NET_NAME_MAC"], "wwx525400123456");
}

TEST_F(NetIdTest, UsbWithoutPciHasNoPathName) {
  // A USB controller on the platform bus: udev 252 composes only PCI-based paths.
  AddBus("/devices/platform/xhci-hcd.0", "platform");
  AddBus("/devices/platform/xhci-hcd.0/usb1", "usb", {{"DEVTYPE", "usb_device"}});
  AddBus("/devices/platform/xhci-hcd.0/usb1/1-1", "usb", {{"DEVTYPE", "usb_device"}});
  AddBus("/devices/platform/xhci-hcd.0/usb1/1-1/1-1:1.0", "usb", {{"DEVTYPE", "usb_interface"}});
  AddNet("/devices/platform/xhci-hcd.0/usb1/1-1/1-1:1.0/net/eth0");
  EXPECT_EQ(NetId("/devices/platform/xhci-hcd.0/usb1/1-1/1-1:1.0/net/eth0"),
            (Names{{"ID_NET_NAMING_SCHEME", "v252"}, {"ID_NET_NAME_MAC", "enx525400123456"}}));
}

TEST_F(NetIdTest, Bcma) {
  AddPci("/devices/pci0000:00/0000:00:01.0");
  AddBus("/devices/pci0000:00/0000:00:01.0/bcma0:1", "bcma");
  AddBus("/devices/pci0000:00/0000:00:01.0/bcma0:0", "bcma");
  AddNet("/devices/pci0000:00/0000:00:01.0/bcma0:1/net/eth0", 2, {}, {{"DEVTYPE", "wlan"}});
  AddNet("/devices/pci0000:00/0000:00:01.0/bcma0:0/net/eth1", 3);
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:01.0/bcma0:1/net/eth0")["ID_NET_NAME_PATH"],
            "wlp0s1b1");
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:01.0/bcma0:0/net/eth1")["ID_NET_NAME_PATH"],
            "enp0s1");
}

TEST_F(NetIdTest, PlatformAcpi) {
  AddBus("/devices/platform/HISI00C2:00", "platform");
  AddNet("/devices/platform/HISI00C2:00/net/eth0");
  AddBus("/devices/platform/PNP0C01:01", "platform");
  AddNet("/devices/platform/PNP0C01:01/net/eth1", 3);
  AddBus("/devices/platform/hisi00C2:00", "platform");
  AddNet("/devices/platform/hisi00C2:00/net/eth2", 4);
  EXPECT_EQ(NetId("/devices/platform/HISI00C2:00/net/eth0")["ID_NET_NAME_PATH"], "enahisic2i0");
  EXPECT_EQ(NetId("/devices/platform/PNP0C01:01/net/eth1")["ID_NET_NAME_PATH"], "enapnpc01i1");
  EXPECT_FALSE(NetId("/devices/platform/hisi00C2:00/net/eth2").contains("ID_NET_NAME_PATH"));
}

TEST_F(NetIdTest, VioXenNetdevsimCcw) {
  AddBus("/devices/vio/30000002", "vio");
  AddNet("/devices/vio/30000002/net/eth1", 2);
  AddBus("/devices/vif-0", "xen");
  AddNet("/devices/vif-0/net/eth0", 3);
  AddBus("/devices/vif-01", "xen");
  AddNet("/devices/vif-01/net/eth5", 9);
  AddBus("/devices/netdevsim3", "netdevsim");
  AddNet("/devices/netdevsim3/net/eth2", 4, {{"phys_port_name", "p0"}});
  AddBus("/devices/qeth/0.0.0600", "ccwgroup");
  AddNet("/devices/qeth/0.0.0600/net/eth3", 5);
  AddBus("/devices/qeth/0.0.0000", "ccwgroup");
  AddNet("/devices/qeth/0.0.0000/net/eth4", 6);
  EXPECT_EQ(NetId("/devices/vio/30000002/net/eth1")["ID_NET_NAME_SLOT"], "env2");
  EXPECT_EQ(NetId("/devices/vif-0/net/eth0")["ID_NET_NAME_SLOT"], "enX0");
  EXPECT_FALSE(NetId("/devices/vif-01/net/eth5").contains("ID_NET_NAME_SLOT"));
  EXPECT_FALSE(
      NetId("/devices/vif-0/net/eth0", *FindNamingScheme("v249")).contains("ID_NET_NAME_SLOT"));
  EXPECT_EQ(NetId("/devices/netdevsim3/net/eth2")["ID_NET_NAME_PATH"], "eni3np0");
  EXPECT_EQ(NetId("/devices/qeth/0.0.0600/net/eth3")["ID_NET_NAME_PATH"], "enc600");
  EXPECT_EQ(NetId("/devices/qeth/0.0.0000/net/eth4")["ID_NET_NAME_PATH"], "enc0");
}

TEST_F(NetIdTest, DevicetreeAlias) {
  const std::string mac = "/devices/platform/soc/30be0000.ethernet";
  AddBus(mac, "platform");
  AddNet(mac + "/net/eth0");
  Write("/firmware/devicetree/base/soc/ethernet@30be0000/name", std::string("ethernet\0", 9));
  Link(mac + "/of_node", "../../../../firmware/devicetree/base/soc/ethernet@30be0000");
  Write("/firmware/devicetree/base/aliases/name", std::string("aliases\0", 8));
  Write("/firmware/devicetree/base/aliases/serial0", std::string("/soc/serial@30860000\0", 21));
  Write("/firmware/devicetree/base/aliases/ethernet1", std::string("/soc/ethernet@30bf0000\0", 23));
  Write("/firmware/devicetree/base/aliases/ethernet0", std::string("/soc/ethernet@30be0000\0", 23));
  EXPECT_EQ(NetId(mac + "/net/eth0"), (Names{{"ID_NET_NAMING_SCHEME", "v252"},
                                             {"ID_NET_NAME_MAC", "enx525400123456"},
                                             {"ID_NET_NAME_ONBOARD", "end0"}}));
  EXPECT_FALSE(NetId(mac + "/net/eth0", *FindNamingScheme("v251")).contains("ID_NET_NAME_ONBOARD"));
  // "ethernet" and "ethernet0" both: ambiguous, no name.
  Write("/firmware/devicetree/base/aliases/ethernet", std::string("/soc/ethernet@30bf0000\0", 23));
  EXPECT_FALSE(NetId(mac + "/net/eth0").contains("ID_NET_NAME_ONBOARD"));
}

TEST_F(NetIdTest, InfinibandSlipAndSkipped) {
  AddPci("/devices/pci0000:00/0000:00:05.0");
  AddNet(
      "/devices/pci0000:00/0000:00:05.0/net/ib0", 2,
      {{"type", "32"}, {"address", "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0f:4a:b1"}});
  AddNet("/devices/virtual/net/sl0", 3, {{"type", "256"}, {"address", "-"}});
  AddNet("/devices/virtual/net/lo", 1, {{"type", "772"}, {"address", "00:00:00:00:00:00"}});
  AddNet("/devices/virtual/net/ifb0", 4, {{"addr_assign_type", "1"}});
  AddNet("/devices/pci0000:00/0000:00:05.0/net/ib0.8001", 5, {{"iflink", "2"}, {"type", "32"}});

  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:05.0/net/ib0"),
            (Names{{"ID_NET_NAMING_SCHEME", "v252"}, {"ID_NET_NAME_PATH", "ibp0s5"}}));
  EXPECT_EQ(oui_, "");
  EXPECT_EQ(NetId("/devices/virtual/net/sl0"), (Names{{"ID_NET_NAMING_SCHEME", "v252"}}));
  EXPECT_EQ(NetId("/devices/virtual/net/lo"), Names{});
  EXPECT_EQ(NetId("/devices/virtual/net/ifb0"), (Names{{"ID_NET_NAMING_SCHEME", "v252"}}));
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:05.0/net/ib0.8001"), Names{});
  EXPECT_EQ(NetId("/devices/pci0000:00/0000:00:05.0/net/ib0", *FindNamingScheme("v239")), Names{});
}

TEST_F(NetIdTest, XeroxOuiIsNotLookedUp) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000, 2, {{"address", "00:00:00:12:34:56"}});
  EXPECT_EQ(NetId(kQemuE1000)["ID_NET_NAME_MAC"], "enx000000123456");
  EXPECT_EQ(oui_, "");
}

TEST_F(NetIdTest, MissingAttributesFail) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000, 2, {{"type", "-"}});
  auto device = Device::Open(fd_.get(), kQemuE1000);
  ASSERT_TRUE(device);
  EXPECT_FALSE(NetIdProperties(*device, fd_.get(), DefaultNamingScheme()));
}

TEST_F(NetIdTest, NamingSchemes) {
  EXPECT_EQ(DefaultNamingScheme().name, "v252");
  ASSERT_NE(FindNamingScheme("latest"), nullptr);
  EXPECT_EQ(FindNamingScheme("latest")->name, "v252");
  EXPECT_EQ(FindNamingScheme("v242"), nullptr);  // no such scheme
  EXPECT_EQ(FindNamingScheme("v253"), nullptr);
  EXPECT_TRUE(FindNamingScheme("v250")->Has(kNamingXenVif));
  EXPECT_FALSE(FindNamingScheme("v249")->Has(kNamingXenVif));
}

TEST_F(NetIdTest, BuiltinSetsProperties) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000);
  auto device = Device::Open(fd_.get(), kQemuE1000);
  ASSERT_TRUE(device);
  Uevent properties = device->properties();
  EventState state(std::move(*device), std::move(properties));
  BuiltinCall call{state, {}};
  const Builtin* builtin = FindBuiltin("net_id");
  ASSERT_NE(builtin, nullptr);
  ASSERT_TRUE(builtin->run(call));
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAME_PATH"), "enp0s3");
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAME_MAC"), "enx525400123456");
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAMING_SCHEME"), "v252");
}

// The shipped rules over the same trees.
class NetRulesTest : public NetIdTest {
 protected:
  class NullRunner : public ProgramRunner {
   public:
    Result<std::string> Run(const std::string&, const Uevent&) override { return std::string(); }
  };

  void SetUp() override {
    AccountResolver accounts;
    accounts.user = [](const std::string&) -> std::optional<uid_t> { return 0; };
    accounts.group = [](const std::string&) -> std::optional<gid_t> { return 0; };
    RuleLoadResult loaded = RuleSet::Load({VDEV_SOURCE_DIR "/rules"}, accounts);
    for (const auto& error : loaded.errors) {
      ASSERT_EQ(error.find("75-vdev-net-description.rules"), std::string::npos) << error;
      ASSERT_EQ(error.find("20-vdev-hwdb.rules"), std::string::npos) << error;
    }
    rules_ = std::move(loaded.rules);
  }

  EventState Apply(const std::string& devpath, const std::string& action = "add") {
    auto device = Device::Open(fd_.get(), devpath);
    EXPECT_TRUE(device) << devpath;
    Uevent properties = device->properties();
    properties.Set("ACTION", action);
    properties.Set("DEVPATH", devpath);
    properties.Set("SUBSYSTEM", device->subsystem());
    EventState state(std::move(*device), std::move(properties));
    rules_.Apply(state, runner_);
    EXPECT_FALSE(state.properties.Has("VDEV_NET_USB")) << "the marker leaked";
    return state;
  }

  RuleSet rules_;
  NullRunner runner_;
};

TEST_F(NetRulesTest, PciNic) {
  AddPci("/devices/pci0000:00/0000:00:03.0");
  AddNet(kQemuE1000);
  EventState state = Apply(kQemuE1000);
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAME_PATH"), "enp0s3");
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAME_MAC"), "enx525400123456");
  EXPECT_EQ(state.properties.GetOr("ID_BUS"), "pci");
  EXPECT_EQ(state.properties.GetOr("ID_VENDOR_ID"), "0x8086");
  EXPECT_EQ(state.properties.GetOr("ID_MODEL_ID"), "0x100e");
  EXPECT_EQ(state.properties.GetOr("ID_PATH"), "pci-0000:00:03.0");
  // Nothing on remove (the database keeps what add found).
  EventState removed = Apply(kQemuE1000, "remove");
  EXPECT_FALSE(removed.properties.Has("ID_NET_NAME_PATH"));
}

TEST_F(NetRulesTest, VirtualInterfaceGetsNoBusIdentity) {
  AddNet("/devices/virtual/net/ifb0", 4, {{"addr_assign_type", "1"}});
  EventState state = Apply("/devices/virtual/net/ifb0");
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAMING_SCHEME"), "v252");
  EXPECT_FALSE(state.properties.Has("ID_BUS"));
  EXPECT_FALSE(state.properties.Has("ID_NET_NAME_MAC"));
}

TEST_F(NetRulesTest, UsbNicSkipsThePciIdentity) {
  const std::string xhci = "/devices/pci0000:00/0000:00:14.0";
  AddPci(xhci);
  AddBus(xhci + "/usb1", "usb", {{"DEVTYPE", "usb_device"}});
  sysfs_.Add(FakeDevice{xhci + "/usb1/1-2",
                        "usb",
                        true,
                        "",
                        {{"DEVTYPE", "usb_device"}, {"PRODUCT", "bda/8153/3000"}},
                        {{"idVendor", "0bda"},
                         {"idProduct", "8153"},
                         {"manufacturer", "Realtek"},
                         {"product", "USB 10/100/1000 LAN"},
                         {"serial", "000001"},
                         {"bcdDevice", "3000"}}});
  sysfs_.Add(FakeDevice{xhci + "/usb1/1-2/1-2:1.0",
                        "usb",
                        true,
                        "r8152",
                        {{"DEVTYPE", "usb_interface"}},
                        {{"bInterfaceClass", "ff"},
                         {"bInterfaceSubClass", "ff"},
                         {"bInterfaceProtocol", "00"},
                         {"bInterfaceNumber", "00"}}});
  AddNet(xhci + "/usb1/1-2/1-2:1.0/net/eth0", 3);
  EventState state = Apply(xhci + "/usb1/1-2/1-2:1.0/net/eth0");
  EXPECT_EQ(state.properties.GetOr("ID_NET_NAME_PATH"), "enp0s20u2");
  EXPECT_EQ(state.properties.GetOr("ID_BUS"), "usb");
  EXPECT_EQ(state.properties.GetOr("ID_VENDOR_ID"), "0bda");
  EXPECT_EQ(state.properties.GetOr("ID_MODEL_ID"), "8153");
}

TEST_F(NetRulesTest, HwdbRulesRunForUsbDevices) {
  const std::string xhci = "/devices/pci0000:00/0000:00:14.0";
  AddPci(xhci);
  AddBus(xhci + "/usb1", "usb", {{"DEVTYPE", "usb_device"}});
  sysfs_.Add(FakeDevice{xhci + "/usb1/1-2",
                        "usb",
                        true,
                        "",
                        {{"DEVTYPE", "usb_device"}, {"PRODUCT", "46d/c31c/6400"}},
                        {{"idVendor", "046d"},
                         {"idProduct", "c31c"},
                         {"manufacturer", "Logitech"},
                         {"product", "USB Keyboard"},
                         {"bcdDevice", "6400"}}});
  EventState state = Apply(xhci + "/usb1/1-2");
  // usb_id ran for the usb_device (20-vdev-hwdb.rules).
  EXPECT_EQ(state.properties.GetOr("ID_VENDOR_ID"), "046d");
  EXPECT_EQ(state.properties.GetOr("ID_MODEL"), "USB_Keyboard");
}

}  // namespace
}  // namespace vdev
