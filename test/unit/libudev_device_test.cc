// libudev-compat's udev_device through the C API over a fake tree (libudev_test_tree.h); the
// expectations are what systemd 252's libudev answers for the same tree.
#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libudev.h>
#include <stdlib.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "libudev_test_tree.h"
#include "udev_device_internal.h"

namespace vdev::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class LibudevDeviceTest : public ::testing::Test {
 protected:
  LibudevTree tree_;
};

TEST_F(LibudevDeviceTest, InitializedDeviceMergesUeventAndRecord) {
  DevicePtr sda = tree_.Device(LibudevTree::kSda);
  ASSERT_TRUE(sda);
  EXPECT_EQ(udev_device_get_syspath(sda.get()), tree_.Sys(LibudevTree::kSda));
  EXPECT_STREQ(udev_device_get_devpath(sda.get()), LibudevTree::kSda);
  EXPECT_STREQ(udev_device_get_subsystem(sda.get()), "block");
  EXPECT_STREQ(udev_device_get_devtype(sda.get()), "disk");
  EXPECT_STREQ(udev_device_get_sysname(sda.get()), "sda");
  EXPECT_EQ(udev_device_get_sysnum(sda.get()), nullptr);
  EXPECT_EQ(udev_device_get_devnode(sda.get()), tree_.Dev("sda"));
  EXPECT_EQ(udev_device_get_devnum(sda.get()), makedev(8, 0));
  EXPECT_EQ(udev_device_get_is_initialized(sda.get()), 1);
  EXPECT_EQ(udev_device_get_udev(sda.get()), tree_.context());
  std::string links =
      tree_.Dev("disk/by-id/ata-X") + " " + tree_.Dev("disk/by-path/pci-0000:00:1f.2-ata-1");
  EXPECT_THAT(
      ListOf(udev_device_get_properties_list_entry(sda.get())),
      ElementsAre("CURRENT_TAGS=:systemd:", "DEVLINKS=" + links, "DEVNAME=" + tree_.Dev("sda"),
                  std::string("DEVPATH=") + LibudevTree::kSda, "DEVTYPE=disk", "ID_SERIAL=X",
                  "ID_TYPE=disk", "MAJOR=8", "MINOR=0", "SUBSYSTEM=block",
                  "TAGS=:systemd:block:", "USEC_INITIALIZED=1000"));
  EXPECT_THAT(
      ListOf(udev_device_get_devlinks_list_entry(sda.get())),
      ElementsAre(tree_.Dev("disk/by-id/ata-X"), tree_.Dev("disk/by-path/pci-0000:00:1f.2-ata-1")));
  EXPECT_THAT(ListOf(udev_device_get_tags_list_entry(sda.get())), ElementsAre("block", "systemd"));
  EXPECT_THAT(ListOf(udev_device_get_current_tags_list_entry(sda.get())), ElementsAre("systemd"));
  EXPECT_EQ(udev_device_has_tag(sda.get(), "block"), 1);
  EXPECT_EQ(udev_device_has_current_tag(sda.get(), "block"), 0);
  EXPECT_EQ(udev_device_has_current_tag(sda.get(), "systemd"), 1);
  EXPECT_EQ(udev_device_has_tag(sda.get(), "seat"), 0);
  EXPECT_STREQ(udev_device_get_property_value(sda.get(), "ID_SERIAL"), "X");
  EXPECT_GT(udev_device_get_usec_since_initialized(sda.get()), 0u);
}

TEST_F(LibudevDeviceTest, UninitializedDeviceHasKernelPropertiesOnly) {
  DevicePtr sda1 = tree_.Device(LibudevTree::kSda1);
  ASSERT_TRUE(sda1);
  EXPECT_EQ(udev_device_get_is_initialized(sda1.get()), 0);
  EXPECT_STREQ(udev_device_get_sysnum(sda1.get()), "1");
  EXPECT_THAT(
      ListOf(udev_device_get_properties_list_entry(sda1.get())),
      ElementsAre("DEVNAME=" + tree_.Dev("sda1"), std::string("DEVPATH=") + LibudevTree::kSda1,
                  "DEVTYPE=partition", "MAJOR=8", "MINOR=1", "PARTN=1", "SUBSYSTEM=block"));
  EXPECT_EQ(udev_device_get_devlinks_list_entry(sda1.get()), nullptr);
  EXPECT_EQ(udev_device_get_tags_list_entry(sda1.get()), nullptr);
  errno = 0;
  EXPECT_EQ(udev_device_get_usec_since_initialized(sda1.get()), 0u);
  EXPECT_EQ(errno, EBUSY);
}

TEST_F(LibudevDeviceTest, NetworkInterfaceRecordIsFoundByIfindex) {
  DevicePtr lo = tree_.Device("/devices/virtual/net/lo");
  ASSERT_TRUE(lo);
  EXPECT_EQ(udev_device_get_is_initialized(lo.get()), 1);
  EXPECT_STREQ(udev_device_get_property_value(lo.get(), "ID_NET_NAME"), "lo0");
  EXPECT_STREQ(udev_device_get_property_value(lo.get(), "IFINDEX"), "1");
  errno = 0;
  EXPECT_EQ(udev_device_get_devnode(lo.get()), nullptr);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(udev_device_get_devnum(lo.get()), makedev(0, 0));
}

TEST_F(LibudevDeviceTest, SysnameAndSysnumFollowSdDevice) {
  DevicePtr cciss = tree_.Device("/devices/virtual/misc/cciss!c0d0");
  ASSERT_TRUE(cciss);
  EXPECT_STREQ(udev_device_get_sysname(cciss.get()), "cciss/c0d0");
  EXPECT_STREQ(udev_device_get_sysnum(cciss.get()), "0");
  EXPECT_EQ(udev_device_get_devnode(cciss.get()), tree_.Dev("cciss/c0d0"));
  DevicePtr null = tree_.Device("/devices/virtual/mem/null");
  EXPECT_EQ(udev_device_get_sysnum(null.get()), nullptr);
}

TEST_F(LibudevDeviceTest, SysattrsAreReadListedAndWritten) {
  DevicePtr sda = tree_.Device(LibudevTree::kSda);
  ASSERT_TRUE(sda);
  EXPECT_STREQ(udev_device_get_sysattr_value(sda.get(), "size"), "2048");
  EXPECT_STREQ(udev_device_get_sysattr_value(sda.get(), "queue/rotational"), "1");
  EXPECT_STREQ(udev_device_get_sysattr_value(sda.get(), "subsystem"), "block");
  // The sda1 subdirectory is a device of its own, so no attribute.
  EXPECT_THAT(ListOf(udev_device_get_sysattr_list_entry(sda.get())),
              ElementsAre("dev", "queue/rotational", "size", "subsystem", "uevent"));
  errno = 0;
  EXPECT_EQ(udev_device_get_sysattr_value(sda.get(), "missing"), nullptr);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(udev_device_get_sysattr_value(sda.get(), "queue"), nullptr);
  EXPECT_EQ(errno, EISDIR);
  errno = 0;
  EXPECT_EQ(udev_device_get_sysattr_value(sda.get(), "../sda/size"), nullptr);
  EXPECT_EQ(errno, EINVAL);

  DevicePtr pci = tree_.Device(LibudevTree::kPci);
  EXPECT_STREQ(udev_device_get_sysattr_value(pci.get(), "driver"), "ahci");
  EXPECT_STREQ(udev_device_get_driver(pci.get()), "ahci");

  std::string tty = "/devices/platform/root0/tty/ttyX0";
  DevicePtr device = tree_.Device(tty);
  EXPECT_STREQ(udev_device_get_sysattr_value(device.get(), "flags"), "0x10");
  EXPECT_EQ(udev_device_set_sysattr_value(device.get(), "flags", "0x20\n"), 0);
  EXPECT_STREQ(udev_device_get_sysattr_value(device.get(), "flags"), "0x20");
  EXPECT_EQ(ReadAll(tree_.Sys(tty + "/flags")), "0x20");
  EXPECT_EQ(udev_device_set_sysattr_value(device.get(), "missing", "1"), -ENOENT);
  EXPECT_EQ(udev_device_set_sysattr_value(device.get(), "flags", nullptr), 0);
  EXPECT_EQ(udev_device_set_sysattr_value(device.get(), nullptr, "1"), -EINVAL);
}

TEST_F(LibudevDeviceTest, ParentsAreCachedAndOwnedByTheChild) {
  DevicePtr sda1 = tree_.Device(LibudevTree::kSda1);
  ASSERT_TRUE(sda1);
  udev_device* disk = udev_device_get_parent_with_subsystem_devtype(sda1.get(), "block", "disk");
  ASSERT_NE(disk, nullptr);
  EXPECT_STREQ(udev_device_get_devpath(disk), LibudevTree::kSda);
  EXPECT_EQ(udev_device_get_parent(sda1.get()), disk);
  EXPECT_EQ(udev_device_get_parent_with_subsystem_devtype(sda1.get(), "block", nullptr), disk);
  udev_device* pci = udev_device_get_parent_with_subsystem_devtype(sda1.get(), "pci", nullptr);
  ASSERT_NE(pci, nullptr);
  EXPECT_STREQ(udev_device_get_devpath(pci), LibudevTree::kPci);
  // sda's parent is ata1, the nearest directory with a uevent file.
  EXPECT_STREQ(udev_device_get_devpath(udev_device_get_parent(disk)),
               "/devices/pci0000:00/0000:00:1f.2/ata1");
  errno = 0;
  EXPECT_EQ(udev_device_get_parent_with_subsystem_devtype(sda1.get(), "block", "partition"),
            nullptr);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(udev_device_get_parent_with_subsystem_devtype(sda1.get(), nullptr, nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);

  DevicePtr tty = tree_.Device("/devices/platform/root0/tty/ttyX0");
  udev_device* root = udev_device_get_parent(tty.get());
  ASSERT_NE(root, nullptr);
  EXPECT_STREQ(udev_device_get_devpath(root), "/devices/platform/root0");
  udev_device* platform = udev_device_get_parent(root);
  ASSERT_NE(platform, nullptr);
  errno = 0;
  EXPECT_EQ(udev_device_get_parent(platform), nullptr);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(LibudevDeviceTest, SyspathsAreResolvedLikeSdDevice) {
  DevicePtr via_class(
      udev_device_new_from_syspath(tree_.context(), tree_.Sys("/class/mem/null/").c_str()));
  ASSERT_TRUE(via_class);
  EXPECT_STREQ(udev_device_get_devpath(via_class.get()), "/devices/virtual/mem/null");
  // Programs spell "/sys" literally: it means the configured sysfs root.
  DevicePtr literal(udev_device_new_from_syspath(tree_.context(), "/sys/devices/virtual/mem/zero"));
  ASSERT_TRUE(literal);
  EXPECT_EQ(udev_device_get_syspath(literal.get()), tree_.Sys("/devices/virtual/mem/zero"));
  // Outside /devices any directory is a device ("subsystem" and friends).
  DevicePtr bus(udev_device_new_from_syspath(tree_.context(), tree_.Sys("/bus/pci").c_str()));
  ASSERT_TRUE(bus);
  EXPECT_STREQ(udev_device_get_subsystem(bus.get()), "subsystem");
  EXPECT_STREQ(udev_device_get_property_value(bus.get(), "SUBSYSTEM"), "subsystem");

  errno = 0;
  EXPECT_EQ(udev_device_new_from_syspath(tree_.context(), nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_new_from_syspath(tree_.context(), "/tmp"), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_new_from_syspath(tree_.context(), "devices/virtual/mem/null"), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_new_from_syspath(tree_.context(), tree_.Sys("/devices/nope").c_str()),
            nullptr);
  EXPECT_EQ(errno, ENODEV);
  errno = 0;  // a directory below /devices without a uevent file is no device
  EXPECT_EQ(
      udev_device_new_from_syspath(tree_.context(), tree_.Sys("/devices/virtual/mem").c_str()),
      nullptr);
  EXPECT_EQ(errno, ENODEV);
}

TEST_F(LibudevDeviceTest, DevicesAreFoundByNumberNameAndId) {
  DevicePtr null(udev_device_new_from_devnum(tree_.context(), 'c', makedev(1, 3)));
  ASSERT_TRUE(null);
  EXPECT_STREQ(udev_device_get_devpath(null.get()), "/devices/virtual/mem/null");
  errno = 0;
  EXPECT_EQ(udev_device_new_from_devnum(tree_.context(), 'b', makedev(1, 3)), nullptr);
  EXPECT_EQ(errno, ENODEV);
  errno = 0;
  EXPECT_EQ(udev_device_new_from_devnum(tree_.context(), 'x', makedev(1, 3)), nullptr);
  EXPECT_EQ(errno, EINVAL);

  auto by_name = [&](const char* subsystem, const char* sysname) {
    DevicePtr device(udev_device_new_from_subsystem_sysname(tree_.context(), subsystem, sysname));
    return device ? std::string(udev_device_get_devpath(device.get()))
                  : "errno " + std::to_string(errno);
  };
  EXPECT_EQ(by_name("mem", "null"), "/devices/virtual/mem/null");
  EXPECT_EQ(by_name("misc", "cciss/c0d0"), "/devices/virtual/misc/cciss!c0d0");
  EXPECT_EQ(by_name("pci", "0000:00:1f.2"), LibudevTree::kPci);
  EXPECT_EQ(by_name("module", "loop"), "/module/loop");
  EXPECT_EQ(by_name("subsystem", "pci"), "/bus/pci");
  EXPECT_EQ(by_name("drivers", "pci:ahci"), "/bus/pci/drivers/ahci");
  EXPECT_EQ(by_name("platform", "root0"), "errno " + std::to_string(ENODEV));  // not listed
  EXPECT_EQ(by_name("mem", ".."), "errno " + std::to_string(ENODEV));

  auto by_id = [&](const char* id) {
    DevicePtr device(udev_device_new_from_device_id(tree_.context(), id));
    return device ? std::string(udev_device_get_devpath(device.get()))
                  : "errno " + std::to_string(errno);
  };
  EXPECT_EQ(by_id("c1:3"), "/devices/virtual/mem/null");
  EXPECT_EQ(by_id("b8:1"), LibudevTree::kSda1);
  EXPECT_EQ(by_id("n2"), "/devices/virtual/net/eth0");
  EXPECT_EQ(by_id("+mem:zero"), "/devices/virtual/mem/zero");
  EXPECT_EQ(by_id("+drivers:pci:ahci"), "/bus/pci/drivers/ahci");
  EXPECT_EQ(by_id("zzz"), "errno " + std::to_string(EINVAL));
  EXPECT_EQ(by_id("n99"), "errno " + std::to_string(ENODEV));
  EXPECT_EQ(by_id("c99:99"), "errno " + std::to_string(ENODEV));
}

TEST_F(LibudevDeviceTest, EnvironmentDescribesAnEvent) {
  errno = 0;
  EXPECT_EQ(udev_device_new_from_environment(tree_.context()), nullptr);
  EXPECT_EQ(errno, EINVAL);
  setenv("DEVPATH", "/devices/virtual/mem/null", 1);
  setenv("SUBSYSTEM", "mem", 1);
  setenv("ACTION", "change", 1);
  setenv("SEQNUM", "12", 1);
  setenv("DEVNAME", "null", 1);
  DevicePtr device(udev_device_new_from_environment(tree_.context()));
  for (const char* key : {"DEVPATH", "SUBSYSTEM", "ACTION", "SEQNUM", "DEVNAME"}) unsetenv(key);
  ASSERT_TRUE(device);
  EXPECT_STREQ(udev_device_get_action(device.get()), "change");
  EXPECT_EQ(udev_device_get_seqnum(device.get()), 12u);
  EXPECT_EQ(udev_device_get_devnode(device.get()), tree_.Dev("null"));
  EXPECT_EQ(udev_device_get_is_initialized(device.get()), 0);
}

TEST_F(LibudevDeviceTest, EventDeviceTakesItsPropertiesFromTheEvent) {
  Uevent event;
  for (auto [key, value] : std::vector<std::pair<const char*, std::string>>{
           {"ACTION", "add"},
           {"DEVPATH", LibudevTree::kSda1},
           {"SUBSYSTEM", "block"},
           {"DEVNAME", "sda1"},
           {"DEVTYPE", "partition"},
           {"MAJOR", "8"},
           {"MINOR", "1"},
           {"SEQNUM", "42"},
           {"DEVLINKS", "disk/by-uuid/u " + tree_.Dev("disk/by-label/L")},
           {"TAGS", ":systemd:"},
           {"CURRENT_TAGS", ":systemd:"},
           {"USEC_INITIALIZED", "77"},
           {"ID_FS_TYPE", "ext4"}})
    event.Set(key, value);
  auto made = compat::NewDeviceFromEvent(tree_.context(), event, /*initialized=*/true);
  ASSERT_TRUE(made) << made.error().Message();
  DevicePtr device(*made);
  EXPECT_STREQ(udev_device_get_action(device.get()), "add");
  EXPECT_EQ(udev_device_get_seqnum(device.get()), 42u);
  EXPECT_EQ(udev_device_get_is_initialized(device.get()), 1);
  EXPECT_EQ(udev_device_get_devnode(device.get()), tree_.Dev("sda1"));
  EXPECT_EQ(udev_device_get_devnum(device.get()), makedev(8, 1));
  EXPECT_STREQ(udev_device_get_devtype(device.get()), "partition");
  EXPECT_THAT(ListOf(udev_device_get_devlinks_list_entry(device.get())),
              ElementsAre(tree_.Dev("disk/by-label/L"), tree_.Dev("disk/by-uuid/u")));
  EXPECT_THAT(ListOf(udev_device_get_tags_list_entry(device.get())), ElementsAre("systemd"));
  EXPECT_EQ(udev_device_has_current_tag(device.get(), "systemd"), 1);
  EXPECT_STREQ(udev_device_get_property_value(device.get(), "ID_FS_TYPE"), "ext4");
  EXPECT_STREQ(udev_device_get_property_value(device.get(), "SEQNUM"), "42");
  EXPECT_EQ(udev_device_get_property_value(device.get(), "ID_SERIAL"), nullptr);  // no db read
  // Attributes and parents still come from sysfs.
  EXPECT_STREQ(udev_device_get_sysattr_value(device.get(), "size"), "1024");
  EXPECT_STREQ(udev_device_get_devpath(udev_device_get_parent(device.get())), LibudevTree::kSda);

  Uevent bad;
  bad.Set("DEVPATH", "/devices/../x");
  bad.Set("SUBSYSTEM", "block");
  auto refused = compat::NewDeviceFromEvent(tree_.context(), bad, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, EINVAL);
}

TEST_F(LibudevDeviceTest, NullArgumentsAreRefusedWithEinval) {
  errno = 0;
  EXPECT_EQ(udev_device_get_syspath(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_get_properties_list_entry(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_get_parent(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(udev_device_get_is_initialized(nullptr), -EINVAL);
  EXPECT_EQ(udev_device_has_tag(nullptr, "x"), 0);
  EXPECT_EQ(udev_device_ref(nullptr), nullptr);
  EXPECT_EQ(udev_device_unref(nullptr), nullptr);
  DevicePtr sda = tree_.Device(LibudevTree::kSda);
  errno = 0;
  EXPECT_EQ(udev_device_get_property_value(sda.get(), nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(udev_device_get_property_value(sda.get(), "NOPE"), nullptr);
  EXPECT_EQ(errno, ENOENT);
  errno = 0;
  EXPECT_EQ(udev_device_get_sysattr_value(sda.get(), nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

TEST_F(LibudevDeviceTest, ReferencesKeepTheDevice) {
  udev_device* device =
      udev_device_new_from_syspath(tree_.context(), tree_.Sys(LibudevTree::kSda).c_str());
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(udev_device_ref(device), device);
  EXPECT_EQ(udev_device_unref(device), nullptr);
  EXPECT_STREQ(udev_device_get_sysname(device), "sda");  // still referenced once
  EXPECT_EQ(udev_device_unref(device), nullptr);
}

TEST(LibudevDeviceNoTreeTest, MissingRootsMeanNoDevices) {
  setenv("VDEV_SYSFS_ROOT", "/nonexistent/sys", 1);
  setenv("VDEV_RUN_DIR", "/nonexistent/run", 1);
  UdevPtr context(udev_new());
  unsetenv("VDEV_SYSFS_ROOT");
  unsetenv("VDEV_RUN_DIR");
  ASSERT_TRUE(context);
  errno = 0;
  EXPECT_EQ(udev_device_new_from_syspath(context.get(), "/nonexistent/sys/devices/x"), nullptr);
  EXPECT_EQ(errno, ENODEV);
  EnumeratePtr enumerate(udev_enumerate_new(context.get()));
  EXPECT_LT(udev_enumerate_scan_devices(enumerate.get()), 0);
  EXPECT_THAT(ListOf(udev_enumerate_get_list_entry(enumerate.get())), IsEmpty());
}

}  // namespace
}  // namespace vdev::testing
